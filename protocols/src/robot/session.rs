//! robot.txt "Connecting to the WebSocket" and "Messages": one connection's server-side state machine.

use std::collections::BTreeSet;
use std::collections::VecDeque;
use std::fmt;

use crate::auth::Principal;
use crate::auth::SharedVerifier;
use crate::auth::TokenRejection;
use crate::frame::Close;
use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::limits::SlidingWindow;
use crate::session::ServerSession;
use crate::time::Timestamp;

use super::auth::Rejection;
use super::auth::authorize;
use super::broker::Delivery;
use super::codes::Topic;
use super::config::SessionConfig;
use super::error::Response;
use super::error::Violation;
use super::messages::Ack;
use super::messages::AckKind;
use super::messages::ClientMessage;
use super::messages::Payload;
use super::messages::ServerMessage;

/// What a [`RobotSession`] reports to the application.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The client subscribed to a topic it was not subscribed to: add it to the broker.
    Subscribed {
        /// The topic.
        topic: Topic,
    },
    /// The client left a topic it was subscribed to: remove it from the broker.
    Unsubscribed {
        /// The topic.
        topic: Topic,
    },
    /// The client published: route the payload to the topic's subscribers
    /// ([`super::Broker::apply`] or [`super::Broker::publish`]).
    Published {
        /// The topic.
        topic: Topic,
        /// The `{name, type, data}` payload, whichever form it was sent in.
        payload: Payload,
    },
    /// A message or the connection was refused; the client has been told (error reply or
    /// close frame). For the server's log.
    Refused(Violation),
}

/// The server side of one robot WebSocket connection (sans-IO).
///
/// # Driving it
///
/// 1. Before the upgrade, either check the token with [`super::authorize`] (answer HTTP 401
///    with [`Rejection::body`] on failure) or leave it to the session; then build it with
///    [`RobotSession::connect`], which checks the token again and, if it is refused, starts
///    closed with close 1008 queued. A connection refused for another reason (the broker is
///    full) is built with [`RobotSession::refused`].
/// 2. Feed each text or binary frame to [`ServerSession::handle_frame`] with the current
///    time; call [`ServerSession::handle_timeout`] once [`ServerSession::poll_timeout`]'s
///    deadline (the token's expiry) has passed.
/// 3. After every input, drain [`ServerSession::poll_transmit`] and write the frames in
///    order, then drain [`ServerSession::poll_event`]: route [`Event::Published`] through
///    the [`super::Broker`] and keep it in step with [`Event::Subscribed`] and
///    [`Event::Unsubscribed`] ([`super::Broker::apply`] does both).
/// 4. Hand every [`Delivery`] routed to this connection to [`RobotSession::deliver`] and
///    drain `poll_transmit` again.
/// 5. Once [`ServerSession::is_closed`], write the queued close frame, read no more, and
///    [`super::Broker::disconnect`] the connection.
///
/// # Rules
///
/// Each message is answered in order: refused ones with an error reply
/// `{"action":"error",...}` and the connection kept open, except a bad token (close 1008)
/// and a rate excess that persists (close 1008). Accepted ones produce an event and, when
/// [`SessionConfig::acks`] is set, an acknowledgement. Input after the close is ignored.
pub struct RobotSession {
    config: SessionConfig,
    verifier: Option<SharedVerifier>,
    token: String,
    principal: Option<Principal>,
    subscriptions: BTreeSet<Topic>,
    rate: SlidingWindow,
    strikes: u32,
    transmit: VecDeque<Outbound>,
    events: VecDeque<Event>,
    closed: bool,
}

impl fmt::Debug for RobotSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RobotSession")
            .field("principal", &self.principal)
            .field("subscriptions", &self.subscriptions)
            .field("strikes", &self.strikes)
            .field("queued", &self.transmit.len())
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl RobotSession {
    /// A connection that presented `token` (the `?token=` value, percent-decoded; see
    /// [`super::token_from_query`]) at `now`. A missing or refused token leaves the session
    /// closed with close 1008 and the reason queued (MUST).
    pub fn connect(
        token: Option<&str>,
        verifier: SharedVerifier,
        config: SessionConfig,
        now: Timestamp,
    ) -> Self {
        let mut session = Self::blank(config);
        match authorize(token, &*verifier, now) {
            Ok(principal) => {
                session.principal = Some(principal);
                session.token = token.unwrap_or_default().to_owned();
                session.verifier = Some(verifier);
            }
            Err(rejection) => session.refuse(rejection.violation()),
        }
        session
    }

    /// A connection refused at connect time: it transmits only the close frame for
    /// `rejection` (1008 with the token's fault for a token, 1013 for a full server).
    pub fn refused(rejection: Rejection) -> Self {
        let mut session = Self::blank(SessionConfig::DEFAULT);
        session.refuse(rejection.violation());
        session
    }

    fn blank(config: SessionConfig) -> Self {
        Self {
            config,
            verifier: None,
            token: String::new(),
            principal: None,
            subscriptions: BTreeSet::new(),
            rate: SlidingWindow::new(config.limits.max_messages, config.limits.window),
            strikes: 0,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            closed: false,
        }
    }

    /// Who the token speaks for (`None` for a refused connection).
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Whether the client is subscribed to `topic`.
    pub fn is_subscribed(&self, topic: &Topic) -> bool {
        self.subscriptions.contains(topic)
    }

    /// The client's topics, in order.
    pub fn subscriptions(&self) -> impl Iterator<Item = &Topic> {
        self.subscriptions.iter()
    }

    /// Queues `delivery` for the client if it is (still) subscribed to its topic; returns
    /// whether it was queued. A delivery routed before an unsubscribe that the session has
    /// since handled is not sent: an unsubscribe stops delivery at once.
    pub fn deliver(&mut self, delivery: &Delivery) -> bool {
        if self.closed || !self.subscriptions.contains(delivery.topic()) {
            return false;
        }
        self.transmit
            .push_back(Outbound::Text(delivery.text().to_owned()));
        true
    }

    /// Closes the connection with `close` (server shutdown, an administrator's kick).
    pub fn close(&mut self, close: Close) {
        if !self.closed {
            self.transmit.push_back(Outbound::Close(close));
            self.closed = true;
        }
    }

    /// Answers `violation` as [`Violation::response`] says and reports it.
    fn refuse(&mut self, violation: Violation) {
        match violation.response() {
            Response::Reply(reply) => self.send(&ServerMessage::Error(reply)),
            Response::Close(close) => self.close(close),
        }
        self.events.push_back(Event::Refused(violation));
    }

    fn send(&mut self, message: &ServerMessage) {
        self.transmit.push_back(Outbound::Text(message.to_text()));
    }

    fn ack(&mut self, kind: AckKind, topic: &Topic) {
        if self.config.acks {
            self.send(&ServerMessage::Ack(Ack {
                kind,
                topic: topic.clone(),
            }));
        }
    }

    /// Re-checks the token (expiry, revocation) when enforcement is on; closes if refused.
    fn token_valid(&mut self, now: Timestamp) -> bool {
        if !self.config.enforce_token_expiry {
            return true;
        }
        let verdict = match &self.verifier {
            Some(verifier) => verifier.verify(&self.token, now).map(|_| ()),
            None => Err(TokenRejection::Missing),
        };
        match verdict {
            Ok(()) => true,
            Err(rejection) => {
                self.refuse(Violation::Token(rejection));
                false
            }
        }
    }

    /// Admits a message under the rate limit, or refuses it (and closes once refusals
    /// persist).
    fn admit(&mut self, now: Timestamp) -> bool {
        if self.rate.try_acquire(now) {
            self.strikes = 0;
            return true;
        }
        self.strikes = self.strikes.saturating_add(1);
        let limits = self.config.limits;
        if self.strikes >= limits.max_rate_strikes {
            self.refuse(Violation::RateLimitPersisted {
                strikes: self.strikes,
            });
        } else {
            self.refuse(Violation::RateLimited {
                max: limits.max_messages,
                window: limits.window,
            });
        }
        false
    }

    fn check_topic(&self, topic: &Topic) -> Result<(), Violation> {
        let max = self.config.limits.max_topic_bytes;
        if topic.is_empty() {
            Err(Violation::EmptyTopic)
        } else if topic.len() > max {
            Err(Violation::TopicTooLong {
                len: topic.len(),
                max,
            })
        } else {
            Ok(())
        }
    }

    fn handle_message(&mut self, message: ClientMessage) -> Result<(), Violation> {
        self.check_topic(message.topic())?;
        match message {
            ClientMessage::Subscribe { topic } => {
                if !self.subscriptions.contains(&topic) {
                    let max = self.config.limits.max_topics_per_connection;
                    if self.subscriptions.len() >= max {
                        return Err(Violation::TooManyTopics { max });
                    }
                    self.subscriptions.insert(topic.clone());
                    self.events.push_back(Event::Subscribed {
                        topic: topic.clone(),
                    });
                }
                self.ack(AckKind::Subscribed, &topic);
            }
            ClientMessage::Unsubscribe { topic } => {
                if self.subscriptions.remove(&topic) {
                    self.events.push_back(Event::Unsubscribed {
                        topic: topic.clone(),
                    });
                }
                self.ack(AckKind::Unsubscribed, &topic);
            }
            ClientMessage::Publish { topic, data } => {
                if topic == Topic::SERVER_LOGS {
                    return Err(Violation::ReservedTopic { topic });
                }
                self.ack(AckKind::Published, &topic);
                self.events.push_back(Event::Published {
                    topic,
                    payload: data.into_payload(),
                });
            }
        }
        Ok(())
    }
}

impl ServerSession for RobotSession {
    type Event = Event;

    fn handle_frame(&mut self, now: Timestamp, frame: Inbound<'_>) {
        if self.closed || !self.token_valid(now) || !self.admit(now) {
            return;
        }
        let text = match frame {
            Inbound::Binary(bytes) => {
                return self.refuse(Violation::BinaryFrame { len: bytes.len() });
            }
            Inbound::Text(text) => text,
        };
        let max = self.config.limits.max_message_bytes;
        if text.len() > max {
            return self.refuse(Violation::MessageTooLarge {
                size: text.len(),
                max,
            });
        }
        let outcome = ClientMessage::decode(text)
            .map_err(Violation::Malformed)
            .and_then(|message| self.handle_message(message));
        if let Err(violation) = outcome {
            self.refuse(violation);
        }
    }

    fn handle_timeout(&mut self, now: Timestamp) {
        if let Some(deadline) = self.poll_timeout()
            && now >= deadline
        {
            self.refuse(Violation::Token(TokenRejection::Expired));
        }
    }

    fn poll_transmit(&mut self) -> Option<Outbound> {
        self.transmit.pop_front()
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The token's expiry, while the connection is open and expiry is enforced.
    fn poll_timeout(&self) -> Option<Timestamp> {
        if self.closed || !self.config.enforce_token_expiry {
            return None;
        }
        self.principal.as_ref().map(|p| p.expires_at)
    }

    fn is_closed(&self) -> bool {
        self.closed
    }

    fn view(&self) -> crate::session::SessionView {
        crate::session::SessionView {
            // The token is checked when the socket opens.
            auth: match &self.principal {
                Some(p) => crate::session::AuthView::Authenticated(p.subject.clone()),
                None => crate::session::AuthView::Refused,
            },
            subscriptions: self.subscriptions.iter().map(ToString::to_string).collect(),
        }
    }
}
