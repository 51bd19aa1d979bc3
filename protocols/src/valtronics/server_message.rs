//! "Message Formats" and "Available Channels", server to client: auth reply, the four pushes, pong, errors.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::Serialize;
use serde_json::Map;
use serde_json::Number;
use serde_json::Value;

use super::codes::Channel;
use super::codes::DeviceId;
use super::codes::DeviceStatus;
use super::codes::ErrorCode;
use super::codes::OneOrMany;
use super::codes::Severity;
use super::error::DecodeError;
use super::error::decode_tagged;
use super::filters::Filters;
use crate::codec::encode_json;
use crate::codec::encode_json_string;
use crate::time::Timestamp;

/// Fields a server sent beyond the documented ones: kept, so that nothing is lost and every
/// message re-encodes as it came. Empty on every message this crate builds.
pub type Extra = Map<String, Value>;

/// A message from the server to the client; `type` selects the variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// `auth_response`: the answer to `auth` (specs README, MUST).
    AuthResponse(AuthResponse),
    /// `telemetry_update` on channel `telemetry` (MUST).
    TelemetryUpdate(TelemetryUpdate),
    /// `alert` on channel `alerts` (MUST).
    Alert(Alert),
    /// `device_status_update` on channel `devices` (MUST).
    DeviceStatusUpdate(DeviceStatusUpdate),
    /// `system_status_update` on channel `system` (MUST).
    SystemStatusUpdate(SystemStatusUpdate),
    /// `pong`: the answer to `ping` (MUST; its fields beyond `type` are MAY).
    Pong(Pong),
    /// `error`: the error reply (specs README, MAY).
    Error(ErrorReply),
    /// `subscribed`: acknowledges a `subscribe` (this crate's, MAY).
    Subscribed(Subscribed),
    /// `unsubscribed`: acknowledges an `unsubscribe` (this crate's, MAY).
    Unsubscribed(Unsubscribed),
}

impl ServerMessage {
    /// Every `type` value, in variant order.
    pub const TYPES: [&'static str; 9] = [
        "auth_response",
        "telemetry_update",
        "alert",
        "device_status_update",
        "system_status_update",
        "pong",
        "error",
        "subscribed",
        "unsubscribed",
    ];

    /// Decodes one JSON text message.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        decode_tagged(text, &Self::TYPES)
    }

    /// Appends the compact JSON encoding to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_json(self, out);
    }

    /// The compact JSON encoding.
    pub fn to_text(&self) -> String {
        encode_json_string(self)
    }

    /// The `type` value of this message.
    pub fn message_type(&self) -> &'static str {
        match self {
            Self::AuthResponse(_) => "auth_response",
            Self::TelemetryUpdate(_) => "telemetry_update",
            Self::Alert(_) => "alert",
            Self::DeviceStatusUpdate(_) => "device_status_update",
            Self::SystemStatusUpdate(_) => "system_status_update",
            Self::Pong(_) => "pong",
            Self::Error(_) => "error",
            Self::Subscribed(_) => "subscribed",
            Self::Unsubscribed(_) => "unsubscribed",
        }
    }

    /// The channel a data push belongs to, by its type; `None` for replies.
    pub fn push_channel(&self) -> Option<Channel> {
        match self {
            Self::TelemetryUpdate(_) => Some(Channel::TELEMETRY),
            Self::Alert(_) => Some(Channel::ALERTS),
            Self::DeviceStatusUpdate(_) => Some(Channel::DEVICES),
            Self::SystemStatusUpdate(_) => Some(Channel::SYSTEM),
            _ => None,
        }
    }
}

/// `{"type":"auth_response","success":true}`, or on failure
/// `{"type":"auth_response","success":false,"error":"invalid_token","message":"..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuthResponse {
    /// Whether the connection is now authenticated.
    pub success: bool,
    /// On failure, why (`invalid_token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorCode>,
    /// On failure, a human-readable explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Undocumented fields, kept.
    #[serde(flatten)]
    pub extra: Extra,
}

impl AuthResponse {
    /// The success reply.
    pub fn accepted() -> Self {
        Self {
            success: true,
            error: None,
            message: None,
            extra: Extra::new(),
        }
    }

    /// A failure reply with `error` and `message`.
    pub fn refused(error: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            success: false,
            error: Some(error),
            message: Some(message.into()),
            extra: Extra::new(),
        }
    }
}

/// One metric of a `telemetry_update`: `{"value": 23.5, "unit": "°C", "timestamp": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Reading {
    /// The measured value; integers stay integers on the wire.
    pub value: Number,
    /// The unit (`°C`, `%`).
    pub unit: String,
    /// When it was measured (RFC 3339).
    pub timestamp: String,
    /// Undocumented fields, kept.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Reading {
    /// A reading of `value` in `unit` measured at `at`. A non-finite value, which JSON
    /// cannot carry, becomes `None`.
    pub fn new(value: f64, unit: impl Into<String>, at: Timestamp) -> Option<Self> {
        Some(Self {
            value: Number::from_f64(value)?,
            unit: unit.into(),
            timestamp: at.to_rfc3339_secs(),
            extra: Extra::new(),
        })
    }
}

/// `telemetry_update`: the latest readings of one device, metric name -> reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TelemetryUpdate {
    /// Always `telemetry` when this crate builds it.
    pub channel: Channel,
    /// The device measured.
    pub device_id: DeviceId,
    /// Metric name -> reading.
    pub telemetry: BTreeMap<String, Reading>,
    /// Undocumented fields, kept.
    #[serde(flatten)]
    pub extra: Extra,
}

impl TelemetryUpdate {
    /// An update on channel `telemetry`.
    pub fn new(device_id: DeviceId, telemetry: BTreeMap<String, Reading>) -> Self {
        Self {
            channel: Channel::TELEMETRY,
            device_id,
            telemetry,
            extra: Extra::new(),
        }
    }
}

/// `alert`: one alert notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Alert {
    /// Always `alerts` when this crate builds it.
    pub channel: Channel,
    /// The alert's id.
    pub alert_id: u64,
    /// The device concerned.
    pub device_id: DeviceId,
    /// `critical`, `warning`, or another severity.
    pub severity: Severity,
    /// Short title.
    pub title: String,
    /// Explanation.
    pub message: String,
    /// When it was raised (RFC 3339).
    pub timestamp: String,
    /// The alert's type, matched by the `alert_type` filter. Not in the document's example:
    /// without it no alert could match an `alert_type` filter (MAY).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_type: Option<String>,
    /// Free-form details (`threshold_value`, `actual_value`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// Undocumented fields, kept.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `device_status_update`: a device changed status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DeviceStatusUpdate {
    /// Always `devices` when this crate builds it.
    pub channel: Channel,
    /// The device.
    pub device_id: DeviceId,
    /// Status before the change.
    pub old_status: DeviceStatus,
    /// Status after the change.
    pub new_status: DeviceStatus,
    /// When it changed (RFC 3339).
    pub timestamp: String,
    /// Why it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Free-form details (`last_seen`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// Undocumented fields, kept.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `system_status_update`: system metrics, name -> number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SystemStatusUpdate {
    /// Always `system` when this crate builds it.
    pub channel: Channel,
    /// Metric name -> value (`cpu_usage`, `active_connections`, ...).
    pub metrics: BTreeMap<String, Number>,
    /// When they were sampled (RFC 3339).
    pub timestamp: String,
    /// Undocumented fields, kept.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `pong`: answers a `ping`, echoing its `timestamp` and adding the server's time (MAY).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Pong {
    /// The ping's `timestamp`, echoed when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The server's time when it answered (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_time: Option<String>,
    /// Undocumented fields, kept.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `{"type":"error","error":"<code>","message":"..."}` (specs README, MAY).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorReply {
    /// The machine-readable code.
    pub error: ErrorCode,
    /// A human-readable explanation.
    pub message: String,
    /// Undocumented fields, kept.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ErrorReply {
    /// An error reply.
    pub fn new(error: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error,
            message: message.into(),
            extra: Extra::new(),
        }
    }
}

/// `{"type":"subscribed","channel":...,"filters":{...}}`: the subscription now in force,
/// its filters normalised to the nested form (MAY).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Subscribed {
    /// The channel subscribed to.
    pub channel: Channel,
    /// The filters in force; omitted when there are none.
    #[serde(default, skip_serializing_if = "Filters::is_empty")]
    pub filters: Filters,
    /// Undocumented fields, kept.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `{"type":"unsubscribed","channel":...}`: the subscription is gone (MAY).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Unsubscribed {
    /// The channel unsubscribed from.
    pub channel: Channel,
    /// The `device_id` the `unsubscribe` named, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<OneOrMany<DeviceId>>,
    /// Undocumented fields, kept.
    #[serde(flatten)]
    pub extra: Extra,
}

macro_rules! into_server_message {
    ($($ty:ident => $variant:ident),* $(,)?) => {
        $(impl From<$ty> for ServerMessage {
            fn from(value: $ty) -> Self {
                Self::$variant(value)
            }
        })*
    };
}

into_server_message! {
    AuthResponse => AuthResponse,
    TelemetryUpdate => TelemetryUpdate,
    Alert => Alert,
    DeviceStatusUpdate => DeviceStatusUpdate,
    SystemStatusUpdate => SystemStatusUpdate,
    Pong => Pong,
    ErrorReply => Error,
    Subscribed => Subscribed,
    Unsubscribed => Unsubscribed,
}
