//! WebMACS: the "WebSocket API" document (controller telemetry ingest and the dashboard stream).
//!
//! Two JSON text endpoints share one authentication rule: the JWT travels in the `?token=`
//! query parameter (the `Authorization` header is ignored), the server accepts the
//! WebSocket and, when the token is refused, closes it with 1008 and one of four
//! documented reasons ([`Violation`]).
//!
//! - `/ws/controller/telemetry` ([`ControllerSession`]): the controller pushes
//!   `{"datapoints": [...]}` batches of at most 500 readings ([`TelemetryBatch`]).
//! - `/ws/datapoints/stream` ([`StreamSession`]): dashboards receive `connected`, answer
//!   pings with `pong`, and get one `datapoints_batch` per accepted batch.
//!
//! State shared by every connection of one server (the event registry, the active
//! experiment, the 200 ms per-event broadcast throttle and the latest value per event)
//! lives in [`IngestHub`], which the driver consults between sessions. The HTTP bodies
//! the document's clients use (login, logout, `GET /api/v1/datapoints/latest`,
//! `GET /api/v1/events`, errors) are in [`http`]; the controller's batch chunker and the
//! dashboard's keep-alive and fallback policy are in [`client`].

use std::time::Duration;

pub mod client;
mod controller;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
mod hub;
mod messages;
mod session;
mod stream;
mod timestamp;
mod values;
mod wire;

#[cfg(test)]
mod tests;

pub use controller::ControllerEvent;
pub use controller::ControllerSession;
pub use error::BINARY_NOT_SUPPORTED;
pub use error::DecodeError;
pub use error::NO_VALID_DATAPOINTS;
pub use error::REASON_AUTH_REQUIRED;
pub use error::REASON_INVALID_TOKEN;
pub use error::REASON_TOKEN_REVOKED;
pub use error::REASON_USER_NOT_FOUND;
pub use error::Response;
pub use error::STREAM_IS_READ_ONLY;
pub use error::Violation;
pub use hub::IngestHub;
pub use hub::IngestOutcome;
pub use messages::BatchEntry;
pub use messages::BroadcastDatapoint;
pub use messages::CONNECTED_MESSAGE;
pub use messages::ClientMessage;
pub use messages::Connected;
pub use messages::Datapoint;
pub use messages::DatapointsBatch;
pub use messages::EntryDefect;
pub use messages::ErrorKind;
pub use messages::ErrorReply;
pub use messages::InvalidEntry;
pub use messages::ServerMessage;
pub use messages::TelemetryBatch;
pub use session::Endpoint;
pub use session::authenticate;
pub use session::token_from_query;
pub use stream::StreamEvent;
pub use stream::StreamSession;
pub use timestamp::IsoTimestamp;
pub use timestamp::TimestampError;
pub use values::EventKind;
pub use values::EventPublicId;
pub use values::ExperimentPublicId;
pub use values::MessageType;
pub use values::Reading;

/// "Batch of readings (max **500** items)": larger batches get an error reply.
pub const MAX_BATCH_SIZE: usize = 500;

/// "Broadcasts to all connected frontends (throttled to ≥ 200 ms per event)".
pub const BROADCAST_INTERVAL: Duration = Duration::from_millis(200);

/// "Dispatches webhooks ... (throttled to 1 per 5 s per sensor)".
pub const WEBHOOK_INTERVAL: Duration = Duration::from_secs(5);
