//! The simulated robot: seeded `{name, type, data}` messages on its topics and status lines on `server_logs`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Map;
use serde_json::Value;
use telewire_protocols::robot::LogLevel;
use telewire_protocols::robot::Payload;
use telewire_protocols::robot::Topic;
use tokio::time::MissedTickBehavior;

use crate::prng::Prng;
use crate::shutdown::Shutdown;
use crate::signals::Signal;
use crate::signals::SignalSpec;
use crate::signals::round_to;

use super::exchange::Exchange;
use super::scenario::Scenario;
use super::scenario::Status;
use super::scenario::TopicSpec;

/// One topic of the robot: its signals and how many messages came before.
///
/// Values depend only on the seed, the topic and the message count, never on the clock.
#[derive(Debug, Clone)]
pub struct TopicDevice {
    spec: TopicSpec,
    topic: Topic,
    signals: Vec<Signal>,
}

impl TopicDevice {
    /// The device for `spec`, seeded with `seed`.
    pub fn new(seed: u64, spec: &TopicSpec) -> Self {
        let signals = spec
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let key = f.key.clone().unwrap_or_else(|| format!("#{i}"));
                Signal::new(
                    f.signal.clone(),
                    seed,
                    &format!("robot/{}/{key}", spec.topic),
                )
            })
            .collect();
        Self {
            topic: Topic::new(spec.topic.clone()),
            spec: spec.clone(),
            signals,
        }
    }

    /// The topic it publishes on.
    pub fn topic(&self) -> &Topic {
        &self.topic
    }

    /// The next message: `data` is a number for one unnamed field, else an object.
    pub fn next_payload(&mut self) -> Payload {
        let values: Vec<(Option<&str>, f64)> = self
            .spec
            .fields
            .iter()
            .zip(self.signals.iter_mut())
            .map(|(f, s)| (f.key.as_deref(), round_to(s.next_value(), f.decimals)))
            .collect();
        let data = match values.as_slice() {
            [(None, v)] => number(*v),
            _ => {
                let mut map = Map::new();
                for (key, v) in values {
                    map.insert(key.unwrap_or("value").to_owned(), number(v));
                }
                Value::Object(map)
            }
        };
        Payload::new(self.spec.name.clone(), self.spec.kind.clone(), data)
    }
}

/// A JSON number (0 for the impossible non-finite value: signals are always finite).
fn number(v: f64) -> Value {
    serde_json::Number::from_f64(v)
        .map(Value::Number)
        .unwrap_or_else(|| Value::from(0))
}

/// The first `n` messages the robot of `scenario` publishes on `topic` with `seed`: the same
/// generator the running server uses, so a subscriber's first messages equal these.
pub fn first_payloads(seed: u64, scenario: &Scenario, topic: &str, n: usize) -> Vec<Payload> {
    let Some(spec) = scenario.topics.iter().find(|t| t.topic == topic) else {
        return Vec::new();
    };
    let mut device = TopicDevice::new(seed, spec);
    (0..n).map(|_| device.next_payload()).collect()
}

/// The robot's status: battery, pose, heading and operating mode, one line per tick.
#[derive(Debug, Clone)]
pub struct StatusDevice {
    status: Status,
    battery: Signal,
    x: Signal,
    y: Signal,
    heading: Signal,
    prng: Prng,
    mode: usize,
    lines: u64,
    low: bool,
}

impl StatusDevice {
    /// The status generator of `status`, seeded with `seed`.
    pub fn new(seed: u64, status: &Status) -> Self {
        let walk = SignalSpec::RandomWalk {
            start: 0.0,
            step: 0.4,
            min: -25.0,
            max: 25.0,
        };
        Self {
            battery: Signal::new(status.battery.clone(), seed, "robot/status/battery"),
            x: Signal::new(walk.clone(), seed, "robot/status/x"),
            y: Signal::new(walk, seed, "robot/status/y"),
            heading: Signal::new(
                SignalSpec::Sine {
                    mean: 180.0,
                    amplitude: 179.0,
                    period: 40.0,
                    noise: 4.0,
                    drift: 0.0,
                },
                seed,
                "robot/status/heading",
            ),
            prng: Prng::derive(seed, "robot/status/mode"),
            status: status.clone(),
            mode: 0,
            lines: 0,
            low: false,
        }
    }

    fn mode_name(&self) -> &str {
        self.status
            .modes
            .get(self.mode)
            .map(String::as_str)
            .unwrap_or("idle")
    }

    /// The next status tick: a mode change line when the mode changes, a warning when the
    /// battery falls below the threshold, and the status line itself.
    pub fn tick(&mut self) -> Vec<(LogLevel, String)> {
        self.lines += 1;
        let mut out = Vec::new();
        let modes = self.status.modes.len() as u64;
        let hold = u64::from(self.status.mode_hold.max(1));
        if modes > 1 && self.lines > 1 && (self.lines - 1).is_multiple_of(hold) {
            let step = 1 + self.prng.below(modes - 1);
            let next = usize::try_from((self.mode as u64 + step) % modes).unwrap_or(0);
            let from = self.mode_name().to_owned();
            self.mode = next;
            out.push((
                LogLevel::Info,
                format!("robot mode changed: {from} -> {}", self.mode_name()),
            ));
        }
        let battery = round_to(self.battery.next_value(), 1);
        let x = round_to(self.x.next_value(), 2);
        let y = round_to(self.y.next_value(), 2);
        let heading = round_to(self.heading.next_value().rem_euclid(360.0), 1);
        let low = battery < self.status.low_battery;
        if low && !self.low {
            out.push((
                LogLevel::Warning,
                format!("robot battery low: {battery:.1}%"),
            ));
        }
        self.low = low;
        let level = if low {
            LogLevel::Warning
        } else {
            LogLevel::Info
        };
        out.push((
            level,
            format!(
                "robot status: mode {}, battery {battery:.1}%, pose x={x:.2} y={y:.2}, heading {heading:.1}°",
                self.mode_name()
            ),
        ));
        out
    }
}

/// How often a device looks for a first subscriber at most, so that one who subscribes
/// gets a first message at once rather than up to a whole interval later.
const WATCH_POLL: Duration = Duration::from_millis(50);

/// Calls `tick` every `interval` while `watched` holds, and at once when it starts to hold,
/// until shutdown. Nothing advances while nobody watches, so the first watcher of a run
/// always sees the seed's first values.
async fn paced(
    interval: Duration,
    watched: impl Fn() -> bool,
    mut tick: impl FnMut(),
    mut shutdown: Shutdown,
) {
    let interval = interval.max(Duration::from_millis(1));
    let mut ticker = tokio::time::interval(interval.min(WATCH_POLL));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            now = ticker.tick() => {
                if !watched() {
                    last = None;
                    continue;
                }
                if last.is_none_or(|at| now.saturating_duration_since(at) >= interval) {
                    last = Some(now);
                    tick();
                }
            }
            () = shutdown.wait() => break,
        }
    }
}

/// Runs the topic `device` until shutdown: one message every `interval` while anyone is
/// subscribed to its topic, the first as soon as someone is.
pub async fn run_topic(
    mut device: TopicDevice,
    exchange: Arc<Exchange>,
    interval: Duration,
    shutdown: Shutdown,
) {
    let topic = device.topic().clone();
    let watcher = exchange.clone();
    paced(
        interval,
        move || watcher.has_subscribers(&topic),
        move || {
            let payload = device.next_payload();
            let queued = exchange.publish(device.topic().clone(), payload);
            tracing::debug!(topic = %device.topic(), queued, "robot publish");
        },
        shutdown,
    )
    .await;
}

/// Runs the status lines until shutdown: one tick every `interval` while anyone is
/// subscribed to `server_logs`, the first as soon as someone is.
pub async fn run_status(
    mut device: StatusDevice,
    exchange: Arc<Exchange>,
    interval: Duration,
    shutdown: Shutdown,
) {
    let watcher = exchange.clone();
    paced(
        interval,
        move || watcher.has_subscribers(&Topic::SERVER_LOGS),
        move || {
            for (level, line) in device.tick() {
                exchange.log(level, &line);
            }
        },
        shutdown,
    )
    .await;
}

#[cfg(test)]
mod tests {
    use telewire_protocols::robot::BrokerConfig;
    use telewire_protocols::robot::Event;
    use telewire_protocols::time::Timestamp;

    use super::*;
    use crate::clock::Clock;

    /// Status lines follow virtual time: the first as soon as `server_logs` has a
    /// subscriber, then one per interval, none while nobody listens.
    #[tokio::test(start_paused = true)]
    async fn a_status_line_every_interval_while_someone_listens() {
        let clock = Clock::starting_at(Timestamp::from_unix_secs(1_704_110_400));
        let exchange = Arc::new(Exchange::new(BrokerConfig::DEFAULT, 64, clock));
        let (trigger, shutdown) = crate::shutdown::channel();
        let task = tokio::spawn(run_status(
            StatusDevice::new(1, &Status::default()),
            exchange.clone(),
            Duration::from_secs(5),
            shutdown,
        ));
        let (id, mut rx) = exchange.connect(Some("demo")).unwrap();
        tokio::time::advance(Duration::from_secs(30)).await;
        assert!(rx.try_recv().is_none(), "nobody listened yet");
        exchange.apply(
            id,
            &Event::Subscribed {
                topic: Topic::SERVER_LOGS,
            },
        );
        let mut status_lines = 0;
        for step in 0..(4 * 20) {
            tokio::time::advance(Duration::from_millis(250)).await;
            while let Some(delivery) = rx.try_recv() {
                let line = delivery
                    .payload()
                    .data
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if line.contains("robot status: mode ") {
                    assert!(status_lines > 0 || step == 0, "the first comes at once");
                    status_lines += 1;
                }
            }
        }
        // 20 s of listening: one at once, then one every 5 s.
        assert!((4..=5).contains(&status_lines), "{status_lines}");
        trigger.trigger();
        task.await.unwrap();
    }

    #[test]
    fn same_seed_same_messages() {
        let scenario = Scenario::default();
        let a = first_payloads(7, &scenario, "odom", 50);
        assert_eq!(a.len(), 50);
        assert_eq!(a, first_payloads(7, &scenario, "odom", 50));
        assert_ne!(a, first_payloads(8, &scenario, "odom", 50));
        assert!(first_payloads(7, &scenario, "nope", 3).is_empty());
        assert!(a.iter().all(|p| p.data.is_object() && p.name == "pose"));
    }

    #[test]
    fn one_unnamed_field_is_a_bare_number() {
        let scenario = crate::scenario::Scenario::embedded_default().robot;
        let temp = first_payloads(1, &scenario, "motor_temperature", 3);
        assert!(temp.iter().all(|p| p.data.is_number()), "{temp:?}");
    }

    #[test]
    fn status_lines_report_battery_pose_and_mode_changes() {
        let status = Status {
            mode_hold: 2,
            ..Status::default()
        };
        let mut device = StatusDevice::new(3, &status);
        let lines: Vec<(LogLevel, String)> = (0..10).flat_map(|_| device.tick()).collect();
        assert!(
            lines
                .iter()
                .any(|(_, l)| l.starts_with("robot mode changed"))
        );
        let status_lines = lines
            .iter()
            .filter(|(_, l)| l.starts_with("robot status: mode "))
            .count();
        assert_eq!(status_lines, 10);
        let mut again = StatusDevice::new(3, &status);
        let repeat: Vec<(LogLevel, String)> = (0..10).flat_map(|_| again.tick()).collect();
        assert_eq!(lines, repeat);
    }
}
