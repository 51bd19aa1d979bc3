//! Wire codes of "Available Channels" and "Message Formats": channels, severities, statuses, error codes.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::Serialize;

/// Declares an open string code: a newtype over the wire string with named constants for the
/// documented values. Unknown values are kept as they came and re-encode unchanged; `Debug`
/// marks them, or marks what the optional `understood by` predicate refuses.
macro_rules! string_code {
    (@understood $value:ident) => { $value.is_known() };
    (@understood $value:ident, $check:path) => { $check($value) };
    (
        $(#[$meta:meta])*
        $name:ident $(understood by $check:path)? {
            $( $(#[$cmeta:meta])* $konst:ident = $value:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Cow<'static, str>);

        impl $name {
            $( $(#[$cmeta])* pub const $konst: Self = Self(Cow::Borrowed($value)); )*

            /// Every value the document names, in document order.
            pub const KNOWN: &'static [Self] = &[$(Self::$konst),*];

            /// A value as it appears on the wire, documented or not.
            pub fn new(value: impl Into<String>) -> Self {
                Self(Cow::Owned(value.into()))
            }

            /// The wire string.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Whether the document names this value.
            pub fn is_known(&self) -> bool {
                Self::KNOWN.contains(self)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if string_code!(@understood self $(, $check)?) {
                    write!(f, "{}({:?})", stringify!($name), self.as_str())
                } else {
                    write!(f, "{}(unknown {:?})", stringify!($name), self.as_str())
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[cfg(feature = "schema")]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let known: Vec<&str> = Self::KNOWN.iter().map(Self::as_str).collect();
                schemars::json_schema!({
                    "type": "string",
                    "description": format!(
                        "Documented values: {}. Other values decode and are kept.",
                        known.join(", ")
                    ),
                    "examples": known,
                })
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }
    };
}

string_code! {
    /// A channel (section "Available Channels"). Unknown channels decode and are kept; the
    /// server session answers a subscription to one with an `unknown_channel` error reply.
    Channel {
        /// `telemetry`: real-time telemetry data updates.
        TELEMETRY = "telemetry",
        /// `alerts`: real-time alert notifications.
        ALERTS = "alerts",
        /// `devices`: real-time device status updates.
        DEVICES = "devices",
        /// `system`: real-time system status updates.
        SYSTEM = "system",
    }
}

string_code! {
    /// An alert severity (alert `severity`, filter `severity`).
    Severity {
        /// `critical`.
        CRITICAL = "critical",
        /// `warning`.
        WARNING = "warning",
    }
}

string_code! {
    /// A device status (`old_status`, `new_status`, filter `status_types`).
    DeviceStatus {
        /// `online`.
        ONLINE = "online",
        /// `offline`.
        OFFLINE = "offline",
        /// `warning`.
        WARNING = "warning",
    }
}

string_code! {
    /// The `error` code of an `auth_response` or an `error` reply. Only `invalid_token` is
    /// documented (MUST); the others are this crate's error replies (MAY).
    ErrorCode {
        /// The token was refused (documented).
        INVALID_TOKEN = "invalid_token",
        /// A message other than `auth` or `ping` arrived before a successful auth.
        NOT_AUTHENTICATED = "not_authenticated",
        /// An `auth` arrived on an authenticated connection.
        ALREADY_AUTHENTICATED = "already_authenticated",
        /// The message is not JSON, has no known `type`, or has the wrong shape.
        INVALID_MESSAGE = "invalid_message",
        /// The channel is not one of `telemetry`, `alerts`, `devices`, `system`.
        UNKNOWN_CHANNEL = "unknown_channel",
        /// A filter does not apply to the channel, is empty, or has a bad `frequency`.
        INVALID_FILTER = "invalid_filter",
        /// An `unsubscribe` names a subscription the connection does not hold.
        NOT_SUBSCRIBED = "not_subscribed",
        /// A batch holds more than 50 items.
        BATCH_TOO_LARGE = "batch_too_large",
        /// More than 100 messages within one second.
        RATE_LIMITED = "rate_limited",
        /// A connection cap (total, per user, or new connections per minute) refused the connection.
        CONNECTION_LIMIT = "connection_limit",
    }
}

string_code! {
    /// A subscription's `frequency` filter: `real-time`, or a duration such as `30s`.
    /// Any string decodes; [`Frequency::interval`] says whether the server understands it.
    Frequency understood by Frequency::is_understood {
        /// `real-time`: every update, as it comes.
        REAL_TIME = "real-time",
    }
}

/// A `frequency` that is neither `real-time` nor a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "frequency `{0}` is neither `real-time` nor a duration such as `500ms`, `30s`, `5m` or `1h`"
)]
pub struct FrequencyError(pub String);

impl Frequency {
    /// A frequency of one update per `interval`, spelled in the largest whole unit.
    pub fn every(interval: Duration) -> Self {
        let ms = interval.as_millis();
        let text = if ms.is_multiple_of(3_600_000) && ms > 0 {
            format!("{}h", ms / 3_600_000)
        } else if ms.is_multiple_of(60_000) && ms > 0 {
            format!("{}m", ms / 60_000)
        } else if ms.is_multiple_of(1_000) {
            format!("{}s", ms / 1_000)
        } else {
            format!("{ms}ms")
        };
        Self::new(text)
    }

    /// Whether [`Frequency::interval`] understands this value.
    pub fn is_understood(&self) -> bool {
        self.interval().is_ok()
    }

    /// The least time between two updates: `None` for `real-time`, or the parsed duration
    /// (`<digits>` followed by `ms`, `s`, `m` or `h`).
    pub fn interval(&self) -> Result<Option<Duration>, FrequencyError> {
        if *self == Self::REAL_TIME {
            return Ok(None);
        }
        let text = self.as_str();
        let bad = || FrequencyError(text.to_owned());
        let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (digits, unit) = text.split_at(split);
        if digits.is_empty() {
            return Err(bad());
        }
        let amount: u64 = digits.parse().map_err(|_| bad())?;
        let millis_per_unit: u64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return Err(bad()),
        };
        let millis = amount.checked_mul(millis_per_unit).ok_or_else(bad)?;
        Ok(Some(Duration::from_millis(millis)))
    }
}

/// A device identifier (`device_id`): a number on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct DeviceId(pub u64);

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({})", self.0)
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A field the document shows both as one value (`"device_id": 1`) and as a list
/// (`"device_id": [1, 2, 3]`). Decoding keeps which form was used.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "OneOrMany_{T}"))]
#[serde(untagged, expecting = "a value or an array of values")]
pub enum OneOrMany<T> {
    /// A single value.
    One(T),
    /// A list of values.
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The values, in wire order.
    pub fn as_slice(&self) -> &[T] {
        match self {
            Self::One(one) => std::slice::from_ref(one),
            Self::Many(many) => many,
        }
    }

    /// Whether no value is given (an empty list).
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }
}

impl<T: PartialEq> OneOrMany<T> {
    /// Whether `value` is one of the values.
    pub fn contains(&self, value: &T) -> bool {
        self.as_slice().contains(value)
    }

    /// Whether both name the same values, whatever the form, order or repetition.
    pub fn same_values(&self, other: &Self) -> bool {
        self.as_slice().iter().all(|v| other.contains(v))
            && other.as_slice().iter().all(|v| self.contains(v))
    }
}

impl<T> From<T> for OneOrMany<T> {
    fn from(value: T) -> Self {
        Self::One(value)
    }
}

impl<T> From<Vec<T>> for OneOrMany<T> {
    fn from(values: Vec<T>) -> Self {
        Self::Many(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codes_are_kept_and_marked() {
        let c: Channel = serde_json::from_str("\"weather\"").unwrap();
        assert!(!c.is_known());
        assert_eq!(format!("{c:?}"), "Channel(unknown \"weather\")");
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"weather\"");
        assert_eq!(format!("{:?}", Channel::ALERTS), "Channel(\"alerts\")");
        assert!(Channel::from("system").is_known());
    }

    #[test]
    fn frequency_parses_documented_forms() {
        assert_eq!(Frequency::REAL_TIME.interval(), Ok(None));
        assert_eq!(
            Frequency::from("30s").interval(),
            Ok(Some(Duration::from_secs(30)))
        );
        assert_eq!(
            Frequency::from("250ms").interval(),
            Ok(Some(Duration::from_millis(250)))
        );
        assert_eq!(
            Frequency::from("5m").interval(),
            Ok(Some(Duration::from_secs(300)))
        );
        assert_eq!(
            Frequency::from("1h").interval(),
            Ok(Some(Duration::from_secs(3600)))
        );
        for bad in [
            "",
            "s",
            "30",
            "30x",
            "-1s",
            "realtime",
            "99999999999999999999s",
        ] {
            assert_eq!(
                Frequency::from(bad).interval(),
                Err(FrequencyError(bad.into())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn frequency_every_spells_the_largest_unit() {
        assert_eq!(Frequency::every(Duration::from_secs(30)).as_str(), "30s");
        assert_eq!(Frequency::every(Duration::from_secs(120)).as_str(), "2m");
        assert_eq!(Frequency::every(Duration::from_secs(7200)).as_str(), "2h");
        assert_eq!(
            Frequency::every(Duration::from_millis(1500)).as_str(),
            "1500ms"
        );
        assert_eq!(Frequency::every(Duration::ZERO).as_str(), "0s");
        assert_eq!(
            format!("{:?}", Frequency::from("30s")),
            "Frequency(\"30s\")"
        );
        assert_eq!(
            format!("{:?}", Frequency::from("often")),
            "Frequency(unknown \"often\")"
        );
        let f = Frequency::every(Duration::from_millis(90_000));
        assert_eq!(f.interval(), Ok(Some(Duration::from_millis(90_000))));
    }

    #[test]
    fn one_or_many_compares_as_sets() {
        let one = OneOrMany::One(DeviceId(1));
        let many = OneOrMany::Many(vec![DeviceId(1), DeviceId(1)]);
        assert!(one.same_values(&many));
        assert!(!one.same_values(&OneOrMany::Many(vec![DeviceId(1), DeviceId(2)])));
        assert!(OneOrMany::<DeviceId>::Many(vec![]).is_empty());
    }
}
