//! "Controller Telemetry" and "Datapoint Stream" over real sockets: `?token=`, sessions, fan-out.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::RawQuery;
use axum::extract::State;
use axum::extract::ws::WebSocket;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;
use telewire_protocols::frame::Close;
use telewire_protocols::frame::CloseCode;
use telewire_protocols::frame::Outbound;
use telewire_protocols::session::ServerSession as _;
use telewire_protocols::time::Timestamp;
use telewire_protocols::webmacs::ControllerEvent;
use telewire_protocols::webmacs::ControllerSession;
use telewire_protocols::webmacs::REASON_AUTH_REQUIRED;
use telewire_protocols::webmacs::StreamEvent;
use telewire_protocols::webmacs::StreamSession;
use telewire_protocols::webmacs::token_from_query;
use tokio::sync::mpsc;

use crate::driver::Application;
use crate::driver::drive_watched;
use crate::driver::to_message;
use crate::hub::ConnId;
use crate::hub::Pushes;
use crate::judge::Watch;

use super::Shared;

/// The largest controller message accepted: a full batch of 500 readings with long ids
/// fits many times over.
pub const MAX_CONTROLLER_MESSAGE: usize = 4 << 20;
/// The largest stream message accepted: the stream only expects pings.
pub const MAX_STREAM_MESSAGE: usize = 64 << 10;

/// Upgrades `/ws/controller/telemetry`; the token is checked after the upgrade, as the
/// backend does, so a refused token is a 1008 close with its documented reason.
pub async fn controller_upgrade(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    watch: Watch,
    ws: WebSocketUpgrade,
) -> Response {
    let token = query.as_deref().and_then(token_from_query);
    if token.is_none() && shared.faults.missing_token_close_1000 {
        return ws.on_upgrade(close_with_1000);
    }
    ws.max_message_size(MAX_CONTROLLER_MESSAGE)
        .max_frame_size(MAX_CONTROLLER_MESSAGE)
        .on_upgrade(move |socket| serve_controller(socket, shared, token, watch))
}

/// Upgrades `/ws/datapoints/stream`.
pub async fn stream_upgrade(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    watch: Watch,
    ws: WebSocketUpgrade,
) -> Response {
    let token = query.as_deref().and_then(token_from_query);
    if token.is_none() && shared.faults.missing_token_close_1000 {
        return ws.on_upgrade(close_with_1000);
    }
    ws.max_message_size(MAX_STREAM_MESSAGE)
        .max_frame_size(MAX_STREAM_MESSAGE)
        .on_upgrade(move |socket| serve_stream(socket, shared, token, watch))
}

/// The fault `missing_token_close_1000`: the documented reason with the wrong code, then
/// a bounded wait for the client's close reply.
async fn close_with_1000(mut socket: WebSocket) {
    let close = Close::new(CloseCode::NORMAL, REASON_AUTH_REQUIRED);
    if socket
        .send(to_message(Outbound::Close(close)))
        .await
        .is_ok()
    {
        let _ = tokio::time::timeout(CLOSE_REPLY_WAIT, socket.recv()).await;
    }
}

/// How long [`close_with_1000`] waits for the client's close reply.
const CLOSE_REPLY_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

async fn serve_controller(
    socket: WebSocket,
    shared: Arc<Shared>,
    token: Option<String>,
    watch: Watch,
) {
    tracing::info!("webmacs controller connected");
    let clock = shared.clock;
    let session = ControllerSession::connect(token.as_deref(), shared.jwt.as_ref(), clock.now());
    // The controller socket receives no pushes: a closed queue.
    let (_, rx) = mpsc::channel::<Infallible>(1);
    let shutdown = shared.shutdown.clone();
    let app = Ingest { shared };
    let ended = drive_watched(socket, session, app, rx, clock, shutdown, watch).await;
    tracing::info!(?ended, "webmacs controller disconnected");
}

async fn serve_stream(socket: WebSocket, shared: Arc<Shared>, token: Option<String>, watch: Watch) {
    tracing::info!("webmacs stream client connected");
    let clock = shared.clock;
    let mut session = StreamSession::connect(token.as_deref(), shared.jwt.as_ref(), clock.now());
    if shared.faults.no_connected && session.principal().is_some() {
        // The fault: drop the queued `connected` confirmation.
        let _ = session.poll_transmit();
    }
    // Join the "frontend" group before the first flush, so no broadcast after `connected`
    // is missed; the driver writes `connected` before reading the queue.
    let (id, rx) = if session.principal().is_some() {
        let (id, rx) = shared.streams.register();
        (Some(id), Pushes::from(rx))
    } else {
        (None, Pushes::from(mpsc::channel(1).1))
    };
    let shutdown = shared.shutdown.clone();
    let app = Frontend { shared, id };
    let ended = drive_watched(socket, session, app, rx, clock, shutdown, watch).await;
    tracing::info!(?ended, "webmacs stream client disconnected");
}

/// The application side of a controller socket: every accepted batch goes through the
/// pipeline and out to the stream clients.
struct Ingest {
    shared: Arc<Shared>,
}

impl Application<ControllerSession> for Ingest {
    type Push = Infallible;

    fn on_event(
        &mut self,
        _session: &mut ControllerSession,
        event: ControllerEvent,
        now: Timestamp,
    ) {
        match event {
            ControllerEvent::Authenticated(principal) => {
                tracing::info!(subject = %principal.subject, "webmacs controller authenticated");
            }
            ControllerEvent::Refused(violation) => {
                tracing::info!(%violation, "webmacs controller refused");
            }
            ControllerEvent::Batch {
                datapoints,
                invalid,
            } => {
                let outcome = self.shared.ingest(now, &datapoints);
                tracing::debug!(
                    received = datapoints.len() + invalid,
                    invalid,
                    stored = outcome.stored,
                    dropped = outcome.dropped,
                    throttled = outcome.throttled,
                    clients = outcome.broadcast,
                    "webmacs batch ingested"
                );
            }
            ControllerEvent::Rejected(violation) => {
                tracing::debug!(%violation, "webmacs controller message rejected");
            }
        }
    }

    fn on_push(&mut self, _session: &mut ControllerSession, push: Infallible, _now: Timestamp) {
        match push {}
    }
}

/// The application side of a stream socket: relays the broadcasts of the hub.
struct Frontend {
    shared: Arc<Shared>,
    id: Option<ConnId>,
}

impl Application<StreamSession> for Frontend {
    type Push = Arc<str>;

    fn on_event(&mut self, _session: &mut StreamSession, event: StreamEvent, _now: Timestamp) {
        match event {
            StreamEvent::Subscribed(principal) => {
                tracing::info!(subject = %principal.subject, "webmacs stream client authenticated");
            }
            StreamEvent::Refused(violation) => {
                tracing::info!(%violation, "webmacs stream client refused");
            }
            StreamEvent::Ping => tracing::debug!("webmacs stream ping"),
            StreamEvent::Rejected(violation) => {
                tracing::debug!(%violation, "webmacs stream message rejected");
            }
        }
    }

    fn on_push(&mut self, session: &mut StreamSession, push: Arc<str>, _now: Timestamp) {
        if !session.push_encoded(&push) {
            tracing::debug!("webmacs broadcast after close dropped");
        }
    }

    fn on_close(&mut self) {
        if let Some(id) = self.id.take() {
            self.shared.streams.unregister(id);
        }
    }
}
