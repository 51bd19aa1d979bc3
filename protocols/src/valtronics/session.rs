//! "Connection Process" and "Rate Limiting": the server side of one connection.

use std::collections::BTreeMap;
use std::collections::VecDeque;
use std::time::Duration;

use super::client_message::Auth;
use super::client_message::ClientMessage;
use super::client_message::Subscribe;
use super::client_message::Unsubscribe;
use super::codes::Channel;
use super::endpoint::Endpoint;
use super::error::Response;
use super::error::Violation;
use super::filters::FilterError;
use super::filters::Filters;
use super::registry::Admission;
use super::registry::ConnectionRegistry;
use super::server_message::AuthResponse;
use super::server_message::Extra;
use super::server_message::Pong;
use super::server_message::ServerMessage;
use super::server_message::Subscribed;
use super::server_message::Unsubscribed;
use super::subscription::Subscription;
use crate::auth::Principal;
use crate::auth::SharedVerifier;
use crate::frame::Close;
use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::limits::SlidingWindow;
use crate::session::ServerSession;
use crate::time::Timestamp;

/// "Maximum 1KB message size": 1024 bytes; one more closes with 1009.
pub const MAX_MESSAGE_BYTES: usize = 1024;
/// "Maximum 100 messages per second per connection".
pub const MAX_MESSAGES_PER_SECOND: usize = 100;
/// "Batch messages limited to 50 items".
pub const MAX_BATCH_ITEMS: usize = 50;
/// Over-rate messages refused with an error reply within one second before the next one
/// closes with 1008 (this crate's threshold for "if it goes on", MAY).
pub const RATE_REFUSALS_BEFORE_CLOSE: usize = 10;

/// A server session's limits and options; [`Default`] is the documented set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Largest accepted message in bytes.
    pub max_message_bytes: usize,
    /// Messages admitted per connection per second; a batch counts as one message.
    pub max_messages_per_second: usize,
    /// Refused over-rate messages per second before closing with 1008.
    pub rate_refusals_before_close: usize,
    /// Most items in one batch.
    pub max_batch_items: usize,
    /// Whether `subscribe` / `unsubscribe` are acknowledged with `subscribed` /
    /// `unsubscribed` (MAY; the document shows no acknowledgement).
    pub acknowledge_subscriptions: bool,
    /// Deliberate deviations from the document; all off by default.
    pub faults: SessionFaults,
}

/// Deliberate deviations from the document, for proving that a checker catches each one
/// (`telewire serve --break`). All off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionFaults {
    /// Close an oversized message with 1008 instead of 1009, breaking "Maximum 1KB
    /// message size" (oversized messages close with 1009, Message Too Big).
    pub oversize_close_1008: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: MAX_MESSAGE_BYTES,
            max_messages_per_second: MAX_MESSAGES_PER_SECOND,
            rate_refusals_before_close: RATE_REFUSALS_BEFORE_CLOSE,
            max_batch_items: MAX_BATCH_ITEMS,
            acknowledge_subscriptions: true,
            faults: SessionFaults::default(),
        }
    }
}

/// What a [`ValtronicsSession`] reports to the application.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The connection authenticated as this principal.
    Authenticated(Principal),
    /// A subscription is now in force (replacing any earlier one on the channel); a
    /// specialised endpoint reports its implicit subscription this way too.
    Subscribed {
        /// The channel.
        channel: Channel,
        /// Its normalised filters.
        filters: Filters,
    },
    /// The channel's subscription is gone.
    Unsubscribed {
        /// The channel.
        channel: Channel,
    },
    /// The client broke a rule; [`Response::from`] says what the wire got.
    Violation(Violation),
}

/// What became of a message passed to [`ValtronicsSession::offer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// A push was queued.
    Sent,
    /// The channel's subscription filtered everything out.
    Filtered,
    /// The connection holds no subscription to the message's channel.
    NotSubscribed,
    /// The connection has not authenticated.
    NotAuthenticated,
    /// The message is not a data push (an auth reply, pong, error or acknowledgement).
    NotAPush,
    /// The session is closed.
    Closed,
}

/// The server side of one Valtronics connection, sans IO.
///
/// Create it when the WebSocket is accepted, with the [`Endpoint`] parsed from the request
/// path and the server's shared [`ConnectionRegistry`]; over the total cap it starts with an
/// error reply and a close queued. Then, as [`crate::session`] describes:
///
/// 1. feed each received text or binary message to [`ServerSession::handle_frame`] with
///    the time it arrived;
/// 2. offer each telemetry, alert, device status and system status message the
///    application produces with [`ValtronicsSession::offer`]; the session queues it, filtered,
///    only if a subscription lets it through;
/// 3. after each input, drain [`ServerSession::poll_transmit`] and write the frames in
///    order, then drain [`ServerSession::poll_event`];
/// 4. stop once [`ServerSession::is_closed`]: the last frame polled was a close.
///
/// The session has no timers: [`ServerSession::poll_timeout`] is always `None`. Dropping it
/// releases its place in the registry.
pub struct ValtronicsSession {
    config: SessionConfig,
    endpoint: Endpoint,
    verifier: SharedVerifier,
    admission: Option<Admission>,
    principal: Option<Principal>,
    subscriptions: BTreeMap<Channel, Subscription>,
    messages: SlidingWindow,
    refusals: SlidingWindow,
    transmit: VecDeque<Outbound>,
    events: VecDeque<Event>,
    closed: bool,
}

impl std::fmt::Debug for ValtronicsSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValtronicsSession")
            .field("endpoint", &self.endpoint)
            .field("principal", &self.principal)
            .field("subscriptions", &self.subscriptions)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl ValtronicsSession {
    /// A session for a connection accepted at `now` on `endpoint`, with the documented limits.
    pub fn new(
        now: Timestamp,
        endpoint: Endpoint,
        verifier: SharedVerifier,
        registry: &ConnectionRegistry,
    ) -> Self {
        Self::with_config(now, endpoint, verifier, registry, SessionConfig::default())
    }

    /// As [`ValtronicsSession::new`], with `config`.
    pub fn with_config(
        now: Timestamp,
        endpoint: Endpoint,
        verifier: SharedVerifier,
        registry: &ConnectionRegistry,
        config: SessionConfig,
    ) -> Self {
        let second = Duration::from_secs(1);
        let mut session = Self {
            messages: SlidingWindow::new(config.max_messages_per_second, second),
            refusals: SlidingWindow::new(config.rate_refusals_before_close, second),
            config,
            endpoint,
            verifier,
            admission: None,
            principal: None,
            subscriptions: BTreeMap::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            closed: false,
        };
        match registry.open(now) {
            Ok(admission) => session.admission = Some(admission),
            Err(refusal) => session.violate(Violation::ConnectionLimit(refusal)),
        }
        session
    }

    /// The endpoint the connection was accepted on.
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    /// Who the connection authenticated as.
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }

    /// The subscriptions in force, by channel.
    pub fn subscriptions(&self) -> impl Iterator<Item = &Subscription> {
        self.subscriptions.values()
    }

    /// Offers a data push produced at `now`: it is queued, filtered, when the connection is
    /// authenticated and its subscription to the message's channel lets it through.
    pub fn offer(&mut self, now: Timestamp, message: &ServerMessage) -> Offer {
        if self.closed {
            return Offer::Closed;
        }
        if self.principal.is_none() {
            return Offer::NotAuthenticated;
        }
        let Some(channel) = message.push_channel() else {
            return Offer::NotAPush;
        };
        let Some(subscription) = self.subscriptions.get_mut(&channel) else {
            return Offer::NotSubscribed;
        };
        match subscription.filter(now, message) {
            Some(push) => {
                self.send(push);
                Offer::Sent
            }
            None => Offer::Filtered,
        }
    }

    /// Closes the connection from the server side (shutdown, administrative action).
    pub fn close(&mut self, close: Close) {
        if !self.closed {
            self.transmit.push_back(Outbound::Close(close));
            self.shut();
        }
    }

    fn send(&mut self, message: ServerMessage) {
        self.transmit.push_back(Outbound::Text(message.to_text()));
    }

    fn shut(&mut self) {
        self.closed = true;
        self.admission = None;
        self.subscriptions.clear();
    }

    fn violate(&mut self, violation: Violation) {
        match Response::from(&violation) {
            Response::Reply(reply) => self.send(reply),
            Response::Close(mut close) => {
                if self.config.faults.oversize_close_1008
                    && matches!(violation, Violation::MessageTooLarge { .. })
                {
                    close.code = crate::frame::CloseCode::POLICY_VIOLATION;
                }
                self.close(close);
            }
            Response::ReplyThenClose(reply, close) => {
                self.send(reply);
                self.close(close);
            }
        }
        self.events.push_back(Event::Violation(violation));
    }

    fn process(&mut self, now: Timestamp, message: ClientMessage) {
        if self.closed {
            return;
        }
        match message {
            ClientMessage::Ping(ping) => self.send(ServerMessage::Pong(Pong {
                timestamp: ping.timestamp,
                server_time: Some(now.to_rfc3339_secs()),
                extra: Extra::new(),
            })),
            ClientMessage::Auth(auth) => self.authenticate(now, auth),
            ClientMessage::Batch(batch) => {
                if batch.messages.len() > self.config.max_batch_items {
                    self.violate(Violation::BatchTooLarge {
                        items: batch.messages.len(),
                        max: self.config.max_batch_items,
                    });
                    return;
                }
                for item in batch.messages {
                    self.process(now, item);
                }
            }
            other if self.principal.is_none() => self.violate(Violation::NotAuthenticated {
                message_type: other.message_type(),
            }),
            ClientMessage::Subscribe(subscribe) => self.subscribe(*subscribe),
            ClientMessage::Unsubscribe(unsubscribe) => self.unsubscribe(unsubscribe),
        }
    }

    fn authenticate(&mut self, now: Timestamp, auth: Auth) {
        if self.principal.is_some() {
            return self.violate(Violation::AlreadyAuthenticated);
        }
        let principal = match self.verifier.verify(&auth.token, now) {
            Ok(principal) => principal,
            Err(rejection) => return self.violate(Violation::InvalidToken(rejection)),
        };
        if let Some(admission) = &mut self.admission
            && let Err(refusal) = admission.identify(&principal.subject, now)
        {
            return self.violate(Violation::ConnectionLimit(refusal));
        }
        self.principal = Some(principal.clone());
        self.send(ServerMessage::AuthResponse(AuthResponse::accepted()));
        self.events.push_back(Event::Authenticated(principal));
        if let Some(channel) = self.endpoint.channel() {
            self.install(channel, Filters::none(), false);
        }
    }

    fn subscribe(&mut self, subscribe: Subscribe) {
        if !subscribe.channel.is_known() {
            return self.violate(Violation::UnknownChannel(subscribe.channel));
        }
        match subscribe.filters() {
            Ok(filters) => self.install(subscribe.channel, filters, true),
            Err(conflict) => self.violate(Violation::InvalidFilter(FilterError::from(conflict))),
        }
    }

    fn install(&mut self, channel: Channel, filters: Filters, acknowledge: bool) {
        let subscription = match Subscription::new(channel.clone(), filters.clone()) {
            Ok(subscription) => subscription,
            Err(error) => return self.violate(Violation::InvalidFilter(error)),
        };
        self.subscriptions.insert(channel.clone(), subscription);
        if acknowledge && self.config.acknowledge_subscriptions {
            self.send(ServerMessage::Subscribed(Subscribed {
                channel: channel.clone(),
                filters: filters.clone(),
                extra: Extra::new(),
            }));
        }
        self.events
            .push_back(Event::Subscribed { channel, filters });
    }

    fn unsubscribe(&mut self, unsubscribe: Unsubscribe) {
        let Unsubscribe { channel, device_id } = unsubscribe;
        if !channel.is_known() {
            return self.violate(Violation::UnknownChannel(channel));
        }
        let held = self.subscriptions.get(&channel).is_some_and(|s| {
            device_id
                .as_ref()
                .is_none_or(|devices| s.is_for_devices(devices))
        });
        if !held {
            return self.violate(Violation::NotSubscribed { channel, device_id });
        }
        self.subscriptions.remove(&channel);
        if self.config.acknowledge_subscriptions {
            self.send(ServerMessage::Unsubscribed(Unsubscribed {
                channel: channel.clone(),
                device_id,
                extra: Extra::new(),
            }));
        }
        self.events.push_back(Event::Unsubscribed { channel });
    }
}

impl ServerSession for ValtronicsSession {
    type Event = Event;

    fn handle_frame(&mut self, now: Timestamp, frame: Inbound<'_>) {
        if self.closed {
            return;
        }
        if frame.len() > self.config.max_message_bytes {
            return self.violate(Violation::MessageTooLarge {
                size: frame.len(),
                max: self.config.max_message_bytes,
            });
        }
        let Inbound::Text(text) = frame else {
            return self.violate(Violation::BinaryMessage);
        };
        if !self.messages.try_acquire(now) {
            let violation = if self.refusals.try_acquire(now) {
                Violation::RateLimited {
                    max: self.config.max_messages_per_second,
                }
            } else {
                Violation::RateLimitPersisted {
                    refused: self.config.rate_refusals_before_close,
                }
            };
            return self.violate(violation);
        }
        match ClientMessage::decode(text) {
            Ok(message) => self.process(now, message),
            Err(error) => self.violate(Violation::Malformed(error)),
        }
    }

    fn handle_timeout(&mut self, _now: Timestamp) {}

    fn poll_transmit(&mut self) -> Option<Outbound> {
        self.transmit.pop_front()
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Timestamp> {
        None
    }

    fn is_closed(&self) -> bool {
        self.closed
    }

    fn view(&self) -> crate::session::SessionView {
        crate::session::SessionView {
            auth: match &self.principal {
                Some(p) => crate::session::AuthView::Authenticated(p.subject.clone()),
                None => crate::session::AuthView::Pending,
            },
            subscriptions: self
                .subscriptions
                .keys()
                .map(|c| c.as_str().to_owned())
                .collect(),
        }
    }
}
