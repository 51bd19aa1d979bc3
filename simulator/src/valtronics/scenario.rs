//! The `[valtronics]` scenario section: devices, metrics, thresholds, flaps, rates and limits.

use serde::Deserialize;
use telewire_protocols::valtronics::MAX_BATCH_ITEMS;
use telewire_protocols::valtronics::MAX_CONNECTIONS;
use telewire_protocols::valtronics::MAX_CONNECTIONS_PER_USER;
use telewire_protocols::valtronics::MAX_MESSAGE_BYTES;
use telewire_protocols::valtronics::MAX_MESSAGES_PER_SECOND;
use telewire_protocols::valtronics::NEW_CONNECTIONS_PER_MINUTE;
use telewire_protocols::valtronics::RATE_REFUSALS_BEFORE_CLOSE;

use crate::signals::SignalSpec;

/// The valtronics section of a scenario file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Milliseconds between two device ticks (one `telemetry_update` per online device).
    #[serde(default = "default_interval_ms")]
    pub interval_ms: u64,
    /// Milliseconds between two `system_status_update` samples.
    #[serde(default = "default_system_interval_ms")]
    pub system_interval_ms: u64,
    /// Lifetime of the tokens `POST /api/v1/auth/login` issues, in seconds.
    #[serde(default = "default_token_ttl_secs")]
    pub token_ttl_secs: u64,
    /// Acknowledge `subscribe` / `unsubscribe` with `subscribed` / `unsubscribed` (the
    /// document shows no acknowledgement; its clients log unknown types and go on).
    #[serde(default = "yes")]
    pub acknowledge_subscriptions: bool,
    /// The documented limits; lower them to make them quick to reach.
    #[serde(default)]
    pub limits: Limits,
    /// The simulated devices.
    #[serde(default = "default_devices")]
    pub devices: Vec<Device>,
    /// Faults every client gets as it connects (a list of fault specs), or deliberate
    /// deviations from the document (a table, all off by default).
    #[serde(default)]
    pub faults: crate::faults::Section<Faults>,
}

/// Deliberate deviations from the document (`telewire serve --break`); all off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Close an oversized message with 1008 instead of the documented 1009.
    #[serde(default)]
    pub oversize_close_1008: bool,
}

/// "Rate Limiting": connection and message limits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// "Maximum 1000 total concurrent connections".
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// "Maximum 100 concurrent connections per user".
    #[serde(default = "default_max_connections_per_user")]
    pub max_connections_per_user: usize,
    /// "Connection rate limited to 10 per minute" (per user).
    #[serde(default = "default_new_connections_per_minute")]
    pub new_connections_per_minute: usize,
    /// "Maximum 100 messages per second per connection".
    #[serde(default = "default_messages_per_second")]
    pub messages_per_second: usize,
    /// Over-rate messages refused within one second before the next one closes with 1008.
    #[serde(default = "default_rate_refusals_before_close")]
    pub rate_refusals_before_close: usize,
    /// "Maximum 1KB message size": larger messages close with 1009.
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// "Batch messages limited to 50 items".
    #[serde(default = "default_max_batch_items")]
    pub max_batch_items: usize,
}

/// One simulated device.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// The numeric `device_id`.
    pub id: u64,
    /// A human-readable name (shown in the startup notes and alert messages).
    pub name: String,
    /// On average, an online device drops offline once in this many ticks (0: never).
    #[serde(default)]
    pub flap_every: u32,
    /// Ticks an offline device stays offline before it reconnects.
    #[serde(default = "default_offline_ticks")]
    pub offline_ticks: u32,
    /// Its metrics, in the order they are generated.
    pub metrics: Vec<Metric>,
}

/// One telemetry metric of a device.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    /// The metric name, the key in `telemetry` (for example `temperature`).
    pub name: String,
    /// The unit (`°C`, `%`).
    pub unit: String,
    /// Decimal places of the value.
    #[serde(default = "default_decimals")]
    pub decimals: u32,
    /// How the value moves.
    pub signal: SignalSpec,
    /// Crossing one of these raises an `alert`.
    #[serde(default)]
    pub thresholds: Vec<Threshold>,
}

/// A threshold on a metric: crossing it raises an alert of `severity`, and the device
/// reports status `warning` while the metric stays beyond it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// `warning` or `critical` (any string is carried as it is).
    pub severity: String,
    /// Raised when the value rises to this or above.
    #[serde(default)]
    pub above: Option<f64>,
    /// Raised when the value falls to this or below.
    #[serde(default)]
    pub below: Option<f64>,
}

fn yes() -> bool {
    true
}

fn default_interval_ms() -> u64 {
    1_000
}

fn default_system_interval_ms() -> u64 {
    5_000
}

fn default_token_ttl_secs() -> u64 {
    3_600
}

fn default_max_connections() -> usize {
    MAX_CONNECTIONS
}

fn default_max_connections_per_user() -> usize {
    MAX_CONNECTIONS_PER_USER
}

fn default_new_connections_per_minute() -> usize {
    NEW_CONNECTIONS_PER_MINUTE
}

fn default_messages_per_second() -> usize {
    MAX_MESSAGES_PER_SECOND
}

fn default_rate_refusals_before_close() -> usize {
    RATE_REFUSALS_BEFORE_CLOSE
}

fn default_max_message_bytes() -> usize {
    MAX_MESSAGE_BYTES
}

fn default_max_batch_items() -> usize {
    MAX_BATCH_ITEMS
}

fn default_offline_ticks() -> u32 {
    10
}

fn default_decimals() -> u32 {
    1
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: default_max_connections(),
            max_connections_per_user: default_max_connections_per_user(),
            new_connections_per_minute: default_new_connections_per_minute(),
            messages_per_second: default_messages_per_second(),
            rate_refusals_before_close: default_rate_refusals_before_close(),
            max_message_bytes: default_max_message_bytes(),
            max_batch_items: default_max_batch_items(),
        }
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            interval_ms: default_interval_ms(),
            system_interval_ms: default_system_interval_ms(),
            token_ttl_secs: default_token_ttl_secs(),
            acknowledge_subscriptions: true,
            limits: Limits::default(),
            devices: default_devices(),
            faults: crate::faults::Section::default(),
        }
    }
}

fn metric(name: &str, unit: &str, decimals: u32, signal: SignalSpec) -> Metric {
    Metric {
        name: name.to_owned(),
        unit: unit.to_owned(),
        decimals,
        signal,
        thresholds: Vec::new(),
    }
}

fn above(severity: &str, value: f64) -> Threshold {
    Threshold {
        severity: severity.to_owned(),
        above: Some(value),
        below: None,
    }
}

fn below(severity: &str, value: f64) -> Threshold {
    Threshold {
        severity: severity.to_owned(),
        above: None,
        below: Some(value),
    }
}

/// A greenhouse climate sensor and a home battery: what the server simulates when a scenario has no
/// valtronics section.
fn default_devices() -> Vec<Device> {
    let mut temperature = metric(
        "temperature",
        "°C",
        1,
        SignalSpec::Sine {
            mean: 24.0,
            amplitude: 4.0,
            period: 600.0,
            noise: 0.3,
            drift: 0.0,
        },
    );
    temperature.thresholds = vec![above("warning", 27.0), above("critical", 28.5)];
    let mut humidity = metric(
        "humidity",
        "%",
        1,
        SignalSpec::RandomWalk {
            start: 45.2,
            step: 0.6,
            min: 20.0,
            max: 90.0,
        },
    );
    humidity.thresholds = vec![above("warning", 70.0)];
    let mut charge = metric(
        "state_of_charge",
        "%",
        1,
        SignalSpec::Battery {
            start: 74.5,
            rate: 0.05,
        },
    );
    charge.thresholds = vec![below("warning", 20.0), below("critical", 12.0)];
    let grid = metric(
        "grid_power",
        "W",
        0,
        SignalSpec::GridPower {
            base: 600.0,
            peak: 3_200.0,
            day: 3_600.0,
        },
    );
    vec![
        Device {
            id: 1,
            name: "Greenhouse climate sensor".to_owned(),
            flap_every: 0,
            offline_ticks: default_offline_ticks(),
            metrics: vec![temperature, humidity],
        },
        Device {
            id: 2,
            name: "Battery storage unit".to_owned(),
            flap_every: 600,
            offline_ticks: default_offline_ticks(),
            metrics: vec![charge, grid],
        },
    ]
}
