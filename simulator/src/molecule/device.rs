//! Step 5's data source: seeded gateways producing telemetry (type 100) and log lines (type 2).

use std::sync::Arc;
use std::time::Duration;

use telewire_protocols::molecule::TelemetryItem;
use tokio::time::MissedTickBehavior;

use crate::hub::Hub;
use crate::prng::Prng;
use crate::shutdown::Shutdown;
use crate::signals::Signal;

use super::scenario::Gateway;
use super::scenario::Metric;
use super::scenario::Scenario;

/// What a gateway pushes to every authenticated client of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Push {
    /// One telemetry frame: every key with its label (the session's schedule drops labels).
    Telemetry(Arc<[TelemetryItem<'static>]>),
    /// One device log line.
    Log(Arc<str>),
}

/// One simulated gateway: its signals, its log stream and its sample count.
///
/// Values depend only on the seed, the gateway id and how many frames came before, never
/// on the wall clock.
#[derive(Debug, Clone)]
pub struct GatewayDevice {
    id: String,
    metrics: Vec<(Metric, Signal)>,
    logs: Vec<String>,
    log_every: u32,
    log_prng: Prng,
    frames: u64,
    latest: Vec<String>,
}

impl GatewayDevice {
    /// The device for `gateway`, served as `id`, seeded with `seed`.
    pub fn new(seed: u64, id: &str, gateway: &Gateway, log_every: u32) -> Self {
        let metrics = gateway
            .metrics
            .iter()
            .map(|m| {
                let label = format!("molecule/{id}/{}", m.key);
                (m.clone(), Signal::new(m.signal.clone(), seed, &label))
            })
            .collect::<Vec<_>>();
        Self {
            id: id.to_owned(),
            latest: vec![String::new(); metrics.len()],
            metrics,
            logs: gateway.logs.clone(),
            log_every,
            log_prng: Prng::derive(seed, &format!("molecule/{id}/logs")),
            frames: 0,
        }
    }

    /// The gateway id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The next telemetry frame: every key, labelled, with its value as a string.
    pub fn next_telemetry(&mut self) -> Vec<TelemetryItem<'static>> {
        self.frames += 1;
        let mut items = Vec::with_capacity(self.metrics.len());
        for ((metric, signal), latest) in self.metrics.iter_mut().zip(self.latest.iter_mut()) {
            let decimals = usize::try_from(metric.decimals.min(6)).unwrap_or(0);
            *latest = format!("{:.*}", decimals, signal.next_value());
            items.push(
                TelemetryItem::new(metric.key.clone(), latest.clone())
                    .with_label(metric.label.clone()),
            );
        }
        items
    }

    /// Everything one tick sends: a telemetry frame, then now and then a log line.
    pub fn tick(&mut self) -> Vec<Push> {
        let mut pushes = vec![Push::Telemetry(self.next_telemetry().into())];
        if self.log_every > 0
            && !self.logs.is_empty()
            && self.frames.is_multiple_of(u64::from(self.log_every))
        {
            let pick = self.log_prng.below(self.logs.len() as u64);
            let template = usize::try_from(pick)
                .ok()
                .and_then(|i| self.logs.get(i))
                .cloned()
                .unwrap_or_default();
            pushes.push(Push::Log(self.fill(&template).into()));
        }
        pushes
    }

    /// `template` with every `{KEY}` replaced by the key's latest value.
    fn fill(&self, template: &str) -> String {
        let mut line = template.to_owned();
        for ((metric, _), latest) in self.metrics.iter().zip(&self.latest) {
            line = line.replace(&format!("{{{}}}", metric.key), latest);
        }
        line
    }
}

/// The devices of `scenario`, one per gateway, with `demo_id` for a gateway without an id.
pub fn devices(seed: u64, scenario: &Scenario, demo_id: &str) -> Vec<GatewayDevice> {
    scenario
        .gateways
        .iter()
        .map(|g| {
            let id = Scenario::gateway_id(g, demo_id);
            GatewayDevice::new(seed, id, g, scenario.log_every)
        })
        .collect()
}

/// The first `n` telemetry frames gateway `gateway_id` of `scenario` serves with `seed`: the
/// same generator the running server uses, so a client's first frames equal these.
pub fn first_frames(
    seed: u64,
    scenario: &Scenario,
    demo_id: &str,
    gateway_id: &str,
    n: usize,
) -> Vec<Vec<TelemetryItem<'static>>> {
    let Some(mut device) = devices(seed, scenario, demo_id)
        .into_iter()
        .find(|d| d.id() == gateway_id)
    else {
        return Vec::new();
    };
    (0..n)
        .map(|_| {
            device
                .tick()
                .into_iter()
                .find_map(|p| match p {
                    Push::Telemetry(items) => Some(items.to_vec()),
                    Push::Log(_) => None,
                })
                .unwrap_or_default()
        })
        .collect()
}

/// Runs `device` until shutdown: one tick every `interval` while anyone is connected to the
/// gateway. A gateway nobody watches does not advance, so the first client of a run always
/// sees the first frames of the seed.
pub async fn run(
    mut device: GatewayDevice,
    hub: Arc<Hub<Push>>,
    interval: Duration,
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
                for push in device.tick() {
                    let queued = hub.broadcast(&push);
                    tracing::debug!(gateway = device.id(), queued, "molecule gateway push");
                }
            }
            () = shutdown.wait() => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_frames_and_logs_follow_the_schedule() {
        let scenario = Scenario {
            log_every: 2,
            ..Scenario::default()
        };
        let a = first_frames(7, &scenario, "gw", "gw", 20);
        assert_eq!(a, first_frames(7, &scenario, "gw", "gw", 20));
        assert_ne!(a, first_frames(8, &scenario, "gw", "gw", 20));
        assert!(first_frames(7, &scenario, "gw", "other", 3).is_empty());
        let mut device = devices(7, &scenario, "gw").remove(0);
        assert_eq!(device.tick().len(), 1);
        let second = device.tick();
        assert!(matches!(second.get(1), Some(Push::Log(line)) if !line.contains('{')));
    }
}
