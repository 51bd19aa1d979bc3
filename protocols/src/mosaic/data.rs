//! The data carried by each channel (function table, and the vendor's fuller channel table).
//!
//! Every object keeps members it does not know in `extra`, so a newer controller's
//! additions survive decoding and re-encoding.

use std::fmt;

use serde::Deserialize;
use serde::Serialize;
use serde_json::Map;
use serde_json::Value;

/// Members of an object beyond the documented ones, kept as received.
pub type Extra = Map<String, Value>;

/// A level in percent, 0 to 100 inclusive (group and content target master levels).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u8")]
pub struct Level(u8);

impl Level {
    /// 0 %.
    pub const MIN: Self = Self(0);
    /// 100 %.
    pub const MAX: Self = Self(100);

    /// A level, or `None` above 100.
    pub const fn new(percent: u8) -> Option<Self> {
        if percent <= 100 {
            Some(Self(percent))
        } else {
            None
        }
    }

    /// The level in percent.
    pub const fn percent(self) -> u8 {
        self.0
    }
}

/// A level outside 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("level {0} is outside 0-100")]
pub struct LevelOutOfRange(pub u64);

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Level {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Level".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A level in percent.",
            "type": "integer",
            "minimum": 0,
            "maximum": 100,
        })
    }
}

impl TryFrom<u64> for Level {
    type Error = LevelOutOfRange;
    fn try_from(n: u64) -> Result<Self, Self::Error> {
        u8::try_from(n)
            .ok()
            .and_then(Level::new)
            .ok_or(LevelOutOfRange(n))
    }
}

impl From<Level> for u8 {
    fn from(level: Level) -> u8 {
        level.0
    }
}

impl fmt::Debug for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

/// `system` reply: exactly the members of the document's example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SystemInfo {
    /// Hardware type, e.g. `VLC`.
    pub hardware_type: String,
    /// Channel capacity, e.g. `768000`.
    pub channel_capacity: u64,
    /// Serial number, e.g. `030208`.
    pub serial_number: String,
    /// Total memory, e.g. `6982288 KB`.
    pub memory_total: String,
    /// Used memory.
    pub memory_used: String,
    /// Available memory.
    pub memory_available: String,
    /// Storage size, e.g. `3063 MB`.
    pub storage_size: String,
    /// Bootloader version.
    pub bootloader_version: String,
    /// Firmware version.
    pub firmware_version: String,
    /// Why the controller last reset.
    pub reset_reason: String,
    /// When the controller last booted, e.g. `24 Apr 2025 10:49:25`.
    pub last_boot_time: String,
    /// IP address.
    pub ip_address: String,
    /// Subnet mask.
    pub subnet_mask: String,
    /// Default gateway.
    pub default_gateway: String,
    /// Undocumented members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `current_time` reply: `{datetime, local_time, uptime}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CurrentTime {
    /// Local date and time as text, e.g. `01 Feb 2017 13:44:42`.
    pub datetime: String,
    /// Local time in seconds since the Unix epoch.
    pub local_time: u64,
    /// Seconds since boot.
    pub uptime: u64,
    /// Undocumented members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `network_adapters` reply: `{"adapters":[...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NetworkAdapters {
    /// One entry per adapter.
    pub adapters: Vec<NetworkAdapter>,
    /// Undocumented members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One network adapter (members in camelCase on the wire).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct NetworkAdapter {
    /// Adapter name.
    pub name: String,
    /// IP address (`ipAddress`).
    pub ip_address: String,
    /// Subnet mask (`subnetMask`).
    pub subnet_mask: String,
    /// Default gateway (`defaultGateway`).
    pub default_gateway: String,
    /// Whether a link is up.
    pub connected: bool,
    /// Whether the adapter is capturing.
    pub capturing: bool,
    /// Undocumented members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A timeline's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum TimelineState {
    /// Not started.
    None,
    /// Running.
    Running,
    /// Paused.
    Paused,
    /// Reached its end and holding there.
    HoldingAtEnd,
    /// Released.
    Released,
}

/// `timeline` push: `{num, state, onstage, position}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TimelineStatus {
    /// Timeline number.
    pub num: u32,
    /// Its state.
    pub state: TimelineState,
    /// Whether it is affecting output.
    pub onstage: bool,
    /// Playback position in milliseconds.
    pub position: u64,
    /// Undocumented members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A scene's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SceneState {
    /// Not started.
    None,
    /// Started.
    Started,
    /// Released.
    Released,
}

/// `scene` push: `{num, state, onstage}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SceneStatus {
    /// Scene number.
    pub num: u32,
    /// Its state.
    pub state: SceneState,
    /// Whether it is affecting output.
    pub onstage: bool,
    /// Undocumented members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `group` push: `{num, name, level}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GroupStatus {
    /// Group number.
    pub num: u32,
    /// Group name.
    pub name: String,
    /// Master level, 0 to 100.
    pub level: Level,
    /// Undocumented members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `content_target` reply and push: `{"content_targets":[{name, level}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ContentTargets {
    /// One entry per content target.
    pub content_targets: Vec<ContentTarget>,
    /// Undocumented members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One content target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ContentTarget {
    /// Name, e.g. `primary`.
    pub name: String,
    /// Master level, 0 to 100.
    pub level: Level,
    /// Undocumented members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `remote_device` reply and push: `{"remote_devices":[{num, name, type, online, serial}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RemoteDevices {
    /// One entry per remote device.
    pub remote_devices: Vec<RemoteDevice>,
    /// Undocumented members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One remote device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RemoteDevice {
    /// Device number.
    pub num: u32,
    /// Device name.
    pub name: String,
    /// Device type, e.g. `RIO 80` (`type` on the wire).
    #[serde(rename = "type")]
    pub device_type: String,
    /// Whether the device is online.
    pub online: bool,
    /// Serial number(s).
    pub serial: Serial,
    /// Undocumented members (real controllers add `inputs` and `outputs`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A remote device's serial: one string, or the list of strings some firmware sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum Serial {
    /// One serial number.
    One(String),
    /// Several serial numbers.
    Many(Vec<String>),
}

/// `beacon` push: `{on}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Beacon {
    /// Whether the beacon is flashing.
    pub on: bool,
    /// Undocumented members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `log` reply and push: `{"log": "<entries>"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Log {
    /// Log entries as text.
    pub log: String,
    /// Undocumented members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `lua` push: `{<variable>: <value>}`, any number of variables.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct LuaVariables(pub Map<String, Value>);

/// `io_module` push: `{modules, instances}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct IoModules {
    /// The modules.
    pub modules: Vec<IoModule>,
    /// Their instances.
    pub instances: Vec<IoInstance>,
    /// Undocumented members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One IO module: `{id, name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct IoModule {
    /// Module id.
    pub id: u32,
    /// Module name.
    pub name: String,
    /// Undocumented members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One instance of an IO module: `{id, module_id, name, status}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct IoInstance {
    /// Instance id.
    pub id: u32,
    /// The [`IoModule::id`] it instantiates.
    pub module_id: u32,
    /// Instance name.
    pub name: String,
    /// Status entries.
    pub status: Vec<IoStatus>,
    /// Undocumented members.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One status entry of an IO module instance: `{key, label, value}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct IoStatus {
    /// Machine key.
    pub key: String,
    /// Human label.
    pub label: String,
    /// Current value, any JSON.
    pub value: Value,
    /// Undocumented members.
    #[serde(flatten)]
    pub extra: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_is_bounded() {
        assert_eq!(Level::new(100), Some(Level::MAX));
        assert_eq!(Level::new(101), None);
        assert!(serde_json::from_str::<Level>("101").is_err());
        assert!(serde_json::from_str::<Level>("300").is_err());
        assert!(serde_json::from_str::<Level>("-1").is_err());
        assert_eq!(serde_json::from_str::<Level>("42").unwrap().percent(), 42);
        assert_eq!(serde_json::to_string(&Level::MAX).unwrap(), "100");
    }

    #[test]
    fn serial_accepts_one_or_many() {
        assert_eq!(
            serde_json::from_str::<Serial>("\"006321\"").unwrap(),
            Serial::One("006321".into())
        );
        assert_eq!(
            serde_json::from_str::<Serial>("[\"a\",\"b\"]").unwrap(),
            Serial::Many(vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn unknown_members_are_kept() {
        let text = r#"{"on":true,"colour":"red"}"#;
        let beacon: Beacon = serde_json::from_str(text).unwrap();
        assert_eq!(beacon.extra.get("colour"), Some(&Value::from("red")));
        assert_eq!(serde_json::to_string(&beacon).unwrap(), text);
    }
}
