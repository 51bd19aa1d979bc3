//! robot.txt "Connecting to the WebSocket" and "Messages" over a real socket: `/wss` and `/`.

use std::sync::Arc;

use axum::extract::RawQuery;
use axum::extract::State;
use axum::extract::ws::WebSocket;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::IntoResponse;
use axum::response::Response;
use telewire_protocols::auth::Principal;
use telewire_protocols::robot::ConnectionId;
use telewire_protocols::robot::Delivery;
use telewire_protocols::robot::Event;
use telewire_protocols::robot::LogLevel;
use telewire_protocols::robot::Rejection;
use telewire_protocols::robot::RobotSession;
use telewire_protocols::robot::authorize;
use telewire_protocols::robot::token_from_query;
use telewire_protocols::time::Timestamp;
use tokio::sync::mpsc;

use crate::driver::Application;
use crate::driver::drive_watched;
use crate::judge::Watch;

use super::Shared;

/// Initial read buffer of a connection. The WebSocket default (128 KiB, allocated at the
/// upgrade) made an idle connection cost about 140 KiB of server memory (4 KiB: 17 KiB,
/// 1 KiB: 14 KiB); messages here are small and the buffer grows when a larger one arrives.
const READ_BUFFER: usize = 1024;

/// Bytes of outgoing frames gathered before a write (the default is 128 KiB): enough to
/// send a burst of deliveries in one write, small enough not to hold a connection's memory.
const WRITE_BUFFER: usize = 16 * 1024;

/// The largest message the WebSocket layer reads: well above the session's cap, so that
/// the client of an oversized message gets the session's `message_too_large` reply; only a
/// message beyond this ends the connection at the transport.
fn transport_limit(session_max: usize) -> usize {
    session_max.saturating_mul(16).max(1024 * 1024)
}

/// Upgrades `/wss` (or `/`). With `refuse_before_upgrade`, a bad token gets HTTP 401 and a
/// full server 503; otherwise the session refuses them after the upgrade (1008, 1013).
pub async fn upgrade(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    watch: Watch,
    ws: WebSocketUpgrade,
) -> Response {
    let token = query.as_deref().and_then(token_from_query);
    if shared.refuse_before_upgrade {
        let now = shared.clock.now();
        if let Err(rejection) = authorize(token.as_deref(), &*shared.verifier, now) {
            shared.exchange.log(
                LogLevel::Warning,
                &format!("connection refused before upgrade: {rejection}"),
            );
            return refusal(&rejection);
        }
        if shared.exchange.connections() >= shared.max_connections {
            let rejection = Rejection::Capacity(telewire_protocols::limits::CapExceeded::Total(
                shared.max_connections,
            ));
            shared.exchange.log(
                LogLevel::Warning,
                &format!("connection refused before upgrade: {rejection}"),
            );
            return refusal(&rejection);
        }
    }
    let limit = transport_limit(shared.session.limits.max_message_bytes);
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| serve(socket, shared, token, watch))
}

/// HTTP 401 or 503 with `{"detail": ...}`.
fn refusal(rejection: &Rejection) -> Response {
    let status = StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        rejection.body().to_text(),
    )
        .into_response()
}

async fn serve(socket: WebSocket, shared: Arc<Shared>, token: Option<String>, watch: Watch) {
    let clock = shared.clock;
    let shutdown = shared.shutdown.clone();
    let session = RobotSession::connect(
        token.as_deref(),
        shared.verifier.clone(),
        shared.session,
        clock.now(),
    );
    let Some(principal) = session.principal().cloned() else {
        // The session starts closed with 1008 queued; it reports why as its first event.
        let app = Refused {
            shared: shared.clone(),
        };
        let (_tx, rx) = mpsc::channel(1);
        let ended = drive_watched(socket, session, app, rx, clock, shutdown, watch).await;
        tracing::debug!(?ended, "robot refused connection ended");
        return;
    };
    let (id, rx) = match shared.exchange.connect(Some(&principal.subject)) {
        Ok(joined) => joined,
        Err(rejection) => {
            let session = RobotSession::refused(rejection);
            let app = Refused {
                shared: shared.clone(),
            };
            let (_tx, rx) = mpsc::channel(1);
            let _ = drive_watched(socket, session, app, rx, clock, shutdown, watch).await;
            return;
        }
    };
    shared.exchange.log(
        LogLevel::Info,
        &format!(
            "client {id} connected and authenticated as {}",
            principal.subject
        ),
    );
    let client = Client {
        shared: shared.clone(),
        id,
        principal,
    };
    let ended = drive_watched(socket, session, client, rx, clock, shutdown, watch).await;
    tracing::debug!(%id, ?ended, "robot connection ended");
}

/// The application side of a connection refused at connect time: it only logs why.
struct Refused {
    shared: Arc<Shared>,
}

impl Application<RobotSession> for Refused {
    type Push = Delivery;

    fn on_event(&mut self, _session: &mut RobotSession, event: Event, _now: Timestamp) {
        if let Event::Refused(violation) = event {
            self.shared.exchange.log(
                LogLevel::Warning,
                &format!("connection refused: {violation}"),
            );
        }
    }

    fn on_push(&mut self, _session: &mut RobotSession, _push: Delivery, _now: Timestamp) {}
}

/// The application side of an accepted connection: keeps the server's topic table in step
/// with the session, routes its publishes and hands it what others publish.
struct Client {
    shared: Arc<Shared>,
    id: ConnectionId,
    principal: Principal,
}

impl Application<RobotSession> for Client {
    type Push = Delivery;

    fn on_event(&mut self, _session: &mut RobotSession, event: Event, _now: Timestamp) {
        let exchange = &self.shared.exchange;
        let id = self.id;
        match &event {
            Event::Subscribed { topic } => {
                exchange.apply(id, &event);
                exchange.log(
                    LogLevel::Info,
                    &format!("client {id} subscribed to {topic}"),
                );
            }
            Event::Unsubscribed { topic } => {
                exchange.apply(id, &event);
                exchange.log(
                    LogLevel::Info,
                    &format!("client {id} unsubscribed from {topic}"),
                );
            }
            Event::Published { topic, payload } => {
                let queued = exchange.apply(id, &event);
                exchange.log(
                    LogLevel::Debug,
                    &format!(
                        "client {id} published {} ({}) on {topic} to {queued} subscriber(s)",
                        payload.name, payload.kind
                    ),
                );
            }
            Event::Refused(violation) => {
                exchange.log(
                    LogLevel::Warning,
                    &format!("client {id} message refused: {violation}"),
                );
            }
        }
    }

    fn on_push(&mut self, session: &mut RobotSession, push: Delivery, _now: Timestamp) {
        if !session.deliver(&push) {
            tracing::debug!(id = %self.id, topic = %push.topic(), "robot delivery after unsubscribe dropped");
        }
    }

    fn on_close(&mut self) {
        self.shared.exchange.disconnect(self.id);
        self.shared.exchange.log(
            LogLevel::Info,
            &format!(
                "client {} ({}) disconnected",
                self.id, self.principal.subject
            ),
        );
    }
}
