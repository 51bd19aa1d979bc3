//! "Datapoint Stream — `/ws/datapoints/stream`": confirmation, keep-alive and broadcasts.

use std::collections::VecDeque;

use crate::auth::Principal;
use crate::auth::TokenVerifier;
use crate::frame::Close;
use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::session::ServerSession;
use crate::time::Timestamp;

use super::error::DecodeError;
use super::error::Violation;
use super::messages::DatapointsBatch;
use super::messages::ServerMessage;
use super::session::Link;
use super::values::MessageType;
use super::wire::Envelope;

/// What a [`StreamSession`] reports to the application.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The token was accepted; `connected` is queued and the client joined the
    /// `"frontend"` group: offer it every broadcast from now on.
    Subscribed(Principal),
    /// The token was refused; the 1008 close is queued.
    Refused(Violation),
    /// The client pinged; `pong` is queued.
    Ping,
    /// The client sent something other than a ping; its error reply is queued (MAY) and
    /// the socket stays open.
    Rejected(Violation),
}

/// The server side of one `/ws/datapoints/stream` connection, a read-only subscription.
///
/// Call order (see the module docs of [`crate::session`]): construct with
/// [`StreamSession::connect`] and drain [`poll_transmit`](ServerSession::poll_transmit)
/// (the first frame is `connected`, or the 1008 close) and
/// [`poll_event`](ServerSession::poll_event); for each received message call
/// [`handle_frame`](ServerSession::handle_frame) and drain both; for each broadcast from
/// the [`IngestHub`](super::IngestHub) call [`StreamSession::push_batch`] and drain
/// `poll_transmit`. The session has no timers: keep-alive is the client's (every 25 s).
///
/// `{"type":"ping"}` gets `{"type":"pong"}`. Anything else gets an error reply (MAY, the
/// backend ignores it): `Invalid message: ...` for text that is not an object or carries
/// another `type`, the read-only notice for an object without `type`, and
/// `Binary frames are not supported` for binary frames.
pub struct StreamSession {
    link: Link,
    events: VecDeque<StreamEvent>,
}

impl StreamSession {
    /// Accepts a connection whose `?token=` parameter is `token` (`None` when absent) at
    /// `now`: the first frame is the `connected` confirmation, or the 1008 close.
    pub fn connect(token: Option<&str>, verifier: &dyn TokenVerifier, now: Timestamp) -> Self {
        let (mut link, outcome) = Link::connect(token, verifier, now);
        let event = match outcome {
            Ok(principal) => {
                link.send(&ServerMessage::connected());
                StreamEvent::Subscribed(principal)
            }
            Err(violation) => StreamEvent::Refused(violation),
        };
        Self {
            link,
            events: VecDeque::from([event]),
        }
    }

    /// Who the token speaks for, once accepted.
    pub fn principal(&self) -> Option<&Principal> {
        self.link.principal()
    }

    /// Queues a broadcast; returns `false` (and queues nothing) once closed.
    pub fn push_batch(&mut self, batch: &DatapointsBatch) -> bool {
        self.link.send_text(&batch.message_text())
    }

    /// Queues a broadcast already encoded with [`DatapointsBatch::message_text`], so that one
    /// encoding serves every client; returns `false` once closed.
    pub fn push_encoded(&mut self, text: &str) -> bool {
        self.link.send_text(text)
    }

    /// Closes the connection (server shutdown, for example `1001 going away`).
    pub fn close(&mut self, close: Close) {
        self.link.close(close);
    }

    fn reject(&mut self, violation: Violation) {
        self.link.respond(&violation);
        self.events.push_back(StreamEvent::Rejected(violation));
    }
}

impl ServerSession for StreamSession {
    type Event = StreamEvent;

    /// Input after the close is discarded, as RFC 6455 discards data after a close.
    fn handle_frame(&mut self, _now: Timestamp, frame: Inbound<'_>) {
        if self.link.is_closed() {
            return;
        }
        let text = match frame {
            Inbound::Text(text) => text,
            Inbound::Binary(_) => return self.reject(Violation::BinaryFrame),
        };
        match Envelope::read(text) {
            Err(err) => self.reject(Violation::Malformed(err)),
            Ok(Envelope { kind: None }) => self.reject(Violation::ReadOnlyStream),
            Ok(Envelope { kind: Some(kind) }) if kind == MessageType::PING => {
                self.link.send(&ServerMessage::Pong);
                self.events.push_back(StreamEvent::Ping);
            }
            Ok(Envelope { kind: Some(kind) }) => {
                self.reject(Violation::Malformed(DecodeError::UnknownType(kind)));
            }
        }
    }

    fn handle_timeout(&mut self, _now: Timestamp) {}

    fn poll_transmit(&mut self) -> Option<Outbound> {
        self.link.poll_transmit()
    }

    fn poll_event(&mut self) -> Option<StreamEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Timestamp> {
        None
    }

    fn is_closed(&self) -> bool {
        self.link.is_closed()
    }

    fn view(&self) -> crate::session::SessionView {
        let principal = self.link.principal();
        crate::session::SessionView {
            auth: super::session::auth_view(principal),
            // Every accepted stream client is in the "frontend" group: all datapoints.
            subscriptions: principal
                .map(|_| vec!["datapoints".to_owned()])
                .unwrap_or_default(),
        }
    }
}
