//! Errors of every section: malformed input, one violation per documented rule, the wire's answer.
//!
//! [`DecodeError`] says what was malformed and where; [`Violation`] names the rule broken;
//! [`Violation::wire`] gives what the wire gets for it ([`Wire`]).

use std::borrow::Cow;
use std::fmt;

use crate::auth::AccessLevel;
use crate::auth::TokenRejection;
use crate::codec::JsonError;
use crate::frame::Close;
use crate::frame::CloseCode;
use crate::frame::Outbound;
use crate::limits::CapExceeded;

use super::channel::Channel;
use super::keepalive::KeepaliveReply;
use super::messages::Origin;
use super::replies::ErrorReply;

/// What was wrong with a binary frame at its offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryProblem {
    /// The frame ended before the field's `needed` bytes.
    Truncated {
        /// Bytes the field takes.
        needed: usize,
    },
    /// This many bytes follow the last field.
    TrailingBytes(usize),
}

impl fmt::Display for BinaryProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { needed } => write!(f, "frame ends before the field's {needed} bytes"),
            Self::TrailingBytes(n) => write!(f, "{n} unexpected trailing bytes"),
        }
    }
}

/// A message that does not decode: what was malformed and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The text is not JSON (line and column inside).
    #[error("invalid JSON: {0}")]
    Json(#[from] JsonError),
    /// The JSON is not an object.
    #[error("expected a JSON object, found {found}")]
    NotAnObject {
        /// The JSON type found.
        found: &'static str,
    },
    /// A member has the wrong JSON type.
    #[error("member `{field}` must be {expected}, found {found}")]
    FieldType {
        /// The member's name.
        field: &'static str,
        /// What the document gives it.
        expected: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// A required member is missing.
    #[error("{message} has no `{field}` member")]
    MissingField {
        /// The member's name.
        field: &'static str,
        /// The message it belongs in.
        message: &'static str,
    },
    /// Two members that name different messages are both present.
    #[error("message has both `{0}` and `{1}`")]
    Ambiguous(&'static str, &'static str),
    /// An object that is none of the documented messages.
    #[error("not a documented message (members: {keys:?})")]
    UnknownMessage {
        /// The object's member names.
        keys: Vec<String>,
    },
    /// A channel's `data` does not have the channel's documented shape.
    #[error("`data` of channel `{channel}` is not as documented: {source}")]
    Data {
        /// The channel the data was for.
        channel: Channel,
        /// serde_json's account, naming the member at fault.
        source: JsonError,
    },
    /// A binary frame does not have the documented layout.
    #[error("{problem} at byte {offset} (field {field})")]
    Binary {
        /// Byte offset of the failure.
        offset: usize,
        /// The field being read.
        field: &'static str,
        /// What was wrong.
        problem: BinaryProblem,
    },
    /// An `application/x-www-form-urlencoded` body does not decode.
    #[error("form body: {problem} in `{field}`")]
    Form {
        /// The field at fault (or the raw pair when it has no name).
        field: String,
        /// What was wrong.
        problem: &'static str,
    },
}

/// The name of a JSON value's type, for error messages.
pub(crate) fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The `error` member of an error reply. Open: codes a server sends that this crate does
/// not name are kept.
///
/// Error replies are not documented (level MAY): the simulator defines
/// `{"request"|"subscribe": channel, "id": n, "error": code, "message": text}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorCode(pub Cow<'static, str>);

impl ErrorCode {
    /// The message is not JSON or not a documented message.
    pub const MALFORMED: Self = Self(Cow::Borrowed("malformed"));
    /// A binary message arrived; the API takes JSON text.
    pub const UNSUPPORTED_DATA: Self = Self(Cow::Borrowed("unsupported_data"));
    /// The channel is not in the function table.
    pub const UNKNOWN_CHANNEL: Self = Self(Cow::Borrowed("unknown_channel"));
    /// The channel cannot be requested.
    pub const NOT_REQUESTABLE: Self = Self(Cow::Borrowed("not_requestable"));
    /// The channel cannot be subscribed to.
    pub const NOT_SUBSCRIBABLE: Self = Self(Cow::Borrowed("not_subscribable"));
    /// Security is on and the message has no token.
    pub const TOKEN_MISSING: Self = Self(Cow::Borrowed("token_missing"));
    /// The token does not verify.
    pub const TOKEN_INVALID: Self = Self(Cow::Borrowed("token_invalid"));
    /// The token has expired.
    pub const TOKEN_EXPIRED: Self = Self(Cow::Borrowed("token_expired"));
    /// The token was revoked.
    pub const TOKEN_REVOKED: Self = Self(Cow::Borrowed("token_revoked"));
    /// The token's user no longer exists.
    pub const UNKNOWN_USER: Self = Self(Cow::Borrowed("unknown_user"));
    /// The token's user has too low an access level.
    pub const ACCESS_DENIED: Self = Self(Cow::Borrowed("access_denied"));
    /// The session timed out; re-authenticate.
    pub const SESSION_TIMED_OUT: Self = Self(Cow::Borrowed("session_timed_out"));
    /// The controller cannot answer the request now.
    pub const UNAVAILABLE: Self = Self(Cow::Borrowed("unavailable"));
    /// The controller holds its maximum number of connections.
    pub const TOO_MANY_CONNECTIONS: Self = Self(Cow::Borrowed("too_many_connections"));

    /// A code with any text.
    pub fn new(code: impl Into<String>) -> Self {
        Self(Cow::Owned(code.into()))
    }

    /// The code as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A broken protocol rule, one variant per rule, the rule quoted from the document (or
/// the specs README) with its conformance level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// MUST: "send a JSON object over the WebSocket connection in the following format".
    #[error("malformed message: {0}")]
    Malformed(DecodeError),
    /// MUST: messages are JSON objects sent as text; only the server's keepalive reply is
    /// binary.
    #[error("binary messages are not accepted ({len} bytes)")]
    BinaryMessage {
        /// The frame's length.
        len: usize,
    },
    /// MAY: "The complete set of available commands for request is listed below": a
    /// channel outside the table gets an error reply.
    #[error("unknown channel `{0}`")]
    UnknownChannel(Channel),
    /// MUST: the table's "Request" column is ✖ for this channel.
    #[error("channel `{0}` cannot be requested")]
    NotRequestable(Channel),
    /// MUST: the table's "Subscribe" column is ✖ for this channel.
    #[error("channel `{0}` cannot be subscribed to")]
    NotSubscribable(Channel),
    /// MUST: "The token attribute must be added to the transmitted JSON with the bearer
    /// token received from authenticating a user."
    #[error("security is enabled and the message carries no token")]
    TokenMissing,
    /// MUST: "If the controller does have security enabled then: You must obtain a bearer
    /// token".
    #[error("token refused: {0}")]
    TokenRejected(TokenRejection),
    /// MUST: "The user with which the token was requested must have at least the status
    /// access level."
    #[error("access level {granted:?} is below the required {required:?}")]
    InsufficientAccess {
        /// The level the server requires.
        required: AccessLevel,
        /// The level the token grants.
        granted: AccessLevel,
    },
    /// MUST: "If the response contains a binary object of all zeros, that indicates that
    /// the session has timed out." Tokens live 5 minutes unless refreshed by keepalive.
    #[error("the session has timed out; re-authenticate")]
    SessionTimedOut,
    /// MUST: "MSC Controllers support a maximum of 8 simultaneous HTTP connections. MSC X
    /// and Atlas controllers support a maximum of 16 connections."
    #[error("{0}")]
    TooManyConnections(CapExceeded),
}

impl Violation {
    /// The error code an error reply carries for this violation.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Malformed(_) => ErrorCode::MALFORMED,
            Self::BinaryMessage { .. } => ErrorCode::UNSUPPORTED_DATA,
            Self::UnknownChannel(_) => ErrorCode::UNKNOWN_CHANNEL,
            Self::NotRequestable(_) => ErrorCode::NOT_REQUESTABLE,
            Self::NotSubscribable(_) => ErrorCode::NOT_SUBSCRIBABLE,
            Self::TokenMissing | Self::TokenRejected(TokenRejection::Missing) => {
                ErrorCode::TOKEN_MISSING
            }
            Self::TokenRejected(TokenRejection::Invalid) => ErrorCode::TOKEN_INVALID,
            Self::TokenRejected(TokenRejection::Expired) => ErrorCode::TOKEN_EXPIRED,
            Self::TokenRejected(TokenRejection::Revoked) => ErrorCode::TOKEN_REVOKED,
            Self::TokenRejected(TokenRejection::UnknownSubject) => ErrorCode::UNKNOWN_USER,
            Self::InsufficientAccess { .. } => ErrorCode::ACCESS_DENIED,
            Self::SessionTimedOut => ErrorCode::SESSION_TIMED_OUT,
            Self::TooManyConnections(_) => ErrorCode::TOO_MANY_CONNECTIONS,
        }
    }

    /// Whether the violation is about authentication (token, access, session lifetime).
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            Self::TokenMissing
                | Self::TokenRejected(_)
                | Self::InsufficientAccess { .. }
                | Self::SessionTimedOut
        )
    }

    /// What the wire gets when the message from `origin` broke this rule:
    /// - an authentication failure on a keepalive: the 16 zero bytes (documented);
    /// - too many connections: close 1013 "try again later" (for a driver that upgrades
    ///   before it counts; the real controller refuses the HTTP connection);
    /// - anything else: an error reply naming the request or subscription (MAY).
    pub fn wire(&self, origin: &Origin) -> Wire {
        match self {
            Self::TooManyConnections(_) => {
                Wire::Close(Close::new(CloseCode::TRY_AGAIN_LATER, self.to_string()))
            }
            v if v.is_auth() && matches!(origin, Origin::Keepalive) => {
                Wire::Keepalive(KeepaliveReply::TimedOut)
            }
            _ => Wire::Error(ErrorReply::new(origin, self.code(), self.to_string())),
        }
    }
}

/// What the wire gets for a [`Violation`].
#[derive(Debug, Clone, PartialEq)]
pub enum Wire {
    /// A text error reply.
    Error(ErrorReply),
    /// A binary keepalive reply (16 zero bytes).
    Keepalive(KeepaliveReply),
    /// A close frame.
    Close(Close),
}

impl Wire {
    /// The frame to write.
    pub fn to_outbound(&self) -> Outbound {
        match self {
            Self::Error(reply) => Outbound::Text(reply.to_text()),
            Self::Keepalive(reply) => Outbound::Binary(reply.to_bytes().to_vec()),
            Self::Close(close) => Outbound::Close(close.clone()),
        }
    }
}
