//! The WebSocket messages of "Controller Telemetry" and "Datapoint Stream", both directions.

use crate::scan::Scanner;
use crate::scan::json_f64;
use serde::Deserialize;
use serde::Deserializer;
use serde::Serialize;
use serde::Serializer;
use serde_json::Value;

use crate::codec::encode_json;
use crate::codec::encode_json_string;

use super::MAX_BATCH_SIZE;
use super::error::DecodeError;
use super::error::NO_VALID_DATAPOINTS;
use super::error::Violation;
use super::timestamp::IsoTimestamp;
use super::values::EventPublicId;
use super::values::ExperimentPublicId;
use super::values::MessageType;
use super::values::Reading;
use super::wire::Envelope;
use super::wire::decode_object;
use super::wire::object_list;

/// The text of the stream's confirmation message.
pub const CONNECTED_MESSAGE: &str = "Subscribed to live datapoint stream.";

macro_rules! json_codec {
    ($name:ident) => {
        impl $name {
            /// Decodes one JSON text message.
            pub fn decode(text: &str) -> Result<Self, DecodeError> {
                decode_object(text)
            }

            /// Appends the compact JSON encoding to `out`.
            pub fn encode(&self, out: &mut Vec<u8>) {
                encode_json(self, out);
            }

            /// The compact JSON encoding.
            pub fn to_text(&self) -> String {
                encode_json_string(self)
            }
        }
    };
}

/// One valid reading of a controller batch: `{"value": 23.5, "event_public_id": "abc-123"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Datapoint {
    /// The sensor reading.
    pub value: Reading,
    /// The Event it belongs to.
    pub event_public_id: EventPublicId,
}

impl Datapoint {
    /// A datapoint for `event` with `value`.
    pub fn new(event: impl Into<EventPublicId>, value: Reading) -> Self {
        Self {
            value,
            event_public_id: event.into(),
        }
    }
}

/// Why a batch entry is invalid ("must have `value` and `event_public_id`").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryDefect {
    /// The entry is not a JSON object.
    NotAnObject,
    /// `value` is absent or `null`.
    MissingValue,
    /// `value` is not a number.
    ValueNotANumber,
    /// `event_public_id` is absent or `null`.
    MissingEventId,
    /// `event_public_id` is not a string.
    EventIdNotAString,
}

/// A batch entry that is not a valid datapoint, kept as received.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidEntry {
    raw: Value,
    defect: EntryDefect,
}

impl InvalidEntry {
    /// The entry as received.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// What is wrong with it.
    pub fn defect(&self) -> EntryDefect {
        self.defect
    }
}

/// One entry of `datapoints`: decoded leniently, so that one bad entry invalidates only
/// itself, never the batch.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchEntry {
    /// An entry with a numeric `value` and a string `event_public_id` (other fields are
    /// ignored, as the backend ignores them).
    Valid(Datapoint),
    /// Anything else: dropped by the server.
    Invalid(InvalidEntry),
}

impl BatchEntry {
    /// Classifies one JSON entry.
    pub fn classify(raw: Value) -> Self {
        match Self::check(&raw) {
            Ok(dp) => BatchEntry::Valid(dp),
            Err(defect) => BatchEntry::Invalid(InvalidEntry { raw, defect }),
        }
    }

    fn check(raw: &Value) -> Result<Datapoint, EntryDefect> {
        let obj = raw.as_object().ok_or(EntryDefect::NotAnObject)?;
        let value = match obj.get("value") {
            None | Some(Value::Null) => return Err(EntryDefect::MissingValue),
            Some(v) => v
                .as_f64()
                .and_then(Reading::new)
                .ok_or(EntryDefect::ValueNotANumber)?,
        };
        let event = match obj.get("event_public_id") {
            None | Some(Value::Null) => return Err(EntryDefect::MissingEventId),
            Some(Value::String(s)) => EventPublicId(s.clone()),
            Some(_) => return Err(EntryDefect::EventIdNotAString),
        };
        Ok(Datapoint {
            value,
            event_public_id: event,
        })
    }

    /// The datapoint, when the entry is valid.
    pub fn valid(&self) -> Option<&Datapoint> {
        match self {
            BatchEntry::Valid(dp) => Some(dp),
            BatchEntry::Invalid(_) => None,
        }
    }
}

impl From<Datapoint> for BatchEntry {
    fn from(dp: Datapoint) -> Self {
        BatchEntry::Valid(dp)
    }
}

impl Serialize for BatchEntry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            BatchEntry::Valid(dp) => dp.serialize(s),
            BatchEntry::Invalid(entry) => entry.raw.serialize(s),
        }
    }
}

/// What `BatchEntry::deserialize` accepts: any JSON value. A [`Datapoint`] is kept; any
/// other entry is dropped by the server without failing the batch.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for BatchEntry {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "BatchEntry".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let datapoint = generator.subschema_for::<Datapoint>();
        schemars::json_schema!({
            "description": "A datapoint. Any other value is accepted and dropped: one bad \
                entry invalidates only itself.",
            "anyOf": [datapoint, {"description": "Any other value: accepted, then dropped."}],
        })
    }
}

impl<'de> Deserialize<'de> for BatchEntry {
    /// One pass over the entry: a valid datapoint is built directly; any other entry keeps
    /// its JSON tree, so the result is what [`BatchEntry::classify`] gives.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EntryVisitor)
    }
}

struct EntryVisitor;

impl EntryVisitor {
    fn other(raw: Value) -> BatchEntry {
        BatchEntry::classify(raw)
    }
}

impl<'de> serde::de::Visitor<'de> for EntryVisitor {
    type Value = BatchEntry;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a datapoint")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<BatchEntry, A::Error> {
        // Typed slots for the two fields (numbers and strings are read without building a
        // JSON tree, strings borrowed when they hold no escapes); every other field is kept
        // as received until the entry is known to be valid (later duplicates win, as in a
        // JSON tree).
        let mut value: Option<Field<'de>> = None;
        let mut event: Option<Field<'de>> = None;
        let mut rest = serde_json::Map::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match &*key {
                "value" => value = Some(map.next_value::<Field<'de>>()?),
                "event_public_id" => event = Some(map.next_value::<Field<'de>>()?),
                _ => {
                    let field = map.next_value::<Value>()?;
                    rest.insert(key.into_owned(), field);
                }
            }
        }
        if let (Some(Field::Number(n)), Some(Field::Str(id))) = (&value, &mut event)
            && let Some(reading) = n.as_f64().and_then(Reading::new)
        {
            return Ok(BatchEntry::Valid(Datapoint {
                value: reading,
                event_public_id: EventPublicId(std::mem::take(id).into_owned()),
            }));
        }
        if let Some(v) = value {
            rest.insert("value".to_owned(), v.into_value());
        }
        if let Some(e) = event {
            rest.insert("event_public_id".to_owned(), e.into_value());
        }
        Ok(Self::other(Value::Object(rest)))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<BatchEntry, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Self::other(Value::Array(items)))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<BatchEntry, E> {
        Ok(Self::other(Value::Bool(v)))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<BatchEntry, E> {
        Ok(Self::other(Value::from(v)))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<BatchEntry, E> {
        Ok(Self::other(Value::from(v)))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<BatchEntry, E> {
        Ok(Self::other(Value::from(v)))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<BatchEntry, E> {
        Ok(Self::other(Value::String(v.to_owned())))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<BatchEntry, E> {
        Ok(Self::other(Value::Null))
    }
}

/// A field of a batch entry as received: the number or string a valid entry needs, read
/// directly, or any other JSON value.
enum Field<'de> {
    Number(serde_json::Number),
    Str(std::borrow::Cow<'de, str>),
    Other(Value),
}

impl Field<'_> {
    /// The field as a JSON tree (what [`BatchEntry::classify`] keeps of an invalid entry).
    fn into_value(self) -> Value {
        match self {
            Field::Number(n) => Value::Number(n),
            Field::Str(s) => Value::String(s.into_owned()),
            Field::Other(v) => v,
        }
    }
}

impl<'de> Deserialize<'de> for Field<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Field<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Field<'de>, E> {
                Ok(Field::Number(v.into()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Field<'de>, E> {
                Ok(Field::Number(v.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Field<'de>, E> {
                Ok(
                    serde_json::Number::from_f64(v)
                        .map_or(Field::Other(Value::Null), Field::Number),
                )
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Field<'de>, E> {
                Ok(Field::Str(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Field<'de>, E> {
                Ok(Field::Str(std::borrow::Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Field<'de>, E> {
                Ok(Field::Str(std::borrow::Cow::Owned(v)))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Field<'de>, E> {
                Ok(Field::Other(Value::Bool(v)))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Field<'de>, E> {
                Ok(Field::Other(Value::Null))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Field<'de>, E> {
                Ok(Field::Other(Value::Null))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<Field<'de>, A::Error> {
                Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(Field::Other)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Field<'de>, A::Error> {
                Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(Field::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// The hottest path of [`ClientMessage::decode`]: `{"datapoints": [...]}` whose entries
/// are objects of exactly a JSON number `value` and an escape-free string
/// `event_public_id` (in either order, whitespace anywhere), scanned without serde.
/// Anything else is `None`, and the caller takes the serde paths.
fn scan_batch(text: &str) -> Option<Vec<BatchEntry>> {
    let mut s = Scanner::new(text);
    s.expect(b'{')?;
    if s.string()? != "datapoints" {
        return None;
    }
    s.expect(b':')?;
    s.expect(b'[')?;
    // A documented entry takes about 50 bytes; one allocation covers most batches.
    let mut entries = Vec::with_capacity((text.len() / 48).clamp(4, 1024));
    if !s.eat(b']') {
        loop {
            entries.push(BatchEntry::Valid(scan_datapoint(&mut s)?));
            match s.next_byte()? {
                b',' => continue,
                b']' => break,
                _ => return None,
            }
        }
    }
    s.expect(b'}')?;
    s.at_end().then_some(entries)
}

/// One `{"value": <number>, "event_public_id": "<id>"}` entry of [`scan_batch`].
fn scan_datapoint(s: &mut Scanner<'_>) -> Option<Datapoint> {
    s.expect(b'{')?;
    let (mut value, mut event) = (None, None);
    loop {
        match s.string()? {
            "value" if value.is_none() => {
                s.expect(b':')?;
                let (token, real) = s.number()?;
                value = Some(Reading::new(json_f64(token, real)?)?);
            }
            "event_public_id" if event.is_none() => {
                s.expect(b':')?;
                event = Some(s.string()?);
            }
            _ => return None,
        }
        match s.next_byte()? {
            b',' => continue,
            b'}' => break,
            _ => return None,
        }
    }
    Some(Datapoint {
        value: value?,
        event_public_id: EventPublicId(event?.to_owned()),
    })
}

/// One pass over a controller message: `Some(datapoints)` when it is an object with a
/// `datapoints` list and no `type`; `None` (or an error) sends the caller to the general path.
struct BatchOnly(Option<Vec<BatchEntry>>);

impl<'de> Deserialize<'de> for BatchOnly {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = BatchOnly;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a telemetry batch object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<BatchOnly, A::Error> {
                let mut datapoints = None;
                let mut typed = false;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match &*key {
                        "datapoints" if datapoints.is_none() => {
                            datapoints = Some(map.next_value::<Vec<BatchEntry>>()?);
                        }
                        "datapoints" => {
                            return Err(serde::de::Error::duplicate_field("datapoints"));
                        }
                        "type" => {
                            typed = true;
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(BatchOnly(if typed { None } else { datapoints }))
            }
        }
        d.deserialize_map(V)
    }
}

/// Controller → backend on `/ws/controller/telemetry`: `{"datapoints": [...]}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TelemetryBatch {
    /// The readings, valid or not (at most 500 are accepted).
    #[cfg_attr(feature = "schema", schemars(length(max = super::MAX_BATCH_SIZE)))]
    pub datapoints: Vec<BatchEntry>,
}

json_codec!(TelemetryBatch);

impl TelemetryBatch {
    /// A batch of valid datapoints.
    pub fn new(datapoints: impl IntoIterator<Item = Datapoint>) -> Self {
        Self {
            datapoints: datapoints.into_iter().map(BatchEntry::Valid).collect(),
        }
    }

    /// Entries in the batch, valid or not.
    pub fn len(&self) -> usize {
        self.datapoints.len()
    }

    /// Whether the batch has no entry.
    pub fn is_empty(&self) -> bool {
        self.datapoints.is_empty()
    }

    /// The valid datapoints, in order.
    pub fn valid(&self) -> impl Iterator<Item = &Datapoint> {
        self.datapoints.iter().filter_map(BatchEntry::valid)
    }

    /// The server's checks, in the backend's order: the size cap over all entries, then
    /// at least one valid entry. On success, the valid datapoints to ingest.
    pub fn check(&self) -> Result<Vec<Datapoint>, Violation> {
        if self.len() > MAX_BATCH_SIZE {
            return Err(Violation::batch_too_large(self.len()));
        }
        let valid: Vec<Datapoint> = self.valid().cloned().collect();
        if valid.is_empty() {
            return Err(Violation::NoValidDatapoints);
        }
        Ok(valid)
    }
}

/// A message from a client: a controller batch or a dashboard ping.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    /// `{"datapoints": [...]}` on `/ws/controller/telemetry`.
    Telemetry(TelemetryBatch),
    /// `{"type": "ping"}` on `/ws/datapoints/stream`.
    Ping,
}

impl ClientMessage {
    /// Decodes a client message: an object with a `type` is a typed message (only `ping`
    /// exists), an object without one is a telemetry batch.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        // The hot path: a batch without `type`, read in one pass. Anything else (a typed
        // message, an error) takes the general path below, which decides and words errors.
        if let Some(datapoints) = scan_batch(text) {
            return Ok(ClientMessage::Telemetry(TelemetryBatch { datapoints }));
        }
        if let Ok(BatchOnly(Some(datapoints))) = crate::codec::decode_json::<BatchOnly>(text) {
            return Ok(ClientMessage::Telemetry(TelemetryBatch { datapoints }));
        }
        Self::decode_general(text)
    }

    /// The general decoder: the envelope first, then the message it names (the reference
    /// the one-pass batch path of [`ClientMessage::decode`] is tested against).
    pub fn decode_general(text: &str) -> Result<Self, DecodeError> {
        match Envelope::read(text)?.kind {
            None => TelemetryBatch::decode(text).map(ClientMessage::Telemetry),
            Some(kind) if kind == MessageType::PING => Ok(ClientMessage::Ping),
            Some(kind) => Err(DecodeError::UnknownType(kind)),
        }
    }

    /// Appends the compact JSON encoding to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_json(self, out);
    }

    /// The compact JSON encoding.
    pub fn to_text(&self) -> String {
        encode_json_string(self)
    }
}

#[derive(Serialize)]
struct Typed {
    #[serde(rename = "type")]
    kind: MessageType,
}

impl Serialize for ClientMessage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ClientMessage::Telemetry(batch) => batch.serialize(s),
            ClientMessage::Ping => Typed {
                kind: MessageType::PING,
            }
            .serialize(s),
        }
    }
}

/// `{"type": "connected", "message": "Subscribed to live datapoint stream."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Connected {
    /// The confirmation text ([`CONNECTED_MESSAGE`] from this server).
    pub message: String,
}

impl Default for Connected {
    fn default() -> Self {
        Self {
            message: CONNECTED_MESSAGE.to_owned(),
        }
    }
}

/// One datapoint of a broadcast, as persisted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BroadcastDatapoint {
    /// The sensor reading.
    pub value: Reading,
    /// The Event it belongs to.
    pub event_public_id: EventPublicId,
    /// When it was persisted; shared by every datapoint of one batch.
    pub timestamp: IsoTimestamp,
    /// The active experiment, or `null` when none runs.
    pub experiment_public_id: Option<ExperimentPublicId>,
}

/// `{"type": "datapoints_batch", "datapoints": [...]}`: live data for every stream client.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DatapointsBatch {
    /// The persisted datapoints that passed the broadcast throttle.
    #[serde(deserialize_with = "object_list")]
    pub datapoints: Vec<BroadcastDatapoint>,
}

impl DatapointsBatch {
    /// The whole `{"type":"datapoints_batch",...}` message, encoded without a copy of the
    /// datapoints: encode a broadcast once and hand the text to every stream session.
    pub fn message_text(&self) -> String {
        #[derive(Serialize)]
        struct Tagged<'a> {
            #[serde(rename = "type")]
            kind: MessageType,
            datapoints: &'a [BroadcastDatapoint],
        }
        encode_json_string(&Tagged {
            kind: MessageType::DATAPOINTS_BATCH,
            datapoints: &self.datapoints,
        })
    }
}

/// `{"type": "error", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorReply {
    /// What went wrong, in the backend's words.
    pub message: String,
}

/// What an [`ErrorReply`] reports, recognised from its documented wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `Batch too large (N), max M`.
    BatchTooLarge {
        /// The batch's size.
        count: usize,
        /// The cap the server names.
        max: usize,
    },
    /// `No valid datapoints in batch`.
    NoValidDatapoints,
    /// Any other text.
    Other,
}

impl ErrorReply {
    /// Recognises the documented error texts.
    pub fn kind(&self) -> ErrorKind {
        if self.message == NO_VALID_DATAPOINTS {
            return ErrorKind::NoValidDatapoints;
        }
        let parsed = self
            .message
            .strip_prefix("Batch too large (")
            .and_then(|rest| rest.split_once("), max "))
            .and_then(|(count, max)| Some((count.parse().ok()?, max.parse().ok()?)));
        match parsed {
            Some((count, max)) => ErrorKind::BatchTooLarge { count, max },
            None => ErrorKind::Other,
        }
    }
}

/// A message from the server, on either endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The stream's confirmation, sent immediately after authentication.
    Connected(Connected),
    /// The answer to `{"type": "ping"}`.
    Pong,
    /// Live data.
    DatapointsBatch(DatapointsBatch),
    /// An error reply; the connection stays open.
    Error(ErrorReply),
}

impl ServerMessage {
    /// The stream's documented confirmation.
    pub fn connected() -> Self {
        ServerMessage::Connected(Connected::default())
    }

    /// The message's `type`.
    pub fn kind(&self) -> MessageType {
        match self {
            ServerMessage::Connected(_) => MessageType::CONNECTED,
            ServerMessage::Pong => MessageType::PONG,
            ServerMessage::DatapointsBatch(_) => MessageType::DATAPOINTS_BATCH,
            ServerMessage::Error(_) => MessageType::ERROR,
        }
    }

    /// Decodes one JSON text message from the server.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        let kind = Envelope::read(text)?.kind.ok_or(DecodeError::MissingType)?;
        if kind == MessageType::CONNECTED {
            decode_object(text).map(ServerMessage::Connected)
        } else if kind == MessageType::PONG {
            Ok(ServerMessage::Pong)
        } else if kind == MessageType::DATAPOINTS_BATCH {
            decode_object(text).map(ServerMessage::DatapointsBatch)
        } else if kind == MessageType::ERROR {
            decode_object(text).map(ServerMessage::Error)
        } else {
            Err(DecodeError::UnknownType(kind))
        }
    }

    /// Appends the compact JSON encoding to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_json(self, out);
    }

    /// The compact JSON encoding.
    pub fn to_text(&self) -> String {
        encode_json_string(self)
    }
}

impl From<ErrorReply> for ServerMessage {
    fn from(reply: ErrorReply) -> Self {
        ServerMessage::Error(reply)
    }
}

impl From<DatapointsBatch> for ServerMessage {
    fn from(batch: DatapointsBatch) -> Self {
        ServerMessage::DatapointsBatch(batch)
    }
}
