//! "Message Formats", client to server: auth, subscribe, unsubscribe, ping, and "Message Batching".

use serde::Deserialize;
use serde::Deserializer;
use serde::Serialize;
use serde::de::Error as _;

use super::codes::Channel;
use super::codes::DeviceId;
use super::codes::DeviceStatus;
use super::codes::Frequency;
use super::codes::OneOrMany;
use super::codes::Severity;
use super::error::DecodeError;
use super::error::decode_tagged;
use super::error::decode_tagged_object;
use super::filters::FilterConflict;
use super::filters::FilterStyle;
use super::filters::Filters;
use crate::codec::encode_json;
use crate::codec::encode_json_string;

/// A message from the client to the server; `type` selects the variant. Unknown fields
/// are refused, so a mistyped filter is reported rather than ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// `{"type":"auth","token":"..."}`: must come first (MUST).
    Auth(Auth),
    /// `subscribe` to a channel with filters (MUST); boxed, being the largest by far.
    Subscribe(Box<Subscribe>),
    /// `unsubscribe` from a channel (MUST).
    Unsubscribe(Unsubscribe),
    /// `ping` keep-alive (MUST).
    Ping(Ping),
    /// `{"type":"batch","messages":[...]}`, at most 50 items (MUST).
    Batch(Batch),
}

impl ClientMessage {
    /// Every `type` value, in variant order.
    pub const TYPES: [&'static str; 5] = ["auth", "subscribe", "unsubscribe", "ping", "batch"];

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
            Self::Auth(_) => "auth",
            Self::Subscribe(_) => "subscribe",
            Self::Unsubscribe(_) => "unsubscribe",
            Self::Ping(_) => "ping",
            Self::Batch(_) => "batch",
        }
    }
}

/// `{"type":"auth","token":"jwt-token-string"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// The JWT.
    pub token: String,
}

/// `subscribe`: a channel and its filters, spread at the top level (JavaScript client),
/// nested under `filters` (Python client), or both (the document's own template puts
/// `device_id` at the top and `metrics` under `filters`).
///
/// Decoding keeps where each filter was, so a message re-encodes as it came;
/// [`Subscribe::filters`] gives the normalised [`Filters`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(into = "SubscribeWire", try_from = "SubscribeWire")]
pub struct Subscribe {
    /// The channel.
    pub channel: Channel,
    /// Filters given at the top level of the message.
    pub spread: Filters,
    /// The `filters` object, when the message has one.
    pub nested: Option<Filters>,
}

impl Subscribe {
    /// A subscription to `channel` with `filters` placed as `style` places them. With no
    /// filters both styles give `{"type":"subscribe","channel":...}`, as the document's
    /// clients do.
    pub fn new(channel: Channel, filters: Filters, style: FilterStyle) -> Self {
        match style {
            FilterStyle::Spread => Self {
                channel,
                spread: filters,
                nested: None,
            },
            FilterStyle::Nested => Self {
                channel,
                nested: (!filters.is_empty()).then_some(filters),
                spread: Filters::none(),
            },
        }
    }

    /// The filters of both placements, normalised. Fails only for a hand-built message
    /// that gives one filter two different values (decoding refuses those).
    pub fn filters(&self) -> Result<Filters, FilterConflict> {
        match &self.nested {
            Some(nested) => Filters::merge(&self.spread, nested),
            None => Ok(self.spread.clone()),
        }
    }
}

/// The wire shape of `subscribe`: the channel, every filter at the top level, and `filters`.
#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct SubscribeWire {
    channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device_id: Option<OneOrMany<DeviceId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metrics: Option<OneOrMany<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    frequency: Option<Frequency>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    severity: Option<OneOrMany<Severity>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alert_type: Option<OneOrMany<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status_types: Option<OneOrMany<DeviceStatus>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    filters: Option<Filters>,
}

impl From<Subscribe> for SubscribeWire {
    fn from(s: Subscribe) -> Self {
        let Filters {
            device_id,
            metrics,
            frequency,
            severity,
            alert_type,
            status_types,
        } = s.spread;
        Self {
            channel: s.channel,
            device_id,
            metrics,
            frequency,
            severity,
            alert_type,
            status_types,
            filters: s.nested,
        }
    }
}

impl TryFrom<SubscribeWire> for Subscribe {
    type Error = FilterConflict;

    fn try_from(w: SubscribeWire) -> Result<Self, FilterConflict> {
        let subscribe = Self {
            channel: w.channel,
            spread: Filters {
                device_id: w.device_id,
                metrics: w.metrics,
                frequency: w.frequency,
                severity: w.severity,
                alert_type: w.alert_type,
                status_types: w.status_types,
            },
            nested: w.filters,
        };
        subscribe.filters()?;
        Ok(subscribe)
    }
}

/// `{"type":"unsubscribe","channel":...,"device_id":1}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Unsubscribe {
    /// The channel.
    pub channel: Channel,
    /// Only the subscription for these devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<OneOrMany<DeviceId>>,
}

/// `{"type":"ping","timestamp":"2024-01-01T12:00:00Z"}` (keep-alive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Ping {
    /// The client's time, free text (the Python client sends a naive ISO 8601 time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

/// `{"type":"batch","messages":[...]}`: messages the server processes in order, each as if
/// it had arrived alone. A batch may not hold a batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Batch {
    /// The messages, in order.
    pub messages: Vec<ClientMessage>,
}

impl<'de> Deserialize<'de> for Batch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            messages: Vec<serde_json::Map<String, serde_json::Value>>,
        }
        let wire = Wire::deserialize(deserializer)?;
        let mut messages = Vec::with_capacity(wire.messages.len());
        for (index, object) in wire.messages.into_iter().enumerate() {
            let message: ClientMessage = decode_tagged_object(object, &ClientMessage::TYPES)
                .map_err(|e| D::Error::custom(format_args!("messages[{index}]: {e}")))?;
            if let ClientMessage::Batch(_) = message {
                return Err(D::Error::custom(format_args!(
                    "messages[{index}]: a batch may not hold a batch"
                )));
            }
            messages.push(message);
        }
        Ok(Self { messages })
    }
}

/// The shape `Batch::deserialize` accepts: `messages`, at most [`MAX_BATCH_ITEMS`] client
/// messages, none of them a batch. The limit is the session's: a longer batch decodes and
/// is refused whole with `batch_too_large`.
///
/// [`MAX_BATCH_ITEMS`]: super::MAX_BATCH_ITEMS
#[cfg(feature = "schema")]
impl schemars::JsonSchema for Batch {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Batch".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let item = generator.subschema_for::<ClientMessage>();
        schemars::json_schema!({
            "description": "Messages processed in order, each as if it had arrived alone.",
            "type": "object",
            "properties": {
                "messages": {
                    "type": "array",
                    "maxItems": super::MAX_BATCH_ITEMS,
                    "items": {
                        "allOf": [
                            item,
                            {"not": {"properties": {"type": {"const": "batch"}}, "required": ["type"]}},
                        ],
                    },
                },
            },
            "required": ["messages"],
            "additionalProperties": false,
        })
    }
}

macro_rules! into_client_message {
    ($($ty:ident),* $(,)?) => {
        $(impl From<$ty> for ClientMessage {
            fn from(value: $ty) -> Self {
                Self::$ty(value)
            }
        })*
    };
}

into_client_message!(Auth, Unsubscribe, Ping, Batch);

impl From<Subscribe> for ClientMessage {
    fn from(value: Subscribe) -> Self {
        Self::Subscribe(Box::new(value))
    }
}
