//! Keep Alive and Detecting Disconnect, client side: when to send, what the reply means.

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::Map;
use serde_json::Value;

use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::time::Timestamp;

use super::KEEPALIVE_INTERVAL;
use super::channel::Channel;
use super::error::DecodeError;
use super::keepalive::KeepaliveReply;
use super::keepalive::SessionKey;
use super::messages::ClientMessage;
use super::messages::Keepalive;
use super::messages::Request;
use super::messages::RequestId;
use super::messages::Subscribe;
use super::replies::ServerFrame;
use super::replies::ServerMessage;

/// Client settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// How often to send a keepalive, and how long silence may last before reconnecting.
    pub keepalive_interval: Duration,
    /// The bearer token when controller security is enabled; `None` without security.
    pub token: Option<String>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            keepalive_interval: KEEPALIVE_INTERVAL,
            token: None,
        }
    }
}

/// What the client session reports.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// A text message from the server (replies, broadcasts, error replies, and `{}`,
    /// the keepalive reply without security).
    Message(ServerMessage),
    /// A non-zero keepalive reply: the session is valid.
    SessionValid(SessionKey),
    /// The keepalive reply carried a different session key than before: the controller
    /// restarted.
    ControllerRestarted {
        /// The key of the previous boot.
        previous: SessionKey,
        /// The key now.
        current: SessionKey,
    },
    /// 16 zero bytes: "the session has timed out. You should close the WebSocket and
    /// re-authenticate". The session stops; [`ClientSession::is_closed`] is true.
    SessionTimedOut,
    /// A frame from the server did not decode; it is reported, not dropped.
    Undecodable(DecodeError),
    /// Nothing was received for a whole keepalive interval: close and reconnect. The
    /// session stops; [`ClientSession::is_closed`] is true.
    Reconnect,
}

/// The client side of one `/query` connection: sends a keepalive every interval (with the
/// token when security is on), interprets what comes back, and says when to reconnect.
///
/// # Driving it
///
/// Create it when the socket opens (a first keepalive is queued at once). Feed every
/// received frame to [`ClientSession::handle_frame`], call
/// [`ClientSession::handle_timeout`] when [`ClientSession::poll_timeout`] passes, and after
/// each input drain [`ClientSession::poll_transmit`] (write the frames) and
/// [`ClientSession::poll_event`]. Once [`ClientSession::is_closed`], close the socket and
/// start over (re-authenticating after [`ClientEvent::SessionTimedOut`]).
#[derive(Debug, Clone)]
pub struct ClientSession {
    config: ClientConfig,
    next_keepalive: Timestamp,
    last_received: Timestamp,
    session_key: Option<SessionKey>,
    next_id: u64,
    transmit: VecDeque<Outbound>,
    events: VecDeque<ClientEvent>,
    closed: bool,
}

impl ClientSession {
    /// A session for a socket opened at `now`; the first keepalive is queued.
    pub fn new(now: Timestamp, config: ClientConfig) -> Self {
        let mut session = Self {
            next_keepalive: now,
            last_received: now,
            session_key: None,
            next_id: 1,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            closed: false,
            config,
        };
        session.send_keepalive(now);
        session
    }

    /// Replaces the token (after re-authenticating).
    pub fn set_token(&mut self, token: Option<String>) {
        self.config.token = token;
    }

    /// The last session key received.
    pub fn session_key(&self) -> Option<SessionKey> {
        self.session_key
    }

    /// Queues a request for `channel` with `params`, and returns the id its reply will
    /// echo.
    pub fn request(&mut self, channel: Channel, params: Map<String, Value>) -> RequestId {
        let id = RequestId::from(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        self.send(ClientMessage::Request(Request {
            channel,
            id: Some(id.clone()),
            token: self.config.token.clone(),
            params,
        }));
        id
    }

    /// Queues a subscription to `channel`.
    pub fn subscribe(&mut self, channel: Channel) {
        self.send(ClientMessage::Subscribe(Subscribe {
            channel,
            token: self.config.token.clone(),
            extra: Map::new(),
        }));
    }

    /// A frame arrived from the server at `now`.
    pub fn handle_frame(&mut self, now: Timestamp, frame: Inbound<'_>) {
        if self.closed {
            return;
        }
        self.last_received = now;
        let event = match ServerFrame::decode(frame) {
            Ok(ServerFrame::Message(message)) => ClientEvent::Message(message),
            Ok(ServerFrame::Keepalive(KeepaliveReply::TimedOut)) => {
                self.closed = true;
                ClientEvent::SessionTimedOut
            }
            Ok(ServerFrame::Keepalive(KeepaliveReply::SessionKey(current))) => {
                match self.session_key.replace(current) {
                    Some(previous) if previous != current => {
                        ClientEvent::ControllerRestarted { previous, current }
                    }
                    _ => ClientEvent::SessionValid(current),
                }
            }
            Err(e) => ClientEvent::Undecodable(e),
        };
        self.events.push_back(event);
    }

    /// The deadline from [`ClientSession::poll_timeout`] passed: send the next keepalive,
    /// or, when nothing arrived for a whole interval, say [`ClientEvent::Reconnect`].
    pub fn handle_timeout(&mut self, now: Timestamp) {
        if self.closed || now < self.next_keepalive {
            return;
        }
        if now.saturating_since(self.last_received) >= self.config.keepalive_interval {
            self.closed = true;
            self.events.push_back(ClientEvent::Reconnect);
        } else {
            self.send_keepalive(now);
        }
    }

    /// When to call [`ClientSession::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        (!self.closed).then_some(self.next_keepalive)
    }

    /// The next frame to write.
    pub fn poll_transmit(&mut self) -> Option<Outbound> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// Whether the session ended (timed out, or reconnect needed).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    fn send_keepalive(&mut self, now: Timestamp) {
        self.send(ClientMessage::Keepalive(Keepalive {
            token: self.config.token.clone(),
        }));
        self.next_keepalive = now + self.config.keepalive_interval;
    }

    fn send(&mut self, message: ClientMessage) {
        self.transmit.push_back(Outbound::Text(message.to_text()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Timestamp {
        Timestamp::from_unix_secs(n)
    }

    fn key(b: u8) -> SessionKey {
        SessionKey::new([b; 16]).unwrap()
    }

    fn texts(c: &mut ClientSession) -> Vec<String> {
        std::iter::from_fn(|| c.poll_transmit())
            .map(|o| match o {
                Outbound::Text(t) => t,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn sends_a_keepalive_every_interval_with_the_token() {
        let mut c = ClientSession::new(
            secs(0),
            ClientConfig {
                token: Some("jwt".into()),
                ..ClientConfig::default()
            },
        );
        assert_eq!(texts(&mut c), [r#"{"token":"jwt"}"#]);
        assert_eq!(c.poll_timeout(), Some(secs(10)));
        c.handle_frame(secs(1), Inbound::Binary(&[7; 16]));
        assert_eq!(c.poll_event(), Some(ClientEvent::SessionValid(key(7))));
        c.handle_timeout(secs(9));
        assert!(texts(&mut c).is_empty(), "not due yet");
        c.handle_timeout(secs(10));
        assert_eq!(texts(&mut c), [r#"{"token":"jwt"}"#]);
        assert_eq!(c.poll_timeout(), Some(secs(20)));
    }

    #[test]
    fn without_security_the_keepalive_is_an_empty_object() {
        let mut c = ClientSession::new(secs(0), ClientConfig::default());
        assert_eq!(texts(&mut c), ["{}"]);
        c.handle_frame(secs(0), Inbound::Text("{}"));
        assert_eq!(
            c.poll_event(),
            Some(ClientEvent::Message(ServerMessage::KeepaliveAck))
        );
    }

    #[test]
    fn silence_for_an_interval_means_reconnect() {
        let mut c = ClientSession::new(secs(0), ClientConfig::default());
        texts(&mut c);
        c.handle_timeout(secs(10));
        assert_eq!(c.poll_event(), Some(ClientEvent::Reconnect));
        assert!(c.is_closed());
        assert_eq!(c.poll_timeout(), None);
        assert!(texts(&mut c).is_empty());
    }

    #[test]
    fn zeros_mean_timed_out() {
        let mut c = ClientSession::new(secs(0), ClientConfig::default());
        c.handle_frame(secs(1), Inbound::Binary(&[0; 16]));
        assert_eq!(c.poll_event(), Some(ClientEvent::SessionTimedOut));
        assert!(c.is_closed());
    }

    #[test]
    fn a_new_key_means_the_controller_restarted() {
        let mut c = ClientSession::new(secs(0), ClientConfig::default());
        c.handle_frame(secs(1), Inbound::Binary(&[1; 16]));
        c.handle_frame(secs(11), Inbound::Binary(&[1; 16]));
        c.handle_frame(secs(21), Inbound::Binary(&[2; 16]));
        let events: Vec<_> = std::iter::from_fn(|| c.poll_event()).collect();
        assert_eq!(
            events,
            [
                ClientEvent::SessionValid(key(1)),
                ClientEvent::SessionValid(key(1)),
                ClientEvent::ControllerRestarted {
                    previous: key(1),
                    current: key(2)
                }
            ]
        );
    }

    #[test]
    fn bad_frames_are_reported() {
        let mut c = ClientSession::new(secs(0), ClientConfig::default());
        c.handle_frame(secs(1), Inbound::Binary(&[1; 4]));
        c.handle_frame(secs(1), Inbound::Text("nope"));
        assert!(matches!(
            c.poll_event(),
            Some(ClientEvent::Undecodable(DecodeError::Binary { .. }))
        ));
        assert!(matches!(
            c.poll_event(),
            Some(ClientEvent::Undecodable(DecodeError::Json(_)))
        ));
    }

    #[test]
    fn requests_get_fresh_ids_and_the_token() {
        let mut c = ClientSession::new(
            secs(0),
            ClientConfig {
                token: Some("t".into()),
                ..ClientConfig::default()
            },
        );
        texts(&mut c);
        assert_eq!(c.request(Channel::SYSTEM, Map::new()), RequestId::from(1));
        assert_eq!(c.request(Channel::LOG, Map::new()), RequestId::from(2));
        c.subscribe(Channel::BEACON);
        assert_eq!(
            texts(&mut c),
            [
                r#"{"request":"system","id":1,"token":"t"}"#,
                r#"{"request":"log","id":2,"token":"t"}"#,
                r#"{"subscribe":"beacon","token":"t"}"#
            ]
        );
    }
}
