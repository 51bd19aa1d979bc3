//! "Processing Pipeline" and "Connection Manager": the ingest state one server shares across connections.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::limits::KeyedThrottle;
use crate::time::Timestamp;

use super::BROADCAST_INTERVAL;
use super::WEBHOOK_INTERVAL;
use super::http::DatapointRecord;
use super::http::EventItem;
use super::http::LatestDatapoints;
use super::http::Page;
use super::messages::BroadcastDatapoint;
use super::messages::Datapoint;
use super::messages::DatapointsBatch;
use super::timestamp::IsoTimestamp;
use super::values::EventPublicId;
use super::values::ExperimentPublicId;

/// What one accepted batch did, for the driver to carry out.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IngestOutcome {
    /// The persisted datapoints, in batch order, all with one timestamp.
    pub stored: Vec<DatapointRecord>,
    /// Datapoints dropped silently: their event is unknown or has no enabled plugin.
    pub dropped: usize,
    /// Stored datapoints left out of the broadcast by the 200 ms throttle (never sent later).
    pub throttled: usize,
    /// The one `datapoints_batch` for every stream client, unless every event was throttled
    /// or nothing was stored. Encode it once with [`DatapointsBatch::message_text`].
    pub broadcast: Option<DatapointsBatch>,
    /// `sensor_reading` webhooks to fire: the datapoints that passed the 5 s per-sensor
    /// throttle.
    pub webhooks: Vec<Datapoint>,
    /// Threshold rules to evaluate: the last value per event of the batch, in order of
    /// each event's first appearance.
    pub rule_checks: Vec<Datapoint>,
}

/// The server-wide state behind both endpoints (sans-IO; one per server, behind the
/// driver's lock): the event registry with each event's enabled flag, the active
/// experiment, the per-event broadcast and webhook throttles, and the latest datapoint
/// per event.
///
/// Feed it every [`ControllerEvent::Batch`](super::ControllerEvent::Batch) with the `now`
/// the batch arrived at; give [`IngestOutcome::broadcast`] to every open
/// [`StreamSession`](super::StreamSession).
#[derive(Debug, Clone)]
pub struct IngestHub {
    events: BTreeMap<EventPublicId, EventItem>,
    experiment: Option<ExperimentPublicId>,
    broadcasts: KeyedThrottle<EventPublicId>,
    webhooks: KeyedThrottle<EventPublicId>,
    latest: BTreeMap<EventPublicId, DatapointRecord>,
    stored: u64,
}

impl Default for IngestHub {
    fn default() -> Self {
        Self::new()
    }
}

impl IngestHub {
    /// An empty hub with the documented throttles (200 ms broadcast, 5 s webhook).
    pub fn new() -> Self {
        Self::with_intervals(BROADCAST_INTERVAL, WEBHOOK_INTERVAL)
    }

    /// An empty hub with other throttle intervals (for simulations at other speeds).
    pub fn with_intervals(broadcast: Duration, webhook: Duration) -> Self {
        Self {
            events: BTreeMap::new(),
            experiment: None,
            broadcasts: KeyedThrottle::new(broadcast),
            webhooks: KeyedThrottle::new(webhook),
            latest: BTreeMap::new(),
            stored: 0,
        }
    }

    /// Registers (or replaces) an event; `enabled` says whether it has an enabled plugin
    /// linkage, so that its readings are accepted.
    pub fn register_event(&mut self, mut event: EventItem, enabled: bool) {
        event.enabled = Some(enabled);
        self.events.insert(event.public_id.clone(), event);
    }

    /// Enables or disables an event's plugin linkage; `false` when the event is unknown.
    pub fn set_enabled(&mut self, id: &EventPublicId, enabled: bool) -> bool {
        match self.events.get_mut(id) {
            Some(event) => {
                event.enabled = Some(enabled);
                true
            }
            None => false,
        }
    }

    /// Removes an event; its readings are dropped from now on.
    pub fn remove_event(&mut self, id: &EventPublicId) -> Option<EventItem> {
        self.events.remove(id)
    }

    /// A registered event.
    pub fn event(&self, id: &EventPublicId) -> Option<&EventItem> {
        self.events.get(id)
    }

    /// Whether readings for `id` are accepted: known and enabled.
    pub fn is_active(&self, id: &EventPublicId) -> bool {
        self.events.get(id).is_some_and(|e| e.enabled == Some(true))
    }

    /// Every registered event, ordered by public id.
    pub fn events(&self) -> impl Iterator<Item = &EventItem> {
        self.events.values()
    }

    /// `GET /api/v1/events?page=&page_size=`: page 1 is the first; a page past the end
    /// is empty; `page_size` 0 counts as 1.
    pub fn events_page(&self, page: u32, page_size: u32) -> Page<EventItem> {
        let page = page.max(1);
        let page_size = page_size.max(1);
        let skip =
            usize::try_from(u64::from(page - 1) * u64::from(page_size)).unwrap_or(usize::MAX);
        let take = usize::try_from(page_size).unwrap_or(usize::MAX);
        Page {
            page,
            page_size,
            total: u64::try_from(self.events.len()).unwrap_or(u64::MAX),
            data: self
                .events
                .values()
                .skip(skip)
                .take(take)
                .cloned()
                .collect(),
        }
    }

    /// Starts an experiment: datapoints persisted from now on carry its id.
    pub fn start_experiment(&mut self, id: impl Into<ExperimentPublicId>) {
        self.experiment = Some(id.into());
    }

    /// Stops the running experiment, returning its id.
    pub fn stop_experiment(&mut self) -> Option<ExperimentPublicId> {
        self.experiment.take()
    }

    /// The running experiment.
    pub fn active_experiment(&self) -> Option<&ExperimentPublicId> {
        self.experiment.as_ref()
    }

    /// Datapoints persisted so far.
    pub fn stored_count(&self) -> u64 {
        self.stored
    }

    /// `GET /api/v1/datapoints/latest`: the last persisted datapoint of each event,
    /// ordered by event id.
    pub fn latest(&self) -> LatestDatapoints {
        LatestDatapoints(self.latest.values().cloned().collect())
    }

    /// Runs the pipeline on a validated batch received at `now`: filter by active plugin
    /// linkage, persist with one shared timestamp and the active experiment, pick the
    /// webhooks and rule checks, and build the throttled broadcast.
    pub fn ingest(&mut self, now: Timestamp, datapoints: &[Datapoint]) -> IngestOutcome {
        let accepted: Vec<&Datapoint> = datapoints
            .iter()
            .filter(|dp| self.is_active(&dp.event_public_id))
            .collect();
        let mut outcome = IngestOutcome {
            dropped: datapoints.len() - accepted.len(),
            ..IngestOutcome::default()
        };
        if accepted.is_empty() {
            return outcome;
        }
        let timestamp = IsoTimestamp::from_timestamp(now);
        for dp in &accepted {
            self.stored += 1;
            let record = DatapointRecord {
                public_id: datapoint_public_id(self.stored),
                value: dp.value,
                timestamp: timestamp.clone(),
                event_public_id: dp.event_public_id.clone(),
                experiment_public_id: self.experiment.clone(),
            };
            self.latest
                .insert(dp.event_public_id.clone(), record.clone());
            outcome.stored.push(record);
            if self.webhooks.allow(&dp.event_public_id, now) {
                outcome.webhooks.push((*dp).clone());
            }
            match outcome
                .rule_checks
                .iter_mut()
                .find(|c| c.event_public_id == dp.event_public_id)
            {
                Some(check) => check.value = dp.value,
                None => outcome.rule_checks.push((*dp).clone()),
            }
        }
        // One throttle decision per event per batch: every datapoint of a passing event is
        // broadcast, none of a throttled one.
        let mut passing: Vec<&EventPublicId> = Vec::new();
        let mut refused: Vec<&EventPublicId> = Vec::new();
        for dp in &accepted {
            let id = &dp.event_public_id;
            if passing.contains(&id) || refused.contains(&id) {
                continue;
            }
            if self.broadcasts.allow(id, now) {
                passing.push(id);
            } else {
                refused.push(id);
            }
        }
        let broadcast: Vec<BroadcastDatapoint> = outcome
            .stored
            .iter()
            .filter(|r| passing.contains(&&r.event_public_id))
            .map(|r| BroadcastDatapoint {
                value: r.value,
                event_public_id: r.event_public_id.clone(),
                timestamp: r.timestamp.clone(),
                experiment_public_id: r.experiment_public_id.clone(),
            })
            .collect();
        outcome.throttled = outcome.stored.len() - broadcast.len();
        if !broadcast.is_empty() {
            outcome.broadcast = Some(DatapointsBatch {
                datapoints: broadcast,
            });
        }
        outcome
    }
}

/// A deterministic UUID-shaped public id for the `n`th persisted datapoint (MAY: the
/// backend uses random UUIDs; nothing depends on their value).
fn datapoint_public_id(n: u64) -> String {
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        n >> 48,
        n & 0xffff_ffff_ffff
    )
}
