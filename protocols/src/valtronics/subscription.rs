//! "Available Channels": one channel's subscription, and which pushes its filters let through.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::time::Duration;

use super::codes::Channel;
use super::codes::DeviceId;
use super::codes::OneOrMany;
use super::filters::FilterError;
use super::filters::Filters;
use super::server_message::ServerMessage;
use crate::time::Timestamp;

/// A validated subscription to one channel, with the state its `frequency` filter needs.
///
/// What passes (all MUST in spirit, the details MAY):
/// - `device_id`: the push's device is one of the listed devices;
/// - `metrics` (telemetry, system): only the listed metrics are kept in the pushed map; a
///   push left with none is not sent;
/// - `severity`, `alert_type` (alerts): the alert's severity / type is listed (an alert
///   without `alert_type` does not pass an `alert_type` filter);
/// - `status_types` (devices): the update's `new_status` is listed;
/// - `frequency` (telemetry, system): each metric (per device) is sent at most once per
///   interval; a value arriving sooner is dropped, not deferred. `real-time` sends all.
#[derive(Debug, Clone)]
pub struct Subscription {
    channel: Channel,
    filters: Filters,
    interval: Option<Duration>,
    last_sent: HashMap<(Option<DeviceId>, String), Timestamp>,
}

impl Subscription {
    /// A subscription to `channel` with `filters`, checked against the channel's options.
    pub fn new(channel: Channel, filters: Filters) -> Result<Self, FilterError> {
        filters.validate(&channel)?;
        let interval = match &filters.frequency {
            Some(frequency) => frequency.interval()?,
            None => None,
        };
        Ok(Self {
            channel,
            filters,
            interval,
            last_sent: HashMap::new(),
        })
    }

    /// The channel.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// The filters in force.
    pub fn filters(&self) -> &Filters {
        &self.filters
    }

    /// Whether an `unsubscribe` naming `device_id` targets this subscription: it must name
    /// the same devices as the subscription's `device_id` filter, in any order or form.
    pub fn is_for_devices(&self, device_id: &OneOrMany<DeviceId>) -> bool {
        self.filters
            .device_id
            .as_ref()
            .is_some_and(|mine| mine.same_values(device_id))
    }

    /// The push to send for `message` offered at `now`, filtered; `None` when the filters
    /// let nothing through. Passing metrics count as sent at `now` for `frequency`.
    pub fn filter(&mut self, now: Timestamp, message: &ServerMessage) -> Option<ServerMessage> {
        if message.push_channel().as_ref() != Some(&self.channel) {
            return None;
        }
        match message {
            ServerMessage::TelemetryUpdate(update) => {
                if !self.device_passes(update.device_id) {
                    return None;
                }
                let telemetry =
                    self.metrics_pass(now, Some(update.device_id), &update.telemetry)?;
                let mut update = update.clone();
                update.telemetry = telemetry;
                Some(ServerMessage::TelemetryUpdate(update))
            }
            ServerMessage::SystemStatusUpdate(update) => {
                let metrics = self.metrics_pass(now, None, &update.metrics)?;
                let mut update = update.clone();
                update.metrics = metrics;
                Some(ServerMessage::SystemStatusUpdate(update))
            }
            ServerMessage::Alert(alert) => {
                let severity_passes = self
                    .filters
                    .severity
                    .as_ref()
                    .is_none_or(|s| s.contains(&alert.severity));
                let type_passes = self.filters.alert_type.as_ref().is_none_or(|types| {
                    alert.alert_type.as_ref().is_some_and(|t| types.contains(t))
                });
                (self.device_passes(alert.device_id) && severity_passes && type_passes)
                    .then(|| message.clone())
            }
            ServerMessage::DeviceStatusUpdate(update) => {
                let status_passes = self
                    .filters
                    .status_types
                    .as_ref()
                    .is_none_or(|s| s.contains(&update.new_status));
                (self.device_passes(update.device_id) && status_passes).then(|| message.clone())
            }
            _ => None,
        }
    }

    fn device_passes(&self, device_id: DeviceId) -> bool {
        self.filters
            .device_id
            .as_ref()
            .is_none_or(|ids| ids.contains(&device_id))
    }

    /// The entries of `map` that pass `metrics` and `frequency`; `None` when a non-empty
    /// map is left empty. Records what passes as sent at `now`.
    fn metrics_pass<V: Clone>(
        &mut self,
        now: Timestamp,
        device: Option<DeviceId>,
        map: &BTreeMap<String, V>,
    ) -> Option<BTreeMap<String, V>> {
        let mut kept = BTreeMap::new();
        for (name, value) in map {
            let listed = self
                .filters
                .metrics
                .as_ref()
                .is_none_or(|m| m.contains(name));
            if !listed {
                continue;
            }
            if let Some(interval) = self.interval {
                let key = (device, name.clone());
                if let Some(last) = self.last_sent.get(&key)
                    && now.saturating_since(*last) < interval
                {
                    continue;
                }
                self.last_sent.insert(key, now);
            }
            kept.insert(name.clone(), value.clone());
        }
        (map.is_empty() || !kept.is_empty()).then_some(kept)
    }
}
