//! The robot pub/sub document: `/wss` (and `/`), topics, JWT in `?token=`.
//!
//! The decoders of this API are hand-written (the `action` key selects the message, no
//! other key is allowed); the envelopes below say what they accept, around the derived
//! schemas of [`Payload`], [`Topic`] and [`ErrorCode`].

use serde_json::Value;
use serde_json::json;

use super::Action;
use super::Builder;
use super::Example;
use super::Message;
use super::example;
use super::query_token_binding;
use crate::robot::ErrorBody;
use crate::robot::ErrorCode;
use crate::robot::LogLevel;
use crate::robot::Payload;
use crate::robot::TokenResponse;
use crate::robot::Topic;

/// Every fixture of `fixtures/robot/`.
pub(super) const EXAMPLES: &[Example] = &[
    example!(
        "robot",
        "client-publish-string-data-spaced.json",
        Message("publish")
    ),
    example!(
        "robot",
        "client-publish-string-data.json",
        Message("publish")
    ),
    example!("robot", "client-publish.json", Message("publish")),
    example!(
        "robot",
        "client-subscribe-server-logs.json",
        Message("subscribe")
    ),
    example!("robot", "client-subscribe.json", Message("subscribe")),
    example!("robot", "client-unsubscribe.json", Message("unsubscribe")),
    example!("robot", "http-error.json", Schema("ErrorBody")),
    example!("robot", "http-token-response.json", Schema("TokenResponse")),
    example!("robot", "server-ack-subscribed.json", Message("ack")),
    example!("robot", "server-error.json", Message("error")),
    example!("robot", "server-log.json", Message("serverLog")),
    example!("robot", "server-message.json", Message("delivery")),
];

/// An object of exactly `properties`, all required.
fn closed(properties: Value) -> Value {
    let required: Vec<String> = properties
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

pub(super) fn document() -> Value {
    let mut b = Builder::new(
        "Robot telemetry pub/sub WebSocket API",
        "Real-time publish/subscribe over JSON text messages. A client connects with its \
         JWT in the `token` query parameter (a missing or invalid token is refused with \
         HTTP 401 before the upgrade, or close 1008 after it), subscribes to topics and \
         publishes `{name, type, data}` payloads that every subscriber of the topic \
         receives. The server publishes its own log lines on the topic `server_logs`. The \
         JWT comes from `GET /api/v1/auth/` with an `X-API-Key` header (schemas \
         `TokenResponse`, `ErrorBody`).",
        EXAMPLES,
    );
    b.security(
        "queryJwt",
        json!({
            "type": "httpApiKey",
            "name": "token",
            "in": "query",
            "description": "JWT from `GET /api/v1/auth/` with the `X-API-Key` header.",
        }),
    );
    b.server(
        "simulator",
        json!({"host": "127.0.0.1:9105", "protocol": "ws", "description": "`telewire serve robot` (default port)."}),
        &["queryJwt"],
    );
    b.server(
        "vendor",
        json!({
            "host": "{robotIp}",
            "protocol": "wss",
            "description": "A robot (`<ROBOT_IP>` in the vendor's document).",
            "variables": {"robotIp": {"description": "The robot's address."}},
        }),
        &["queryJwt"],
    );
    let _ = b.named_schema::<TokenResponse>();
    let _ = b.named_schema::<ErrorBody>();

    let payload = b.schema::<Payload>();
    let topic = b.schema::<Topic>();
    let code = b.schema::<ErrorCode>();
    let action = |name: &str| json!({"type": "string", "const": name});
    for (id, name, title, summary) in [
        (
            "subscribe",
            "subscribe",
            "Subscribe",
            "Receive what is published on `topic`.",
        ),
        (
            "unsubscribe",
            "unsubscribe",
            "Unsubscribe",
            "Stop receiving `topic`.",
        ),
    ] {
        b.message(
            id,
            Message::json(
                title,
                summary,
                closed(json!({"action": action(name), "topic": topic})),
            ),
        );
    }
    b.message(
        "publish",
        Message::json(
            "Publish",
            "Publish a payload on `topic`; `data` is the payload object or a JSON string holding one.",
            closed(json!({
                "action": action("publish"),
                "topic": topic,
                "data": {
                    "anyOf": [
                        payload,
                        {
                            "type": "string",
                            "contentMediaType": "application/json",
                            "description": "The official client's form: the payload object encoded as a JSON string.",
                        },
                    ],
                },
            })),
        ),
    );
    b.message(
        "delivery",
        Message::json(
            "Delivery",
            "A payload published on a subscribed topic, exactly as published.",
            payload.clone(),
        ),
    );
    let levels: Vec<&str> = LogLevel::ALL.iter().map(|l| l.as_str()).collect();
    b.message(
        "serverLog",
        Message::json(
            "Server log line",
            "A delivery on topic `server_logs`: the level as `type`, the line as `data`.",
            json!({
                "allOf": [
                    payload,
                    {
                        "properties": {
                            "name": {"const": "server_logs"},
                            "type": {"enum": levels},
                            "data": {"type": "string"},
                        },
                    },
                ],
            }),
        ),
    );
    b.message(
        "ack",
        Message::json(
            "Acknowledgement",
            "Confirms a subscribe, unsubscribe or publish (when the server enables acknowledgements).",
            closed(json!({
                "action": {"type": "string", "enum": ["subscribed", "unsubscribed", "published"]},
                "topic": topic,
            })),
        ),
    );
    b.message(
        "error",
        Message::json(
            "Error",
            "A refused message: a stable code and what was wrong. Never has `name`, `type` or `data`.",
            closed(json!({
                "action": action("error"),
                "error": code,
                "message": {"type": "string"},
            })),
        ),
    );

    let messages = [
        "subscribe",
        "unsubscribe",
        "publish",
        "delivery",
        "serverLog",
        "ack",
        "error",
    ];
    let binding = query_token_binding("JWT from `GET /api/v1/auth/`.");
    for (channel, address, description) in [
        ("wss", "/wss", "The documented endpoint."),
        (
            "root",
            "/",
            "The endpoint the official client uses (`ws://host:8001/?token=`).",
        ),
    ] {
        b.channel(
            channel,
            address,
            description,
            &messages,
            Some(binding.clone()),
        );
        b.operation(
            &format!("{channel}ReceiveSubscribe"),
            Action::Receive,
            channel,
            "Subscribe to a topic.",
            &["subscribe"],
            &["ack", "error"],
        );
        b.operation(
            &format!("{channel}ReceiveUnsubscribe"),
            Action::Receive,
            channel,
            "Unsubscribe from a topic.",
            &["unsubscribe"],
            &["ack", "error"],
        );
        b.operation(
            &format!("{channel}ReceivePublish"),
            Action::Receive,
            channel,
            "Publish to a topic.",
            &["publish"],
            &["ack", "error"],
        );
        b.operation(
            &format!("{channel}SendDelivery"),
            Action::Send,
            channel,
            "Deliver a published payload to a subscriber.",
            &["delivery"],
            &[],
        );
        b.operation(
            &format!("{channel}SendServerLog"),
            Action::Send,
            channel,
            "Deliver a server log line to `server_logs` subscribers.",
            &["serverLog"],
            &[],
        );
    }
    b.finish()
}
