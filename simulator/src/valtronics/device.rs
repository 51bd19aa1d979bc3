//! The data behind "Available Channels": seeded devices producing telemetry, threshold alerts
//! and online/offline flaps.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Map;
use serde_json::Number;
use serde_json::Value;
use telewire_protocols::time::Timestamp;
use telewire_protocols::valtronics::Alert;
use telewire_protocols::valtronics::Channel;
use telewire_protocols::valtronics::DeviceId;
use telewire_protocols::valtronics::DeviceStatus;
use telewire_protocols::valtronics::DeviceStatusUpdate;
use telewire_protocols::valtronics::Extra;
use telewire_protocols::valtronics::Reading;
use telewire_protocols::valtronics::ServerMessage;
use telewire_protocols::valtronics::Severity;
use telewire_protocols::valtronics::TelemetryUpdate;
use tokio::time::MissedTickBehavior;

use crate::clock::Clock;
use crate::hub::Hub;
use crate::prng::Prng;
use crate::shutdown::Shutdown;
use crate::signals::Signal;
use crate::signals::round_to;

use super::scenario::Device;
use super::scenario::Metric;
use super::scenario::Scenario;
use super::scenario::Threshold;

/// What the devices and the system sampler push to every subscribed connection; each
/// connection's session filters it by its subscriptions.
pub type Push = Arc<ServerMessage>;

/// The `alert_type` of an alert raised by a threshold crossing.
pub const ALERT_TYPE_THRESHOLD: &str = "threshold";
/// The `alert_type` of an alert raised when a device drops offline.
pub const ALERT_TYPE_CONNECTIVITY: &str = "connectivity";

/// One metric: its settings, its signal, and which of its thresholds it is beyond.
#[derive(Debug, Clone)]
struct MetricSim {
    metric: Metric,
    signal: Signal,
    beyond: Vec<bool>,
}

impl MetricSim {
    fn sample(&mut self) -> f64 {
        round_to(self.signal.next_value(), self.metric.decimals.min(6))
    }
}

/// One simulated device.
///
/// Values depend only on the seed, the device id and the tick count, never on the wall clock.
#[derive(Debug, Clone)]
struct DeviceSim {
    device: Device,
    metrics: Vec<MetricSim>,
    flaps: Prng,
    status: DeviceStatus,
    offline_left: u32,
    last_seen: Option<Timestamp>,
}

/// Every simulated device, ticked together: one tick gives each online device's
/// `telemetry_update`, then its alerts, then its status change, in device order.
#[derive(Debug, Clone)]
pub struct Fleet {
    devices: Vec<DeviceSim>,
    next_alert_id: u64,
}

impl Fleet {
    /// The devices of `scenario`, seeded with `seed`. A device id listed twice is served once.
    pub fn new(seed: u64, scenario: &Scenario) -> Self {
        let mut devices: Vec<DeviceSim> = Vec::new();
        for device in &scenario.devices {
            if devices.iter().any(|d| d.device.id == device.id) {
                tracing::warn!(
                    device_id = device.id,
                    "valtronics device listed twice; the first one is served"
                );
                continue;
            }
            let metrics = device
                .metrics
                .iter()
                .map(|m| MetricSim {
                    signal: Signal::new(
                        m.signal.clone(),
                        seed,
                        &format!("valtronics/{}/{}", device.id, m.name),
                    ),
                    beyond: vec![false; m.thresholds.len()],
                    metric: m.clone(),
                })
                .collect();
            devices.push(DeviceSim {
                device: device.clone(),
                metrics,
                flaps: Prng::derive(seed, &format!("valtronics/{}/flaps", device.id)),
                status: DeviceStatus::ONLINE,
                offline_left: 0,
                last_seen: None,
            });
        }
        Self {
            devices,
            next_alert_id: 1,
        }
    }

    /// `(id, name, metric names)` of every device, for the startup notes.
    pub fn describe(&self) -> Vec<(u64, String, Vec<String>)> {
        self.devices
            .iter()
            .map(|d| {
                let metrics = d.metrics.iter().map(|m| m.metric.name.clone()).collect();
                (d.device.id, d.device.name.clone(), metrics)
            })
            .collect()
    }

    /// Everything one tick at `now` produces, in order.
    pub fn tick(&mut self, now: Timestamp) -> Vec<ServerMessage> {
        let mut out = Vec::new();
        for device in &mut self.devices {
            device.tick(now, &mut self.next_alert_id, &mut out);
        }
        out
    }
}

impl DeviceSim {
    fn id(&self) -> DeviceId {
        DeviceId(self.device.id)
    }

    fn tick(&mut self, now: Timestamp, alert_ids: &mut u64, out: &mut Vec<ServerMessage>) {
        // Signals advance whether or not the device reports: the physical quantity moves on.
        let values: Vec<f64> = self.metrics.iter_mut().map(MetricSim::sample).collect();
        if self.status == DeviceStatus::OFFLINE {
            self.offline_left = self.offline_left.saturating_sub(1);
            if self.offline_left > 0 {
                return;
            }
            self.report(now, &values, alert_ids, out);
            let new = self.status_from_thresholds();
            self.change_status(now, new, "Connection restored", out);
            return;
        }
        let flap_every = self.device.flap_every;
        if flap_every > 0 && self.flaps.chance(1.0 / f64::from(flap_every)) {
            self.offline_left = self.device.offline_ticks.max(1);
            self.change_status(now, DeviceStatus::OFFLINE, "Connection lost", out);
            let alert = self.alert(
                now,
                alert_ids,
                Severity::WARNING,
                ALERT_TYPE_CONNECTIVITY,
                "Device Offline".to_owned(),
                format!("{} stopped reporting", self.device.name),
                self.last_seen_metadata(),
            );
            out.push(alert);
            return;
        }
        self.report(now, &values, alert_ids, out);
        let new = self.status_from_thresholds();
        let reason = if new == DeviceStatus::WARNING {
            "Metric beyond its threshold"
        } else {
            "All metrics within limits"
        };
        self.change_status(now, new, reason, out);
    }

    /// Sends the telemetry of `values` and raises an alert for every threshold newly crossed.
    fn report(
        &mut self,
        now: Timestamp,
        values: &[f64],
        alert_ids: &mut u64,
        out: &mut Vec<ServerMessage>,
    ) {
        let mut telemetry = BTreeMap::new();
        for (m, value) in self.metrics.iter().zip(values) {
            if let Some(reading) = Reading::new(*value, m.metric.unit.clone(), now) {
                telemetry.insert(m.metric.name.clone(), reading);
            }
        }
        out.push(ServerMessage::TelemetryUpdate(TelemetryUpdate::new(
            self.id(),
            telemetry,
        )));
        self.last_seen = Some(now);
        let mut alerts = Vec::new();
        for (m, value) in self.metrics.iter_mut().zip(values) {
            for (threshold, beyond) in m.metric.thresholds.iter().zip(m.beyond.iter_mut()) {
                let now_beyond = is_beyond(threshold, *value);
                if now_beyond && !*beyond {
                    alerts.push((m.metric.clone(), threshold.clone(), *value));
                }
                *beyond = now_beyond;
            }
        }
        for (metric, threshold, value) in alerts {
            let alert = self.threshold_alert(now, alert_ids, &metric, &threshold, value);
            out.push(alert);
        }
    }

    fn status_from_thresholds(&self) -> DeviceStatus {
        if self.metrics.iter().any(|m| m.beyond.iter().any(|b| *b)) {
            DeviceStatus::WARNING
        } else {
            DeviceStatus::ONLINE
        }
    }

    fn change_status(
        &mut self,
        now: Timestamp,
        new: DeviceStatus,
        reason: &str,
        out: &mut Vec<ServerMessage>,
    ) {
        if new == self.status {
            return;
        }
        let old = std::mem::replace(&mut self.status, new.clone());
        out.push(ServerMessage::DeviceStatusUpdate(DeviceStatusUpdate {
            channel: Channel::DEVICES,
            device_id: self.id(),
            old_status: old,
            new_status: new,
            timestamp: now.to_rfc3339_secs(),
            reason: Some(reason.to_owned()),
            metadata: Some(self.last_seen_metadata()),
            extra: Extra::new(),
        }));
    }

    fn last_seen_metadata(&self) -> Map<String, Value> {
        let mut metadata = Map::new();
        if let Some(seen) = self.last_seen {
            metadata.insert("last_seen".into(), Value::String(seen.to_rfc3339_secs()));
        }
        metadata.insert(
            "device_name".into(),
            Value::String(self.device.name.clone()),
        );
        metadata
    }

    fn threshold_alert(
        &self,
        now: Timestamp,
        alert_ids: &mut u64,
        metric: &Metric,
        threshold: &Threshold,
        value: f64,
    ) -> ServerMessage {
        let label = title_case(&metric.name);
        let (direction, limit, verb) = match (threshold.above, threshold.below) {
            (Some(limit), _) => ("High", limit, "exceeds"),
            (None, Some(limit)) => ("Low", limit, "is below"),
            (None, None) => ("Abnormal", value, "reached"),
        };
        let unit = &metric.unit;
        let message = format!(
            "{label} {value}{unit} {verb} the {} threshold of {limit}{unit} on {}",
            threshold.severity, self.device.name
        );
        let mut metadata = Map::new();
        metadata.insert("metric".into(), Value::String(metric.name.clone()));
        metadata.insert("unit".into(), Value::String(unit.clone()));
        if let Some(n) = Number::from_f64(limit) {
            metadata.insert("threshold_value".into(), Value::Number(n));
        }
        if let Some(n) = Number::from_f64(value) {
            metadata.insert("actual_value".into(), Value::Number(n));
        }
        self.alert(
            now,
            alert_ids,
            Severity::new(threshold.severity.clone()),
            ALERT_TYPE_THRESHOLD,
            format!("{direction} {label} Alert"),
            message,
            metadata,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn alert(
        &self,
        now: Timestamp,
        alert_ids: &mut u64,
        severity: Severity,
        alert_type: &str,
        title: String,
        message: String,
        metadata: Map<String, Value>,
    ) -> ServerMessage {
        let alert_id = *alert_ids;
        *alert_ids = alert_ids.saturating_add(1);
        ServerMessage::Alert(Alert {
            channel: Channel::ALERTS,
            alert_id,
            device_id: self.id(),
            severity,
            title,
            message,
            timestamp: now.to_rfc3339_secs(),
            alert_type: Some(alert_type.to_owned()),
            metadata: Some(metadata),
            extra: Extra::new(),
        })
    }
}

fn is_beyond(threshold: &Threshold, value: f64) -> bool {
    threshold.above.is_some_and(|a| value >= a) || threshold.below.is_some_and(|b| value <= b)
}

/// `state_of_charge` -> `State Of Charge`.
fn title_case(name: &str) -> String {
    name.split(['_', '-', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The values of the first `n` `telemetry_update`s device `device_id` of `scenario` sends
/// with `seed`, metric name -> value: the same generator the running server uses, so a
/// client subscribed from the start receives exactly these.
pub fn first_telemetry(
    seed: u64,
    scenario: &Scenario,
    device_id: u64,
    n: usize,
) -> Vec<BTreeMap<String, Number>> {
    let mut fleet = Fleet::new(seed, scenario);
    let mut out = Vec::new();
    // Bounded: a device that never reports (no metrics) ends the search.
    let max_ticks = n.saturating_mul(100).max(1_000);
    for _ in 0..max_ticks {
        if out.len() >= n {
            break;
        }
        for message in fleet.tick(Timestamp::EPOCH) {
            if let ServerMessage::TelemetryUpdate(update) = message
                && update.device_id == DeviceId(device_id)
                && out.len() < n
            {
                out.push(
                    update
                        .telemetry
                        .into_iter()
                        .map(|(name, reading)| (name, reading.value))
                        .collect(),
                );
            }
        }
    }
    out
}

/// Runs `fleet` until shutdown: one tick every `interval` while any connection holds a
/// subscription. Nobody watching, nothing advances, so the first subscriber of a run sees
/// the first values of the seed.
pub async fn run(
    mut fleet: Fleet,
    hub: Arc<Hub<Push>>,
    interval: Duration,
    clock: Clock,
    mut shutdown: Shutdown,
) {
    let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(1)));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if hub.is_empty() {
                    continue;
                }
                for message in fleet.tick(clock.now()) {
                    let kind = message.message_type();
                    let queued = hub.broadcast(&Arc::new(message));
                    tracing::debug!(kind, queued, "valtronics device push");
                }
            }
            () = shutdown.wait() => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::SignalSpec;

    fn scenario_with(flap_every: u32, threshold: Threshold) -> Scenario {
        Scenario {
            devices: vec![Device {
                id: 7,
                name: "probe".into(),
                flap_every,
                offline_ticks: 1,
                metrics: vec![Metric {
                    name: "level".into(),
                    unit: "%".into(),
                    decimals: 1,
                    signal: SignalSpec::Step {
                        levels: vec![10.0, 90.0],
                        hold: 1,
                    },
                    thresholds: vec![threshold],
                }],
            }],
            ..Scenario::default()
        }
    }

    #[test]
    fn same_seed_same_values() {
        let scenario = Scenario::default();
        let a = first_telemetry(3, &scenario, 1, 50);
        assert_eq!(a.len(), 50);
        assert_eq!(a, first_telemetry(3, &scenario, 1, 50));
        assert_ne!(a, first_telemetry(4, &scenario, 1, 50));
        assert!(first_telemetry(3, &scenario, 99, 5).is_empty());
    }

    #[test]
    fn crossing_a_threshold_raises_one_alert_and_a_warning_status() {
        let threshold = Threshold {
            severity: "critical".into(),
            above: Some(50.0),
            below: None,
        };
        let mut fleet = Fleet::new(1, &scenario_with(0, threshold));
        let mut alerts = 0;
        let mut statuses = Vec::new();
        let mut last_level = 10.0;
        for _ in 0..200 {
            for message in fleet.tick(Timestamp::EPOCH) {
                match message {
                    ServerMessage::TelemetryUpdate(u) => {
                        last_level = u.telemetry["level"].value.as_f64().unwrap();
                    }
                    ServerMessage::Alert(a) => {
                        assert_eq!(a.severity, Severity::CRITICAL);
                        assert_eq!(a.title, "High Level Alert");
                        assert!(last_level >= 50.0);
                        alerts += 1;
                    }
                    ServerMessage::DeviceStatusUpdate(s) => statuses.push(s.new_status),
                    other => panic!("{other:?}"),
                }
            }
        }
        assert!(alerts > 0);
        assert!(statuses.contains(&DeviceStatus::WARNING));
        assert!(statuses.contains(&DeviceStatus::ONLINE));
    }

    #[test]
    fn a_flapping_device_goes_offline_and_comes_back() {
        let threshold = Threshold {
            severity: "warning".into(),
            below: Some(-1.0),
            above: None,
        };
        let mut fleet = Fleet::new(1, &scenario_with(1, threshold));
        let first = fleet.tick(Timestamp::EPOCH);
        assert!(matches!(
            first.first(),
            Some(ServerMessage::DeviceStatusUpdate(s)) if s.new_status == DeviceStatus::OFFLINE
        ));
        assert!(matches!(first.get(1), Some(ServerMessage::Alert(a))
            if a.alert_type.as_deref() == Some(ALERT_TYPE_CONNECTIVITY)));
        let second = fleet.tick(Timestamp::EPOCH);
        assert!(matches!(
            second.first(),
            Some(ServerMessage::TelemetryUpdate(_))
        ));
        assert!(matches!(
            second.last(),
            Some(ServerMessage::DeviceStatusUpdate(s)) if s.new_status == DeviceStatus::ONLINE
        ));
    }

    #[test]
    fn names_become_titles() {
        assert_eq!(title_case("state_of_charge"), "State Of Charge");
        assert_eq!(title_case("temperature"), "Temperature");
        assert_eq!(title_case(""), "");
    }
}
