//! Response messages, broadcasts and the keepalive reply: server -> client.

use serde::Serialize;
use serde::Serializer;
use serde::ser::SerializeMap;
use serde_json::Map;
use serde_json::Value;

use crate::codec::encode_json;
use crate::codec::encode_json_string;
use crate::frame::Inbound;
use crate::frame::Outbound;

use super::channel::Channel;
use super::error::DecodeError;
use super::error::ErrorCode;
use super::keepalive::KeepaliveReply;
use super::messages::Origin;
use super::messages::RequestId;
use super::messages::parse_object;
use super::messages::take_channel;
use super::messages::take_id;
use super::messages::take_string;
use super::payload::BroadcastData;
use super::payload::ReplyData;

/// `{"request": channel, "id": n, "data": {...}}`: `request` always echoes the request's
/// channel as spelled, `id` is present when the request had one.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The requested channel.
    pub channel: Channel,
    /// The request's id.
    pub id: Option<RequestId>,
    /// The channel's data; [`ReplyData::fits`] the channel.
    pub data: ReplyData,
    /// Undocumented members, kept.
    pub extra: Map<String, Value>,
}

/// `{"broadcast": channel, "data": {...}}`, sent to subscribers of the channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Broadcast {
    /// The channel.
    pub channel: Channel,
    /// The pushed data; [`BroadcastData::fits`] the channel.
    pub data: BroadcastData,
    /// Undocumented members, kept.
    pub extra: Map<String, Value>,
}

/// An error reply (level MAY, the document defines none):
/// `{"request": channel, "id": n, "error": code, "message": text}` for a request,
/// `{"subscribe": channel, "error": ..., "message": ...}` for a subscription, and
/// `{"error": ..., "message": ...}` for a frame that did not decode.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorReply {
    /// The channel of the failed request.
    pub request: Option<Channel>,
    /// The channel of the failed subscription.
    pub subscribe: Option<Channel>,
    /// The failed request's id.
    pub id: Option<RequestId>,
    /// What went wrong, as a code.
    pub error: ErrorCode,
    /// What went wrong, for people.
    pub message: Option<String>,
    /// Undocumented members, kept.
    pub extra: Map<String, Value>,
}

/// A text message from server to client.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerMessage {
    /// The answer to a request.
    Reply(Reply),
    /// A push to subscribers.
    Broadcast(Broadcast),
    /// An error reply.
    Error(ErrorReply),
    /// `{}`: the keepalive reply when controller security is not enabled.
    KeepaliveAck,
}

impl ErrorReply {
    /// An error reply naming what `origin` was about.
    pub fn new(origin: &Origin, error: ErrorCode, message: impl Into<String>) -> Self {
        let (request, subscribe, id) = match origin {
            Origin::Request { channel, id } => (Some(channel.clone()), None, id.clone()),
            Origin::Subscribe { channel } => (None, Some(channel.clone()), None),
            Origin::Keepalive | Origin::Unattributed => (None, None, None),
        };
        Self {
            request,
            subscribe,
            id,
            error,
            message: Some(message.into()),
            extra: Map::new(),
        }
    }

    /// The text of the reply.
    pub fn to_text(&self) -> String {
        encode_json_string(self)
    }
}

impl ServerMessage {
    /// Decodes one text frame.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        let mut map = parse_object(text)?;
        if map.contains_key("error") {
            return Ok(Self::Error(ErrorReply {
                request: take_channel(&mut map, "request")?,
                subscribe: take_channel(&mut map, "subscribe")?,
                id: take_id(&mut map)?,
                error: take_string(&mut map, "error")?.map(ErrorCode::new).ok_or(
                    DecodeError::MissingField {
                        field: "error",
                        message: "error reply",
                    },
                )?,
                message: take_string(&mut map, "message")?,
                extra: map,
            }));
        }
        match (map.contains_key("broadcast"), map.contains_key("request")) {
            (true, true) => Err(DecodeError::Ambiguous("broadcast", "request")),
            (true, false) => {
                let channel =
                    take_channel(&mut map, "broadcast")?.ok_or(DecodeError::MissingField {
                        field: "broadcast",
                        message: "broadcast",
                    })?;
                let data = map.remove("data").ok_or(DecodeError::MissingField {
                    field: "data",
                    message: "broadcast",
                })?;
                Ok(Self::Broadcast(Broadcast {
                    data: BroadcastData::decode_for(&channel, data)?,
                    channel,
                    extra: map,
                }))
            }
            (false, true) => {
                let channel =
                    take_channel(&mut map, "request")?.ok_or(DecodeError::MissingField {
                        field: "request",
                        message: "reply",
                    })?;
                let id = take_id(&mut map)?;
                let data = map.remove("data").ok_or(DecodeError::MissingField {
                    field: "data",
                    message: "reply",
                })?;
                Ok(Self::Reply(Reply {
                    data: ReplyData::decode_for(&channel, data)?,
                    channel,
                    id,
                    extra: map,
                }))
            }
            (false, false) if map.is_empty() => Ok(Self::KeepaliveAck),
            (false, false) => Err(DecodeError::UnknownMessage {
                keys: map.keys().cloned().collect(),
            }),
        }
    }

    /// Appends the text of the message to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Reply(m) => encode_json(m, out),
            Self::Broadcast(m) => encode_json(m, out),
            Self::Error(m) => encode_json(m, out),
            Self::KeepaliveAck => out.extend_from_slice(b"{}"),
        }
    }

    /// The text of the message.
    pub fn to_text(&self) -> String {
        match self {
            Self::Reply(m) => encode_json_string(m),
            Self::Broadcast(m) => encode_json_string(m),
            Self::Error(m) => m.to_text(),
            Self::KeepaliveAck => "{}".to_owned(),
        }
    }

    /// The text frame to write.
    pub fn to_outbound(&self) -> Outbound {
        Outbound::Text(self.to_text())
    }
}

/// Any frame from server to client: a text message or the binary keepalive reply.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerFrame {
    /// A text frame.
    Message(ServerMessage),
    /// A binary frame: the keepalive reply with security enabled.
    Keepalive(KeepaliveReply),
}

impl ServerFrame {
    /// Decodes a text frame as a [`ServerMessage`] and a binary one as a [`KeepaliveReply`].
    pub fn decode(frame: Inbound<'_>) -> Result<Self, DecodeError> {
        match frame {
            Inbound::Text(text) => ServerMessage::decode(text).map(Self::Message),
            Inbound::Binary(bytes) => KeepaliveReply::decode(bytes).map(Self::Keepalive),
        }
    }

    /// The frame to write.
    pub fn to_outbound(&self) -> Outbound {
        match self {
            Self::Message(m) => m.to_outbound(),
            Self::Keepalive(k) => Outbound::Binary(k.to_bytes().to_vec()),
        }
    }
}

const REPLY_RESERVED: [&str; 5] = ["request", "id", "data", "broadcast", "error"];
const BROADCAST_RESERVED: [&str; 4] = ["broadcast", "data", "request", "error"];
const ERROR_RESERVED: [&str; 5] = ["request", "subscribe", "id", "error", "message"];

fn serialize_extra<M: SerializeMap>(
    map: &mut M,
    extra: &Map<String, Value>,
    reserved: &[&str],
) -> Result<(), M::Error> {
    for (k, v) in extra {
        if !reserved.contains(&k.as_str()) {
            map.serialize_entry(k, v)?;
        }
    }
    Ok(())
}

impl Serialize for Reply {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("request", &self.channel)?;
        if let Some(id) = &self.id {
            map.serialize_entry("id", id)?;
        }
        map.serialize_entry("data", &self.data)?;
        serialize_extra(&mut map, &self.extra, &REPLY_RESERVED)?;
        map.end()
    }
}

impl Serialize for Broadcast {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("broadcast", &self.channel)?;
        map.serialize_entry("data", &self.data)?;
        serialize_extra(&mut map, &self.extra, &BROADCAST_RESERVED)?;
        map.end()
    }
}

impl Serialize for ErrorReply {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if let Some(channel) = &self.request {
            map.serialize_entry("request", channel)?;
        }
        if let Some(channel) = &self.subscribe {
            map.serialize_entry("subscribe", channel)?;
        }
        if let Some(id) = &self.id {
            map.serialize_entry("id", id)?;
        }
        map.serialize_entry("error", self.error.as_str())?;
        if let Some(message) = &self.message {
            map.serialize_entry("message", message)?;
        }
        serialize_extra(&mut map, &self.extra, &ERROR_RESERVED)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_without_id_echoes_only_the_channel() {
        let text = r#"{"request":"project","data":{"name":"Demo"}}"#;
        let msg = ServerMessage::decode(text).unwrap();
        let ServerMessage::Reply(reply) = &msg else {
            panic!("{msg:?}")
        };
        assert_eq!(reply.id, None);
        assert_eq!(msg.to_text(), text);
    }

    #[test]
    fn empty_object_is_the_keepalive_ack() {
        assert_eq!(ServerMessage::decode("{}"), Ok(ServerMessage::KeepaliveAck));
        assert_eq!(ServerMessage::KeepaliveAck.to_text(), "{}");
    }

    #[test]
    fn error_reply_names_its_origin() {
        let origin = Origin::Request {
            channel: Channel::new("time"),
            id: Some(RequestId::from(4)),
        };
        let reply = ErrorReply::new(
            &origin,
            ErrorCode::UNKNOWN_CHANNEL,
            "unknown channel `time`",
        );
        assert_eq!(
            reply.to_text(),
            r#"{"request":"time","id":4,"error":"unknown_channel","message":"unknown channel `time`"}"#
        );
        assert_eq!(
            ServerMessage::decode(&reply.to_text()),
            Ok(ServerMessage::Error(reply))
        );
    }

    #[test]
    fn replies_and_broadcasts_need_data() {
        assert_eq!(
            ServerMessage::decode(r#"{"request":"system","id":1}"#),
            Err(DecodeError::MissingField {
                field: "data",
                message: "reply"
            })
        );
        assert_eq!(
            ServerMessage::decode(r#"{"broadcast":"beacon"}"#),
            Err(DecodeError::MissingField {
                field: "data",
                message: "broadcast"
            })
        );
        assert_eq!(
            ServerMessage::decode(r#"{"redirect":"/login"}"#),
            Err(DecodeError::UnknownMessage {
                keys: vec!["redirect".into()]
            })
        );
    }

    #[test]
    fn frames_decode_by_type() {
        assert_eq!(
            ServerFrame::decode(Inbound::Binary(&[0; 16])),
            Ok(ServerFrame::Keepalive(KeepaliveReply::TimedOut))
        );
        assert_eq!(
            ServerFrame::decode(Inbound::Text("{}")),
            Ok(ServerFrame::Message(ServerMessage::KeepaliveAck))
        );
    }
}
