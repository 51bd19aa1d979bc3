//! Field types of the "Inbound Message Format" and "Broadcast Messages" tables: readings, ids, message types.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::Deserializer;
use serde::Serialize;
use serde::Serializer;

/// A sensor reading (`datapoints[].value`): a finite JSON number.
///
/// The field is private so that a `Reading` can never hold `NaN` or an infinity: serde_json
/// would write those as `null`, and the real backend writes them as bare `NaN` tokens that
/// strict parsers reject. Neither ever reaches the wire from this module.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Reading(f64);

impl Reading {
    /// The reading `value`, or `None` when it is `NaN` or infinite.
    pub fn new(value: f64) -> Option<Self> {
        value.is_finite().then_some(Self(value))
    }

    /// The reading as an `f64` (always finite).
    pub fn get(self) -> f64 {
        self.0
    }
}

impl fmt::Display for Reading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Reading {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Reading {
    fn schema_name() -> Cow<'static, str> {
        "Reading".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "number",
            "description": "A finite number (JSON has no NaN or infinity).",
        })
    }
}

impl<'de> Deserialize<'de> for Reading {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        Self::new(value).ok_or_else(|| serde::de::Error::custom("reading is not a finite number"))
    }
}

/// An Event's `public_id` (`datapoints[].event_public_id`), a UUID on the real backend.
///
/// Kept as the exact string received: the backend matches it against its event registry
/// and never parses it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct EventPublicId(pub String);

/// An Experiment's `public_id` (`datapoints[].experiment_public_id`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct ExperimentPublicId(pub String);

macro_rules! string_id {
    ($name:ident) => {
        impl $name {
            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(EventPublicId);
string_id!(ExperimentPublicId);

/// The `type` field of a WebSocket message: an open set of strings.
///
/// The documented values are named constants; any other value is kept as received (in a
/// decode error or an unknown-message report), never lost.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct MessageType(pub Cow<'static, str>);

impl MessageType {
    /// `"connected"`: the stream's confirmation, sent immediately after authentication.
    pub const CONNECTED: Self = Self(Cow::Borrowed("connected"));
    /// `"ping"`: the dashboard's optional keep-alive.
    pub const PING: Self = Self(Cow::Borrowed("ping"));
    /// `"pong"`: the server's answer to a ping.
    pub const PONG: Self = Self(Cow::Borrowed("pong"));
    /// `"datapoints_batch"`: a live-data broadcast to every stream client.
    pub const DATAPOINTS_BATCH: Self = Self(Cow::Borrowed("datapoints_batch"));
    /// `"error"`: an error reply (batch too large, no valid datapoints, ...).
    pub const ERROR: Self = Self(Cow::Borrowed("error"));

    /// Every documented message type.
    pub const ALL: [Self; 5] = [
        Self::CONNECTED,
        Self::PING,
        Self::PONG,
        Self::DATAPOINTS_BATCH,
        Self::ERROR,
    ];

    /// The type as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the value is one of the documented types.
    pub fn is_known(&self) -> bool {
        Self::ALL.contains(self)
    }
}

impl From<&str> for MessageType {
    fn from(s: &str) -> Self {
        Self(Cow::Owned(s.to_owned()))
    }
}

impl fmt::Debug for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageType({:?})", self.0)
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// The `type` of an event in `GET /api/v1/events` (the backend's `EventType`): an open set.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct EventKind(pub Cow<'static, str>);

impl EventKind {
    /// `"sensor"`: a measured input.
    pub const SENSOR: Self = Self(Cow::Borrowed("sensor"));
    /// `"actuator"`: a driven output.
    pub const ACTUATOR: Self = Self(Cow::Borrowed("actuator"));
    /// `"range"`: a set-point range.
    pub const RANGE: Self = Self(Cow::Borrowed("range"));
    /// `"cmd_button"`: a command button.
    pub const CMD_BUTTON: Self = Self(Cow::Borrowed("cmd_button"));
    /// `"cmd_opened"`: a command's "opened" state.
    pub const CMD_OPENED: Self = Self(Cow::Borrowed("cmd_opened"));
    /// `"cmd_closed"`: a command's "closed" state.
    pub const CMD_CLOSED: Self = Self(Cow::Borrowed("cmd_closed"));

    /// Every known event kind.
    pub const ALL: [Self; 6] = [
        Self::SENSOR,
        Self::ACTUATOR,
        Self::RANGE,
        Self::CMD_BUTTON,
        Self::CMD_OPENED,
        Self::CMD_CLOSED,
    ];

    /// The kind as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventKind({:?})", self.0)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_are_finite() {
        assert_eq!(Reading::new(f64::NAN), None);
        assert_eq!(Reading::new(f64::INFINITY), None);
        assert_eq!(Reading::new(f64::NEG_INFINITY), None);
        assert_eq!(Reading::new(23.5).map(Reading::get), Some(23.5));
    }

    #[test]
    fn unknown_message_types_are_kept() {
        let t = MessageType::from("subscribe");
        assert!(!t.is_known());
        assert_eq!(t.to_string(), "\"subscribe\"");
        assert!(MessageType::from("ping").is_known());
        assert_eq!(MessageType::from("ping"), MessageType::PING);
    }
}
