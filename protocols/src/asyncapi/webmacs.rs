//! The WebMACS document: controller telemetry in, the datapoint stream out, JWT in `?token=`.

use serde_json::Value;
use serde_json::json;

use super::Action;
use super::Builder;
use super::Example;
use super::Message;
use super::all_of;
use super::const_property;
use super::example;
use super::query_token_binding;
use crate::webmacs::ServerMessage;
use crate::webmacs::TelemetryBatch;
use crate::webmacs::http::EventPage;
use crate::webmacs::http::HttpError;
use crate::webmacs::http::LatestDatapoints;
use crate::webmacs::http::LoginRequest;
use crate::webmacs::http::LoginResponse;
use crate::webmacs::http::StatusResponse;

/// Every fixture of `fixtures/webmacs/`.
pub(super) const EXAMPLES: &[Example] = &[
    example!("webmacs", "client-ping.json", Message("ping")),
    example!(
        "webmacs",
        "client-telemetry-batch-invalid-entries.json",
        Message("telemetryBatch")
    ),
    example!(
        "webmacs",
        "client-telemetry-batch.json",
        Message("telemetryBatch")
    ),
    example!(
        "webmacs",
        "http-datapoints-latest-response.json",
        Schema("LatestDatapoints")
    ),
    example!("webmacs", "http-error.json", Schema("HttpError")),
    example!(
        "webmacs",
        "http-events-response.json",
        Schema("EventItemPage")
    ),
    example!("webmacs", "http-login-request.json", Schema("LoginRequest")),
    example!(
        "webmacs",
        "http-login-response.json",
        Schema("LoginResponse")
    ),
    example!(
        "webmacs",
        "http-logout-response.json",
        Schema("StatusResponse")
    ),
    example!("webmacs", "server-connected.json", Message("connected")),
    example!(
        "webmacs",
        "server-datapoints-batch-offset-no-experiment.json",
        Message("datapointsBatch")
    ),
    example!(
        "webmacs",
        "server-datapoints-batch.json",
        Message("datapointsBatch")
    ),
    example!(
        "webmacs",
        "server-error-batch-too-large.json",
        Message("error")
    ),
    example!(
        "webmacs",
        "server-error-no-valid-datapoints.json",
        Message("error")
    ),
    example!("webmacs", "server-pong.json", Message("pong")),
];

pub(super) fn document() -> Value {
    let mut b = Builder::new(
        "WebMACS WebSocket API",
        "Real-time sensor data between the lab controller, the backend and browser \
         dashboards, as JSON text messages. The controller pushes batches of readings to \
         `/ws/controller/telemetry`; dashboards receive them, throttled, from \
         `/ws/datapoints/stream`. Every endpoint needs a JWT in the `token` query parameter \
         (from `POST /api/v1/auth/login`, schemas `LoginRequest` and `LoginResponse`); \
         without a valid one the connection is closed with 1008 and one of `Authentication \
         required`, `Invalid or expired token`, `Token has been revoked`, `User not found`. \
         HTTP bodies: `LatestDatapoints` (`GET /api/v1/datapoints/latest`), `EventItemPage` \
         (`GET /api/v1/events`), `StatusResponse` (`POST /api/v1/auth/logout`), `HttpError`.",
        EXAMPLES,
    );
    b.security(
        "queryJwt",
        json!({
            "type": "httpApiKey",
            "name": "token",
            "in": "query",
            "description": "JWT from `POST /api/v1/auth/login` with `{email, password}`.",
        }),
    );
    b.server(
        "simulator",
        json!({"host": "127.0.0.1:9103", "protocol": "ws", "description": "`telewire serve webmacs` (default port)."}),
        &["queryJwt"],
    );
    b.server(
        "vendor",
        json!({
            "host": "{host}",
            "protocol": "wss",
            "description": "A WebMACS backend (`your-host` in the vendor's document).",
            "variables": {"host": {"default": "your-host", "description": "Host and port of the backend."}},
        }),
        &["queryJwt"],
    );
    let _ = b.named_schema::<LoginRequest>();
    let _ = b.named_schema::<LoginResponse>();
    let _ = b.named_schema::<StatusResponse>();
    let _ = b.named_schema::<HttpError>();
    let _ = b.named_schema::<LatestDatapoints>();
    let _ = b.named_schema::<EventPage>();

    let batch = b.schema::<TelemetryBatch>();
    let server = b.schema::<ServerMessage>();
    b.message(
        "telemetryBatch",
        Message::json(
            "Telemetry batch",
            "Readings from the controller (at most 500); a message with a `type` is not a batch.",
            all_of(vec![batch, json!({"not": {"required": ["type"]}})]),
        ),
    );
    b.message(
        "ping",
        Message::json(
            "Ping",
            "Keep-alive; answered with `pong`.",
            const_property("type", "ping"),
        ),
    );
    for (id, ty, title, summary) in [
        (
            "connected",
            "connected",
            "Connected",
            "Confirms the stream subscription (first message).",
        ),
        ("pong", "pong", "Pong", "The answer to `ping`."),
        (
            "datapointsBatch",
            "datapoints_batch",
            "Datapoints batch",
            "New readings, at most one per event every 200 ms.",
        ),
        (
            "error",
            "error",
            "Error",
            "A refused batch: too large, or no valid datapoint.",
        ),
    ] {
        b.message(
            id,
            Message::json(
                title,
                summary,
                all_of(vec![server.clone(), const_property("type", ty)]),
            ),
        );
    }

    let binding = query_token_binding("JWT from `POST /api/v1/auth/login`.");
    b.channel(
        "controllerTelemetry",
        "/ws/controller/telemetry",
        "Controller to backend: batches of sensor readings, persisted and broadcast.",
        &["telemetryBatch", "ping", "pong", "error"],
        Some(binding.clone()),
    );
    b.channel(
        "datapointsStream",
        "/ws/datapoints/stream",
        "Backend to browser: live datapoint updates.",
        &["connected", "ping", "pong", "datapointsBatch"],
        Some(binding),
    );
    b.operation(
        "receiveTelemetryBatch",
        Action::Receive,
        "controllerTelemetry",
        "Persist and broadcast a batch of readings.",
        &["telemetryBatch"],
        &[],
    );
    b.operation(
        "sendTelemetryError",
        Action::Send,
        "controllerTelemetry",
        "Refuse a batch; the socket stays open.",
        &["error"],
        &[],
    );
    b.operation(
        "receiveControllerPing",
        Action::Receive,
        "controllerTelemetry",
        "Keep-alive.",
        &["ping"],
        &["pong"],
    );
    b.operation(
        "sendConnected",
        Action::Send,
        "datapointsStream",
        "Confirm the subscription.",
        &["connected"],
        &[],
    );
    b.operation(
        "sendDatapoints",
        Action::Send,
        "datapointsStream",
        "Broadcast new readings.",
        &["datapointsBatch"],
        &[],
    );
    b.operation(
        "receiveStreamPing",
        Action::Receive,
        "datapointsStream",
        "Keep-alive.",
        &["ping"],
        &["pong"],
    );
    b.finish()
}
