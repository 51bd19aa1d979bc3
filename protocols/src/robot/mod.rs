//! Robot pub/sub (robot.txt, "Websockets"): JSON text over `/wss` (and `/`), JWT in `?token=`.
//!
//! # The wire
//!
//! | direction | message | level |
//! |---|---|---|
//! | client → server | `{"action":"subscribe","topic":t}`, `{"action":"unsubscribe","topic":t}` | MUST |
//! | client → server | `{"action":"publish","topic":t,"data":{"name","type","data"}}` | MUST |
//! | client → server | the same publish with `data` a JSON string holding the object (official client) | SHOULD |
//! | server → client | `{"name","type","data"}` for each message published on a subscribed topic | SHOULD |
//! | server → client | `{"name":"server_logs","type":<level>,"data":"<time> <line>"}` on `server_logs` | MUST topic, MAY shape |
//! | server → client | `{"action":"error","error":<code>,"message":<text>}` | MAY |
//! | server → client | `{"action":"subscribed"\|"unsubscribed"\|"published","topic":t}`, off by default | MAY |
//! | HTTP | `GET /api/v1/auth/` with `X-API-Key` → `{"token"}`; 401 `{"detail"}` | SHOULD / MAY |
//!
//! A missing or invalid token is refused with HTTP 401 before the upgrade, or close 1008
//! after it (MUST, either way: [`authorize`] and [`RobotSession::refused`]).
//!
//! # Decisions where the document is silent (all MAY)
//!
//! - **Replies never look like data.** A delivered message is exactly `{name, type, data}`
//!   with a publisher-chosen `type` (possibly `"error"`). Replies carry an `action` key and
//!   none of `name`, `type`, `data`, so a client routing on `name` or `type` cannot mistake
//!   a reply for data, and [`ServerMessage::decode`] tells them apart by `action` alone.
//! - **Strict shapes.** Every decoder refuses unknown fields, naming the first; a publish's
//!   `{name, type, data}` needs all three (`name` and `type` strings, `data` any JSON).
//! - **Publish form kept.** The `data` string of the official client is kept verbatim
//!   ([`EmbeddedPayload`]) so a message re-encodes to what was received.
//! - **Publisher echo.** A publisher subscribed to the topic receives its own message, like
//!   any subscriber; a publisher not subscribed does not.
//! - **Idempotent subscriptions.** Subscribing twice or unsubscribing from a topic one is
//!   not subscribed to is not an error (acknowledged when acks are on; no event).
//! - **`server_logs` is the server's.** Clients may subscribe to it but not publish on it
//!   (`reserved_topic`).
//! - **Limits** ([`Limits`]): 64 KiB per message, topics of 1 to 128 bytes, 64 topics per
//!   connection, 100 messages per second (error reply `rate_limited`, close 1008 after 20
//!   refusals in a row), 1000 connections per server (close 1013 or HTTP 503).
//! - **Binary frames** get the error reply `unsupported_frame`; the connection stays open.
//! - **Token lifetime.** The token is re-checked on every message and the connection closed
//!   with 1008 when it expires or is revoked ([`SessionConfig::enforce_token_expiry`]).

mod auth;
mod broker;
pub mod client;
mod codes;
mod config;
mod decode;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod http;
mod messages;
mod session;
#[cfg(test)]
mod tests;

pub use auth::Rejection;
pub use auth::authorize;
pub use auth::token_from_query;
pub use broker::Broker;
pub use broker::ConnectionId;
pub use broker::Delivery;
pub use broker::Routed;
pub use broker::server_log;
pub use codes::ErrorCode;
pub use codes::LogLevel;
pub use codes::Topic;
pub use config::BrokerConfig;
pub use config::Limits;
pub use config::SessionConfig;
pub use error::DecodeError;
pub use error::Path;
pub use error::Response;
pub use error::Violation;
pub use http::API_KEY_HEADER;
pub use http::AUTH_PATH;
pub use http::ApiKeyRejection;
pub use http::ApiKeys;
pub use http::ErrorBody;
pub use http::STATUS_UNAUTHORIZED;
pub use http::STATUS_UNAVAILABLE;
pub use http::TOKEN_PARAM;
pub use http::TokenResponse;
pub use http::WS_PATHS;
pub use messages::Ack;
pub use messages::AckKind;
pub use messages::ClientMessage;
pub use messages::DataForm;
pub use messages::EmbeddedPayload;
pub use messages::ErrorReply;
pub use messages::Payload;
pub use messages::PublishData;
pub use messages::ServerMessage;
pub use session::Event;
pub use session::RobotSession;
