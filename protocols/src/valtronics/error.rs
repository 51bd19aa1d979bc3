//! "Error Handling" and "Rate Limiting": decode errors, protocol violations and what the wire gets for each.

use serde::de::DeserializeOwned;
use serde_json::Map;
use serde_json::Value;

use super::codes::Channel;
use super::codes::DeviceId;
use super::codes::ErrorCode;
use super::codes::OneOrMany;
use super::filters::FilterError;
use super::server_message::AuthResponse;
use super::server_message::ErrorReply;
use super::server_message::ServerMessage;
use crate::auth::TokenRejection;
use crate::codec::JsonError;
use crate::codec::decode_json;
use crate::frame::Close;
use crate::frame::CloseCode;
use crate::limits::CapExceeded;

/// A message that could not be decoded: what was malformed, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The text is not a JSON object (line and column of the fault).
    #[error("not a JSON object: {0}")]
    Json(#[from] JsonError),
    /// The object has no string `type` field.
    #[error("the message has no string `type` field")]
    MissingType,
    /// The `type` names no message of this direction.
    #[error("unknown message type `{0}`")]
    UnknownType(String),
    /// The message of this `type` has the wrong shape (the field at fault is named).
    #[error("malformed `{message_type}` message: {source}")]
    Shape {
        /// The message's `type`.
        message_type: String,
        /// serde's account of the fault.
        source: JsonError,
    },
}

/// Decodes a JSON object whose `type` field is one of `known` into `T`.
pub(super) fn decode_tagged<T: DeserializeOwned>(
    text: &str,
    known: &[&str],
) -> Result<T, DecodeError> {
    let object: Map<String, Value> = decode_json(text)?;
    decode_tagged_object(object, known)
}

/// As [`decode_tagged`], from an already parsed object (a batch item).
pub(super) fn decode_tagged_object<T: DeserializeOwned>(
    object: Map<String, Value>,
    known: &[&str],
) -> Result<T, DecodeError> {
    let message_type = match object.get("type") {
        Some(Value::String(t)) => t.clone(),
        _ => return Err(DecodeError::MissingType),
    };
    if !known.contains(&message_type.as_str()) {
        return Err(DecodeError::UnknownType(message_type));
    }
    serde_json::from_value(Value::Object(object)).map_err(|err| DecodeError::Shape {
        message_type,
        source: err.into(),
    })
}

/// A rule of the document, or of the specs README where the document is silent, broken
/// by the client. Each maps to what the wire gets: see [`Response`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// "Any message other than `auth` or `ping` before a successful auth is refused."
    /// (specs README, MUST) Error reply `not_authenticated`.
    #[error("`{message_type}` before a successful auth")]
    NotAuthenticated {
        /// The refused message's `type`.
        message_type: &'static str,
    },
    /// "After connection, authenticate with JWT token" and "Always validate JWT tokens
    /// before allowing connections": a refused token gets
    /// `{"type":"auth_response","success":false,"error":"invalid_token","message":"..."}`
    /// (specs README, MUST). The connection stays open for another `auth` (MAY).
    #[error("token refused: {0}")]
    InvalidToken(TokenRejection),
    /// An `auth` on a connection that is already authenticated (MAY): error reply
    /// `already_authenticated`.
    #[error("already authenticated")]
    AlreadyAuthenticated,
    /// "Maximum 1KB message size" (MUST): close 1009.
    #[error("message of {size} bytes exceeds the {max}-byte limit")]
    MessageTooLarge {
        /// The message's length in bytes.
        size: usize,
        /// The limit (1024).
        max: usize,
    },
    /// "Maximum 100 messages per second per connection" (MUST): the message is refused with
    /// error reply `rate_limited`.
    #[error("more than {max} messages within one second")]
    RateLimited {
        /// Messages admitted per second (100).
        max: usize,
    },
    /// The same rule when the client goes on: "Rate exceeded: error reply, then close 1008
    /// if it goes on" (specs README). Once `refused` messages within one second have been
    /// refused, the next one closes with 1008.
    #[error("still over the message rate after {refused} refusals within one second")]
    RateLimitPersisted {
        /// Refusals tolerated per second (10 by default).
        refused: usize,
    },
    /// "Batch messages limited to 50 items" (MUST): error reply `batch_too_large`; no item
    /// of the batch is processed.
    #[error("batch of {items} items exceeds the limit of {max}")]
    BatchTooLarge {
        /// Items in the batch.
        items: usize,
        /// The limit (50).
        max: usize,
    },
    /// "Maximum 100 concurrent connections per user", "Maximum 1000 total concurrent
    /// connections", "Connection rate limited to 10 per minute" (MUST). Over the total cap
    /// (checked on connect): error reply `connection_limit`, close 1013. Over a per-user cap
    /// (checked on auth, when the user is known): auth_response `connection_limit`, close 1008.
    #[error("{0}")]
    ConnectionLimit(CapExceeded),
    /// "Validate all incoming message structures": the message does not decode. Error
    /// reply `invalid_message` (MAY).
    #[error("{0}")]
    Malformed(DecodeError),
    /// A binary message: the API is JSON text. Close 1003 (MAY).
    #[error("binary messages are not supported")]
    BinaryMessage,
    /// "Available Channels" are telemetry, alerts, devices and system: anything else gets
    /// error reply `unknown_channel` (MAY).
    #[error("unknown channel `{0}`")]
    UnknownChannel(Channel),
    /// Each channel's "Subscription Options": a filter the channel does not take, an empty
    /// list or an unknown `frequency` gets error reply `invalid_filter` (MAY).
    #[error("{0}")]
    InvalidFilter(FilterError),
    /// An `unsubscribe` for a channel (or `device_id`) the connection is not subscribed to:
    /// error reply `not_subscribed` (MAY).
    #[error("not subscribed to channel `{channel}`{}", device_suffix(.device_id))]
    NotSubscribed {
        /// The channel named.
        channel: Channel,
        /// The `device_id` named.
        device_id: Option<OneOrMany<DeviceId>>,
    },
}

fn device_suffix(device_id: &Option<OneOrMany<DeviceId>>) -> String {
    match device_id {
        None => String::new(),
        Some(ids) => {
            let ids: Vec<String> = ids.as_slice().iter().map(ToString::to_string).collect();
            format!(" for device_id {}", ids.join(", "))
        }
    }
}

/// What the wire gets for a [`Violation`].
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// A reply; the connection stays open.
    Reply(ServerMessage),
    /// A close frame.
    Close(Close),
    /// A reply, then a close frame.
    ReplyThenClose(ServerMessage, Close),
}

impl From<&Violation> for Response {
    fn from(v: &Violation) -> Self {
        let text = v.to_string();
        let error = |code: ErrorCode| ServerMessage::Error(ErrorReply::new(code, text.clone()));
        match v {
            Violation::MessageTooLarge { max, .. } => Self::Close(Close::new(
                CloseCode::MESSAGE_TOO_BIG,
                format!("message exceeds {max} bytes"),
            )),
            Violation::RateLimitPersisted { .. } => Self::Close(Close::new(
                CloseCode::POLICY_VIOLATION,
                "message rate exceeded",
            )),
            Violation::BinaryMessage => Self::Close(Close::new(
                CloseCode::UNSUPPORTED_DATA,
                "binary messages are not supported",
            )),
            Violation::InvalidToken(_) => Self::Reply(ServerMessage::AuthResponse(
                AuthResponse::refused(ErrorCode::INVALID_TOKEN, text),
            )),
            Violation::ConnectionLimit(CapExceeded::Total(_)) => Self::ReplyThenClose(
                error(ErrorCode::CONNECTION_LIMIT),
                Close::new(CloseCode::TRY_AGAIN_LATER, "connection limit reached"),
            ),
            Violation::ConnectionLimit(_) => Self::ReplyThenClose(
                ServerMessage::AuthResponse(AuthResponse::refused(
                    ErrorCode::CONNECTION_LIMIT,
                    text,
                )),
                Close::new(CloseCode::POLICY_VIOLATION, "connection limit reached"),
            ),
            Violation::NotAuthenticated { .. } => Self::Reply(error(ErrorCode::NOT_AUTHENTICATED)),
            Violation::AlreadyAuthenticated => Self::Reply(error(ErrorCode::ALREADY_AUTHENTICATED)),
            Violation::RateLimited { .. } => Self::Reply(error(ErrorCode::RATE_LIMITED)),
            Violation::BatchTooLarge { .. } => Self::Reply(error(ErrorCode::BATCH_TOO_LARGE)),
            Violation::Malformed(_) => Self::Reply(error(ErrorCode::INVALID_MESSAGE)),
            Violation::UnknownChannel(_) => Self::Reply(error(ErrorCode::UNKNOWN_CHANNEL)),
            Violation::InvalidFilter(_) => Self::Reply(error(ErrorCode::INVALID_FILTER)),
            Violation::NotSubscribed { .. } => Self::Reply(error(ErrorCode::NOT_SUBSCRIBED)),
        }
    }
}
