//! "Controller Telemetry — `/ws/controller/telemetry`": the server side of the ingest socket.

use std::collections::VecDeque;

use crate::auth::Principal;
use crate::auth::TokenVerifier;
use crate::frame::Close;
use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::session::ServerSession;
use crate::time::Timestamp;

use super::error::Violation;
use super::messages::Datapoint;
use super::messages::TelemetryBatch;
use super::session::Link;

/// What a [`ControllerSession`] reports to the application.
#[derive(Debug, Clone, PartialEq)]
pub enum ControllerEvent {
    /// The token was accepted at connect; the controller joined the `"controller"` group.
    Authenticated(Principal),
    /// The token was refused; the 1008 close is queued.
    Refused(Violation),
    /// A batch passed validation: hand `datapoints` to [`IngestHub::ingest`] with the same
    /// `now`, then offer its broadcast to every stream session. No reply is sent.
    ///
    /// [`IngestHub::ingest`]: super::IngestHub::ingest
    Batch {
        /// The valid datapoints, in batch order (events not yet filtered).
        datapoints: Vec<Datapoint>,
        /// Entries dropped as invalid.
        invalid: usize,
    },
    /// A message broke a rule; its error reply is queued and the socket stays open.
    Rejected(Violation),
}

/// The server side of one `/ws/controller/telemetry` connection.
///
/// Call order (see the module docs of [`crate::session`]): construct with
/// [`ControllerSession::connect`], drain [`poll_transmit`](ServerSession::poll_transmit)
/// and [`poll_event`](ServerSession::poll_event); then for each received message call
/// [`handle_frame`](ServerSession::handle_frame) and drain both again. Every
/// [`ControllerEvent::Batch`] goes to the server's [`IngestHub`](super::IngestHub). The
/// session has no timers.
///
/// A successful batch gets no reply. A batch of more than 500 entries gets
/// `Batch too large (N), max 500`; a batch without one valid entry gets
/// `No valid datapoints in batch`; a message that is not an object with a `datapoints`
/// array gets `Invalid message: ...` (MAY); a binary frame gets
/// `Binary frames are not supported` (MAY). The socket stays open after each.
pub struct ControllerSession {
    link: Link,
    events: VecDeque<ControllerEvent>,
}

impl ControllerSession {
    /// Accepts a connection whose `?token=` parameter is `token` (`None` when absent) at
    /// `now`. On a refused token the only frame to transmit is the 1008 close.
    pub fn connect(token: Option<&str>, verifier: &dyn TokenVerifier, now: Timestamp) -> Self {
        let (link, outcome) = Link::connect(token, verifier, now);
        let event = match outcome {
            Ok(principal) => ControllerEvent::Authenticated(principal),
            Err(violation) => ControllerEvent::Refused(violation),
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

    /// Closes the connection (server shutdown, for example `1001 going away`).
    pub fn close(&mut self, close: Close) {
        self.link.close(close);
    }

    fn reject(&mut self, violation: Violation) {
        self.link.respond(&violation);
        self.events.push_back(ControllerEvent::Rejected(violation));
    }
}

impl ServerSession for ControllerSession {
    type Event = ControllerEvent;

    /// Input after the close is discarded, as RFC 6455 discards data after a close.
    fn handle_frame(&mut self, _now: Timestamp, frame: Inbound<'_>) {
        if self.link.is_closed() {
            return;
        }
        let text = match frame {
            Inbound::Text(text) => text,
            Inbound::Binary(_) => return self.reject(Violation::BinaryFrame),
        };
        let batch = match TelemetryBatch::decode(text) {
            Ok(batch) => batch,
            Err(err) => return self.reject(Violation::Malformed(err)),
        };
        match batch.check() {
            Ok(datapoints) => {
                let invalid = batch.len().saturating_sub(datapoints.len());
                self.events.push_back(ControllerEvent::Batch {
                    datapoints,
                    invalid,
                });
            }
            Err(violation) => self.reject(violation),
        }
    }

    fn handle_timeout(&mut self, _now: Timestamp) {}

    fn poll_transmit(&mut self) -> Option<Outbound> {
        self.link.poll_transmit()
    }

    fn poll_event(&mut self) -> Option<ControllerEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Timestamp> {
        None
    }

    fn is_closed(&self) -> bool {
        self.link.is_closed()
    }

    fn view(&self) -> crate::session::SessionView {
        crate::session::SessionView {
            auth: super::session::auth_view(self.link.principal()),
            subscriptions: Vec::new(),
        }
    }
}
