//! Molecule "Real-Time Data via WebSocket": binary frames, the JWT inside a handshake.
//!
//! The JWT comes from an OAuth2 password grant against a separate identity server.
//!
//! The flow, and where each part lives:
//!
//! 1. Authenticate: `POST /connect/token`, form-urlencoded ([`TokenRequest`]) →
//!    [`TokenResponse`] or an RFC 6749 [`OAuthError`] ([`http`], [`form`]).
//! 2. Connect and send the [`Handshake`]
//!    `[0x01][0x02][idLen u16][gatewayId][tokLen u16][token][0x01][0x04]`.
//! 3. The server answers with the 3-byte [`AuthResponse`] `[2][status][0x04]`, always its
//!    first frame.
//! 4. Then [`DataFrame`]s `[type][reserved][UTF-8 payload][0x00?]`: telemetry (100, a
//!    JSON array of [`TelemetryItem`]), command responses (1), device log lines (2), and
//!    unknown types, kept raw.
//!
//! [`ClientMessage`] and [`ServerMessage`] decode either direction; [`MoleculeSession`] is
//! the server state machine, [`ClientSession`] the document's client. Errors come in
//! layers: [`DecodeError`] says what is malformed and where; [`Violation`] names the broken
//! rule and maps it to the wire's reply ([`WireReply`]).

pub mod client;
pub mod error;
/// Form-urlencoded bodies (shared with the other APIs).
pub use crate::urlencoded as form;
pub mod frames;
#[doc(hidden)]
pub mod fuzzing;
pub mod gateways;
pub mod handshake;
pub mod http;
pub mod labels;
pub mod messages;
pub mod session;
pub mod telemetry;

#[cfg(test)]
mod tests;

pub use client::ClientError;
pub use client::ClientEvent;
pub use client::ClientSession;
pub use client::CloseAction;
pub use client::reconnect_delay;
pub use client::should_reauthenticate;
pub use error::DecodeError;
pub use error::Field;
pub use error::Violation;
pub use error::WireReply;
pub use form::FormError;
pub use frames::Content;
pub use frames::DataFrame;
pub use frames::MessageType;
pub use gateways::GatewayDirectory;
pub use gateways::GatewayRejection;
pub use gateways::GatewayTable;
pub use gateways::SharedGateways;
pub use handshake::FieldTooLong;
pub use handshake::Handshake;
pub use handshake::build_handshake;
pub use http::ErrorCode;
pub use http::OAuthError;
pub use http::TokenRequest;
pub use http::TokenResponse;
pub use labels::LabelCache;
pub use labels::LabelSchedule;
pub use labels::Reading;
pub use messages::AuthResponse;
pub use messages::AuthStatus;
pub use messages::ClientMessage;
pub use messages::Command;
pub use messages::ServerMessage;
pub use session::Event;
pub use session::MoleculeSession;
pub use session::PushError;
pub use session::SessionConfig;
pub use session::SessionFaults;
pub use telemetry::Telemetry;
pub use telemetry::TelemetryItem;
