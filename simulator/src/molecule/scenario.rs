//! The `[molecule]` scenario section: gateways, their telemetry keys, rates and log lines.

use serde::Deserialize;

use crate::signals::SignalSpec;

/// The molecule section of a scenario file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Milliseconds between two telemetry frames of a gateway.
    #[serde(default = "default_interval_ms")]
    pub interval_ms: u64,
    /// Repeat each key's `lbl` every this many frames of the key (0: first frame and changes only).
    #[serde(default = "default_label_every")]
    pub label_every: u32,
    /// End every data frame with the optional `0x00` terminator.
    #[serde(default)]
    pub trailing_null: bool,
    /// Lifetime of the tokens `POST /connect/token` issues, in seconds.
    #[serde(default = "default_token_ttl_secs")]
    pub token_ttl_secs: u64,
    /// A device log line (type 2) follows every this many telemetry frames (0: never).
    #[serde(default = "default_log_every")]
    pub log_every: u32,
    /// The gateways the relay serves.
    #[serde(default = "default_gateways")]
    pub gateways: Vec<Gateway>,
    /// Faults every client gets as it connects (a list of fault specs), or deliberate
    /// deviations from the document (a table, all off by default).
    #[serde(default)]
    pub faults: crate::faults::Section<Faults>,
}

/// Deliberate deviations from the document (`telewire serve --break`); all off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Accept a handshake without the mandatory sentinel `0x01 0x04`.
    #[serde(default)]
    pub accept_missing_sentinel: bool,
    /// Send a 4-byte successful auth response (`02 01 04 00`) instead of 3 bytes.
    #[serde(default)]
    pub long_auth_response: bool,
    /// Close an oversized handshake with 1008 instead of the documented 1009.
    #[serde(default)]
    pub too_large_close_1008: bool,
}

/// One simulated gateway.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    /// The gateway id clients put in the handshake; absent: the demo gateway id.
    #[serde(default)]
    pub id: Option<String>,
    /// Telemetry keys, in the order each frame lists them.
    pub metrics: Vec<Metric>,
    /// Device log line templates; `{KEY}` is replaced by that key's latest value.
    #[serde(default)]
    pub logs: Vec<String>,
}

/// One telemetry key of a gateway.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    /// The item's `key`, for example `SOC`.
    pub key: String,
    /// The item's `lbl`, for example `State of Charge (%)`.
    pub label: String,
    /// Decimal places of the string `val`.
    #[serde(default)]
    pub decimals: u32,
    /// How the value moves.
    pub signal: SignalSpec,
}

fn default_interval_ms() -> u64 {
    1_000
}

fn default_label_every() -> u32 {
    10
}

fn default_token_ttl_secs() -> u64 {
    3_600
}

fn default_log_every() -> u32 {
    15
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            interval_ms: default_interval_ms(),
            label_every: default_label_every(),
            trailing_null: false,
            token_ttl_secs: default_token_ttl_secs(),
            log_every: default_log_every(),
            gateways: default_gateways(),
            faults: crate::faults::Section::default(),
        }
    }
}

impl Scenario {
    /// The gateway id of `gateway`: its own, or `demo_id` when the scenario leaves it out.
    pub fn gateway_id<'a>(gateway: &'a Gateway, demo_id: &'a str) -> &'a str {
        gateway.id.as_deref().unwrap_or(demo_id)
    }
}

fn metric(key: &str, label: &str, decimals: u32, signal: SignalSpec) -> Metric {
    Metric {
        key: key.to_owned(),
        label: label.to_owned(),
        decimals,
        signal,
    }
}

/// A home battery site: what the relay serves when a scenario has no molecule section.
fn default_gateways() -> Vec<Gateway> {
    vec![Gateway {
        id: None,
        metrics: vec![
            metric(
                "SOC",
                "State of Charge (%)",
                1,
                SignalSpec::Battery {
                    start: 74.5,
                    rate: 0.05,
                },
            ),
            metric(
                "GRID",
                "Grid Power (W)",
                0,
                SignalSpec::GridPower {
                    base: 600.0,
                    peak: 3_200.0,
                    day: 3_600.0,
                },
            ),
            metric(
                "PV",
                "Solar Power (W)",
                0,
                SignalSpec::Sine {
                    mean: 2_400.0,
                    amplitude: 2_000.0,
                    period: 3_600.0,
                    noise: 60.0,
                    drift: 0.0,
                },
            ),
            metric(
                "TEMP",
                "Battery Temperature (°C)",
                1,
                SignalSpec::RandomWalk {
                    start: 24.0,
                    step: 0.05,
                    min: 15.0,
                    max: 40.0,
                },
            ),
        ],
        logs: vec!["battery at {SOC}%, temperature {TEMP} °C".to_owned()],
    }]
}
