//! Requesting a value, Subscribing to Broadcast Channels, Keep Alive: client -> server.

use std::fmt;

use serde::Deserialize;
use serde::Serialize;
use serde::Serializer;
use serde::ser::SerializeMap;
use serde_json::Map;
use serde_json::Number;
use serde_json::Value;

use crate::codec::decode_json;
use crate::codec::encode_json;
use crate::codec::encode_json_string;

use super::channel::Channel;
use super::error::DecodeError;
use super::error::json_type;

/// A request's `id`: "simply a number which is reported with the reply". Any JSON
/// number is kept exactly as sent.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct RequestId(pub Number);

impl From<u64> for RequestId {
    fn from(n: u64) -> Self {
        Self(Number::from(n))
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({})", self.0)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// `{"request": channel, "id": n, "token": "...", ...params}`.
///
/// `id` and `token` are optional (one real client sends no `id` and matches replies
/// first-in-first-out by `request`). Any other member is a parameter of the request
/// (for example `"num": "1,2,5-9"`) and is kept in `params`.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The channel requested.
    pub channel: Channel,
    /// The number to echo in the reply.
    pub id: Option<RequestId>,
    /// The bearer token (security enabled).
    pub token: Option<String>,
    /// Every other member. Members named `request`, `id`, `token` or `subscribe` are
    /// never decoded into here and are skipped when encoding.
    pub params: Map<String, Value>,
}

/// `{"subscribe": channel, "token": "..."}`; other members are kept in `extra`.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscribe {
    /// The channel to receive broadcasts of.
    pub channel: Channel,
    /// The bearer token (security enabled).
    pub token: Option<String>,
    /// Every other member. Members named `subscribe`, `token` or `request` are never
    /// decoded into here and are skipped when encoding.
    pub extra: Map<String, Value>,
}

/// A keepalive object: `{}`, or `{"token": "..."}` with security enabled.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Keepalive {
    /// The bearer token to refresh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// A message from client to server.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    /// Ask for a channel's data.
    Request(Request),
    /// Receive a channel's broadcasts.
    Subscribe(Subscribe),
    /// Keep the connection (and with security, the token) alive.
    Keepalive(Keepalive),
    /// An empty text frame, which one real client sends as its keepalive: accepted as a
    /// keepalive without a token. Text holding only whitespace decodes as this too.
    EmptyFrame,
}

const REQUEST_RESERVED: [&str; 4] = ["request", "id", "token", "subscribe"];
const SUBSCRIBE_RESERVED: [&str; 3] = ["subscribe", "token", "request"];

impl ClientMessage {
    /// Decodes one text frame.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        if text.trim().is_empty() {
            return Ok(Self::EmptyFrame);
        }
        let mut map = parse_object(text)?;
        match (map.contains_key("request"), map.contains_key("subscribe")) {
            (true, true) => Err(DecodeError::Ambiguous("request", "subscribe")),
            (true, false) => Ok(Self::Request(Request {
                channel: take_channel(&mut map, "request")?.ok_or(DecodeError::MissingField {
                    field: "request",
                    message: "request",
                })?,
                id: take_id(&mut map)?,
                token: take_string(&mut map, "token")?,
                params: map,
            })),
            (false, true) => Ok(Self::Subscribe(Subscribe {
                channel: take_channel(&mut map, "subscribe")?.ok_or(DecodeError::MissingField {
                    field: "subscribe",
                    message: "subscription",
                })?,
                token: take_string(&mut map, "token")?,
                extra: map,
            })),
            (false, false) => {
                if map.keys().any(|k| k != "token") {
                    return Err(DecodeError::UnknownMessage {
                        keys: map.keys().cloned().collect(),
                    });
                }
                Ok(Self::Keepalive(Keepalive {
                    token: take_string(&mut map, "token")?,
                }))
            }
        }
    }

    /// Appends the text of the message to `out` (nothing for [`ClientMessage::EmptyFrame`]).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Request(m) => encode_json(m, out),
            Self::Subscribe(m) => encode_json(m, out),
            Self::Keepalive(m) => encode_json(m, out),
            Self::EmptyFrame => {}
        }
    }

    /// The text of the message.
    pub fn to_text(&self) -> String {
        match self {
            Self::Request(m) => encode_json_string(m),
            Self::Subscribe(m) => encode_json_string(m),
            Self::Keepalive(m) => encode_json_string(m),
            Self::EmptyFrame => String::new(),
        }
    }

    /// The bearer token the message carries, if any.
    pub fn token(&self) -> Option<&str> {
        match self {
            Self::Request(m) => m.token.as_deref(),
            Self::Subscribe(m) => m.token.as_deref(),
            Self::Keepalive(m) => m.token.as_deref(),
            Self::EmptyFrame => None,
        }
    }
}

impl Serialize for Request {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("request", &self.channel)?;
        if let Some(id) = &self.id {
            map.serialize_entry("id", id)?;
        }
        if let Some(token) = &self.token {
            map.serialize_entry("token", token)?;
        }
        for (k, v) in &self.params {
            if !REQUEST_RESERVED.contains(&k.as_str()) {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

impl Serialize for Subscribe {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("subscribe", &self.channel)?;
        if let Some(token) = &self.token {
            map.serialize_entry("token", token)?;
        }
        for (k, v) in &self.extra {
            if !SUBSCRIBE_RESERVED.contains(&k.as_str()) {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

/// What a client message was about, so an error reply can name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A request for `channel`, with its `id`.
    Request {
        /// The channel as the client spelled it.
        channel: Channel,
        /// The id to echo.
        id: Option<RequestId>,
    },
    /// A subscription to `channel`.
    Subscribe {
        /// The channel as the client spelled it.
        channel: Channel,
    },
    /// A keepalive (an object or an empty frame).
    Keepalive,
    /// A frame that did not decode.
    Unattributed,
}

impl Origin {
    /// What `message` is about.
    pub fn of(message: &ClientMessage) -> Self {
        match message {
            ClientMessage::Request(r) => Self::Request {
                channel: r.channel.clone(),
                id: r.id.clone(),
            },
            ClientMessage::Subscribe(s) => Self::Subscribe {
                channel: s.channel.clone(),
            },
            ClientMessage::Keepalive(_) | ClientMessage::EmptyFrame => Self::Keepalive,
        }
    }
}

/// Parses `text` as a JSON object.
pub(super) fn parse_object(text: &str) -> Result<Map<String, Value>, DecodeError> {
    match decode_json::<Value>(text)? {
        Value::Object(map) => Ok(map),
        other => Err(DecodeError::NotAnObject {
            found: json_type(&other),
        }),
    }
}

/// Removes `field` from `map`; it must be a string when present.
pub(super) fn take_string(
    map: &mut Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, DecodeError> {
    match map.remove(field) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(DecodeError::FieldType {
            field,
            expected: "a string",
            found: json_type(&other),
        }),
    }
}

/// Removes the channel named by `field` from `map`.
pub(super) fn take_channel(
    map: &mut Map<String, Value>,
    field: &'static str,
) -> Result<Option<Channel>, DecodeError> {
    take_string(map, field).map(|name| name.map(Channel::new))
}

/// Removes `id` from `map`; it must be a number when present.
pub(super) fn take_id(map: &mut Map<String, Value>) -> Result<Option<RequestId>, DecodeError> {
    match map.remove("id") {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(Some(RequestId(n))),
        Some(other) => Err(DecodeError::FieldType {
            field: "id",
            expected: "a number",
            found: json_type(&other),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_keeps_params_and_echoable_id() {
        let msg = ClientMessage::decode(r#"{"request":"group","id":3,"num":"1,2"}"#).unwrap();
        let ClientMessage::Request(r) = &msg else {
            panic!("{msg:?}")
        };
        assert_eq!(r.channel, Channel::GROUP);
        assert_eq!(r.id, Some(RequestId::from(3)));
        assert_eq!(r.params.get("num"), Some(&Value::from("1,2")));
        assert_eq!(msg.to_text(), r#"{"request":"group","id":3,"num":"1,2"}"#);
    }

    #[test]
    fn keepalives_in_every_documented_form() {
        assert_eq!(
            ClientMessage::decode("{}"),
            Ok(ClientMessage::Keepalive(Keepalive::default()))
        );
        assert_eq!(
            ClientMessage::decode(r#"{"token":"t"}"#).map(|m| m.token().map(str::to_owned)),
            Ok(Some("t".to_owned()))
        );
        assert_eq!(ClientMessage::decode(""), Ok(ClientMessage::EmptyFrame));
        assert_eq!(ClientMessage::decode(" \n"), Ok(ClientMessage::EmptyFrame));
        assert_eq!(ClientMessage::EmptyFrame.to_text(), "");
    }

    #[test]
    fn malformed_messages_say_what_is_wrong() {
        assert!(matches!(
            ClientMessage::decode("{\"request\":"),
            Err(DecodeError::Json(_))
        ));
        assert_eq!(
            ClientMessage::decode("[1]"),
            Err(DecodeError::NotAnObject { found: "an array" })
        );
        assert_eq!(
            ClientMessage::decode(r#"{"request":5}"#),
            Err(DecodeError::FieldType {
                field: "request",
                expected: "a string",
                found: "a number"
            })
        );
        assert_eq!(
            ClientMessage::decode(r#"{"request":"system","id":"1"}"#),
            Err(DecodeError::FieldType {
                field: "id",
                expected: "a number",
                found: "a string"
            })
        );
        assert_eq!(
            ClientMessage::decode(r#"{"request":"log","subscribe":"log"}"#),
            Err(DecodeError::Ambiguous("request", "subscribe"))
        );
        assert_eq!(
            ClientMessage::decode(r#"{"unsubscribe":"log"}"#),
            Err(DecodeError::UnknownMessage {
                keys: vec!["unsubscribe".into()]
            })
        );
    }

    #[test]
    fn reserved_params_are_not_encoded_twice() {
        let mut params = Map::new();
        params.insert("id".into(), Value::from(9));
        let req = Request {
            channel: Channel::SYSTEM,
            id: Some(RequestId::from(1)),
            token: None,
            params,
        };
        assert_eq!(
            ClientMessage::Request(req).to_text(),
            r#"{"request":"system","id":1}"#
        );
    }
}
