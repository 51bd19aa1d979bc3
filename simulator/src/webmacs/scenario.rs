//! The `[webmacs]` scenario section: seeded events, the built-in controller's rate, the experiment.

use serde::Deserialize;

use crate::signals::SignalSpec;

/// The webmacs section of a scenario file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Datapoints per second, in total, that the built-in controller pushes while someone
    /// watches; each of its batches holds one reading of every event. 0 turns it off.
    #[serde(default = "default_rate")]
    pub rate: f64,
    /// The broadcast throttle: at most one broadcast of an event per this many
    /// milliseconds (the document's 200 ms).
    #[serde(default = "default_throttle_ms")]
    pub throttle_ms: u64,
    /// Lifetime of the tokens `POST /api/v1/auth/login` issues, in seconds.
    #[serde(default = "default_token_ttl_secs")]
    pub token_ttl_secs: u64,
    /// The public id of the active experiment; absent: no experiment runs and datapoints
    /// carry `"experiment_public_id": null`.
    #[serde(default = "default_experiment")]
    pub experiment: Option<String>,
    /// The events readings are accepted for.
    #[serde(default = "default_events")]
    pub events: Vec<EventSpec>,
    /// Faults every client gets as it connects (a list of fault specs), or deliberate
    /// deviations from the document (a table, all off by default).
    #[serde(default)]
    pub faults: crate::faults::Section<Faults>,
}

/// Deliberate deviations from the document; all off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Never send the stream's `connected` confirmation, breaking "Immediately after
    /// authentication, the server sends: { "type": "connected", ... }".
    #[serde(default)]
    pub no_connected: bool,
    /// Close a connection without a token with 1000 instead of 1008, breaking
    /// "Connections without a valid token are immediately closed with code 1008 (Policy
    /// Violation)".
    #[serde(default)]
    pub missing_token_close_1000: bool,
}

/// One seeded event (a sensor of the lab).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// The UUID readings carry in `event_public_id`.
    pub public_id: String,
    /// Display name.
    pub name: String,
    /// Unit of the readings.
    pub unit: String,
    /// Lower bound of the expected range.
    #[serde(default)]
    pub min_value: f64,
    /// Upper bound of the expected range.
    #[serde(default = "default_max_value")]
    pub max_value: f64,
    /// Decimal places of the readings.
    #[serde(default = "default_decimals")]
    pub decimals: u32,
    /// Whether the event has an enabled plugin linkage (readings of a disabled event are
    /// dropped silently, as the backend does).
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    /// How the readings move.
    pub signal: SignalSpec,
}

fn default_rate() -> f64 {
    10.0
}

fn default_throttle_ms() -> u64 {
    200
}

fn default_token_ttl_secs() -> u64 {
    86_400
}

fn default_max_value() -> f64 {
    100.0
}

fn default_decimals() -> u32 {
    2
}

fn default_enabled() -> bool {
    true
}

fn default_experiment() -> Option<String> {
    Some("3f2b8c1e-5d4a-4e7b-9c6f-0a1b2c3d4e5f".to_owned())
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            rate: default_rate(),
            throttle_ms: default_throttle_ms(),
            token_ttl_secs: default_token_ttl_secs(),
            experiment: default_experiment(),
            events: default_events(),
            faults: crate::faults::Section::default(),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn event(
    public_id: &str,
    name: &str,
    unit: &str,
    min_value: f64,
    max_value: f64,
    decimals: u32,
    signal: SignalSpec,
) -> EventSpec {
    EventSpec {
        public_id: public_id.to_owned(),
        name: name.to_owned(),
        unit: unit.to_owned(),
        min_value,
        max_value,
        decimals,
        enabled: true,
        signal,
    }
}

/// A small lab rig: what the server seeds when a scenario has no webmacs section.
fn default_events() -> Vec<EventSpec> {
    vec![
        event(
            "8d0b6a52-1f3e-4c1a-9b7d-2e5f6a7b8c01",
            "Reactor Temperature",
            "°C",
            -40.0,
            125.0,
            2,
            SignalSpec::Sine {
                mean: 23.5,
                amplitude: 4.0,
                period: 600.0,
                noise: 0.05,
                drift: 0.0,
            },
        ),
        event(
            "8d0b6a52-1f3e-4c1a-9b7d-2e5f6a7b8c02",
            "Chamber Pressure",
            "hPa",
            300.0,
            1100.0,
            1,
            SignalSpec::RandomWalk {
                start: 1013.2,
                step: 0.4,
                min: 980.0,
                max: 1040.0,
            },
        ),
        event(
            "8d0b6a52-1f3e-4c1a-9b7d-2e5f6a7b8c03",
            "Solution pH",
            "pH",
            0.0,
            14.0,
            2,
            SignalSpec::RandomWalk {
                start: 7.14,
                step: 0.01,
                min: 6.5,
                max: 7.8,
            },
        ),
        event(
            "8d0b6a52-1f3e-4c1a-9b7d-2e5f6a7b8c04",
            "Pump Flow",
            "L/min",
            0.0,
            20.0,
            2,
            SignalSpec::Step {
                levels: vec![0.0, 4.5, 9.0, 12.5],
                hold: 150,
            },
        ),
    ]
}
