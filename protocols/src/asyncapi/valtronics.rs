//! The Valtronics document: `/ws` and the four specialised endpoints, JWT in the first message.

use serde_json::Value;
use serde_json::json;

use super::Action;
use super::Builder;
use super::Example;
use super::Message;
use super::all_of;
use super::const_property;
use super::example;
use crate::valtronics::ClientMessage;
use crate::valtronics::ServerMessage;
use crate::valtronics::http::LoginError;
use crate::valtronics::http::LoginRequest;
use crate::valtronics::http::LoginResponse;

/// Every fixture of `fixtures/valtronics/`.
pub(super) const EXAMPLES: &[Example] = &[
    example!("valtronics", "client-auth.json", Message("auth")),
    example!("valtronics", "client-batch.json", Message("batch")),
    example!("valtronics", "client-ping.json", Message("ping")),
    example!(
        "valtronics",
        "client-subscribe-alerts-filters.json",
        Message("subscribe")
    ),
    example!(
        "valtronics",
        "client-subscribe-alerts-nested-severity.json",
        Message("subscribe")
    ),
    example!(
        "valtronics",
        "client-subscribe-alerts-spread-severity.json",
        Message("subscribe")
    ),
    example!(
        "valtronics",
        "client-subscribe-devices-filters.json",
        Message("subscribe")
    ),
    example!(
        "valtronics",
        "client-subscribe-devices.json",
        Message("subscribe")
    ),
    example!(
        "valtronics",
        "client-subscribe-system-filters.json",
        Message("subscribe")
    ),
    example!(
        "valtronics",
        "client-subscribe-telemetry-device.json",
        Message("subscribe")
    ),
    example!(
        "valtronics",
        "client-subscribe-telemetry-filters.json",
        Message("subscribe")
    ),
    example!(
        "valtronics",
        "client-subscribe-telemetry-nested-device.json",
        Message("subscribe")
    ),
    example!(
        "valtronics",
        "client-subscribe-template.json",
        Message("subscribe")
    ),
    example!(
        "valtronics",
        "client-unsubscribe-device.json",
        Message("unsubscribe")
    ),
    example!(
        "valtronics",
        "client-unsubscribe.json",
        Message("unsubscribe")
    ),
    example!("valtronics", "http-login-error.json", Schema("LoginError")),
    example!(
        "valtronics",
        "http-login-request.json",
        Schema("LoginRequest")
    ),
    example!(
        "valtronics",
        "http-login-response.json",
        Schema("LoginResponse")
    ),
    example!("valtronics", "server-alert.json", Message("alert")),
    example!(
        "valtronics",
        "server-auth-response-failure.json",
        Message("authResponse")
    ),
    example!(
        "valtronics",
        "server-auth-response-success.json",
        Message("authResponse")
    ),
    example!(
        "valtronics",
        "server-device-status-update.json",
        Message("deviceStatusUpdate")
    ),
    example!("valtronics", "server-error.json", Message("error")),
    example!("valtronics", "server-pong.json", Message("pong")),
    example!(
        "valtronics",
        "server-subscribed.json",
        Message("subscribed")
    ),
    example!(
        "valtronics",
        "server-system-status-update.json",
        Message("systemStatusUpdate")
    ),
    example!(
        "valtronics",
        "server-telemetry-update.json",
        Message("telemetryUpdate")
    ),
    example!(
        "valtronics",
        "server-unsubscribed.json",
        Message("unsubscribed")
    ),
];

/// (message id, `type` value, title, summary) of client messages.
const CLIENT: [(&str, &str, &str, &str); 5] = [
    (
        "auth",
        "auth",
        "Authenticate",
        "The JWT; must be the first message.",
    ),
    (
        "subscribe",
        "subscribe",
        "Subscribe",
        "Subscribe to a channel with filters, spread at the top level or nested under `filters`.",
    ),
    (
        "unsubscribe",
        "unsubscribe",
        "Unsubscribe",
        "Drop a subscription (optionally only for some devices).",
    ),
    ("ping", "ping", "Ping", "Keep-alive; answered with `pong`."),
    (
        "batch",
        "batch",
        "Batch",
        "Up to 50 messages processed in order; a batch may not hold a batch.",
    ),
];

/// (message id, `type` value, title, summary) of server messages.
const SERVER: [(&str, &str, &str, &str); 9] = [
    (
        "authResponse",
        "auth_response",
        "Auth response",
        "The answer to `auth`.",
    ),
    (
        "telemetryUpdate",
        "telemetry_update",
        "Telemetry update",
        "Channel `telemetry`: the latest readings of one device.",
    ),
    (
        "alert",
        "alert",
        "Alert",
        "Channel `alerts`: one alert notification.",
    ),
    (
        "deviceStatusUpdate",
        "device_status_update",
        "Device status update",
        "Channel `devices`: a device changed status.",
    ),
    (
        "systemStatusUpdate",
        "system_status_update",
        "System status update",
        "Channel `system`: system metrics.",
    ),
    ("pong", "pong", "Pong", "The answer to `ping`."),
    (
        "error",
        "error",
        "Error",
        "An error reply: a code and a human-readable message.",
    ),
    (
        "subscribed",
        "subscribed",
        "Subscribed",
        "Acknowledges a `subscribe` with the filters in force.",
    ),
    (
        "unsubscribed",
        "unsubscribed",
        "Unsubscribed",
        "Acknowledges an `unsubscribe`.",
    ),
];

/// (channel id, path, push message id, description) of the specialised endpoints.
const ENDPOINTS: [(&str, &str, &str, &str); 4] = [
    (
        "telemetryEndpoint",
        "/ws/telemetry",
        "telemetryUpdate",
        "Telemetry stream: `/ws` already subscribed to `telemetry` once authenticated.",
    ),
    (
        "alertsEndpoint",
        "/ws/alerts",
        "alert",
        "Alert notifications: `/ws` already subscribed to `alerts` once authenticated.",
    ),
    (
        "systemEndpoint",
        "/ws/system",
        "systemStatusUpdate",
        "System status: `/ws` already subscribed to `system` once authenticated.",
    ),
    (
        "devicesEndpoint",
        "/ws/devices",
        "deviceStatusUpdate",
        "Device status: `/ws` already subscribed to `devices` once authenticated.",
    ),
];

/// The payload of one member of a `type`-tagged enum: the enum's schema and that `type`.
fn tagged(base: &Value, message_type: &str) -> Value {
    all_of(vec![base.clone(), const_property("type", message_type)])
}

pub(super) fn document() -> Value {
    let mut b = Builder::new(
        "Valtronics IoT platform WebSocket API",
        "Real-time telemetry, alerts, device status and system status over JSON text \
         messages. A client connects to `/ws` (or a specialised endpoint), sends \
         `{\"type\":\"auth\",\"token\":\"<JWT>\"}` first, then subscribes to channels \
         (`telemetry`, `alerts`, `devices`, `system`) with filters. The JWT comes from \
         `POST /api/v1/auth/login` with `{username, password}` (schemas `LoginRequest`, \
         `LoginResponse`, `LoginError`). Limits: 1 KB per message, 100 messages per second, \
         50 items per batch.",
        EXAMPLES,
    );
    b.security(
        "firstMessageJwt",
        json!({
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "JWT sent in the first message, `{\"type\":\"auth\",\"token\":\"<JWT>\"}`, \
                answered by `auth_response`. Obtain it from `POST /api/v1/auth/login`.",
        }),
    );
    b.server(
        "simulator",
        json!({"host": "127.0.0.1:9102", "protocol": "ws", "description": "`telewire serve valtronics` (default port)."}),
        &["firstMessageJwt"],
    );
    b.server(
        "vendor",
        json!({"host": "localhost:8000", "protocol": "ws", "description": "The host the vendor's document uses."}),
        &["firstMessageJwt"],
    );
    let _ = b.named_schema::<LoginRequest>();
    let _ = b.named_schema::<LoginResponse>();
    let _ = b.named_schema::<LoginError>();

    let client = b.schema::<ClientMessage>();
    let server = b.schema::<ServerMessage>();
    for (id, ty, title, summary) in CLIENT {
        b.message(id, Message::json(title, summary, tagged(&client, ty)));
    }
    for (id, ty, title, summary) in SERVER {
        b.message(id, Message::json(title, summary, tagged(&server, ty)));
    }

    let mut all: Vec<&str> = CLIENT.iter().map(|c| c.0).collect();
    all.extend(SERVER.iter().map(|s| s.0));
    b.channel(
        "ws",
        "/ws",
        "The primary endpoint: every message; no channel until the client subscribes.",
        &all,
        None,
    );
    b.operation(
        "receiveAuth",
        Action::Receive,
        "ws",
        "Authenticate with the JWT (first message).",
        &["auth"],
        &["authResponse"],
    );
    b.operation(
        "receiveSubscribe",
        Action::Receive,
        "ws",
        "Subscribe to a channel.",
        &["subscribe"],
        &["subscribed", "error"],
    );
    b.operation(
        "receiveUnsubscribe",
        Action::Receive,
        "ws",
        "Unsubscribe from a channel.",
        &["unsubscribe"],
        &["unsubscribed", "error"],
    );
    b.operation(
        "receivePing",
        Action::Receive,
        "ws",
        "Keep-alive.",
        &["ping"],
        &["pong"],
    );
    b.operation(
        "receiveBatch",
        Action::Receive,
        "ws",
        "Several messages in one frame.",
        &["batch"],
        &[],
    );
    b.operation(
        "sendTelemetry",
        Action::Send,
        "ws",
        "Push on channel `telemetry`.",
        &["telemetryUpdate"],
        &[],
    );
    b.operation(
        "sendAlerts",
        Action::Send,
        "ws",
        "Push on channel `alerts`.",
        &["alert"],
        &[],
    );
    b.operation(
        "sendDeviceStatus",
        Action::Send,
        "ws",
        "Push on channel `devices`.",
        &["deviceStatusUpdate"],
        &[],
    );
    b.operation(
        "sendSystemStatus",
        Action::Send,
        "ws",
        "Push on channel `system`.",
        &["systemStatusUpdate"],
        &[],
    );
    b.operation(
        "sendError",
        Action::Send,
        "ws",
        "Error reply to a refused message.",
        &["error"],
        &[],
    );

    for (channel, path, push, description) in ENDPOINTS {
        b.channel(
            channel,
            path,
            description,
            &["auth", "authResponse", "ping", "pong", "error", push],
            None,
        );
        b.operation(
            &format!("{channel}ReceiveAuth"),
            Action::Receive,
            channel,
            "Authenticate with the JWT (first message).",
            &["auth"],
            &["authResponse"],
        );
        b.operation(
            &format!("{channel}ReceivePing"),
            Action::Receive,
            channel,
            "Keep-alive.",
            &["ping"],
            &["pong"],
        );
        b.operation(
            &format!("{channel}Send"),
            Action::Send,
            channel,
            "The endpoint's pushes.",
            &[push],
            &[],
        );
    }
    b.finish()
}
