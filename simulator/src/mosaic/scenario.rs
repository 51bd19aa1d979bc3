//! The `[mosaic]` scenario section: controller model, security, the show and its rates.

use serde::Deserialize;
use telewire_protocols::mosaic::ControllerModel;

/// The mosaic section of a scenario file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Controller model: `msc` (8 connections), `msc_x` or `atlas` (16 connections).
    #[serde(default)]
    pub model: Model,
    /// Whether controller security is enabled (every message needs a bearer token).
    #[serde(default = "default_true")]
    pub security: bool,
    /// Lifetime of the tokens `POST /authenticate` issues, in seconds.
    #[serde(default = "default_token_ttl_secs")]
    pub token_ttl_secs: u64,
    /// How long a WebSocket session stays valid without a refreshing keepalive, in
    /// milliseconds (0: it times out at the next message, which tests use).
    #[serde(default = "default_session_timeout_ms")]
    pub session_timeout_ms: u64,
    /// Update rates of the simulated show.
    #[serde(default)]
    pub rates: Rates,
    /// The project's timelines.
    #[serde(default = "default_timelines")]
    pub timelines: Vec<Timeline>,
    /// The project's scenes.
    #[serde(default = "default_scenes")]
    pub scenes: Vec<Scene>,
    /// The project's groups.
    #[serde(default = "default_groups")]
    pub groups: Vec<Group>,
    /// Faults every client gets as it connects (a list of fault specs), or deliberate
    /// deviations from the document (a table, all off by default).
    #[serde(default)]
    pub faults: crate::faults::Section<Faults>,
}

/// Deliberate deviations from the document; all off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Admit every connection, breaking "MSC Controllers support a maximum of 8
    /// simultaneous HTTP connections [...] once the maximum is reached the controller will
    /// not accept further HTTP connections."
    #[serde(default)]
    pub no_connection_cap: bool,
    /// Echo `id` only in a connection's first data reply, breaking "the number can be used
    /// to track multiple requests occurring at once".
    #[serde(default)]
    pub drop_later_reply_ids: bool,
    /// Answer a live keepalive with 8 bytes instead of the 16-byte session key.
    #[serde(default)]
    pub short_session_key: bool,
}

/// The controller hardware (sets the connection cap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// MSC: 8 simultaneous HTTP connections.
    #[default]
    Msc,
    /// MSC X: 16.
    MscX,
    /// Atlas: 16.
    Atlas,
}

impl Model {
    /// The protocol core's model.
    pub fn controller_model(self) -> ControllerModel {
        match self {
            Self::Msc => ControllerModel::Msc,
            Self::MscX => ControllerModel::MscX,
            Self::Atlas => ControllerModel::Atlas,
        }
    }

    /// The product name, as the `system` request reports the hardware.
    pub fn name(self) -> &'static str {
        match self {
            Self::Msc => "MSC",
            Self::MscX => "MSC X",
            Self::Atlas => "Atlas",
        }
    }
}

/// How fast the show moves; every interval is rounded to whole ticks.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rates {
    /// Milliseconds between two steps of the show.
    pub tick_ms: u64,
    /// Milliseconds between two position pushes of a running timeline.
    pub position_ms: u64,
    /// Milliseconds between two group and content target level updates.
    pub level_ms: u64,
    /// Mean milliseconds between two show events (timeline or scene started, paused,
    /// released; beacon; a remote device going on or off line).
    pub event_ms: u64,
    /// Milliseconds between two Lua variable updates.
    pub lua_ms: u64,
    /// Milliseconds between two controller log lines.
    pub log_ms: u64,
    /// Milliseconds between two IO module status updates.
    pub io_ms: u64,
}

impl Default for Rates {
    fn default() -> Self {
        Self {
            tick_ms: 100,
            position_ms: 500,
            level_ms: 200,
            event_ms: 3_000,
            lua_ms: 1_000,
            log_ms: 4_000,
            io_ms: 1_000,
        }
    }
}

impl Rates {
    /// `ms` in ticks, at least one.
    pub fn ticks(&self, ms: u64) -> u64 {
        (ms / self.tick_ms.max(1)).max(1)
    }
}

/// One timeline of the project.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeline {
    /// Timeline number.
    pub num: u32,
    /// Name.
    pub name: String,
    /// Length in milliseconds.
    pub length_ms: u64,
    /// Whether it loops at its end (else it holds at end).
    #[serde(default)]
    pub looping: bool,
    /// Whether it runs from the start of the show.
    #[serde(default)]
    pub autostart: bool,
}

/// One scene of the project.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    /// Scene number.
    pub num: u32,
    /// Name.
    pub name: String,
}

/// One group of fixtures.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Group number.
    pub num: u32,
    /// Name.
    pub name: String,
    /// Mean master level in percent.
    #[serde(default = "default_level")]
    pub level: f64,
    /// How far the level swings around its mean, in percent.
    #[serde(default = "default_swing")]
    pub swing: f64,
}

fn default_true() -> bool {
    true
}

fn default_token_ttl_secs() -> u64 {
    300
}

fn default_session_timeout_ms() -> u64 {
    300_000
}

fn default_level() -> f64 {
    70.0
}

fn default_swing() -> f64 {
    20.0
}

fn default_timelines() -> Vec<Timeline> {
    let t = |num, name: &str, length_ms, looping, autostart| Timeline {
        num,
        name: name.to_owned(),
        length_ms,
        looping,
        autostart,
    };
    vec![
        t(1, "Facade Chase", 60_000, true, true),
        t(2, "Lobby Welcome", 20_000, false, false),
        t(3, "Fountain Show", 180_000, false, false),
    ]
}

fn default_scenes() -> Vec<Scene> {
    let s = |num, name: &str| Scene {
        num,
        name: name.to_owned(),
    };
    vec![s(1, "House Lights"), s(2, "Night Mode"), s(3, "Cleaning")]
}

fn default_groups() -> Vec<Group> {
    let g = |num, name: &str, level, swing| Group {
        num,
        name: name.to_owned(),
        level,
        swing,
    };
    vec![
        g(1, "Facade", 80.0, 20.0),
        g(2, "Lobby", 60.0, 15.0),
        g(3, "Garden", 40.0, 30.0),
    ]
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            model: Model::default(),
            security: true,
            token_ttl_secs: default_token_ttl_secs(),
            session_timeout_ms: default_session_timeout_ms(),
            rates: Rates::default(),
            timelines: default_timelines(),
            scenes: default_scenes(),
            groups: default_groups(),
            faults: crate::faults::Section::default(),
        }
    }
}
