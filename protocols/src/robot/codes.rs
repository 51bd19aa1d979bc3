//! Open wire values of robot.txt "Messages" and "System logs": topics, error codes, log levels.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

/// A pub/sub topic name: any string a client chooses ("some_topic" in the document).
///
/// Open: every string decodes and is kept as sent. The session, not the codec, refuses
/// topics that break a limit (empty, too long: see [`super::Limits`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct Topic(pub Cow<'static, str>);

impl Topic {
    /// `server_logs`: the server publishes its own log lines here ("System logs", MUST).
    pub const SERVER_LOGS: Self = Self(Cow::Borrowed("server_logs"));

    /// A topic named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self(Cow::Owned(name.into()))
    }

    /// The topic's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its length in bytes (what [`super::Limits::max_topic_bytes`] counts).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the name is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Topic {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

impl From<String> for Topic {
    fn from(name: String) -> Self {
        Self(Cow::Owned(name))
    }
}

/// The `error` field of an error reply (MAY: the document defines no error reply).
///
/// Open: a code this crate does not name is kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct ErrorCode(pub Cow<'static, str>);

impl ErrorCode {
    /// The text is not JSON.
    pub const INVALID_JSON: Self = Self(Cow::Borrowed("invalid_json"));
    /// JSON, but not a message of the documented shape (not an object, unknown field).
    pub const INVALID_MESSAGE: Self = Self(Cow::Borrowed("invalid_message"));
    /// `action` is missing, not a string, or not subscribe / unsubscribe / publish.
    pub const UNKNOWN_ACTION: Self = Self(Cow::Borrowed("unknown_action"));
    /// `topic` is missing.
    pub const MISSING_TOPIC: Self = Self(Cow::Borrowed("missing_topic"));
    /// `topic` is not a string, or is empty.
    pub const INVALID_TOPIC: Self = Self(Cow::Borrowed("invalid_topic"));
    /// `topic` is longer than the server allows.
    pub const TOPIC_TOO_LONG: Self = Self(Cow::Borrowed("topic_too_long"));
    /// A publish's `data` is missing, or neither `{name, type, data}` nor a string holding it.
    pub const INVALID_DATA: Self = Self(Cow::Borrowed("invalid_data"));
    /// A binary frame: the API speaks JSON text only.
    pub const UNSUPPORTED_FRAME: Self = Self(Cow::Borrowed("unsupported_frame"));
    /// The message is larger than the server allows.
    pub const MESSAGE_TOO_LARGE: Self = Self(Cow::Borrowed("message_too_large"));
    /// The connection holds the maximum number of subscriptions.
    pub const TOO_MANY_TOPICS: Self = Self(Cow::Borrowed("too_many_topics"));
    /// Clients may not publish on `server_logs`.
    pub const RESERVED_TOPIC: Self = Self(Cow::Borrowed("reserved_topic"));
    /// Too many messages in the rate window; this one was dropped.
    pub const RATE_LIMITED: Self = Self(Cow::Borrowed("rate_limited"));

    /// Every code this crate names.
    pub const ALL: [Self; 12] = [
        Self::INVALID_JSON,
        Self::INVALID_MESSAGE,
        Self::UNKNOWN_ACTION,
        Self::MISSING_TOPIC,
        Self::INVALID_TOPIC,
        Self::TOPIC_TOO_LONG,
        Self::INVALID_DATA,
        Self::UNSUPPORTED_FRAME,
        Self::MESSAGE_TOO_LARGE,
        Self::TOO_MANY_TOPICS,
        Self::RESERVED_TOPIC,
        Self::RATE_LIMITED,
    ];

    /// A code spelled `code`.
    pub fn new(code: impl Into<String>) -> Self {
        Self(Cow::Owned(code.into()))
    }

    /// The code as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this crate names the code.
    pub fn is_known(&self) -> bool {
        Self::ALL.contains(self)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Severity of a server log line; published as the `type` of the `server_logs` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Diagnostic detail.
    Debug,
    /// Normal operation (a client connected, subscribed, ...).
    Info,
    /// Something unexpected that the server handled (a refused message).
    Warning,
    /// A failure.
    Error,
}

impl LogLevel {
    /// Every level, lowest first.
    pub const ALL: [Self; 4] = [Self::Debug, Self::Info, Self::Warning, Self::Error];

    /// The lower-case name sent as the log message's `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }

    /// The level named `name` (as [`LogLevel::as_str`] spells it).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == name)
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_constants_compare_equal_to_owned_values() {
        assert_eq!(Topic::SERVER_LOGS, Topic::new("server_logs"));
        assert_eq!(ErrorCode::RATE_LIMITED, ErrorCode::new("rate_limited"));
        assert!(ErrorCode::new("invalid_json").is_known());
        let other = ErrorCode::new("vendor_specific");
        assert!(!other.is_known());
        assert_eq!(
            other.to_string(),
            "vendor_specific",
            "unknown codes are kept"
        );
    }

    #[test]
    fn log_levels_round_trip_by_name() {
        for level in LogLevel::ALL {
            assert_eq!(LogLevel::from_name(level.as_str()), Some(level));
        }
        assert_eq!(LogLevel::from_name("fatal"), None);
    }
}
