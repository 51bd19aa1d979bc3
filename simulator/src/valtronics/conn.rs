//! "Connection Process" over a real socket: the five endpoints, one session per connection,
//! and the channel pushes each connection's subscriptions let through.

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::WebSocket;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;
use telewire_protocols::frame::Inbound;
use telewire_protocols::frame::Outbound;
use telewire_protocols::session::ServerSession;
use telewire_protocols::time::Timestamp;
use telewire_protocols::valtronics::Endpoint;
use telewire_protocols::valtronics::Event;
use telewire_protocols::valtronics::ValtronicsSession;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::driver::Application;
use crate::driver::drive_watched;
use crate::hub::ConnId;
use crate::hub::Hub;
use crate::judge::Watch;

use super::Shared;
use super::device::Push;

/// Pushes one connection may have queued before the hub starts dropping them.
pub const QUEUE: usize = 256;

/// How far above the session's cap the WebSocket layer accepts a message, so the session
/// (not the transport) answers an oversized message with close 1009. Beyond it the
/// transport refuses to buffer the message and drops the connection.
pub const TRANSPORT_MARGIN: usize = 1024 * 1024;

/// `/ws`.
pub async fn primary(
    State(shared): State<Arc<Shared>>,
    watch: Watch,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade(shared, ws, Endpoint::Primary, watch)
}

/// `/ws/telemetry`.
pub async fn telemetry(
    State(shared): State<Arc<Shared>>,
    watch: Watch,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade(shared, ws, Endpoint::Telemetry, watch)
}

/// `/ws/alerts`.
pub async fn alerts(
    State(shared): State<Arc<Shared>>,
    watch: Watch,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade(shared, ws, Endpoint::Alerts, watch)
}

/// `/ws/system`.
pub async fn system(
    State(shared): State<Arc<Shared>>,
    watch: Watch,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade(shared, ws, Endpoint::System, watch)
}

/// `/ws/devices`.
pub async fn devices(
    State(shared): State<Arc<Shared>>,
    watch: Watch,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade(shared, ws, Endpoint::Devices, watch)
}

fn upgrade(
    shared: Arc<Shared>,
    ws: WebSocketUpgrade,
    endpoint: Endpoint,
    watch: Watch,
) -> Response {
    let limit = shared
        .session
        .max_message_bytes
        .saturating_add(TRANSPORT_MARGIN);
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| serve(socket, shared, endpoint, watch))
}

async fn serve(socket: WebSocket, shared: Arc<Shared>, endpoint: Endpoint, watch: Watch) {
    let clock = shared.clock;
    let session = Logged(ValtronicsSession::with_config(
        clock.now(),
        endpoint,
        shared.verifier.clone(),
        &shared.registry,
        shared.session.clone(),
    ));
    tracing::info!(%endpoint, active = shared.registry.active(), "valtronics client connected");
    let (tx, rx) = mpsc::channel(QUEUE);
    let shutdown = shared.shutdown.clone();
    let conn = Connection {
        shared,
        tx,
        joined: None,
    };
    let ended = drive_watched(socket, session, conn, rx, clock, shutdown, watch).await;
    tracing::info!(%endpoint, ?ended, "valtronics client disconnected");
}

/// The session, with a debug line for every message in and out (sizes and types only: an
/// `auth` message carries a token, which stays out of the logs).
struct Logged(ValtronicsSession);

impl ServerSession for Logged {
    type Event = Event;

    fn handle_frame(&mut self, now: Timestamp, frame: Inbound<'_>) {
        let kind = match frame {
            Inbound::Text(_) => "text",
            Inbound::Binary(_) => "binary",
        };
        tracing::debug!(kind, bytes = frame.len(), "valtronics message received");
        self.0.handle_frame(now, frame);
    }

    fn handle_timeout(&mut self, now: Timestamp) {
        self.0.handle_timeout(now);
    }

    fn poll_transmit(&mut self) -> Option<Outbound> {
        let frame = self.0.poll_transmit()?;
        match &frame {
            Outbound::Text(text) => {
                tracing::debug!(bytes = text.len(), "valtronics message sent");
            }
            Outbound::Binary(bytes) => {
                tracing::debug!(bytes = bytes.len(), "valtronics binary message sent");
            }
            Outbound::Close(close) => {
                tracing::info!(code = close.code.0, reason = %close.reason, "valtronics close sent");
            }
        }
        Some(frame)
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.0.poll_event()
    }

    fn poll_timeout(&self) -> Option<Timestamp> {
        self.0.poll_timeout()
    }

    fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    fn view(&self) -> telewire_protocols::session::SessionView {
        self.0.view()
    }
}

/// A connection's membership of the push hub, and the task moving pushes to it.
struct Joined {
    hub: Arc<Hub<Push>>,
    id: ConnId,
    forward: JoinHandle<()>,
}

/// The application side of one connection: it joins the hub once it holds a subscription
/// and offers every push to its session, which filters it.
struct Connection {
    shared: Arc<Shared>,
    tx: mpsc::Sender<Push>,
    joined: Option<Joined>,
}

impl Connection {
    fn join(&mut self) {
        if self.joined.is_some() {
            return;
        }
        let hub = self.shared.hub.clone();
        let (id, mut rx) = hub.register();
        let tx = self.tx.clone();
        let forward = tokio::spawn(async move {
            while let Some(push) = rx.recv().await {
                if tx.send(push).await.is_err() {
                    break;
                }
            }
        });
        self.joined = Some(Joined { hub, id, forward });
    }

    fn leave(&mut self) {
        if let Some(joined) = self.joined.take() {
            joined.hub.unregister(joined.id);
            joined.forward.abort();
        }
    }
}

impl Application<Logged> for Connection {
    type Push = Push;

    fn on_event(&mut self, session: &mut Logged, event: Event, _now: Timestamp) {
        match event {
            Event::Authenticated(principal) => {
                tracing::info!(subject = %principal.subject, "valtronics client authenticated");
            }
            Event::Subscribed { channel, filters } => {
                tracing::debug!(%channel, ?filters, "valtronics subscription");
                self.join();
            }
            Event::Unsubscribed { channel } => {
                tracing::debug!(%channel, "valtronics unsubscription");
                if session.0.subscriptions().next().is_none() {
                    self.leave();
                }
            }
            Event::Violation(violation) => {
                tracing::info!(%violation, "valtronics client message refused");
            }
        }
    }

    fn on_push(&mut self, session: &mut Logged, push: Push, now: Timestamp) {
        let offer = session.0.offer(now, &push);
        tracing::trace!(
            kind = push.message_type(),
            ?offer,
            "valtronics push offered"
        );
    }

    fn on_close(&mut self) {
        self.leave();
    }
}
