//! Steps 2 to 5 over a real socket: `/ws`, the handshake session, and the gateway's frames.

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::WebSocket;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;
use telewire_protocols::molecule::Event;
use telewire_protocols::molecule::MoleculeSession;
use telewire_protocols::molecule::handshake::HANDSHAKE_OVERHEAD;
use telewire_protocols::molecule::handshake::MAX_FIELD_LEN;
use telewire_protocols::time::Timestamp;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::driver::Application;
use crate::driver::drive_watched;
use crate::hub::ConnId;
use crate::hub::Hub;
use crate::judge::Watch;

use super::Shared;
use super::device::Push;

/// Pushes one connection may have queued before the gateway's hub starts dropping them.
pub const QUEUE: usize = 64;

/// How far above the session's cap the WebSocket layer accepts a message, so the session
/// (not the transport) answers an oversized handshake with 1009.
const TRANSPORT_MARGIN: usize = 1024;

/// The longest handshake the format can express (two u16-length fields): every handshake
/// the client can build must reach the session, so that one over the cap gets the
/// documented close 1009 ("Handshake too large") rather than a dropped connection.
const LONGEST_HANDSHAKE: usize = HANDSHAKE_OVERHEAD + 2 * MAX_FIELD_LEN;

/// Upgrades `/ws`; the session decides everything after that.
pub async fn upgrade(
    State(shared): State<Arc<Shared>>,
    watch: Watch,
    ws: WebSocketUpgrade,
) -> Response {
    let limit = shared
        .session
        .max_frame_len
        .saturating_add(TRANSPORT_MARGIN)
        .max(LONGEST_HANDSHAKE);
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| serve(socket, shared, watch))
}

async fn serve(socket: WebSocket, shared: Arc<Shared>, watch: Watch) {
    tracing::info!("molecule client connected");
    let clock = shared.clock;
    let session = MoleculeSession::new(
        clock.now(),
        shared.session.clone(),
        shared.verifier.clone(),
        shared.gateways.clone(),
    );
    let (tx, rx) = mpsc::channel(QUEUE);
    let shutdown = shared.shutdown.clone();
    let relay = Relay {
        shared,
        tx,
        joined: None,
    };
    let ended = drive_watched(socket, session, relay, rx, clock, shutdown, watch).await;
    tracing::info!(?ended, "molecule client disconnected");
}

/// A connection's membership of its gateway's hub, and the task moving pushes to it.
struct Joined {
    hub: Arc<Hub<Push>>,
    id: ConnId,
    forward: JoinHandle<()>,
}

/// The application side of one connection: joins the gateway's hub once authenticated,
/// relays the gateway's pushes and answers commands.
struct Relay {
    shared: Arc<Shared>,
    tx: mpsc::Sender<Push>,
    joined: Option<Joined>,
}

impl Relay {
    fn join(&mut self, gateway_id: &str) {
        let Some(hub) = self.shared.hubs.get(gateway_id).cloned() else {
            tracing::debug!(gateway_id, "molecule gateway has no device");
            return;
        };
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
}

impl Application<MoleculeSession> for Relay {
    type Push = Push;

    fn on_event(&mut self, session: &mut MoleculeSession, event: Event, _now: Timestamp) {
        match event {
            Event::Authenticated {
                gateway_id,
                subject,
            } => {
                tracing::info!(%gateway_id, %subject, "molecule client authenticated");
                self.join(&gateway_id);
            }
            Event::CommandReceived(command) => {
                tracing::debug!(%command, "molecule command");
                let reply = command_reply(&command);
                if let Err(err) = session.push_command_response(&reply) {
                    tracing::debug!(%err, "molecule command response not sent");
                }
            }
            Event::UnknownFrame { message_type, .. } => {
                tracing::debug!(?message_type, "molecule client frame of unknown type");
            }
            Event::Violation(violation) => {
                tracing::info!(%violation, "molecule connection refused");
            }
        }
    }

    fn on_push(&mut self, session: &mut MoleculeSession, push: Push, _now: Timestamp) {
        let sent = match &push {
            Push::Telemetry(items) => session.push_telemetry(items),
            Push::Log(line) => session.push_device_log(line),
        };
        match sent {
            Ok(()) => tracing::debug!("molecule frame queued"),
            Err(err) => tracing::debug!(%err, "molecule push dropped"),
        }
    }

    fn on_close(&mut self) {
        if let Some(joined) = self.joined.take() {
            joined.hub.unregister(joined.id);
            joined.forward.abort();
        }
    }
}

/// The type-1 reply to a command: a JSON acknowledgement naming it (a MAY-level behaviour).
pub fn command_reply(command: &str) -> String {
    serde_json::json!({ "command": command, "status": "ok" }).to_string()
}
