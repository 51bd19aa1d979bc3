//! The simulated show behind the subscribable channels: timelines, scenes, groups, beacon,
//! Lua variables, the log, IO modules and the controller's sensors, all seeded.
//!
//! The show moves one tick at a time; what it pushes depends only on the seed and the tick
//! count, never on the wall clock.

use std::collections::VecDeque;

use serde_json::Map;
use serde_json::Value;
use telewire_protocols::mosaic::Beacon;
use telewire_protocols::mosaic::Broadcast;
use telewire_protocols::mosaic::BroadcastData;
use telewire_protocols::mosaic::Channel;
use telewire_protocols::mosaic::ContentTarget;
use telewire_protocols::mosaic::ContentTargets;
use telewire_protocols::mosaic::GroupStatus;
use telewire_protocols::mosaic::IoInstance;
use telewire_protocols::mosaic::IoModule;
use telewire_protocols::mosaic::IoModules;
use telewire_protocols::mosaic::IoStatus;
use telewire_protocols::mosaic::Level;
use telewire_protocols::mosaic::Log;
use telewire_protocols::mosaic::LuaVariables;
use telewire_protocols::mosaic::RemoteDevice;
use telewire_protocols::mosaic::RemoteDevices;
use telewire_protocols::mosaic::SceneState;
use telewire_protocols::mosaic::SceneStatus;
use telewire_protocols::mosaic::Serial;
use telewire_protocols::mosaic::TimelineState;
use telewire_protocols::mosaic::TimelineStatus;

use crate::prng::Prng;
use crate::signals::Signal;
use crate::signals::SignalSpec;

use super::scenario::Rates;
use super::scenario::Scenario;
use super::scenario::Timeline;

/// Log lines the `log` request returns at most.
pub const LOG_KEPT: usize = 100;

/// One timeline and where it is.
#[derive(Debug, Clone)]
pub struct TimelineSim {
    /// Its definition.
    pub def: Timeline,
    /// Its state.
    pub state: TimelineState,
    /// Whether it affects output.
    pub onstage: bool,
    /// Position in milliseconds.
    pub position: u64,
}

impl TimelineSim {
    /// The `timeline` push.
    pub fn status(&self) -> TimelineStatus {
        TimelineStatus {
            num: self.def.num,
            state: self.state,
            onstage: self.onstage,
            position: self.position,
            extra: Map::new(),
        }
    }
}

/// One scene and its state.
#[derive(Debug, Clone)]
pub struct SceneSim {
    /// Scene number.
    pub num: u32,
    /// Name.
    pub name: String,
    /// Its state.
    pub state: SceneState,
}

impl SceneSim {
    /// The `scene` push.
    pub fn status(&self) -> SceneStatus {
        SceneStatus {
            num: self.num,
            state: self.state,
            onstage: self.state == SceneState::Started,
            extra: Map::new(),
        }
    }
}

/// A named level that follows a signal (groups and content targets).
#[derive(Debug, Clone)]
pub struct LevelSim {
    /// Number (groups) or position (content targets).
    pub num: u32,
    /// Name.
    pub name: String,
    /// Current level.
    pub level: Level,
    signal: Signal,
}

impl LevelSim {
    fn new(num: u32, name: &str, spec: SignalSpec, seed: u64, label: &str) -> Self {
        let mut signal = Signal::new(spec, seed, label);
        let level = to_level(signal.next_value());
        Self {
            num,
            name: name.to_owned(),
            level,
            signal,
        }
    }

    /// Samples the signal; returns whether the level changed.
    fn step(&mut self) -> bool {
        let level = to_level(self.signal.next_value());
        let changed = level != self.level;
        self.level = level;
        changed
    }
}

fn to_level(v: f64) -> Level {
    let percent = v.round().clamp(0.0, 100.0) as u8;
    Level::new(percent).unwrap_or(Level::MAX)
}

/// A value that follows a signal, kept rounded.
#[derive(Debug, Clone)]
pub struct Sensor {
    /// The latest value.
    pub value: f64,
    decimals: u32,
    signal: Signal,
}

impl Sensor {
    fn new(spec: SignalSpec, decimals: u32, seed: u64, label: &str) -> Self {
        let mut signal = Signal::new(spec, seed, label);
        let value = crate::signals::round_to(signal.next_value(), decimals);
        Self {
            value,
            decimals,
            signal,
        }
    }

    fn step(&mut self) -> bool {
        let value = crate::signals::round_to(self.signal.next_value(), self.decimals);
        let changed = value != self.value;
        self.value = value;
        changed
    }
}

fn walk(start: f64, step: f64, min: f64, max: f64) -> SignalSpec {
    SignalSpec::RandomWalk {
        start,
        step,
        min,
        max,
    }
}

fn sine(mean: f64, amplitude: f64, period: f64, noise: f64) -> SignalSpec {
    SignalSpec::Sine {
        mean,
        amplitude,
        period,
        noise,
        drift: 0.0,
    }
}

/// The whole show of one controller.
#[derive(Debug, Clone)]
pub struct Show {
    rates: Rates,
    tick: u64,
    events: Prng,
    /// Timelines.
    pub timelines: Vec<TimelineSim>,
    /// Scenes.
    pub scenes: Vec<SceneSim>,
    /// Groups.
    pub groups: Vec<LevelSim>,
    /// Content targets.
    pub targets: Vec<LevelSim>,
    /// Remote devices.
    pub devices: Vec<RemoteDevice>,
    /// Whether the beacon flashes.
    pub beacon: bool,
    /// Lua variables, in a fixed order.
    pub lua: Vec<(String, Sensor)>,
    /// Recent log lines, oldest first.
    pub log: VecDeque<String>,
    /// IO module instances' sensors: (instance, key, label, sensor, is boolean).
    pub io: Vec<(u32, &'static str, &'static str, Sensor, bool)>,
    /// Controller temperatures in °C: system, core 1, core 2, ambient.
    pub temps: [Sensor; 4],
    /// Fan speed in RPM.
    pub fan: Sensor,
}

impl Show {
    /// The show of `scenario`, seeded with `seed`, before its first tick.
    pub fn new(seed: u64, scenario: &Scenario) -> Self {
        let timelines = scenario
            .timelines
            .iter()
            .map(|def| TimelineSim {
                state: if def.autostart {
                    TimelineState::Running
                } else {
                    TimelineState::None
                },
                onstage: def.autostart,
                position: 0,
                def: def.clone(),
            })
            .collect();
        let scenes = scenario
            .scenes
            .iter()
            .map(|s| SceneSim {
                num: s.num,
                name: s.name.clone(),
                state: SceneState::None,
            })
            .collect();
        let groups = scenario
            .groups
            .iter()
            .map(|g| {
                let spec = sine(g.level, g.swing, 150.0, 1.5);
                LevelSim::new(
                    g.num,
                    &g.name,
                    spec,
                    seed,
                    &format!("mosaic/group/{}", g.num),
                )
            })
            .collect();
        let targets = ["primary", "secondary"]
            .iter()
            .zip(1u32..)
            .map(|(name, num)| {
                let spec = walk(90.0, 2.0, 30.0, 100.0);
                LevelSim::new(num, name, spec, seed, &format!("mosaic/target/{name}"))
            })
            .collect();
        let mut serials = Prng::derive(seed, "mosaic/serials");
        let devices = [
            (1, "Entrance RIO", "RIO 80"),
            (2, "Lobby Panel", "BPS"),
            (3, "Garden RIO", "RIO 44"),
        ]
        .iter()
        .map(|(num, name, kind)| RemoteDevice {
            num: *num,
            name: (*name).to_owned(),
            device_type: (*kind).to_owned(),
            online: true,
            serial: Serial::One(format!("{:06}", serials.below(1_000_000))),
            extra: Map::new(),
        })
        .collect();
        let lua = vec![
            (
                "visitors".to_owned(),
                Sensor::new(
                    SignalSpec::Counter {
                        start: 0.0,
                        increment: 1.6,
                    },
                    0,
                    seed,
                    "mosaic/lua/visitors",
                ),
            ),
            (
                "ambient_lux".to_owned(),
                Sensor::new(walk(320.0, 6.0, 0.0, 2000.0), 1, seed, "mosaic/lua/lux"),
            ),
            (
                "show_mode".to_owned(),
                Sensor::new(
                    SignalSpec::Step {
                        levels: vec![0.0, 1.0, 2.0],
                        hold: 30,
                    },
                    0,
                    seed,
                    "mosaic/lua/mode",
                ),
            ),
        ];
        let io = vec![
            (
                1,
                "button_1",
                "Button 1",
                Sensor::new(
                    SignalSpec::Step {
                        levels: vec![0.0, 0.0, 1.0],
                        hold: 5,
                    },
                    0,
                    seed,
                    "mosaic/io/button",
                ),
                true,
            ),
            (
                2,
                "occupied",
                "Occupied",
                Sensor::new(
                    SignalSpec::Step {
                        levels: vec![0.0, 1.0],
                        hold: 12,
                    },
                    0,
                    seed,
                    "mosaic/io/pir",
                ),
                true,
            ),
            (
                2,
                "lux",
                "Light Level (lux)",
                Sensor::new(walk(450.0, 8.0, 0.0, 3000.0), 0, seed, "mosaic/io/lux"),
                false,
            ),
        ];
        let temp = |start, label: &str| Sensor::new(walk(start, 0.08, 20.0, 85.0), 1, seed, label);
        Self {
            rates: scenario.rates.clone(),
            tick: 0,
            events: Prng::derive(seed, "mosaic/events"),
            timelines,
            scenes,
            groups,
            targets,
            devices,
            beacon: false,
            lua,
            log: VecDeque::new(),
            io,
            temps: [
                temp(44.0, "mosaic/temp/sys"),
                temp(51.0, "mosaic/temp/core1"),
                temp(50.0, "mosaic/temp/core2"),
                temp(24.0, "mosaic/temp/ambient"),
            ],
            fan: Sensor::new(sine(2400.0, 300.0, 600.0, 25.0), 0, seed, "mosaic/fan"),
        }
    }

    /// Ticks so far.
    pub fn ticks(&self) -> u64 {
        self.tick
    }

    /// Milliseconds of show time so far.
    pub fn elapsed_ms(&self) -> u64 {
        self.tick.saturating_mul(self.rates.tick_ms)
    }

    fn due(&self, ms: u64) -> bool {
        self.tick.is_multiple_of(self.rates.ticks(ms))
    }

    /// Moves the show one tick on; returns what it pushes, in order.
    pub fn tick(&mut self) -> Vec<Broadcast> {
        self.tick += 1;
        let mut out = Vec::new();
        self.advance_timelines(&mut out);
        let event_ticks = self.rates.ticks(self.rates.event_ms);
        if self.events.chance(1.0 / event_ticks as f64) {
            self.event(&mut out);
        }
        if self.due(self.rates.level_ms) {
            for group in &mut self.groups {
                if group.step() {
                    out.push(push(
                        Channel::GROUP,
                        BroadcastData::Group(group_status(group)),
                    ));
                }
            }
            let mut changed = false;
            for target in &mut self.targets {
                changed |= target.step();
            }
            if changed {
                let data = BroadcastData::ContentTargets(self.content_targets());
                out.push(push(Channel::CONTENT_TARGET, data));
            }
        }
        if self.due(self.rates.lua_ms) {
            let mut vars = Map::new();
            for (name, sensor) in &mut self.lua {
                if sensor.step() {
                    vars.insert(name.clone(), lua_value(name, sensor.value));
                }
            }
            if !vars.is_empty() {
                out.push(push(Channel::LUA, BroadcastData::Lua(LuaVariables(vars))));
            }
        }
        if self.due(self.rates.io_ms) {
            let mut changed = false;
            for (_, _, _, sensor, _) in &mut self.io {
                changed |= sensor.step();
            }
            for sensor in &mut self.temps {
                sensor.step();
            }
            self.fan.step();
            if changed {
                out.push(push(
                    Channel::IO_MODULE,
                    BroadcastData::IoModule(self.io_modules()),
                ));
            }
        }
        if self.due(self.rates.log_ms) {
            let sys = self.temps.first().map_or(0.0, |s| s.value);
            let line = match self.events.below(3) {
                0 => format!("Output: {} universes refreshed", 4 + self.events.below(2)),
                1 => format!(
                    "System temperature {sys:.1} C, fan {:.0} RPM",
                    self.fan.value
                ),
                _ => format!(
                    "NTP: clock synchronised (offset {} ms)",
                    self.events.below(40)
                ),
            };
            self.log_line(&line, &mut out);
        }
        out
    }

    fn advance_timelines(&mut self, out: &mut Vec<Broadcast>) {
        let step = self.rates.tick_ms;
        let report = self.due(self.rates.position_ms);
        let mut ended = Vec::new();
        for t in &mut self.timelines {
            if t.state != TimelineState::Running {
                continue;
            }
            t.position = t.position.saturating_add(step);
            let length = t.def.length_ms.max(1);
            if t.position >= length {
                if t.def.looping {
                    t.position %= length;
                } else {
                    t.position = length;
                    t.state = TimelineState::HoldingAtEnd;
                    ended.push((t.def.num, t.def.name.clone()));
                    out.push(push(Channel::TIMELINE, BroadcastData::Timeline(t.status())));
                    continue;
                }
            }
            if report {
                out.push(push(Channel::TIMELINE, BroadcastData::Timeline(t.status())));
            }
        }
        for (num, name) in ended {
            self.log_line(&format!("Timeline {num} '{name}' holding at end"), out);
        }
    }

    /// One show event: a timeline or scene changes state, the beacon toggles, or a remote
    /// device goes on or off line.
    fn event(&mut self, out: &mut Vec<Broadcast>) {
        match self.events.below(7) {
            0..=2 => self.timeline_event(out),
            3 | 4 => self.scene_event(out),
            5 => {
                self.beacon = !self.beacon;
                let data = BroadcastData::Beacon(Beacon {
                    on: self.beacon,
                    extra: Map::new(),
                });
                out.push(push(Channel::BEACON, data));
                let line = format!("Beacon {}", if self.beacon { "on" } else { "off" });
                self.log_line(&line, out);
            }
            _ => {
                let n = self.devices.len() as u64;
                let pick = usize::try_from(self.events.below(n)).unwrap_or(0);
                let Some(device) = self.devices.get_mut(pick) else {
                    return;
                };
                device.online = !device.online;
                let line = format!(
                    "Remote device {} '{}' {}",
                    device.num,
                    device.name,
                    if device.online { "online" } else { "offline" }
                );
                let data = BroadcastData::RemoteDevices(self.remote_devices());
                out.push(push(Channel::REMOTE_DEVICE, data));
                self.log_line(&line, out);
            }
        }
    }

    fn timeline_event(&mut self, out: &mut Vec<Broadcast>) {
        let n = self.timelines.len() as u64;
        let pick = usize::try_from(self.events.below(n)).unwrap_or(0);
        let Some(t) = self.timelines.get_mut(pick) else {
            return;
        };
        let verb = match t.state {
            TimelineState::None | TimelineState::Released => {
                t.state = TimelineState::Running;
                t.onstage = true;
                t.position = 0;
                "started"
            }
            TimelineState::Running => {
                t.state = TimelineState::Paused;
                "paused"
            }
            TimelineState::Paused => {
                t.state = TimelineState::Running;
                "resumed"
            }
            TimelineState::HoldingAtEnd => {
                t.state = TimelineState::Released;
                t.onstage = false;
                "released"
            }
        };
        let line = format!("Timeline {} '{}' {verb}", t.def.num, t.def.name);
        out.push(push(Channel::TIMELINE, BroadcastData::Timeline(t.status())));
        self.log_line(&line, out);
    }

    fn scene_event(&mut self, out: &mut Vec<Broadcast>) {
        let n = self.scenes.len() as u64;
        let pick = usize::try_from(self.events.below(n)).unwrap_or(0);
        let Some(s) = self.scenes.get_mut(pick) else {
            return;
        };
        let verb = if s.state == SceneState::Started {
            s.state = SceneState::Released;
            "released"
        } else {
            s.state = SceneState::Started;
            "started"
        };
        let line = format!("Scene {} '{}' {verb}", s.num, s.name);
        out.push(push(Channel::SCENE, BroadcastData::Scene(s.status())));
        self.log_line(&line, out);
    }

    /// Appends a log line stamped with show time, and pushes it.
    fn log_line(&mut self, text: &str, out: &mut Vec<Broadcast>) {
        let ms = self.elapsed_ms();
        let line = format!(
            "[{:02}:{:02}:{:02}.{:03}] {text}",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        );
        self.log.push_back(line.clone());
        while self.log.len() > LOG_KEPT {
            self.log.pop_front();
        }
        out.push(push(
            Channel::LOG,
            BroadcastData::Log(Log {
                log: line,
                extra: Map::new(),
            }),
        ));
    }

    /// The `content_target` data.
    pub fn content_targets(&self) -> ContentTargets {
        ContentTargets {
            content_targets: self
                .targets
                .iter()
                .map(|t| ContentTarget {
                    name: t.name.clone(),
                    level: t.level,
                    extra: Map::new(),
                })
                .collect(),
            extra: Map::new(),
        }
    }

    /// The `remote_device` data.
    pub fn remote_devices(&self) -> RemoteDevices {
        RemoteDevices {
            remote_devices: self.devices.clone(),
            extra: Map::new(),
        }
    }

    /// The whole log, oldest line first, one line per entry.
    pub fn log_text(&self) -> Log {
        let lines: Vec<&str> = self.log.iter().map(String::as_str).collect();
        Log {
            log: lines.join("\n"),
            extra: Map::new(),
        }
    }

    /// The `io_module` data.
    pub fn io_modules(&self) -> IoModules {
        let module = |id, name: &str| IoModule {
            id,
            name: name.to_owned(),
            extra: Map::new(),
        };
        let status = |instance: u32| {
            self.io
                .iter()
                .filter(|(i, ..)| *i == instance)
                .map(|(_, key, label, sensor, boolean)| IoStatus {
                    key: (*key).to_owned(),
                    label: (*label).to_owned(),
                    value: if *boolean {
                        Value::Bool(sensor.value >= 0.5)
                    } else {
                        number(sensor.value)
                    },
                    extra: Map::new(),
                })
                .collect()
        };
        let instance = |id, module_id, name: &str| IoInstance {
            id,
            module_id,
            name: name.to_owned(),
            status: status(id),
            extra: Map::new(),
        };
        IoModules {
            modules: vec![module(1, "Button Panel"), module(2, "Occupancy Sensor")],
            instances: vec![
                instance(1, 1, "Lobby Buttons"),
                instance(2, 2, "Garden PIR"),
            ],
            extra: Map::new(),
        }
    }

    /// The Lua variables as the `lua` push spells them.
    pub fn lua_variables(&self) -> LuaVariables {
        LuaVariables(
            self.lua
                .iter()
                .map(|(name, s)| (name.clone(), lua_value(name, s.value)))
                .collect(),
        )
    }
}

fn group_status(group: &LevelSim) -> GroupStatus {
    GroupStatus {
        num: group.num,
        name: group.name.clone(),
        level: group.level,
        extra: Map::new(),
    }
}

/// The `group` data of every group.
pub fn group_statuses(show: &Show) -> Vec<GroupStatus> {
    show.groups.iter().map(group_status).collect()
}

fn lua_value(name: &str, v: f64) -> Value {
    match name {
        "show_mode" => Value::from(match v.round() as i64 {
            0 => "day",
            1 => "evening",
            _ => "night",
        }),
        "visitors" => Value::from(v.round() as i64),
        _ => number(v),
    }
}

/// A JSON number (finite by construction of the signals; 0 otherwise).
pub fn number(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::from(0), Value::Number)
}

fn push(channel: Channel, data: BroadcastData) -> Broadcast {
    Broadcast {
        channel,
        data,
        extra: Map::new(),
    }
}

/// The first `n` group pushes the show of `scenario` makes with `seed`, as `(num, level)`:
/// the same generator the running server uses.
pub fn first_group_levels(seed: u64, scenario: &Scenario, n: usize) -> Vec<(u32, u8)> {
    let mut show = Show::new(seed, scenario);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n.saturating_mul(100).max(100) {
        for b in show.tick() {
            if let BroadcastData::Group(g) = b.data {
                out.push((g.num, g.level.percent()));
            }
        }
        if out.len() >= n {
            break;
        }
    }
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_show_and_every_channel_moves() {
        let scenario = Scenario {
            rates: Rates {
                event_ms: 200,
                ..Rates::default()
            },
            ..Scenario::default()
        };
        assert_eq!(
            first_group_levels(3, &scenario, 50),
            first_group_levels(3, &scenario, 50)
        );
        assert_ne!(
            first_group_levels(3, &scenario, 50),
            first_group_levels(4, &scenario, 50)
        );
        let mut show = Show::new(3, &scenario);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2_000 {
            for b in show.tick() {
                seen.insert(b.channel.as_str().to_owned());
            }
        }
        for ch in [
            "timeline",
            "scene",
            "group",
            "content_target",
            "remote_device",
            "beacon",
            "log",
            "lua",
            "io_module",
        ] {
            assert!(seen.contains(ch), "no {ch} push");
        }
        assert!(show.log.len() <= LOG_KEPT);
    }
}
