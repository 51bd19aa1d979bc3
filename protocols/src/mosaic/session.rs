//! Authentication, Keep Alive, Requesting a value, Subscribing: the server side of `/query`.

use std::collections::HashMap;
use std::collections::VecDeque;
use std::time::Duration;

use serde_json::Map;
use serde_json::Value;

use crate::auth::AccessLevel;
use crate::auth::Principal;
use crate::auth::SharedVerifier;
use crate::auth::TokenRejection;
use crate::frame::Close;
use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::session::ServerSession;
use crate::time::Timestamp;

use super::TOKEN_LIFETIME;
use super::channel::Channel;
use super::channel::ChannelKind;
use super::error::ErrorCode;
use super::error::Violation;
use super::error::Wire;
use super::keepalive::SessionKey;
use super::messages::ClientMessage;
use super::messages::Origin;
use super::messages::RequestId;
use super::payload::ReplyData;
use super::replies::Broadcast;
use super::replies::ErrorReply;
use super::replies::Reply;

/// Settings of one controller's WebSocket sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// Whether controller security is enabled: every message then needs a valid token,
    /// and keepalives are answered with the 16-byte binary reply instead of `{}`.
    pub security: bool,
    /// How long a session stays valid without a keepalive that refreshes its token.
    pub session_lifetime: Duration,
    /// The lowest access level admitted ("at least the status access level").
    pub min_access: AccessLevel,
    /// Deliberate deviations from the document; all off by default.
    pub faults: SessionFaults,
}

/// Deliberate deviations from the document, for proving that a checker catches each one
/// (`telewire serve --break`). All off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionFaults {
    /// Echo `id` only in the connection's first data reply and leave it out of every later
    /// one, breaking "the number can be used to track multiple requests occurring at once".
    pub drop_later_reply_ids: bool,
    /// Answer a live keepalive with the first 8 bytes of the session key, breaking "the
    /// reply is a binary frame of 16 bytes".
    pub short_session_key: bool,
}

impl SessionFaults {
    /// Every fault off.
    pub const NONE: Self = Self {
        drop_later_reply_ids: false,
        short_session_key: false,
    };
}

impl SessionConfig {
    /// Security enabled, 5-minute sessions, Status access or above.
    pub const fn secured() -> Self {
        Self {
            security: true,
            session_lifetime: TOKEN_LIFETIME,
            min_access: AccessLevel::Status,
            faults: SessionFaults::NONE,
        }
    }

    /// Security disabled: "the WebSocket can be accessed freely without a token".
    pub const fn open() -> Self {
        Self {
            security: false,
            ..Self::secured()
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self::secured()
    }
}

/// Names one request awaiting the application's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(pub u64);

/// A request the application must answer with [`MosaicSession::reply`] or
/// [`MosaicSession::reply_error`].
#[derive(Debug, Clone, PartialEq)]
pub struct PendingRequest {
    /// Pass this back with the answer.
    pub ticket: Ticket,
    /// The channel as the client spelled it.
    pub channel: Channel,
    /// The id the reply will echo.
    pub id: Option<RequestId>,
    /// The request's parameters (for example `num`).
    pub params: Map<String, Value>,
}

/// What the session reports to the application.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A request for a requestable channel: answer it.
    Request(PendingRequest),
    /// The client subscribed to a channel (again, if it already was).
    Subscribed(Channel),
    /// A token was accepted and starts a session valid until `expires_at`.
    Authenticated {
        /// Who the token speaks for.
        principal: Principal,
        /// When the session times out unless refreshed.
        expires_at: Timestamp,
    },
    /// A keepalive refreshed the session until `expires_at`.
    Renewed {
        /// The new deadline.
        expires_at: Timestamp,
    },
    /// The session went a whole lifetime without a refresh: broadcasts stop, keepalives
    /// get 16 zero bytes and requests an error until the client presents a new token.
    SessionTimedOut,
    /// The client broke a rule; the wire has already got the answer.
    Violation(Violation),
}

/// Why the application's input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// No unanswered request has this ticket.
    #[error("no unanswered request has ticket {0:?}")]
    UnknownTicket(Ticket),
    /// The data is not the shape the channel's clients decode.
    #[error("data does not have the shape of channel `{0}`")]
    DataMismatch(Channel),
    /// The session is closed.
    #[error("the session is closed")]
    Closed,
}

/// A broadcast encoded once, for offering to every session of a server.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedBroadcast {
    broadcast: Broadcast,
    text: String,
}

impl PreparedBroadcast {
    /// Checks that the data fits the channel and encodes it.
    pub fn new(broadcast: Broadcast) -> Result<Self, SessionError> {
        if !broadcast.data.fits(&broadcast.channel) {
            return Err(SessionError::DataMismatch(broadcast.channel));
        }
        let text = super::ServerMessage::Broadcast(broadcast.clone()).to_text();
        Ok(Self { broadcast, text })
    }

    /// The broadcast.
    pub fn broadcast(&self) -> &Broadcast {
        &self.broadcast
    }

    /// The text for a subscriber who spelled the channel `spelled`.
    fn text_for(&self, spelled: &Channel) -> String {
        if *spelled == self.broadcast.channel {
            self.text.clone()
        } else {
            let mut respelled = self.broadcast.clone();
            respelled.channel = spelled.clone();
            super::ServerMessage::Broadcast(respelled).to_text()
        }
    }
}

#[derive(Debug, Clone)]
enum Lease {
    Live {
        token: String,
        principal: Principal,
        expires_at: Timestamp,
    },
    TimedOut {
        token: String,
    },
}

/// A reply in request order: held until every earlier one is answered, because one real
/// client matches replies to requests first-in-first-out by channel.
#[derive(Debug)]
enum Slot {
    /// A request the application has not answered yet.
    Waiting {
        ticket: Ticket,
        channel: Channel,
        id: Option<RequestId>,
    },
    /// An answer (or an error reply) ready to go once every earlier slot is.
    Ready(String),
}

/// One `/query` WebSocket connection, server side.
///
/// # Driving it
///
/// Like quinn-proto's `Connection`, the session does no IO and reads no clock:
///
/// 1. Create it with [`MosaicSession::new`] once the connection was admitted
///    ([`super::Controller::admit`]), giving it the controller's current session key.
/// 2. Feed every received data frame to [`ServerSession::handle_frame`] with `now`.
/// 3. After each input, drain [`ServerSession::poll_transmit`] and write the frames in
///    order, then drain [`ServerSession::poll_event`]. Answer each [`Event::Request`] with
///    [`MosaicSession::reply`] or [`MosaicSession::reply_error`] (at once or later:
///    replies leave in request order), then drain `poll_transmit` again.
/// 4. Offer each broadcast to every session with [`MosaicSession::offer`]; only
///    subscribers with a valid session queue it. Drain `poll_transmit` after.
/// 5. Sleep until [`ServerSession::poll_timeout`] (the session's expiry with security
///    on) and call [`ServerSession::handle_timeout`]; then drain events.
/// 6. Stop once [`ServerSession::is_closed`]: the last frame polled was a close.
///
/// # Rules implemented
///
/// - Security off: no token is needed or checked; a keepalive gets the text `{}`.
/// - Security on: every request and subscription must carry a token the verifier
///   accepts with at least [`SessionConfig::min_access`], else an error reply. The first
///   accepted token starts a session of [`SessionConfig::session_lifetime`]; a keepalive
///   with that token refreshes it (even past the token's own expiry) and is answered with
///   the session key; a keepalive without a token is answered with the key while the
///   session is valid. Once the session went a lifetime without refresh, or when the
///   token is refused, a keepalive gets 16 zero bytes and that token stays refused on this
///   connection; a new token starts a new session.
/// - Requests for unknown or non-requestable channels, subscriptions to unknown or
///   non-subscribable channels, malformed text and binary frames get error replies.
pub struct MosaicSession {
    config: SessionConfig,
    verifier: SharedVerifier,
    key: SessionKey,
    lease: Option<Lease>,
    subscriptions: HashMap<ChannelKind, Channel>,
    slots: VecDeque<Slot>,
    next_ticket: u64,
    transmit: VecDeque<Outbound>,
    events: VecDeque<Event>,
    closed: bool,
    /// Whether a data reply was queued (for [`SessionFaults::drop_later_reply_ids`]).
    replied: bool,
}

impl MosaicSession {
    /// A session for a new connection; `key` is the controller's current session key.
    pub fn new(config: SessionConfig, verifier: SharedVerifier, key: SessionKey) -> Self {
        Self {
            config,
            verifier,
            key,
            lease: None,
            subscriptions: HashMap::new(),
            slots: VecDeque::new(),
            next_ticket: 0,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            closed: false,
            replied: false,
        }
    }

    /// The settings.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The session key keepalive replies carry.
    pub fn session_key(&self) -> SessionKey {
        self.key
    }

    /// Times the session out now, as if its lifetime had passed: the next keepalive is
    /// answered with the all-zero key (a simulator fault; nothing happens without a live
    /// session).
    pub fn time_out(&mut self) {
        if let Some(Lease::Live { token, .. }) = &self.lease {
            self.lease = Some(Lease::TimedOut {
                token: token.clone(),
            });
            self.events.push_back(Event::SessionTimedOut);
        }
    }

    /// Replaces the session key (the controller restarted while this socket lived on).
    pub fn set_session_key(&mut self, key: SessionKey) {
        self.key = key;
    }

    /// Who the valid session's token speaks for, if there is one.
    pub fn principal(&self) -> Option<&Principal> {
        match &self.lease {
            Some(Lease::Live { principal, .. }) => Some(principal),
            _ => None,
        }
    }

    /// Whether broadcasts and requests are currently allowed: security is off, or a
    /// session is valid (as of the last input).
    pub fn is_authorised(&self) -> bool {
        !self.config.security || matches!(self.lease, Some(Lease::Live { .. }))
    }

    /// Whether the client subscribed to `channel` (either spelling).
    pub fn is_subscribed(&self, channel: &Channel) -> bool {
        channel
            .kind()
            .is_some_and(|kind| self.subscriptions.contains_key(&kind))
    }

    /// The channels subscribed to, as the client spelled them.
    pub fn subscriptions(&self) -> impl Iterator<Item = &Channel> {
        self.subscriptions.values()
    }

    /// Answers request `ticket` with `data`, which must fit the requested channel.
    pub fn reply(&mut self, ticket: Ticket, data: ReplyData) -> Result<(), SessionError> {
        let drop_id = self.config.faults.drop_later_reply_ids && self.replied;
        let slot = self.waiting_slot(ticket)?;
        let Slot::Waiting { channel, id, .. } = &*slot else {
            return Err(SessionError::UnknownTicket(ticket));
        };
        if !data.fits(channel) {
            return Err(SessionError::DataMismatch(channel.clone()));
        }
        let reply = Reply {
            channel: channel.clone(),
            id: if drop_id { None } else { id.clone() },
            data,
            extra: Map::new(),
        };
        *slot = Slot::Ready(super::ServerMessage::Reply(reply).to_text());
        self.replied = true;
        self.flush_slots();
        Ok(())
    }

    /// Answers request `ticket` with an error reply (for example
    /// [`ErrorCode::UNAVAILABLE`]).
    pub fn reply_error(
        &mut self,
        ticket: Ticket,
        code: ErrorCode,
        message: impl Into<String>,
    ) -> Result<(), SessionError> {
        let slot = self.waiting_slot(ticket)?;
        let Slot::Waiting { channel, id, .. } = &*slot else {
            return Err(SessionError::UnknownTicket(ticket));
        };
        let origin = Origin::Request {
            channel: channel.clone(),
            id: id.clone(),
        };
        *slot = Slot::Ready(ErrorReply::new(&origin, code, message).to_text());
        self.flush_slots();
        Ok(())
    }

    /// Queues `broadcast` if the client subscribed to its channel and may receive it at
    /// `now`; returns whether it was queued.
    pub fn offer(&mut self, now: Timestamp, broadcast: &PreparedBroadcast) -> bool {
        if self.closed {
            return false;
        }
        self.expire(now);
        if !self.is_authorised() {
            return false;
        }
        let Some(spelled) = broadcast
            .broadcast()
            .channel
            .kind()
            .and_then(|kind| self.subscriptions.get(&kind))
        else {
            return false;
        };
        let text = broadcast.text_for(spelled);
        self.transmit.push_back(Outbound::Text(text));
        true
    }

    /// Queues a close frame; nothing follows it and unanswered requests are dropped.
    pub fn close(&mut self, close: Close) {
        if self.closed {
            return;
        }
        self.slots.clear();
        self.transmit.push_back(Outbound::Close(close));
        self.closed = true;
    }

    /// The unanswered request slot of `ticket`.
    fn waiting_slot(&mut self, ticket: Ticket) -> Result<&mut Slot, SessionError> {
        if self.closed {
            return Err(SessionError::Closed);
        }
        self.slots
            .iter_mut()
            .find(|s| matches!(s, Slot::Waiting { ticket: t, .. } if *t == ticket))
            .ok_or(SessionError::UnknownTicket(ticket))
    }

    /// Moves every answered slot at the front of the queue to the transmit queue.
    fn flush_slots(&mut self) {
        while matches!(self.slots.front(), Some(Slot::Ready(_))) {
            if let Some(Slot::Ready(text)) = self.slots.pop_front() {
                self.transmit.push_back(Outbound::Text(text));
            }
        }
    }

    fn handle_message(&mut self, now: Timestamp, message: ClientMessage) {
        let origin = Origin::of(&message);
        match message {
            ClientMessage::Keepalive(k) => self.keepalive(now, k.token.as_deref()),
            ClientMessage::EmptyFrame => self.keepalive(now, None),
            ClientMessage::Request(r) => {
                if let Err(v) = self.authorise(now, r.token.as_deref()) {
                    return self.refuse(v, &origin);
                }
                match r.channel.capability() {
                    None => self.refuse(Violation::UnknownChannel(r.channel), &origin),
                    Some(c) if !c.request => {
                        self.refuse(Violation::NotRequestable(r.channel), &origin)
                    }
                    Some(_) => {
                        let ticket = Ticket(self.next_ticket);
                        self.next_ticket = self.next_ticket.wrapping_add(1);
                        self.slots.push_back(Slot::Waiting {
                            ticket,
                            channel: r.channel.clone(),
                            id: r.id.clone(),
                        });
                        self.events.push_back(Event::Request(PendingRequest {
                            ticket,
                            channel: r.channel,
                            id: r.id,
                            params: r.params,
                        }));
                    }
                }
            }
            ClientMessage::Subscribe(s) => {
                if let Err(v) = self.authorise(now, s.token.as_deref()) {
                    return self.refuse(v, &origin);
                }
                match s.channel.kind() {
                    None => self.refuse(Violation::UnknownChannel(s.channel), &origin),
                    Some(kind) if !kind.capability().subscribe => {
                        self.refuse(Violation::NotSubscribable(s.channel), &origin)
                    }
                    Some(kind) => {
                        self.subscriptions.insert(kind, s.channel.clone());
                        self.events.push_back(Event::Subscribed(s.channel));
                    }
                }
            }
        }
    }

    fn keepalive(&mut self, now: Timestamp, token: Option<&str>) {
        if !self.config.security {
            self.transmit.push_back(Outbound::Text("{}".to_owned()));
            return;
        }
        let verdict = match (token, &self.lease) {
            (Some(token), _) => self.check_token(now, token, true),
            (None, Some(Lease::Live { .. })) => Ok(()),
            (None, Some(Lease::TimedOut { .. })) => Err(Violation::SessionTimedOut),
            (None, None) => Err(Violation::TokenMissing),
        };
        match verdict {
            Ok(()) => {
                let key = self.key.as_bytes().iter().copied();
                let reply = if self.config.faults.short_session_key {
                    key.take(SessionKey::LEN / 2).collect()
                } else {
                    key.collect()
                };
                self.transmit.push_back(Outbound::Binary(reply));
            }
            Err(v) => self.refuse(v, &Origin::Keepalive),
        }
    }

    fn authorise(&mut self, now: Timestamp, token: Option<&str>) -> Result<(), Violation> {
        if !self.config.security {
            return Ok(());
        }
        let token = token.ok_or(Violation::TokenMissing)?;
        self.check_token(now, token, false)
    }

    /// Checks `token` against the session and the verifier; starts a session for a new
    /// token, and refreshes the current one when `renew` (keepalives).
    fn check_token(&mut self, now: Timestamp, token: &str, renew: bool) -> Result<(), Violation> {
        let leased = match &self.lease {
            Some(Lease::TimedOut { token: t }) if t == token => {
                return Err(Violation::SessionTimedOut);
            }
            Some(Lease::Live {
                token: t,
                principal,
                ..
            }) if t == token => Some(principal.clone()),
            _ => None,
        };
        let principal = match (self.verifier.verify(token, now), leased) {
            (Ok(p), _) => p,
            // The session outlives the token's own expiry while keepalives refresh it.
            (Err(TokenRejection::Expired), Some(p)) => p,
            (Err(rejection), leased) => {
                if leased.is_some() {
                    self.lease = None;
                }
                return Err(Violation::TokenRejected(rejection));
            }
        };
        if principal.access < self.config.min_access {
            return Err(Violation::InsufficientAccess {
                required: self.config.min_access,
                granted: principal.access,
            });
        }
        let expires_at = now + self.config.session_lifetime;
        match &mut self.lease {
            Some(Lease::Live {
                token: t,
                expires_at: until,
                ..
            }) if t == token => {
                if renew {
                    *until = expires_at;
                    self.events.push_back(Event::Renewed { expires_at });
                }
            }
            _ => {
                self.lease = Some(Lease::Live {
                    token: token.to_owned(),
                    principal: principal.clone(),
                    expires_at,
                });
                self.events.push_back(Event::Authenticated {
                    principal,
                    expires_at,
                });
            }
        }
        Ok(())
    }

    fn refuse(&mut self, violation: Violation, origin: &Origin) {
        match violation.wire(origin) {
            Wire::Error(reply) => {
                self.slots.push_back(Slot::Ready(reply.to_text()));
                self.flush_slots();
            }
            wire @ Wire::Keepalive(_) => self.transmit.push_back(wire.to_outbound()),
            Wire::Close(close) => self.close(close),
        }
        self.events.push_back(Event::Violation(violation));
    }

    fn expire(&mut self, now: Timestamp) {
        if let Some(Lease::Live {
            token, expires_at, ..
        }) = &self.lease
            && now >= *expires_at
        {
            self.lease = Some(Lease::TimedOut {
                token: token.clone(),
            });
            self.events.push_back(Event::SessionTimedOut);
        }
    }
}

impl ServerSession for MosaicSession {
    type Event = Event;

    fn handle_frame(&mut self, now: Timestamp, frame: Inbound<'_>) {
        if self.closed {
            return;
        }
        self.expire(now);
        match frame {
            Inbound::Binary(bytes) => self.refuse(
                Violation::BinaryMessage { len: bytes.len() },
                &Origin::Unattributed,
            ),
            Inbound::Text(text) => match ClientMessage::decode(text) {
                Ok(message) => self.handle_message(now, message),
                Err(e) => self.refuse(Violation::Malformed(e), &Origin::Unattributed),
            },
        }
    }

    fn handle_timeout(&mut self, now: Timestamp) {
        if !self.closed {
            self.expire(now);
        }
    }

    fn poll_transmit(&mut self) -> Option<Outbound> {
        self.transmit.pop_front()
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Timestamp> {
        match &self.lease {
            Some(Lease::Live { expires_at, .. }) if !self.closed => Some(*expires_at),
            _ => None,
        }
    }

    fn is_closed(&self) -> bool {
        self.closed
    }

    fn view(&self) -> crate::session::SessionView {
        let auth = match (&self.lease, self.config.security) {
            (Some(Lease::Live { principal, .. }), _) => {
                crate::session::AuthView::Authenticated(principal.subject.clone())
            }
            (_, false) => crate::session::AuthView::Open,
            // No token yet, or the session timed out: the next message needs a new token.
            (_, true) => crate::session::AuthView::Pending,
        };
        let mut subscriptions: Vec<String> = self
            .subscriptions
            .values()
            .map(|c| c.as_str().to_owned())
            .collect();
        subscriptions.sort();
        crate::session::SessionView {
            auth,
            subscriptions,
        }
    }
}

impl std::fmt::Debug for MosaicSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MosaicSession")
            .field("config", &self.config)
            .field("key", &self.key)
            .field("authorised", &self.is_authorised())
            .field("principal", &self.principal())
            .field("subscriptions", &self.subscriptions)
            .field("unanswered", &self.slots.len())
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}
