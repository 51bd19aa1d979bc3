//! The `[robot]` scenario section: the robot's topics and rates, its status lines, and limits.

use serde::Deserialize;

use crate::signals::SignalSpec;

/// The robot section of a scenario file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Lifetime of the tokens `GET /api/v1/auth/` issues, in seconds.
    #[serde(default = "default_token_ttl_secs")]
    pub token_ttl_secs: u64,
    /// Refuse a bad `?token=` with HTTP 401 before the upgrade instead of close 1008 after
    /// it (the specs README allows either; a client must handle both).
    #[serde(default)]
    pub refuse_before_upgrade: bool,
    /// Acknowledge each subscribe, unsubscribe and publish (off: the official client
    /// expects only `{name, type, data}` messages).
    #[serde(default)]
    pub acks: bool,
    /// Connections the server holds at once (close 1013, or 503 before the upgrade).
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Messages one connection may send per second (error reply `rate_limited`).
    #[serde(default = "default_max_messages_per_second")]
    pub max_messages_per_second: usize,
    /// Largest text message accepted, in bytes (error reply `message_too_large`).
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// Topics one connection may be subscribed to at once.
    #[serde(default = "default_max_topics")]
    pub max_topics_per_connection: usize,
    /// Deliveries one connection may have queued before further ones are dropped.
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// The robot's status line on `server_logs`, every this many milliseconds (0: never).
    #[serde(default = "default_status_interval_ms")]
    pub status_interval_ms: u64,
    /// The robot's status: battery, pose and mode.
    #[serde(default)]
    pub status: Status,
    /// The topics the robot publishes on.
    #[serde(default = "default_topics")]
    pub topics: Vec<TopicSpec>,
    /// Faults every client gets as it connects (a list of fault specs), or deliberate
    /// deviations from the document (a table, all off by default).
    #[serde(default)]
    pub faults: crate::faults::Section<Faults>,
}

/// Deliberate deviations from the document; all off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Publish nothing on `server_logs`, breaking "Some system logs are published by the
    /// WebSocket server on the "server_logs" topic".
    #[serde(default)]
    pub no_server_logs: bool,
    /// Hand each client's publish also to connections subscribed only to other topics,
    /// breaking "Subscribers of a topic receive each published message" (and only they).
    #[serde(default)]
    pub leak_publishes: bool,
    /// Take an expired token as valid, breaking "an expired JWT is not valid".
    #[serde(default)]
    pub accept_expired_tokens: bool,
}

/// What the robot's status lines report.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Status {
    /// Operating modes; the robot moves between them (a mode change is a log line).
    #[serde(default = "default_modes")]
    pub modes: Vec<String>,
    /// Status lines a mode is held for, at least.
    #[serde(default = "default_mode_hold")]
    pub mode_hold: u32,
    /// Battery charge in percent.
    #[serde(default = "default_status_battery")]
    pub battery: SignalSpec,
    /// Below this charge (percent) the status line is a warning.
    #[serde(default = "default_low_battery")]
    pub low_battery: f64,
}

/// One topic the robot publishes on: one `{name, type, data}` message per interval.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    /// The topic subscribers name.
    pub topic: String,
    /// The message's `name`.
    pub name: String,
    /// The message's `type`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Milliseconds between two messages.
    pub interval_ms: u64,
    /// The values: one unnamed field gives a bare number as `data`, otherwise `data` is an
    /// object keyed by the fields' keys.
    pub fields: Vec<Field>,
}

/// One value of a topic's message.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The key in `data` (absent for a topic whose `data` is one number).
    #[serde(default)]
    pub key: Option<String>,
    /// Decimal places.
    #[serde(default = "default_decimals")]
    pub decimals: u32,
    /// How the value moves.
    pub signal: SignalSpec,
}

fn default_token_ttl_secs() -> u64 {
    3_600
}

fn default_max_connections() -> usize {
    1_000
}

fn default_max_messages_per_second() -> usize {
    100
}

fn default_max_message_bytes() -> usize {
    64 * 1024
}

fn default_max_topics() -> usize {
    64
}

fn default_queue() -> usize {
    256
}

fn default_status_interval_ms() -> u64 {
    5_000
}

fn default_decimals() -> u32 {
    3
}

fn default_modes() -> Vec<String> {
    ["idle", "navigating", "inspecting", "docking", "charging"]
        .into_iter()
        .map(String::from)
        .collect()
}

fn default_mode_hold() -> u32 {
    6
}

fn default_status_battery() -> SignalSpec {
    SignalSpec::Battery {
        start: 86.0,
        rate: 0.4,
    }
}

fn default_low_battery() -> f64 {
    20.0
}

impl Default for Status {
    fn default() -> Self {
        Self {
            modes: default_modes(),
            mode_hold: default_mode_hold(),
            battery: default_status_battery(),
            low_battery: default_low_battery(),
        }
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            token_ttl_secs: default_token_ttl_secs(),
            refuse_before_upgrade: false,
            acks: false,
            max_connections: default_max_connections(),
            max_messages_per_second: default_max_messages_per_second(),
            max_message_bytes: default_max_message_bytes(),
            max_topics_per_connection: default_max_topics(),
            queue: default_queue(),
            status_interval_ms: default_status_interval_ms(),
            status: Status::default(),
            topics: default_topics(),
            faults: crate::faults::Section::default(),
        }
    }
}

fn field(key: &str, decimals: u32, signal: SignalSpec) -> Field {
    Field {
        key: Some(key.to_owned()),
        decimals,
        signal,
    }
}

/// A mobile robot's battery and odometry: what the server publishes when a scenario has no
/// robot section.
fn default_topics() -> Vec<TopicSpec> {
    vec![
        TopicSpec {
            topic: "battery".into(),
            name: "battery_state".into(),
            kind: "json".into(),
            interval_ms: 1_000,
            fields: vec![
                field(
                    "percentage",
                    1,
                    SignalSpec::Battery {
                        start: 86.0,
                        rate: 0.05,
                    },
                ),
                field(
                    "voltage",
                    2,
                    SignalSpec::Sine {
                        mean: 24.6,
                        amplitude: 0.6,
                        period: 600.0,
                        noise: 0.02,
                        drift: 0.0,
                    },
                ),
            ],
        },
        TopicSpec {
            topic: "odom".into(),
            name: "pose".into(),
            kind: "json".into(),
            interval_ms: 100,
            fields: vec![
                field(
                    "x",
                    3,
                    SignalSpec::RandomWalk {
                        start: 0.0,
                        step: 0.02,
                        min: -25.0,
                        max: 25.0,
                    },
                ),
                field(
                    "y",
                    3,
                    SignalSpec::RandomWalk {
                        start: 0.0,
                        step: 0.02,
                        min: -25.0,
                        max: 25.0,
                    },
                ),
            ],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_section_parses_and_differs_only_in_detail() {
        let text = crate::scenario::embedded_default_text();
        let robot = crate::scenario::Scenario::parse(&text, "default")
            .unwrap()
            .robot;
        assert_ne!(
            robot,
            Scenario::default(),
            "the file is read, not defaulted"
        );
        assert!(!robot.topics.is_empty());
        assert!(robot.status_interval_ms > 0 && robot.status_interval_ms <= 5_000);
        assert!(robot.topics.iter().all(|t| !t.fields.is_empty()));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = crate::scenario::Scenario::parse("[robot]\nnope = 1\n", "x.toml").unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
