//! The Mosaic document: `/query`, requests, subscriptions, broadcasts and the keepalive.
//!
//! The envelopes are decoded by hand (the `request`, `subscribe`, `broadcast` and `error`
//! keys select the message); the `data` of each typed channel is a derived schema.

use serde_json::Value;
use serde_json::json;

use super::Action;
use super::Builder;
use super::Example;
use super::Message;
use super::example;
use crate::mosaic::Beacon;
use crate::mosaic::Channel;
use crate::mosaic::ChannelKind;
use crate::mosaic::ContentTargets;
use crate::mosaic::CurrentTime;
use crate::mosaic::ErrorCode;
use crate::mosaic::GroupStatus;
use crate::mosaic::IoModules;
use crate::mosaic::Log;
use crate::mosaic::LuaVariables;
use crate::mosaic::NetworkAdapters;
use crate::mosaic::RemoteDevices;
use crate::mosaic::RequestId;
use crate::mosaic::SceneStatus;
use crate::mosaic::SystemInfo;
use crate::mosaic::TimelineStatus;
use crate::mosaic::http::AuthenticateFailure;
use crate::mosaic::http::AuthenticateRequest;
use crate::mosaic::http::AuthenticateResponse;

/// Every fixture of `fixtures/mosaic/`.
pub(super) const EXAMPLES: &[Example] = &[
    example!(
        "mosaic",
        "client-keepalive-empty-frame.json",
        Message("keepaliveEmptyFrame"),
        text
    ),
    example!(
        "mosaic",
        "client-keepalive-token.json",
        Message("keepalive")
    ),
    example!("mosaic", "client-keepalive.json", Message("keepalive")),
    example!("mosaic", "client-request-no-id.json", Message("request")),
    example!("mosaic", "client-request-params.json", Message("request")),
    example!("mosaic", "client-request-system.json", Message("request")),
    example!(
        "mosaic",
        "client-subscribe-remote-device.json",
        Message("subscribe")
    ),
    example!(
        "mosaic",
        "client-subscribe-token.json",
        Message("subscribe")
    ),
    example!("mosaic", "client-subscribe.json", Message("subscribe")),
    example!(
        "mosaic",
        "http-authenticate-failure.json",
        Schema("AuthenticateFailure")
    ),
    example!(
        "mosaic",
        "http-authenticate-request.json",
        Schema("AuthenticateRequest")
    ),
    example!(
        "mosaic",
        "http-authenticate-response.json",
        Schema("AuthenticateResponse")
    ),
    example!(
        "mosaic",
        "server-broadcast-beacon.json",
        Message("broadcastBeacon")
    ),
    example!(
        "mosaic",
        "server-broadcast-content-target.json",
        Message("broadcastContentTarget")
    ),
    example!(
        "mosaic",
        "server-broadcast-group.json",
        Message("broadcastGroup")
    ),
    example!(
        "mosaic",
        "server-broadcast-io-module.json",
        Message("broadcastIoModule")
    ),
    example!(
        "mosaic",
        "server-broadcast-log.json",
        Message("broadcastLog")
    ),
    example!(
        "mosaic",
        "server-broadcast-lua.json",
        Message("broadcastLua")
    ),
    example!(
        "mosaic",
        "server-broadcast-remote-device.json",
        Message("broadcastRemoteDevice")
    ),
    example!(
        "mosaic",
        "server-broadcast-scene.json",
        Message("broadcastScene")
    ),
    example!(
        "mosaic",
        "server-broadcast-timeline.json",
        Message("broadcastTimeline")
    ),
    example!(
        "mosaic",
        "server-error-unknown-channel.json",
        Message("error")
    ),
    example!(
        "mosaic",
        "server-keepalive-ack.json",
        Message("keepaliveAck")
    ),
    example!(
        "mosaic",
        "server-keepalive-session-key.bin",
        Message("keepaliveReply"),
        binary
    ),
    example!(
        "mosaic",
        "server-keepalive-timed-out.bin",
        Message("keepaliveReply"),
        binary
    ),
    example!(
        "mosaic",
        "server-reply-content-target.json",
        Message("replyContentTarget")
    ),
    example!(
        "mosaic",
        "server-reply-current-time.json",
        Message("replyCurrentTime")
    ),
    example!("mosaic", "server-reply-log.json", Message("replyLog")),
    example!(
        "mosaic",
        "server-reply-network-adapters.json",
        Message("replyNetworkAdapters")
    ),
    example!(
        "mosaic",
        "server-reply-remote-device.json",
        Message("replyRemoteDevice")
    ),
    example!("mosaic", "server-reply-system.json", Message("replySystem")),
];

/// The wire names of a channel kind (the remote device channel has two spellings).
fn names(kind: ChannelKind) -> Vec<&'static str> {
    if kind == ChannelKind::RemoteDevice {
        vec![kind.name(), "remote-device"]
    } else {
        vec![kind.name()]
    }
}

/// `key` is one of `names`.
fn named(names: &[&str]) -> Value {
    json!({"type": "string", "enum": names})
}

/// No member named in `keys` (the decoder would read the message as another one).
fn none_of(keys: &[&str]) -> Value {
    let required: Vec<Value> = keys.iter().map(|k| json!({"required": [k]})).collect();
    json!({"not": {"anyOf": required}})
}

/// A channel name, with the documented names where `filter` holds.
fn channel_name(filter: impl Fn(ChannelKind) -> bool) -> Value {
    let known: Vec<&str> = ChannelKind::ALL
        .iter()
        .copied()
        .filter(|k| filter(*k))
        .flat_map(names)
        .collect();
    json!({
        "type": "string",
        "description": format!(
            "The channel. Documented: {}. Another name decodes; the server answers it with an \
             `unknown_channel` error.",
            known.join(", ")
        ),
        "examples": known,
    })
}

pub(super) fn document() -> Value {
    let mut b = Builder::new(
        "Mosaic controller WebSocket API",
        "Requests, subscriptions to broadcast channels and a keepalive over JSON text \
         messages on `/query`, and a 16-byte binary keepalive reply. With controller \
         security enabled, every message carries a bearer token in its `token` member \
         (from `POST /authenticate`, schemas `AuthenticateRequest`, `AuthenticateResponse`, \
         `AuthenticateFailure`); the keepalive refreshes it. MSC controllers accept 8 \
         simultaneous HTTP connections, MSC X and Atlas 16, WebSockets included.",
        EXAMPLES,
    );
    b.security(
        "bearerToken",
        json!({
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "With controller security enabled: the token from `POST /authenticate`, \
                sent as the `token` member of each message (not as a header).",
        }),
    );
    b.server(
        "simulator",
        json!({"host": "127.0.0.1:9104", "protocol": "ws", "description": "`telewire serve mosaic` (default port)."}),
        &["bearerToken"],
    );
    b.server(
        "vendor",
        json!({
            "host": "{controllerIp}",
            "protocol": "wss",
            "description": "A controller (`{{controller-ip}}` in the vendor's document); ws on port 80, wss on 443.",
            "variables": {"controllerIp": {"description": "The controller's address."}},
        }),
        &["bearerToken"],
    );
    let _ = b.named_schema::<AuthenticateRequest>();
    let _ = b.named_schema::<AuthenticateResponse>();
    let _ = b.named_schema::<AuthenticateFailure>();

    let id = b.schema::<RequestId>();
    let token =
        json!({"type": "string", "description": "The bearer token, when security is enabled."});
    let requestable = channel_name(|k| k.capability().request);
    let subscribable = channel_name(|k| k.capability().subscribe);

    b.message(
        "request",
        Message::json(
            "Request",
            "Request a value; `id` is echoed in the reply, other members are the request's parameters.",
            json!({
                "type": "object",
                "properties": {"request": requestable, "id": id, "token": token},
                "required": ["request"],
                "allOf": [none_of(&["subscribe"])],
            }),
        ),
    );
    b.message(
        "subscribe",
        Message::json(
            "Subscribe",
            "Subscribe to a broadcast channel.",
            json!({
                "type": "object",
                "properties": {"subscribe": subscribable, "token": token},
                "required": ["subscribe"],
                "allOf": [none_of(&["request"])],
            }),
        ),
    );
    b.message(
        "keepalive",
        Message::json(
            "Keepalive",
            "Every ~10 s: an empty object, or with security enabled the token (which refreshes it).",
            json!({
                "type": "object",
                "properties": {"token": token},
                "additionalProperties": false,
            }),
        ),
    );
    b.message(
        "keepaliveEmptyFrame",
        Message {
            content_type: Some("text/plain"),
            ..Message::json(
                "Empty keepalive frame",
                "An empty (or blank) text frame, accepted as a keepalive.",
                json!({"type": "string", "pattern": "^\\s*$"}),
            )
        },
    );

    let replies: [(&str, ChannelKind, &str, Value); 6] = [
        (
            "replyNetworkAdapters",
            ChannelKind::NetworkAdapters,
            "Network adapters",
            b.schema::<NetworkAdapters>(),
        ),
        (
            "replyContentTarget",
            ChannelKind::ContentTarget,
            "Content targets",
            b.schema::<ContentTargets>(),
        ),
        (
            "replyRemoteDevice",
            ChannelKind::RemoteDevice,
            "Remote devices",
            b.schema::<RemoteDevices>(),
        ),
        ("replyLog", ChannelKind::Log, "Log", b.schema::<Log>()),
        (
            "replySystem",
            ChannelKind::System,
            "System",
            b.schema::<SystemInfo>(),
        ),
        (
            "replyCurrentTime",
            ChannelKind::CurrentTime,
            "Current time",
            b.schema::<CurrentTime>(),
        ),
    ];
    let mut typed_replies = Vec::new();
    let mut reply_ids = Vec::new();
    for (msg, kind, title, data) in replies {
        let wire = names(kind);
        typed_replies.extend(wire.iter().copied());
        reply_ids.push(msg);
        b.message(
            msg,
            Message::json(
                title,
                "The reply to a request of this channel.",
                json!({
                    "type": "object",
                    "properties": {"request": named(&wire), "id": id, "data": data},
                    "required": ["request", "data"],
                    "allOf": [none_of(&["error", "broadcast"])],
                }),
            ),
        );
    }
    b.message(
        "replyOther",
        Message::json(
            "Other reply",
            "The reply to a request of a channel whose data this document does not type.",
            json!({
                "type": "object",
                "properties": {
                    "request": {"type": "string", "not": {"enum": typed_replies}},
                    "id": id,
                    "data": {},
                },
                "required": ["request", "data"],
                "allOf": [none_of(&["error", "broadcast"])],
            }),
        ),
    );
    reply_ids.push("replyOther");

    let broadcasts: [(&str, ChannelKind, &str, Value); 9] = [
        (
            "broadcastTimeline",
            ChannelKind::Timeline,
            "Timeline status",
            b.schema::<TimelineStatus>(),
        ),
        (
            "broadcastScene",
            ChannelKind::Scene,
            "Scene status",
            b.schema::<SceneStatus>(),
        ),
        (
            "broadcastGroup",
            ChannelKind::Group,
            "Group status",
            b.schema::<GroupStatus>(),
        ),
        (
            "broadcastContentTarget",
            ChannelKind::ContentTarget,
            "Content targets",
            b.schema::<ContentTargets>(),
        ),
        (
            "broadcastRemoteDevice",
            ChannelKind::RemoteDevice,
            "Remote devices",
            b.schema::<RemoteDevices>(),
        ),
        (
            "broadcastBeacon",
            ChannelKind::Beacon,
            "Beacon",
            b.schema::<Beacon>(),
        ),
        (
            "broadcastLog",
            ChannelKind::Log,
            "Log line",
            b.schema::<Log>(),
        ),
        (
            "broadcastLua",
            ChannelKind::Lua,
            "Lua variables",
            b.schema::<LuaVariables>(),
        ),
        (
            "broadcastIoModule",
            ChannelKind::IoModule,
            "IO modules",
            b.schema::<IoModules>(),
        ),
    ];
    let mut typed_broadcasts = Vec::new();
    let mut broadcast_ids = Vec::new();
    for (msg, kind, title, data) in broadcasts {
        let wire = names(kind);
        typed_broadcasts.extend(wire.iter().copied());
        broadcast_ids.push(msg);
        b.message(
            msg,
            Message::json(
                title,
                "A broadcast on this channel, to its subscribers.",
                json!({
                    "type": "object",
                    "properties": {"broadcast": named(&wire), "data": data},
                    "required": ["broadcast", "data"],
                    "allOf": [none_of(&["error", "request"])],
                }),
            ),
        );
    }
    b.message(
        "broadcastOther",
        Message::json(
            "Other broadcast",
            "A broadcast on a channel whose data this document does not type.",
            json!({
                "type": "object",
                "properties": {
                    "broadcast": {"type": "string", "not": {"enum": typed_broadcasts}},
                    "data": {},
                },
                "required": ["broadcast", "data"],
                "allOf": [none_of(&["error", "request"])],
            }),
        ),
    );
    broadcast_ids.push("broadcastOther");

    let channel = b.schema::<Channel>();
    let code = b.schema::<ErrorCode>();
    b.message(
        "error",
        Message::json(
            "Error",
            "A refused request, subscription or keepalive: names the request or subscription, echoes `id`.",
            json!({
                "type": "object",
                "properties": {
                    "error": code,
                    "request": channel,
                    "subscribe": channel,
                    "id": id,
                    "message": {"type": "string"},
                },
                "required": ["error"],
            }),
        ),
    );
    b.message(
        "keepaliveAck",
        Message::json(
            "Keepalive reply (security off)",
            "An empty object.",
            json!({"type": "object", "maxProperties": 0}),
        ),
    );
    b.message(
        "keepaliveReply",
        Message::binary(
            "Keepalive reply (security on)",
            "16 bytes: the session key, or all zeros when the session timed out.",
            "16 bytes. All zeros: the session has timed out; close and authenticate again. \
             Otherwise the server-wide session key, the same until the controller restarts.",
        ),
    );

    let mut all = vec![
        "request",
        "subscribe",
        "keepalive",
        "keepaliveEmptyFrame",
        "error",
        "keepaliveAck",
        "keepaliveReply",
    ];
    all.extend(reply_ids.iter().copied());
    all.extend(broadcast_ids.iter().copied());
    b.channel(
        "query",
        "/query",
        "The controller's WebSocket endpoint: requests, subscriptions, broadcasts, keepalive.",
        &all,
        None,
    );
    let mut request_replies = reply_ids.clone();
    request_replies.push("error");
    b.operation(
        "receiveRequest",
        Action::Receive,
        "query",
        "Request a value.",
        &["request"],
        &request_replies,
    );
    b.operation(
        "receiveSubscribe",
        Action::Receive,
        "query",
        "Subscribe to a broadcast channel.",
        &["subscribe"],
        &["error"],
    );
    b.operation(
        "sendBroadcast",
        Action::Send,
        "query",
        "Broadcast to a channel's subscribers.",
        &broadcast_ids,
        &[],
    );
    b.operation(
        "receiveKeepalive",
        Action::Receive,
        "query",
        "Keep the connection (and the token) alive.",
        &["keepalive", "keepaliveEmptyFrame"],
        &["keepaliveAck", "keepaliveReply", "error"],
    );
    b.finish()
}
