//! Valtronics IoT platform WebSocket API ("WebSocket API Documentation v1.0"), JSON text.
//!
//! A client connects to `/ws` (or a specialised endpoint, see [`Endpoint`]), sends
//! `{"type":"auth","token":"<JWT>"}` first, then subscribes to channels (`telemetry`,
//! `alerts`, `devices`, `system`) with filters; the server pushes `telemetry_update`,
//! `alert`, `device_status_update` and `system_status_update` messages that pass them.
//!
//! - [`ClientMessage`] / [`ServerMessage`]: every message, `decode` / `encode` / `to_text`.
//!   Subscription filters may be spread at the top level or nested under `filters`; both
//!   decode into one [`Filters`] and re-encode as they came.
//! - [`ValtronicsSession`]: the server side of one connection; [`ConnectionRegistry`]: the
//!   server-wide connection caps it consults.
//! - [`ValtronicsClient`]: the client side, auth first and subscriptions after.
//! - [`http`]: the `POST /api/v1/auth/login` bodies.
//!
//! Conformance levels follow the specs README: MUST where the document states a rule,
//! SHOULD where its examples depend on it, MAY where this crate defines the behaviour
//! (error replies, acknowledgements, thresholds); each item's docs say which.

mod client;
mod client_message;
mod codes;
mod endpoint;
mod error;
mod filters;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
mod registry;
mod server_message;
mod session;
mod subscription;
#[cfg(test)]
mod tests;

pub use client::AuthState;
pub use client::ClientEvent;
pub use client::ValtronicsClient;
pub use client_message::Auth;
pub use client_message::Batch;
pub use client_message::ClientMessage;
pub use client_message::Ping;
pub use client_message::Subscribe;
pub use client_message::Unsubscribe;
pub use codes::Channel;
pub use codes::DeviceId;
pub use codes::DeviceStatus;
pub use codes::ErrorCode;
pub use codes::Frequency;
pub use codes::FrequencyError;
pub use codes::OneOrMany;
pub use codes::Severity;
pub use endpoint::Endpoint;
pub use error::DecodeError;
pub use error::Response;
pub use error::Violation;
pub use filters::FilterConflict;
pub use filters::FilterError;
pub use filters::FilterStyle;
pub use filters::Filters;
pub use filters::options_of;
pub use registry::Admission;
pub use registry::ConnectionRegistry;
pub use registry::MAX_CONNECTIONS;
pub use registry::MAX_CONNECTIONS_PER_USER;
pub use registry::NEW_CONNECTIONS_PER_MINUTE;
pub use server_message::Alert;
pub use server_message::AuthResponse;
pub use server_message::DeviceStatusUpdate;
pub use server_message::ErrorReply;
pub use server_message::Extra;
pub use server_message::Pong;
pub use server_message::Reading;
pub use server_message::ServerMessage;
pub use server_message::Subscribed;
pub use server_message::SystemStatusUpdate;
pub use server_message::TelemetryUpdate;
pub use server_message::Unsubscribed;
pub use session::Event;
pub use session::MAX_BATCH_ITEMS;
pub use session::MAX_MESSAGE_BYTES;
pub use session::MAX_MESSAGES_PER_SECOND;
pub use session::Offer;
pub use session::RATE_REFUSALS_BEFORE_CLOSE;
pub use session::SessionConfig;
pub use session::SessionFaults;
pub use session::ValtronicsSession;
pub use subscription::Subscription;
