//! "Subscription Options" of each channel: the typed filters and which channel takes which.

use serde::Deserialize;
use serde::Serialize;

use super::codes::Channel;
use super::codes::DeviceId;
use super::codes::DeviceStatus;
use super::codes::Frequency;
use super::codes::FrequencyError;
use super::codes::OneOrMany;
use super::codes::Severity;

/// The filters of a subscription, normalised: the same type whether the client spread them
/// at the top level of `subscribe` (the document's JavaScript client) or nested them under
/// `filters` (its Python client).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Filters {
    /// `device_id`: one device or a list (telemetry, alerts, devices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<OneOrMany<DeviceId>>,
    /// `metrics`: metric names to keep (telemetry, system).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<OneOrMany<String>>,
    /// `frequency`: `real-time` or a least interval such as `30s` (telemetry, system).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<Frequency>,
    /// `severity`: alert severities to receive (alerts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<OneOrMany<Severity>>,
    /// `alert_type`: alert types to receive (alerts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_type: Option<OneOrMany<String>>,
    /// `status_types`: device statuses to receive (devices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_types: Option<OneOrMany<DeviceStatus>>,
}

/// Why a subscription's filters were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The filter is not among the channel's documented subscription options.
    #[error("filter `{filter}` does not apply to channel `{channel}`")]
    NotApplicable {
        /// The filter's wire name.
        filter: &'static str,
        /// The channel subscribed to.
        channel: Channel,
    },
    /// The filter is an empty list, so nothing could ever match.
    #[error("filter `{filter}` is an empty list")]
    Empty {
        /// The filter's wire name.
        filter: &'static str,
    },
    /// The `frequency` is not understood.
    #[error(transparent)]
    Frequency(#[from] FrequencyError),
    /// The same filter is given at the top level and under `filters` with different values.
    #[error(transparent)]
    Conflict(#[from] FilterConflict),
}

/// Where a client puts a subscription's filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FilterStyle {
    /// Spread at the top level of the `subscribe` message, as the document's JavaScript
    /// client does (`{type, channel, ...filters}`).
    #[default]
    Spread,
    /// Nested under `filters`, as the document's Python client does.
    Nested,
}

/// The same filter given twice, at the top level and under `filters`, with different values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("filter `{0}` is given at the top level and under `filters` with different values")]
pub struct FilterConflict(pub &'static str);

impl Filters {
    /// No filter: everything on the channel.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether no filter is set.
    pub fn is_empty(&self) -> bool {
        self.present().next().is_none()
    }

    /// With `device_id` set.
    pub fn with_device(mut self, device_id: impl Into<OneOrMany<DeviceId>>) -> Self {
        self.device_id = Some(device_id.into());
        self
    }

    /// With `metrics` set to a list.
    pub fn with_metrics<S: Into<String>>(mut self, metrics: impl IntoIterator<Item = S>) -> Self {
        self.metrics = Some(OneOrMany::Many(
            metrics.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// With `frequency` set.
    pub fn with_frequency(mut self, frequency: Frequency) -> Self {
        self.frequency = Some(frequency);
        self
    }

    /// With `severity` set to a list.
    pub fn with_severity(mut self, severity: impl IntoIterator<Item = Severity>) -> Self {
        self.severity = Some(OneOrMany::Many(severity.into_iter().collect()));
        self
    }

    /// With `alert_type` set to a list.
    pub fn with_alert_types<S: Into<String>>(mut self, types: impl IntoIterator<Item = S>) -> Self {
        self.alert_type = Some(OneOrMany::Many(types.into_iter().map(Into::into).collect()));
        self
    }

    /// With `status_types` set to a list.
    pub fn with_status_types(mut self, statuses: impl IntoIterator<Item = DeviceStatus>) -> Self {
        self.status_types = Some(OneOrMany::Many(statuses.into_iter().collect()));
        self
    }

    /// The wire names of the filters that are set, each with whether it is an empty list.
    fn present(&self) -> impl Iterator<Item = (&'static str, bool)> {
        [
            (
                "device_id",
                self.device_id.as_ref().map(OneOrMany::is_empty),
            ),
            ("metrics", self.metrics.as_ref().map(OneOrMany::is_empty)),
            ("frequency", self.frequency.as_ref().map(|_| false)),
            ("severity", self.severity.as_ref().map(OneOrMany::is_empty)),
            (
                "alert_type",
                self.alert_type.as_ref().map(OneOrMany::is_empty),
            ),
            (
                "status_types",
                self.status_types.as_ref().map(OneOrMany::is_empty),
            ),
        ]
        .into_iter()
        .filter_map(|(name, empty)| empty.map(|e| (name, e)))
    }

    /// The filters of both placements in one value. A filter set in only one place is
    /// taken from there; set in both, the values must agree.
    pub fn merge(spread: &Self, nested: &Self) -> Result<Self, FilterConflict> {
        fn pick<T: Clone + PartialEq>(
            name: &'static str,
            a: &Option<T>,
            b: &Option<T>,
        ) -> Result<Option<T>, FilterConflict> {
            match (a, b) {
                (Some(a), Some(b)) if a != b => Err(FilterConflict(name)),
                _ => Ok(b.clone().or_else(|| a.clone())),
            }
        }
        Ok(Self {
            device_id: pick("device_id", &spread.device_id, &nested.device_id)?,
            metrics: pick("metrics", &spread.metrics, &nested.metrics)?,
            frequency: pick("frequency", &spread.frequency, &nested.frequency)?,
            severity: pick("severity", &spread.severity, &nested.severity)?,
            alert_type: pick("alert_type", &spread.alert_type, &nested.alert_type)?,
            status_types: pick("status_types", &spread.status_types, &nested.status_types)?,
        })
    }

    /// Checks the filters against `channel`'s documented subscription options: every filter
    /// must apply to the channel, no list may be empty, and `frequency` must parse.
    pub fn validate(&self, channel: &Channel) -> Result<(), FilterError> {
        let options = options_of(channel);
        for (filter, empty) in self.present() {
            if !options.contains(&filter) {
                return Err(FilterError::NotApplicable {
                    filter,
                    channel: channel.clone(),
                });
            }
            if empty {
                return Err(FilterError::Empty { filter });
            }
        }
        if let Some(frequency) = &self.frequency {
            frequency.interval()?;
        }
        Ok(())
    }
}

/// The subscription options the document lists for `channel` (none for an unknown channel).
pub fn options_of(channel: &Channel) -> &'static [&'static str] {
    if *channel == Channel::TELEMETRY {
        &["device_id", "metrics", "frequency"]
    } else if *channel == Channel::ALERTS {
        &["device_id", "severity", "alert_type"]
    } else if *channel == Channel::DEVICES {
        &["device_id", "status_types"]
    } else if *channel == Channel::SYSTEM {
        &["metrics", "frequency"]
    } else {
        &[]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_takes_each_filter_from_where_it_is() {
        let spread = Filters::none().with_device(DeviceId(1));
        let nested = Filters::none().with_metrics(["temperature"]);
        let merged = Filters::merge(&spread, &nested).unwrap();
        assert_eq!(merged.device_id, Some(OneOrMany::One(DeviceId(1))));
        assert_eq!(
            merged.metrics,
            Some(OneOrMany::Many(vec!["temperature".into()]))
        );
        let same = Filters::merge(&spread, &spread).unwrap();
        assert_eq!(same, spread);
        let other = Filters::none().with_device(DeviceId(2));
        assert_eq!(
            Filters::merge(&spread, &other),
            Err(FilterConflict("device_id"))
        );
    }

    #[test]
    fn validate_applies_each_channels_options() {
        let telemetry = Filters::none()
            .with_device(DeviceId(1))
            .with_metrics(["temperature"])
            .with_frequency(Frequency::REAL_TIME);
        assert_eq!(telemetry.validate(&Channel::TELEMETRY), Ok(()));
        assert_eq!(
            telemetry.validate(&Channel::SYSTEM),
            Err(FilterError::NotApplicable {
                filter: "device_id",
                channel: Channel::SYSTEM
            })
        );
        let alerts = Filters::none()
            .with_severity([Severity::CRITICAL])
            .with_alert_types(["threshold"]);
        assert_eq!(alerts.validate(&Channel::ALERTS), Ok(()));
        assert!(alerts.validate(&Channel::DEVICES).is_err());
        let devices = Filters::none().with_status_types([DeviceStatus::OFFLINE]);
        assert_eq!(devices.validate(&Channel::DEVICES), Ok(()));
        assert_eq!(
            Filters::none()
                .with_metrics(Vec::<String>::new())
                .validate(&Channel::SYSTEM),
            Err(FilterError::Empty { filter: "metrics" })
        );
        assert_eq!(
            Filters::none()
                .with_frequency(Frequency::from("often"))
                .validate(&Channel::SYSTEM),
            Err(FilterError::Frequency(FrequencyError("often".into())))
        );
        assert_eq!(Filters::none().validate(&Channel::from("weather")), Ok(()));
        assert!(Filters::none().is_empty());
        assert!(!telemetry.is_empty());
    }
}
