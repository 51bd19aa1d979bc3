//! Errors of the "Authentication", "Inbound Message Format" and "Error Response" sections: decode failures and protocol rules.

use crate::auth::TokenRejection;
use crate::codec::JsonError;
use crate::frame::Close;
use crate::frame::CloseCode;
use crate::frame::Outbound;

use super::MAX_BATCH_SIZE;
use super::messages::ErrorReply;
use super::messages::ServerMessage;
use super::values::MessageType;

/// A message that could not be decoded: what was malformed and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The text is not JSON, or not the documented shape; line and column are inside.
    #[error("{0}")]
    Json(#[from] JsonError),
    /// A `type` this direction does not use, kept as received.
    #[error("unknown message type {0}")]
    UnknownType(MessageType),
    /// A server message without a `type` field.
    #[error("missing field `type`")]
    MissingType,
}

/// Close reason: no token was provided.
pub const REASON_AUTH_REQUIRED: &str = "Authentication required";
/// Close reason: the JWT did not decode or has expired.
pub const REASON_INVALID_TOKEN: &str = "Invalid or expired token";
/// Close reason: the token was blacklisted at logout.
pub const REASON_TOKEN_REVOKED: &str = "Token has been revoked";
/// Close reason: the token's user was deleted after it was issued.
pub const REASON_USER_NOT_FOUND: &str = "User not found";

/// Error reply text for a batch with no valid datapoint.
pub const NO_VALID_DATAPOINTS: &str = "No valid datapoints in batch";
/// Error reply text (MAY) for a binary frame.
pub const BINARY_NOT_SUPPORTED: &str = "Binary frames are not supported";
/// Error reply text (MAY) for anything but a ping on the read-only stream.
pub const STREAM_IS_READ_ONLY: &str = "The datapoint stream is read-only: only ping is accepted";

/// One variant per protocol rule a client can break. Each maps to what the wire gets:
/// [`Violation::response`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// MUST. "Connections without a valid token are immediately closed with code **1008**
    /// (Policy Violation) and one of: `"Authentication required"` — no token provided".
    #[error("no token provided")]
    AuthenticationRequired,
    /// MUST. "`"Invalid or expired token"` — JWT decoding failed".
    #[error("invalid or expired token")]
    InvalidOrExpiredToken,
    /// MUST. "`"Token has been revoked"` — token was blacklisted (user logged out)".
    #[error("token has been revoked")]
    TokenRevoked,
    /// MUST. "`"User not found"` — user deleted after token issued".
    #[error("user not found")]
    UserNotFound,
    /// MUST. "Batches exceeding **500 datapoints** are rejected with an error message."
    /// The reply is `Batch too large (N), max 500` and the socket stays open.
    #[error("batch of {count} datapoints exceeds the maximum of {max}")]
    BatchTooLarge {
        /// Entries in the batch, valid or not.
        count: usize,
        /// The cap (500).
        max: usize,
    },
    /// MUST. "If no valid datapoints are found in a batch:
    /// `{ "type": "error", "message": "No valid datapoints in batch" }`".
    #[error("no valid datapoints in batch")]
    NoValidDatapoints,
    /// MAY. A controller message must be an object with a `datapoints` array ("Inbound
    /// Message Format"); anything else gets an error reply naming the fault.
    #[error("malformed message: {0}")]
    Malformed(DecodeError),
    /// MAY. The stream "is a **read-only subscription** endpoint": a client message other
    /// than `{"type":"ping"}` gets an error reply.
    #[error("the datapoint stream is read-only")]
    ReadOnlyStream,
    /// MAY. Both endpoints exchange JSON text; a binary frame gets an error reply.
    #[error("binary frame on a JSON text endpoint")]
    BinaryFrame,
}

/// What the wire gets for a [`Violation`].
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// Close the connection (always code 1008 with a documented reason).
    Close(Close),
    /// Send this error reply and keep the connection open.
    Reply(ServerMessage),
}

impl Violation {
    /// The close or error reply the documentation prescribes for this violation.
    pub fn response(&self) -> Response {
        match self.close_reason() {
            Some(reason) => Response::Close(Close::new(CloseCode::POLICY_VIOLATION, reason)),
            None => Response::Reply(ServerMessage::Error(self.error_reply())),
        }
    }

    /// The documented close reason, for the four authentication failures.
    pub fn close_reason(&self) -> Option<&'static str> {
        Some(match self {
            Violation::AuthenticationRequired => REASON_AUTH_REQUIRED,
            Violation::InvalidOrExpiredToken => REASON_INVALID_TOKEN,
            Violation::TokenRevoked => REASON_TOKEN_REVOKED,
            Violation::UserNotFound => REASON_USER_NOT_FOUND,
            _ => return None,
        })
    }

    /// Whether the connection stays open after the response.
    pub fn keeps_open(&self) -> bool {
        self.close_reason().is_none()
    }

    /// The `{"type":"error","message":...}` reply for this violation. For the four
    /// authentication failures (which close instead) it carries the close reason.
    pub fn error_reply(&self) -> ErrorReply {
        let message = match self {
            Violation::BatchTooLarge { count, max } => {
                format!("Batch too large ({count}), max {max}")
            }
            Violation::NoValidDatapoints => NO_VALID_DATAPOINTS.to_owned(),
            Violation::Malformed(err) => format!("Invalid message: {err}"),
            Violation::ReadOnlyStream => STREAM_IS_READ_ONLY.to_owned(),
            Violation::BinaryFrame => BINARY_NOT_SUPPORTED.to_owned(),
            auth => auth.close_reason().unwrap_or_default().to_owned(),
        };
        ErrorReply { message }
    }

    /// Recognises a close frame as one of the four documented authentication closes
    /// (code 1008 and the exact reason), for clients and conformance checks.
    pub fn from_close(close: &Close) -> Option<Self> {
        if close.code != CloseCode::POLICY_VIOLATION {
            return None;
        }
        Some(match close.reason.as_str() {
            REASON_AUTH_REQUIRED => Violation::AuthenticationRequired,
            REASON_INVALID_TOKEN => Violation::InvalidOrExpiredToken,
            REASON_TOKEN_REVOKED => Violation::TokenRevoked,
            REASON_USER_NOT_FOUND => Violation::UserNotFound,
            _ => return None,
        })
    }

    /// A batch of `count` entries, which breaks the cap when `count` > 500.
    pub fn batch_too_large(count: usize) -> Self {
        Violation::BatchTooLarge {
            count,
            max: MAX_BATCH_SIZE,
        }
    }
}

impl From<TokenRejection> for Violation {
    /// The documented wording for each rejection: expired and undecodable tokens share
    /// "Invalid or expired token".
    fn from(rejection: TokenRejection) -> Self {
        match rejection {
            TokenRejection::Missing => Violation::AuthenticationRequired,
            TokenRejection::Invalid | TokenRejection::Expired => Violation::InvalidOrExpiredToken,
            TokenRejection::Revoked => Violation::TokenRevoked,
            TokenRejection::UnknownSubject => Violation::UserNotFound,
        }
    }
}

impl From<&Violation> for Outbound {
    fn from(violation: &Violation) -> Self {
        match violation.response() {
            Response::Close(close) => Outbound::Close(close),
            Response::Reply(reply) => Outbound::Text(reply.to_text()),
        }
    }
}

impl From<DecodeError> for Violation {
    fn from(err: DecodeError) -> Self {
        Violation::Malformed(err)
    }
}
