//! Requesting a value: the data each requestable channel returns ("the same data as the
//! matching HTTP endpoint"), built from the show and the controller's identity.

use serde_json::Map;
use serde_json::Value;
use serde_json::json;
use telewire_protocols::mosaic::ChannelKind;
use telewire_protocols::mosaic::CurrentTime;
use telewire_protocols::mosaic::NetworkAdapter;
use telewire_protocols::mosaic::NetworkAdapters;
use telewire_protocols::mosaic::ReplyData;
use telewire_protocols::mosaic::SystemInfo;
use telewire_protocols::time::Timestamp;

use super::scenario::Model;
use super::show::Show;
use super::show::group_statuses;
use super::show::number;

/// What the controller says about itself.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The hardware model.
    pub model: Model,
    /// Serial number, six digits.
    pub serial: String,
    /// When the controller booted (the simulator started).
    pub boot: Timestamp,
    /// The address clients reach it on.
    pub ip_address: String,
    /// The project's name.
    pub project: String,
}

/// `24 Apr 2025 10:49:25`, the controller's date format.
pub fn controller_date(t: Timestamp) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let text = t.to_rfc3339_secs();
    let part = |range: std::ops::Range<usize>| text.get(range).unwrap_or("00");
    let month = part(5..7)
        .parse::<usize>()
        .ok()
        .and_then(|m| m.checked_sub(1))
        .and_then(|m| MONTHS.get(m))
        .copied()
        .unwrap_or("Jan");
    format!("{} {month} {} {}", part(8..10), part(0..4), part(11..19))
}

/// The `num` filter of a request: a number, a list of numbers, or a text list `"1,2"`.
fn nums(params: &Map<String, Value>) -> Option<Vec<u64>> {
    let value = params.get("num")?;
    let list = match value {
        Value::Number(n) => n.as_u64().into_iter().collect(),
        Value::Array(items) => items.iter().filter_map(Value::as_u64).collect(),
        Value::String(s) => s
            .split(',')
            .filter_map(|p| p.trim().parse::<u64>().ok())
            .collect(),
        _ => Vec::new(),
    };
    Some(list)
}

fn wanted(filter: &Option<Vec<u64>>, num: u32) -> bool {
    filter
        .as_ref()
        .is_none_or(|list| list.contains(&u64::from(num)))
}

/// The reply data for a request of `kind` with `params`, at `now`.
pub fn reply(
    show: &Show,
    id: &Identity,
    kind: ChannelKind,
    params: &Map<String, Value>,
    now: Timestamp,
) -> ReplyData {
    let filter = nums(params);
    let uptime = now.saturating_since(id.boot).as_secs();
    match kind {
        ChannelKind::NetworkAdapters => ReplyData::NetworkAdapters(NetworkAdapters {
            adapters: vec![
                adapter("eth0", &id.ip_address, true),
                adapter("eth1", "0.0.0.0", false),
            ],
            extra: Map::new(),
        }),
        ChannelKind::Timeline => {
            let list: Vec<Value> = show
                .timelines
                .iter()
                .filter(|t| wanted(&filter, t.def.num))
                .map(|t| {
                    let mut v = json!({
                        "num": t.def.num,
                        "name": t.def.name,
                        "group": "A",
                        "length": t.def.length_ms,
                        "source_bus": "internal",
                        "timecode_format": "SMPTE30",
                        "audio_file": "",
                        "time_offset": 0,
                        "priority": "normal",
                        "custom_properties": {},
                    });
                    merge(&mut v, serde_json::to_value(t.status()));
                    v
                })
                .collect();
            ReplyData::Endpoint(json!({ "timelines": list }))
        }
        ChannelKind::Scene => {
            let list: Vec<Value> = show
                .scenes
                .iter()
                .filter(|s| wanted(&filter, s.num))
                .map(|s| {
                    let mut v = json!({ "num": s.num, "name": s.name, "custom_properties": {} });
                    merge(&mut v, serde_json::to_value(s.status()));
                    v
                })
                .collect();
            ReplyData::Endpoint(json!({ "scenes": list }))
        }
        ChannelKind::Group => {
            let list: Vec<_> = group_statuses(show)
                .into_iter()
                .filter(|g| wanted(&filter, g.num))
                .collect();
            ReplyData::Endpoint(json!({ "groups": list }))
        }
        ChannelKind::ContentTarget => ReplyData::ContentTargets(show.content_targets()),
        ChannelKind::RemoteDevice => ReplyData::RemoteDevices(show.remote_devices()),
        ChannelKind::Log => ReplyData::Log(show.log_text()),
        ChannelKind::System => ReplyData::System(Box::new(system(show, id))),
        ChannelKind::CurrentTime => ReplyData::CurrentTime(CurrentTime {
            datetime: controller_date(now),
            local_time: now.as_unix_secs(),
            uptime,
            extra: Map::new(),
        }),
        ChannelKind::Project => ReplyData::Endpoint(json!({
            "name": id.project,
            "author": "Lighting Design Studio",
            "filename": format!("{}.pd2", id.project.to_lowercase().replace(' ', "_")),
            "unique_id": format!("{{{}-5f3a-4c1e-9b7d-{}}}", id.serial, "a1c4e8f20b6d"),
            "upload_date": controller_date(id.boot),
        })),
        ChannelKind::Controller => ReplyData::Endpoint(json!({
            "controllers": [{
                "num": 1,
                "type": id.model.name(),
                "name": "Controller 1",
                "serial": id.serial,
                "ip_address": id.ip_address,
                "online": true,
            }]
        })),
        ChannelKind::TextSlot => ReplyData::Endpoint(json!({
            "text_slots": [
                { "name": "welcome", "value": "Welcome to the Atrium" },
                { "name": "visitors", "value": lua_text(show, "visitors") },
                { "name": "mode", "value": lua_text(show, "show_mode") },
            ]
        })),
        ChannelKind::Temperature => {
            let t = |i: usize| number(show.temps.get(i).map_or(0.0, |s| s.value));
            ReplyData::Endpoint(json!({
                "sys_temp": t(0),
                "core1_temp": t(1),
                "core2_temp": t(2),
                "ambient_temp": t(3),
            }))
        }
        ChannelKind::FanSpeed => {
            ReplyData::Endpoint(json!({ "fan_speed": number(show.fan.value) }))
        }
        ChannelKind::Protocol => ReplyData::Endpoint(json!({
            "outputs": [
                { "type": 1, "name": "DMX", "disabled": false,
                  "universes": [{ "key": { "index": 1 }, "name": "DMX 1" }, { "key": { "index": 2 }, "name": "DMX 2" }] },
                { "type": 3, "name": "sACN", "disabled": false,
                  "universes": [{ "key": { "universe": 1 }, "name": "sACN 1" }] },
                { "type": 2, "name": "Art-Net", "disabled": true, "universes": [] },
            ]
        })),
        ChannelKind::Output => output(show, params),
        ChannelKind::Input => {
            let io = show.io_modules();
            let inputs: Vec<Value> = io
                .instances
                .iter()
                .flat_map(|i| i.status.iter())
                .zip(1u32..)
                .map(|(s, num)| {
                    json!({ "input": num, "type": if s.value.is_boolean() { "digital" } else { "analog" }, "name": s.label, "value": s.value })
                })
                .collect();
            ReplyData::Endpoint(json!({ "gpio": inputs }))
        }
        ChannelKind::Trigger => ReplyData::Endpoint(json!({
            "triggers": [
                { "num": 1, "type": "Startup", "name": "Power on", "description": "Start the facade chase",
                  "conditions": [], "actions": ["Start Timeline 1"], "trigger_text": "At startup" },
                { "num": 2, "type": "Timer", "name": "Dusk", "description": "Evening look at sunset",
                  "conditions": ["Weekdays"], "actions": ["Start Scene 2"], "trigger_text": "At sunset" },
                { "num": 3, "type": "Digital Input", "name": "Lobby button", "description": "Welcome sequence",
                  "conditions": [], "actions": ["Start Timeline 2"], "trigger_text": "Input 1 high" },
            ]
        })),
        ChannelKind::DaliInterface => ReplyData::Endpoint(json!({
            "dali_interfaces": [
                { "num": 1, "name": "DALI Bus 1", "online": true, "ballasts": 24, "ballast_failures": 0, "lamp_failures": 0 },
            ]
        })),
        ChannelKind::Replication => ReplyData::Endpoint(json!({
            "replication": { "enabled": false, "state": "standalone", "primary": id.serial, "secondary": Value::Null }
        })),
        ChannelKind::Config => ReplyData::Endpoint(json!({
            "configs": [
                { "num": 1, "name": "Default", "active": true },
                { "num": 2, "name": "Maintenance", "active": false },
            ]
        })),
        ChannelKind::PlaybackGroup => ReplyData::Endpoint(json!({
            "playback_groups": [
                { "num": 1, "name": "A", "level": 100, "timelines": show.timelines.iter().map(|t| t.def.num).collect::<Vec<_>>() },
            ]
        })),
        // Not requestable: the session refuses these before asking; answer with the push
        // data all the same.
        ChannelKind::Beacon => ReplyData::Endpoint(json!({ "on": show.beacon })),
        ChannelKind::Lua => ReplyData::Endpoint(Value::Object(show.lua_variables().0)),
        ChannelKind::IoModule => {
            ReplyData::Endpoint(serde_json::to_value(show.io_modules()).unwrap_or(Value::Null))
        }
    }
}

fn adapter(name: &str, ip: &str, connected: bool) -> NetworkAdapter {
    NetworkAdapter {
        name: name.to_owned(),
        ip_address: ip.to_owned(),
        subnet_mask: "255.255.252.0".to_owned(),
        default_gateway: if connected {
            "172.20.28.250"
        } else {
            "0.0.0.0"
        }
        .to_owned(),
        connected,
        capturing: false,
        extra: Map::new(),
    }
}

fn system(show: &Show, id: &Identity) -> SystemInfo {
    let (hardware, capacity, total) = match id.model {
        Model::Msc => ("MSC", 1_024, 1_019_472_u64),
        Model::MscX => ("MSC X", 12_288, 3_962_420),
        Model::Atlas => ("VLC", 768_000, 6_982_288),
    };
    let used = 480_000 + show.ticks() % 4_096 * 8;
    SystemInfo {
        hardware_type: hardware.to_owned(),
        channel_capacity: capacity,
        serial_number: id.serial.clone(),
        memory_total: format!("{total} KB"),
        memory_used: format!("{used} KB"),
        memory_available: format!("{} KB", total.saturating_sub(used)),
        storage_size: "3063 MB".to_owned(),
        bootloader_version: "V5.0.0.17 R1.8.0.SR.1".to_owned(),
        firmware_version: "2.15.0".to_owned(),
        reset_reason: "Hardware Reset".to_owned(),
        last_boot_time: controller_date(id.boot),
        ip_address: id.ip_address.clone(),
        subnet_mask: "255.255.252.0".to_owned(),
        default_gateway: "172.20.28.250".to_owned(),
        extra: Map::new(),
    }
}

/// `output`: the 512 channel levels (0-255) of one universe (`universe`, default `dmx:1`);
/// each group drives a block of fixtures at its master level.
fn output(show: &Show, params: &Map<String, Value>) -> ReplyData {
    let universe = params
        .get("universe")
        .and_then(Value::as_str)
        .unwrap_or("dmx:1")
        .to_owned();
    let mut channels = vec![0u8; 512];
    for (group, block) in show.groups.iter().zip(channels.chunks_mut(48)) {
        let level = u16::from(group.level.percent()) * 255 / 100;
        let level = u8::try_from(level).unwrap_or(u8::MAX);
        for c in block.iter_mut().take(36) {
            *c = level;
        }
    }
    ReplyData::Endpoint(json!({ "universe": universe, "channels": channels }))
}

fn lua_text(show: &Show, name: &str) -> String {
    match show.lua_variables().0.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    }
}

fn merge(into: &mut Value, from: Result<Value, serde_json::Error>) {
    if let (Value::Object(into), Ok(Value::Object(from))) = (into, from) {
        into.extend(from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_use_the_controller_format() {
        let t = Timestamp::from_unix_secs(1_745_491_765);
        assert_eq!(controller_date(t), "24 Apr 2025 10:49:25");
    }
}
