//! robot.txt "Messages": subscribe, unsubscribe, publish, and what the server sends back.

use serde::Serialize;
use serde_json::Value;

use super::codes::ErrorCode;
use super::codes::Topic;
use super::decode;
use super::decode::PayloadPaths;
use super::error::DecodeError;
use super::error::Path;

/// The `{name, type, data}` object a robot publishes and every subscriber receives.
///
/// robot.txt prints it inside a publish (`"data": {"name": "name_of_data", "type":
/// "type_of_data", "data": "your_data_here"}`); the specs README adds that subscribers
/// receive exactly this shape, which the official client routes on (SHOULD).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct Payload {
    /// What the data is (`name_of_data`); `server_logs` for the server's log lines.
    pub name: String,
    /// Its type (`type_of_data`); the level for the server's log lines.
    #[serde(rename = "type")]
    pub kind: String,
    /// The data itself: any JSON value (a string in the document).
    pub data: Value,
}

impl Payload {
    /// A payload with `name`, `type` and `data`.
    pub fn new(name: impl Into<String>, kind: impl Into<String>, data: Value) -> Self {
        Self {
            name: name.into(),
            kind: kind.into(),
            data,
        }
    }

    /// Decodes a payload sent as a whole message: exactly `name`, `type` and `data`.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        decode::payload(decode::parse(text)?, PayloadPaths::ROOT)
    }

    /// Appends the compact JSON encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        crate::codec::encode_json(self, out);
    }

    /// The compact JSON encoding as text.
    pub fn to_text(&self) -> String {
        crate::codec::encode_json_string(self)
    }
}

/// A payload sent the official client's way: a JSON string holding the payload object.
///
/// The string is kept verbatim, so the message re-encodes to the bytes that were received;
/// [`EmbeddedPayload::payload`] is what that string holds. The two cannot disagree: the
/// only constructors are [`EmbeddedPayload::new`] (encodes) and [`EmbeddedPayload::parse`]
/// (decodes).
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedPayload {
    payload: Payload,
    raw: String,
}

impl EmbeddedPayload {
    /// Wraps `payload`, encoding it compactly as the official client's `JSON.stringify` does.
    pub fn new(payload: Payload) -> Self {
        let raw = payload.to_text();
        Self { payload, raw }
    }

    /// Decodes the string `raw`, which must hold a `{name, type, data}` object.
    pub fn parse(raw: impl Into<String>) -> Result<Self, DecodeError> {
        let raw = raw.into();
        let value = crate::codec::decode_json::<Value>(&raw).map_err(DecodeError::DataString)?;
        let payload = decode::payload(value, PayloadPaths::IN_DATA)?;
        Ok(Self { payload, raw })
    }

    /// The payload the string holds.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// The string exactly as sent.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The payload, dropping the string.
    pub fn into_payload(self) -> Payload {
        self.payload
    }
}

/// How a publish carried its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataForm {
    /// `"data": {...}`, as robot.txt prints it.
    Object,
    /// `"data": "{...}"`, as the official client sends it.
    Text,
}

/// The `data` of a publish: the payload in either accepted form (SHOULD: both).
#[derive(Debug, Clone, PartialEq)]
pub enum PublishData {
    /// A JSON object.
    Object(Payload),
    /// A JSON string holding the object.
    Text(EmbeddedPayload),
}

impl PublishData {
    /// The payload, whichever the form.
    pub fn payload(&self) -> &Payload {
        match self {
            Self::Object(p) => p,
            Self::Text(e) => e.payload(),
        }
    }

    /// The payload, dropping the form.
    pub fn into_payload(self) -> Payload {
        match self {
            Self::Object(p) => p,
            Self::Text(e) => e.into_payload(),
        }
    }

    /// Which form was used.
    pub fn form(&self) -> DataForm {
        match self {
            Self::Object(_) => DataForm::Object,
            Self::Text(_) => DataForm::Text,
        }
    }

    fn decode(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::String(raw) => EmbeddedPayload::parse(raw).map(Self::Text),
            value @ Value::Object(_) => {
                decode::payload(value, PayloadPaths::IN_DATA).map(Self::Object)
            }
            other => Err(DecodeError::WrongType {
                path: Path::Data,
                expected: "an object {name, type, data} or a string holding one",
                found: decode::kind_of(&other),
            }),
        }
    }
}

impl Serialize for PublishData {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Object(p) => p.serialize(s),
            Self::Text(e) => s.serialize_str(e.raw()),
        }
    }
}

/// A message from a client (robot.txt "Messages").
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    /// `{"action": "subscribe", "topic": t}`: receive what is published on `t` (MUST).
    Subscribe {
        /// The topic.
        topic: Topic,
    },
    /// `{"action": "unsubscribe", "topic": t}`: stop receiving `t` (MUST).
    Unsubscribe {
        /// The topic.
        topic: Topic,
    },
    /// `{"action": "publish", "topic": t, "data": {name, type, data}}` (MUST).
    Publish {
        /// The topic.
        topic: Topic,
        /// The payload, in the form it was sent.
        data: PublishData,
    },
}

/// The actions a client may send, as the error for an unknown one lists them.
const CLIENT_ACTIONS: &str = "`subscribe`, `unsubscribe`, `publish`";

impl ClientMessage {
    /// Decodes a client's text frame.
    ///
    /// Checked in this order, the first fault winning: JSON syntax; an object; `action`
    /// present, a string and known; `topic` present and a string; for a publish, `data`
    /// present and a payload (object or string); no other field anywhere.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        let mut map = decode::object(decode::parse(text)?, Path::Root)?;
        let action = decode::take_string(&mut map, "action", Path::Action)?;
        let message = match action.as_str() {
            "subscribe" | "unsubscribe" => {
                let topic = Topic::from(decode::take_string(&mut map, "topic", Path::Topic)?);
                if action == "subscribe" {
                    Self::Subscribe { topic }
                } else {
                    Self::Unsubscribe { topic }
                }
            }
            "publish" => {
                let topic = Topic::from(decode::take_string(&mut map, "topic", Path::Topic)?);
                let data = PublishData::decode(decode::take(&mut map, "data", Path::Data)?)?;
                Self::Publish { topic, data }
            }
            _ => {
                return Err(DecodeError::UnknownAction {
                    action,
                    expected: CLIENT_ACTIONS,
                });
            }
        };
        decode::deny_rest(map, Path::Root)?;
        Ok(message)
    }

    /// Appends the compact JSON encoding (`action` first, as the document prints it).
    pub fn encode(&self, out: &mut Vec<u8>) {
        crate::codec::encode_json(self, out);
    }

    /// The compact JSON encoding as text.
    pub fn to_text(&self) -> String {
        crate::codec::encode_json_string(self)
    }

    /// The `action` value.
    pub fn action(&self) -> &'static str {
        match self {
            Self::Subscribe { .. } => "subscribe",
            Self::Unsubscribe { .. } => "unsubscribe",
            Self::Publish { .. } => "publish",
        }
    }

    /// The topic the message names.
    pub fn topic(&self) -> &Topic {
        match self {
            Self::Subscribe { topic }
            | Self::Unsubscribe { topic }
            | Self::Publish { topic, .. } => topic,
        }
    }
}

impl Serialize for ClientMessage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            action: &'a str,
            topic: &'a Topic,
            #[serde(skip_serializing_if = "Option::is_none")]
            data: Option<&'a PublishData>,
        }
        let data = match self {
            Self::Publish { data, .. } => Some(data),
            _ => None,
        };
        Wire {
            action: self.action(),
            topic: self.topic(),
            data,
        }
        .serialize(s)
    }
}

/// An error reply: `{"action": "error", "error": "<code>", "message": "<text>"}` (MAY).
///
/// The document defines none. A delivered message is `{name, type, data}` with a `type`
/// the publisher chose, which may well be `"error"`; so the reply carries no `name`, `type`
/// or `data` key at all and is told apart by its `action` key, which deliveries never have.
/// A client routing on `name` or `type` cannot mistake one for the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReply {
    /// A stable, machine-readable code.
    pub error: ErrorCode,
    /// What was wrong, for a person (names the field, or line and column, at fault).
    pub message: String,
}

impl ErrorReply {
    /// A reply with `error` and `message`.
    pub fn new(error: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error,
            message: message.into(),
        }
    }
}

/// What an acknowledgement confirms (MAY; sent only when the session enables acks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckKind {
    /// `{"action": "subscribed", "topic": t}`.
    Subscribed,
    /// `{"action": "unsubscribed", "topic": t}`.
    Unsubscribed,
    /// `{"action": "published", "topic": t}`: accepted for routing.
    Published,
}

impl AckKind {
    /// Every kind.
    pub const ALL: [Self; 3] = [Self::Subscribed, Self::Unsubscribed, Self::Published];

    /// The `action` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subscribed => "subscribed",
            Self::Unsubscribed => "unsubscribed",
            Self::Published => "published",
        }
    }
}

/// An acknowledgement: `{"action": "<kind>", "topic": t}` (MAY).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// What is confirmed.
    pub kind: AckKind,
    /// The topic of the confirmed message.
    pub topic: Topic,
}

/// A message from the server.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerMessage {
    /// A published payload, delivered to a subscriber as `{name, type, data}` (SHOULD).
    Data(Payload),
    /// An error reply (MAY).
    Error(ErrorReply),
    /// An acknowledgement (MAY).
    Ack(Ack),
}

/// The `action` values a server message may carry.
const SERVER_ACTIONS: &str = "`error`, `subscribed`, `unsubscribed`, `published`";

impl ServerMessage {
    /// Decodes a server's text frame: with an `action` key a reply, otherwise a delivered
    /// `{name, type, data}` payload. Unknown fields are refused in both.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        let mut map = decode::object(decode::parse(text)?, Path::Root)?;
        let Some(action) = map.remove("action") else {
            return decode::payload(serde_json::Value::Object(map), PayloadPaths::ROOT)
                .map(Self::Data);
        };
        let action = match action {
            Value::String(s) => s,
            other => {
                return Err(DecodeError::WrongType {
                    path: Path::Action,
                    expected: "a string",
                    found: decode::kind_of(&other),
                });
            }
        };
        let message = if action == "error" {
            let error = ErrorCode::new(decode::take_string(&mut map, "error", Path::Error)?);
            let message = decode::take_string(&mut map, "message", Path::Message)?;
            Self::Error(ErrorReply { error, message })
        } else {
            let Some(kind) = AckKind::ALL.into_iter().find(|k| k.as_str() == action) else {
                return Err(DecodeError::UnknownAction {
                    action,
                    expected: SERVER_ACTIONS,
                });
            };
            let topic = Topic::from(decode::take_string(&mut map, "topic", Path::Topic)?);
            Self::Ack(Ack { kind, topic })
        };
        decode::deny_rest(map, Path::Root)?;
        Ok(message)
    }

    /// Appends the compact JSON encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        crate::codec::encode_json(self, out);
    }

    /// The compact JSON encoding as text.
    pub fn to_text(&self) -> String {
        crate::codec::encode_json_string(self)
    }
}

impl Serialize for ServerMessage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Error<'a> {
            action: &'a str,
            error: &'a ErrorCode,
            message: &'a str,
        }
        #[derive(Serialize)]
        struct Ack<'a> {
            action: &'a str,
            topic: &'a Topic,
        }
        match self {
            Self::Data(p) => p.serialize(s),
            Self::Error(e) => Error {
                action: "error",
                error: &e.error,
                message: &e.message,
            }
            .serialize(s),
            Self::Ack(a) => Ack {
                action: a.kind.as_str(),
                topic: &a.topic,
            }
            .serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn publish_keeps_the_form_it_was_sent_in() {
        let object =
            r#"{"action":"publish","topic":"t","data":{"name":"n","type":"k","data":"v"}}"#;
        let text = r#"{"action":"publish","topic":"t","data":"{\"name\": \"n\", \"type\": \"k\", \"data\": \"v\"}"}"#;
        let a = ClientMessage::decode(object).unwrap();
        let b = ClientMessage::decode(text).unwrap();
        let (ClientMessage::Publish { data: da, .. }, ClientMessage::Publish { data: db, .. }) =
            (&a, &b)
        else {
            panic!("both are publishes: {a:?} {b:?}");
        };
        assert_eq!(da.form(), DataForm::Object);
        assert_eq!(db.form(), DataForm::Text);
        assert_eq!(da.payload(), db.payload());
        assert_eq!(a.to_text(), object);
        assert_eq!(b.to_text(), text, "the spaced string is re-sent verbatim");
    }

    #[test]
    fn client_decode_names_each_fault() {
        let cases: [(&str, &str); 9] = [
            (
                "{\"action\":",
                "invalid JSON: Eof error at line 1, column 10: EOF while parsing a value",
            ),
            ("[1]", "`$` must be an object, found an array"),
            ("{\"topic\":\"t\"}", "missing field `$.action`"),
            (
                "{\"action\":\"list\",\"topic\":\"t\"}",
                "unknown action `list`: expected one of `subscribe`, `unsubscribe`, `publish`",
            ),
            ("{\"action\":\"subscribe\"}", "missing field `$.topic`"),
            (
                "{\"action\":\"unsubscribe\",\"topic\":7}",
                "`$.topic` must be a string, found a number",
            ),
            (
                "{\"action\":\"publish\",\"topic\":\"t\"}",
                "missing field `$.data`",
            ),
            (
                "{\"action\":\"publish\",\"topic\":\"t\",\"data\":\"{oops\"}",
                "`$.data` is a string that does not hold JSON: Syntax error at line 1, column 2: key must be a string",
            ),
            (
                "{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":1}",
                "unknown field `id` in `$`",
            ),
        ];
        for (text, expected) in cases {
            let err = ClientMessage::decode(text).unwrap_err();
            assert_eq!(err.to_string(), expected, "decoding {text}");
        }
    }

    #[test]
    fn data_of_another_type_is_refused() {
        let err =
            ClientMessage::decode(r#"{"action":"publish","topic":"t","data":5}"#).unwrap_err();
        assert_eq!(
            err,
            DecodeError::WrongType {
                path: Path::Data,
                expected: "an object {name, type, data} or a string holding one",
                found: "a number"
            }
        );
        let err =
            ClientMessage::decode(r#"{"action":"publish","topic":"t","data":"[1]"}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`$.data` must be an object, found an array"
        );
    }

    #[test]
    fn server_messages_are_told_apart_by_the_action_key() {
        let delivered = r#"{"name":"n","type":"error","data":{"x":1}}"#;
        assert_eq!(
            ServerMessage::decode(delivered).unwrap(),
            ServerMessage::Data(Payload::new("n", "error", json!({"x": 1})))
        );
        let reply = r#"{"action":"error","error":"rate_limited","message":"slow down"}"#;
        assert_eq!(
            ServerMessage::decode(reply).unwrap(),
            ServerMessage::Error(ErrorReply::new(ErrorCode::RATE_LIMITED, "slow down"))
        );
        let ack = r#"{"action":"unsubscribed","topic":"t"}"#;
        assert_eq!(
            ServerMessage::decode(ack).unwrap().to_text(),
            ack,
            "acks re-encode identically"
        );
        assert!(matches!(
            ServerMessage::decode(r#"{"action":"pong"}"#),
            Err(DecodeError::UnknownAction { .. })
        ));
        assert!(matches!(
            ServerMessage::decode(r#"{"action":1}"#),
            Err(DecodeError::WrongType {
                path: Path::Action,
                ..
            })
        ));
        assert_eq!(
            ServerMessage::decode(r#"{"action":"error","error":"x","message":"y","name":"n"}"#)
                .unwrap_err()
                .to_string(),
            "unknown field `name` in `$`"
        );
    }

    #[test]
    fn payload_decodes_alone() {
        assert_eq!(
            Payload::decode(r#"{"data":null,"type":"t","name":"n"}"#),
            Ok(Payload::new("n", "t", Value::Null))
        );
        assert!(Payload::decode(r#"{"name":"n","type":"t"}"#).is_err());
    }
}
