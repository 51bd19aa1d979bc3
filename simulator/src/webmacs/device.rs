//! The lab behind the controller: seeded readings per event, and the built-in controller task.

use std::sync::Arc;
use std::time::Duration;

use telewire_protocols::webmacs::Datapoint;
use telewire_protocols::webmacs::Reading;
use tokio::time::MissedTickBehavior;

use crate::prng::Prng;
use crate::shutdown::Shutdown;
use crate::signals::Signal;
use crate::signals::SignalSpec;
use crate::signals::round_to;

use super::Shared;
use super::scenario::EventSpec;

/// One sensor: its event id, its signal and how many decimals it reports.
#[derive(Debug, Clone)]
struct Sensor {
    event_public_id: String,
    decimals: u32,
    signal: Signal,
}

impl Sensor {
    /// The next reading; `None` only for a non-finite value, which signals never produce.
    fn next(&mut self) -> Option<Datapoint> {
        let v = round_to(self.signal.next_value(), self.decimals.min(9));
        Reading::new(v).map(|value| Datapoint::new(self.event_public_id.as_str(), value))
    }
}

/// Seeded readings for a set of events. Values depend only on the seed, the event ids and
/// how many readings came before, never on the wall clock.
#[derive(Debug, Clone)]
pub struct Lab {
    sensors: Vec<Sensor>,
    next: usize,
}

impl Lab {
    /// A lab for the scenario's events.
    pub fn from_events(seed: u64, events: &[EventSpec]) -> Self {
        let sensors = events
            .iter()
            .map(|e| Sensor {
                event_public_id: e.public_id.clone(),
                decimals: e.decimals,
                signal: Signal::new(e.signal.clone(), seed, &format!("webmacs/{}", e.public_id)),
            })
            .collect();
        Self { sensors, next: 0 }
    }

    /// A lab for bare event ids (a controller pointed at any server): each event gets a
    /// sine wave whose level, swing and period follow from the seed and the id.
    pub fn from_ids(seed: u64, ids: &[String]) -> Self {
        let sensors = ids
            .iter()
            .map(|id| {
                let mut p = Prng::derive(seed, &format!("webmacs/controller/{id}"));
                let mean = p.range_f64(10.0, 1_000.0).round();
                let spec = SignalSpec::Sine {
                    mean,
                    amplitude: mean * p.range_f64(0.02, 0.1),
                    period: p.range_f64(120.0, 900.0).round(),
                    noise: mean * 0.002,
                    drift: 0.0,
                };
                Sensor {
                    event_public_id: id.clone(),
                    decimals: 2,
                    signal: Signal::new(spec, seed, &format!("webmacs/{id}")),
                }
            })
            .collect();
        Self { sensors, next: 0 }
    }

    /// How many events the lab reads.
    pub fn len(&self) -> usize {
        self.sensors.len()
    }

    /// Whether the lab reads no event.
    pub fn is_empty(&self) -> bool {
        self.sensors.is_empty()
    }

    /// One reading of every event, in order.
    pub fn sweep(&mut self) -> Vec<Datapoint> {
        self.sensors.iter_mut().filter_map(Sensor::next).collect()
    }

    /// The next `n` readings, round-robin over the events.
    pub fn take(&mut self, n: usize) -> Vec<Datapoint> {
        let count = self.sensors.len();
        if count == 0 {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let i = self.next % count;
            self.next = (i + 1) % count;
            if let Some(dp) = self.sensors.get_mut(i).and_then(Sensor::next) {
                out.push(dp);
            }
        }
        out
    }
}

/// The time between two batches of the built-in controller: one reading of each of
/// `events` per batch, `rate` readings per second in total. `None` when it is off.
pub fn batch_interval(rate: f64, events: usize) -> Option<Duration> {
    if !(rate.is_finite() && rate > 0.0) || events == 0 {
        return None;
    }
    let secs = (events as f64 / rate).clamp(0.001, 3_600.0);
    Some(Duration::from_secs_f64(secs))
}

/// How long after a `GET /api/v1/datapoints/latest` the built-in controller keeps
/// running with no stream client, so a polling dashboard sees live values too.
pub const POLL_KEEPS_ALIVE: Duration = Duration::from_secs(5);

/// Runs the built-in controller until shutdown: one batch every `interval` while anyone
/// watches (a stream client, or a recent poll of the latest values). A lab nobody
/// watches does not advance, so the first client of a run sees the first values of the
/// seed.
pub async fn run(mut lab: Lab, shared: Arc<Shared>, interval: Duration, mut shutdown: Shutdown) {
    let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(1)));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if !shared.watched() {
                    continue;
                }
                let batch = lab.sweep();
                let now = shared.clock.now();
                let outcome = shared.ingest(now, &batch);
                tracing::debug!(
                    stored = outcome.stored,
                    broadcast = outcome.broadcast,
                    "webmacs built-in controller batch"
                );
            }
            () = shutdown.wait() => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_readings_round_robin() {
        let ids = vec!["a".to_owned(), "b".to_owned()];
        let a = Lab::from_ids(3, &ids).take(10);
        assert_eq!(a, Lab::from_ids(3, &ids).take(10));
        assert_ne!(a, Lab::from_ids(4, &ids).take(10));
        let names: Vec<&str> = a.iter().map(|d| d.event_public_id.as_str()).collect();
        assert_eq!(names, ["a", "b", "a", "b", "a", "b", "a", "b", "a", "b"]);
        assert!(Lab::from_ids(3, &[]).take(5).is_empty());
        assert_eq!(batch_interval(10.0, 4), Some(Duration::from_millis(400)));
        assert_eq!(batch_interval(0.0, 4), None);
        assert_eq!(batch_interval(f64::NAN, 4), None);
    }
}
