//! Errors in layers for robot.txt: malformed messages, protocol violations, and what the wire gets.

use std::fmt;
use std::time::Duration;

use crate::auth::TokenRejection;
use crate::codec::JsonError;
use crate::frame::Close;
use crate::frame::CloseCode;
use crate::limits::CapExceeded;

use super::codes::ErrorCode;
use super::codes::Topic;
use super::messages::ErrorReply;

/// Where in a message a fault sits, printed as a JSON path (`$.data.name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Path {
    /// The message itself: `$`.
    Root,
    /// `$.action`.
    Action,
    /// `$.topic`.
    Topic,
    /// `$.data`: a publish's payload, or a delivered payload's data.
    Data,
    /// `$.data.name`: the name inside a publish's payload.
    DataName,
    /// `$.data.type`: the type inside a publish's payload.
    DataType,
    /// `$.data.data`: the data inside a publish's payload.
    DataData,
    /// `$.name`: a delivered payload's name.
    Name,
    /// `$.type`: a delivered payload's type.
    Type,
    /// `$.error`: an error reply's code.
    Error,
    /// `$.message`: an error reply's text.
    Message,
}

impl Path {
    /// The JSON path.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Root => "$",
            Self::Action => "$.action",
            Self::Topic => "$.topic",
            Self::Data => "$.data",
            Self::DataName => "$.data.name",
            Self::DataType => "$.data.type",
            Self::DataData => "$.data.data",
            Self::Name => "$.name",
            Self::Type => "$.type",
            Self::Error => "$.error",
            Self::Message => "$.message",
        }
    }

    /// Whether the path lies in a publish's `data` (`$.data` and below).
    fn in_publish_data(self) -> bool {
        matches!(
            self,
            Self::Data | Self::DataName | Self::DataType | Self::DataData
        )
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text frame that is not a well-formed message: what was malformed, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The text is not JSON; the inner error has line and column.
    #[error("invalid JSON: {0}")]
    Json(JsonError),
    /// A value has the wrong JSON type.
    #[error("`{path}` must be {expected}, found {found}")]
    WrongType {
        /// Where.
        path: Path,
        /// What the message shape requires there.
        expected: &'static str,
        /// What was found.
        found: &'static str,
    },
    /// A required field is absent.
    #[error("missing field `{path}`")]
    MissingField {
        /// The field.
        path: Path,
    },
    /// A field the message shape does not have (the first, in key order).
    #[error("unknown field `{field}` in `{within}`")]
    UnknownField {
        /// The object holding it.
        within: Path,
        /// The field's name.
        field: String,
    },
    /// `action` names no message of this direction.
    #[error("unknown action `{action}`: expected one of {expected}")]
    UnknownAction {
        /// The action as sent.
        action: String,
        /// The actions this direction has.
        expected: &'static str,
    },
    /// A publish's `data` is a string, but not JSON; the inner error has line and column
    /// within that string.
    #[error("`$.data` is a string that does not hold JSON: {0}")]
    DataString(JsonError),
}

impl From<JsonError> for DecodeError {
    fn from(err: JsonError) -> Self {
        Self::Json(err)
    }
}

impl DecodeError {
    /// The error code a client's malformed message is answered with.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Json(_) => ErrorCode::INVALID_JSON,
            Self::DataString(_) => ErrorCode::INVALID_DATA,
            Self::UnknownAction { .. } => ErrorCode::UNKNOWN_ACTION,
            Self::MissingField { path } | Self::WrongType { path, .. } => match path {
                Path::Action => ErrorCode::UNKNOWN_ACTION,
                Path::Topic => match self {
                    Self::MissingField { .. } => ErrorCode::MISSING_TOPIC,
                    _ => ErrorCode::INVALID_TOPIC,
                },
                p if p.in_publish_data() => ErrorCode::INVALID_DATA,
                _ => ErrorCode::INVALID_MESSAGE,
            },
            Self::UnknownField { within, .. } if within.in_publish_data() => {
                ErrorCode::INVALID_DATA
            }
            Self::UnknownField { .. } => ErrorCode::INVALID_MESSAGE,
        }
    }
}

/// A broken protocol rule. The document states none of these limits (the server's
/// choices, MAY) except where a variant says otherwise; each maps to an error reply or a
/// close frame through [`Violation::response`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// "To subscribe to a topic: {"action": "subscribe", "topic": "some_topic"}" (and the
    /// other two actions): a text frame that is not one of the three messages (MUST).
    #[error("{0}")]
    Malformed(DecodeError),
    /// The API is JSON text ("JSON.stringify", "json.dumps"); a binary frame carries none.
    #[error("binary frames ({len} bytes) are not supported: send JSON text")]
    BinaryFrame {
        /// The frame's length.
        len: usize,
    },
    /// Messages are at most [`super::Limits::max_message_bytes`] long (MAY).
    #[error("message of {size} bytes exceeds the maximum of {max} bytes")]
    MessageTooLarge {
        /// The message's length.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A topic names something: the empty string is not a topic (MAY).
    #[error("topic must not be empty")]
    EmptyTopic,
    /// Topics are at most [`super::Limits::max_topic_bytes`] long (MAY).
    #[error("topic of {len} bytes exceeds the maximum of {max} bytes")]
    TopicTooLong {
        /// The topic's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A connection holds at most [`super::Limits::max_topics_per_connection`]
    /// subscriptions (MAY).
    #[error("already subscribed to the maximum of {max} topics")]
    TooManyTopics {
        /// The limit.
        max: usize,
    },
    /// "Some system logs are published by the WebSocket server on the "server_logs"
    /// topic": only the server publishes there (MAY: clients are refused).
    #[error("topic `{topic}` is reserved for the server's own log lines")]
    ReservedTopic {
        /// The topic.
        topic: Topic,
    },
    /// At most [`super::Limits::max_messages`] messages per [`super::Limits::window`]
    /// (MAY): the message was dropped.
    #[error("more than {max} messages in {window:?}: message dropped")]
    RateLimited {
        /// Messages admitted per window.
        max: usize,
        /// The window.
        window: Duration,
    },
    /// A client that keeps exceeding the rate after being told is disconnected (MAY).
    #[error("rate limit exceeded {strikes} times in a row")]
    RateLimitPersisted {
        /// Consecutive refused messages.
        strikes: u32,
    },
    /// "include the JWT token in the initial request as a query parameter": a missing or
    /// invalid token is refused (MUST; the README allows HTTP 401 before the upgrade or
    /// close 1008 after it). Also applies when the token expires or is revoked later (MAY).
    #[error("{0}")]
    Token(TokenRejection),
    /// The server holds as many connections as it accepts (MAY).
    #[error("{0}")]
    Capacity(CapExceeded),
}

/// What the wire gets for a [`Violation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// An error reply; the connection stays open.
    Reply(ErrorReply),
    /// A close frame; nothing follows it.
    Close(Close),
}

impl Violation {
    /// The error code of the reply, or `None` for violations that close the connection.
    pub fn code(&self) -> Option<ErrorCode> {
        Some(match self {
            Self::Malformed(e) => e.code(),
            Self::BinaryFrame { .. } => ErrorCode::UNSUPPORTED_FRAME,
            Self::MessageTooLarge { .. } => ErrorCode::MESSAGE_TOO_LARGE,
            Self::EmptyTopic => ErrorCode::INVALID_TOPIC,
            Self::TopicTooLong { .. } => ErrorCode::TOPIC_TOO_LONG,
            Self::TooManyTopics { .. } => ErrorCode::TOO_MANY_TOPICS,
            Self::ReservedTopic { .. } => ErrorCode::RESERVED_TOPIC,
            Self::RateLimited { .. } => ErrorCode::RATE_LIMITED,
            Self::RateLimitPersisted { .. } | Self::Token(_) | Self::Capacity(_) => return None,
        })
    }

    /// The close code, for violations that end the connection: 1008 for tokens and a
    /// persisting rate excess, 1013 (try again later) for a full server.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Self::Token(_) | Self::RateLimitPersisted { .. } => Some(CloseCode::POLICY_VIOLATION),
            Self::Capacity(_) => Some(CloseCode::TRY_AGAIN_LATER),
            _ => None,
        }
    }

    /// The error reply or close frame the client gets.
    pub fn response(&self) -> Response {
        match (self.code(), self.close_code()) {
            (Some(code), _) => Response::Reply(ErrorReply::new(code, self.to_string())),
            (None, Some(close)) => Response::Close(Close::new(close, self.to_string())),
            (None, None) => {
                Response::Close(Close::new(CloseCode::POLICY_VIOLATION, self.to_string()))
            }
        }
    }
}

impl From<&Violation> for Response {
    fn from(v: &Violation) -> Self {
        v.response()
    }
}

impl From<DecodeError> for Violation {
    fn from(err: DecodeError) -> Self {
        Self::Malformed(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::robot::ClientMessage;

    fn code_of(text: &str) -> ErrorCode {
        ClientMessage::decode(text).unwrap_err().code()
    }

    #[test]
    fn decode_errors_map_to_codes() {
        assert_eq!(code_of("{"), ErrorCode::INVALID_JSON);
        assert_eq!(code_of(""), ErrorCode::INVALID_JSON);
        assert_eq!(code_of("\"subscribe\""), ErrorCode::INVALID_MESSAGE);
        assert_eq!(code_of(r#"{"topic":"t"}"#), ErrorCode::UNKNOWN_ACTION);
        assert_eq!(
            code_of(r#"{"action":null,"topic":"t"}"#),
            ErrorCode::UNKNOWN_ACTION
        );
        assert_eq!(
            code_of(r#"{"action":"sub","topic":"t"}"#),
            ErrorCode::UNKNOWN_ACTION
        );
        assert_eq!(
            code_of(r#"{"action":"subscribe"}"#),
            ErrorCode::MISSING_TOPIC
        );
        assert_eq!(
            code_of(r#"{"action":"subscribe","topic":["t"]}"#),
            ErrorCode::INVALID_TOPIC
        );
        assert_eq!(
            code_of(r#"{"action":"publish","topic":"t"}"#),
            ErrorCode::INVALID_DATA
        );
        assert_eq!(
            code_of(r#"{"action":"publish","topic":"t","data":"nope"}"#),
            ErrorCode::INVALID_DATA
        );
        assert_eq!(
            code_of(r#"{"action":"publish","topic":"t","data":{"name":"n","type":"t"}}"#),
            ErrorCode::INVALID_DATA
        );
        assert_eq!(
            code_of(
                r#"{"action":"publish","topic":"t","data":{"name":"n","type":"t","data":1,"x":1}}"#
            ),
            ErrorCode::INVALID_DATA
        );
        assert_eq!(
            code_of(r#"{"action":"subscribe","topic":"t","x":1}"#),
            ErrorCode::INVALID_MESSAGE
        );
    }

    #[test]
    fn violations_map_to_replies_or_closes() {
        let reply = Violation::TopicTooLong { len: 300, max: 128 }.response();
        assert_eq!(
            reply,
            Response::Reply(ErrorReply::new(
                ErrorCode::TOPIC_TOO_LONG,
                "topic of 300 bytes exceeds the maximum of 128 bytes"
            ))
        );
        assert_eq!(
            Violation::Token(TokenRejection::Missing).response(),
            Response::Close(Close::new(CloseCode::POLICY_VIOLATION, "no token provided"))
        );
        assert_eq!(
            Violation::RateLimitPersisted { strikes: 20 }.response(),
            Response::Close(Close::new(
                CloseCode::POLICY_VIOLATION,
                "rate limit exceeded 20 times in a row"
            ))
        );
        assert_eq!(
            Response::from(&Violation::Capacity(CapExceeded::Total(3))),
            Response::Close(Close::new(
                CloseCode::TRY_AGAIN_LATER,
                "maximum of 3 concurrent connections reached"
            ))
        );
        let every_reply = [
            Violation::BinaryFrame { len: 1 },
            Violation::MessageTooLarge { size: 2, max: 1 },
            Violation::EmptyTopic,
            Violation::TooManyTopics { max: 1 },
            Violation::ReservedTopic {
                topic: Topic::SERVER_LOGS,
            },
            Violation::RateLimited {
                max: 1,
                window: Duration::from_secs(1),
            },
        ];
        for v in every_reply {
            assert!(
                matches!(v.response(), Response::Reply(ref r) if r.error.is_known()),
                "{v:?}"
            );
        }
    }

    #[test]
    fn every_violation_has_exactly_one_answer() {
        let all = [
            Violation::Malformed(DecodeError::MissingField { path: Path::Topic }),
            Violation::BinaryFrame { len: 1 },
            Violation::MessageTooLarge { size: 2, max: 1 },
            Violation::EmptyTopic,
            Violation::TopicTooLong { len: 2, max: 1 },
            Violation::TooManyTopics { max: 1 },
            Violation::ReservedTopic {
                topic: Topic::SERVER_LOGS,
            },
            Violation::RateLimited {
                max: 1,
                window: Duration::from_secs(1),
            },
            Violation::RateLimitPersisted { strikes: 1 },
            Violation::Token(TokenRejection::Invalid),
            Violation::Capacity(CapExceeded::Total(1)),
        ];
        for v in all {
            assert_ne!(v.code().is_some(), v.close_code().is_some(), "{v:?}");
            match v.response() {
                Response::Reply(r) => assert_eq!(Some(r.error), v.code()),
                Response::Close(c) => {
                    assert_eq!(Some(c.code), v.close_code());
                    assert!(c.reason.len() <= 123, "fits a close frame: {}", c.reason);
                }
            }
        }
    }
}
