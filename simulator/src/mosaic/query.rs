//! `/query`: each WebSocket driven through a `MosaicSession`, requests answered from the
//! show, and the show's broadcasts offered to the session.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Extension;
use axum::extract::State;
use axum::extract::ws::WebSocket;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;
use telewire_protocols::mosaic::ErrorCode;
use telewire_protocols::mosaic::Event;
use telewire_protocols::mosaic::MosaicSession;
use telewire_protocols::mosaic::PendingRequest;
use telewire_protocols::mosaic::SessionKey;
use telewire_protocols::time::Timestamp;

use crate::driver::Application;
use crate::driver::drive_watched;
use crate::judge::Watch;
use crate::link::SessionFault;

use super::Push;
use super::Shared;
use super::cap::Permit;
use super::endpoints;

/// The largest message a client may send; requests are a few hundred bytes.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// Upgrades `/query`; the session decides everything after that.
pub async fn upgrade(
    State(shared): State<Arc<Shared>>,
    permit: Option<Extension<Permit>>,
    mut watch: Watch,
    ws: WebSocketUpgrade,
) -> Response {
    watch.expect_token(shared.session.security);
    let permit = permit.map(|Extension(p)| p);
    ws.read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| serve(socket, shared, permit, watch))
}

async fn serve(socket: WebSocket, shared: Arc<Shared>, permit: Option<Permit>, watch: Watch) {
    let key = match shared.controller.lock() {
        Ok(controller) => controller.session_key(),
        Err(_) => return,
    };
    tracing::info!(
        security = shared.session.security,
        "mosaic client connected"
    );
    let session = MosaicSession::new(shared.session, shared.verifier.clone(), key);
    let (conn, rx) = shared.hub.register();
    let clock = shared.clock;
    let shutdown = shared.shutdown.clone();
    let app = Connection {
        shared: shared.clone(),
        subscribed: false,
    };
    let ended = drive_watched(socket, session, app, rx, clock, shutdown, watch).await;
    shared.hub.unregister(conn);
    drop(permit);
    tracing::info!(?ended, "mosaic client disconnected");
}

/// The application side of one connection.
struct Connection {
    shared: Arc<Shared>,
    subscribed: bool,
}

impl Connection {
    fn answer(&self, session: &mut MosaicSession, request: PendingRequest, now: Timestamp) {
        tracing::debug!(channel = %request.channel, id = ?request.id, "mosaic request");
        let data = match (request.channel.kind(), self.shared.show.lock()) {
            (Some(kind), Ok(show)) => Some(endpoints::reply(
                &show,
                &self.shared.identity,
                kind,
                &request.params,
                now,
            )),
            _ => None,
        };
        let sent = match data {
            Some(data) => session.reply(request.ticket, data),
            None => session.reply_error(
                request.ticket,
                ErrorCode::UNAVAILABLE,
                "the controller cannot answer this request now",
            ),
        };
        if let Err(err) = sent {
            tracing::warn!(%err, "mosaic reply not sent");
        }
    }
}

impl Application<MosaicSession> for Connection {
    type Push = Push;

    fn on_event(&mut self, session: &mut MosaicSession, event: Event, now: Timestamp) {
        match event {
            Event::Request(request) => self.answer(session, request, now),
            Event::Subscribed(channel) => {
                tracing::debug!(%channel, "mosaic subscription");
                if !self.subscribed {
                    self.subscribed = true;
                    self.shared.subscribed.fetch_add(1, Ordering::AcqRel);
                }
            }
            Event::Authenticated { principal, .. } => {
                tracing::info!(subject = %principal.subject, access = ?principal.access, "mosaic client authenticated");
            }
            Event::Renewed { .. } => tracing::debug!("mosaic session renewed"),
            Event::SessionTimedOut => tracing::info!("mosaic session timed out"),
            Event::Violation(violation) => {
                tracing::debug!(%violation, "mosaic message refused");
            }
        }
    }

    fn on_push(&mut self, session: &mut MosaicSession, push: Push, now: Timestamp) {
        for broadcast in push.iter() {
            if session.offer(now, broadcast) {
                tracing::debug!(channel = %broadcast.broadcast().channel, "mosaic broadcast queued");
            }
        }
    }

    fn on_fault(&mut self, session: &mut MosaicSession, fault: SessionFault, _now: Timestamp) {
        match fault {
            SessionFault::TimeOut => session.time_out(),
            SessionFault::SessionKey(bytes) => match SessionKey::new(bytes) {
                Some(key) => session.set_session_key(key),
                None => tracing::warn!("mosaic session key not changed: the new key is all zeros"),
            },
        }
    }

    fn on_close(&mut self) {
        if self.subscribed {
            self.subscribed = false;
            self.shared.subscribed.fetch_sub(1, Ordering::AcqRel);
        }
    }
}
