//! "Client Implementation Examples": authenticate first, then subscribe, in either filter style.

use std::collections::BTreeMap;
use std::collections::VecDeque;

use super::client_message::Auth;
use super::client_message::ClientMessage;
use super::client_message::Ping;
use super::client_message::Subscribe;
use super::client_message::Unsubscribe;
use super::codes::Channel;
use super::error::DecodeError;
use super::filters::FilterStyle;
use super::filters::Filters;
use super::server_message::AuthResponse;
use super::server_message::ServerMessage;
use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::time::Timestamp;

/// Where a [`ValtronicsClient`] stands with authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthState {
    /// `auth` sent, no `auth_response` yet.
    Pending,
    /// `auth_response` with `success: true` received.
    Authenticated,
    /// `auth_response` with `success: false` received; [`ValtronicsClient::authenticate`]
    /// may try another token.
    Rejected,
}

/// What a [`ValtronicsClient`] reports to the application.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// The server accepted the token; queued subscriptions have been released.
    Authenticated,
    /// The server refused the token; subscriptions stay queued.
    AuthRejected(AuthResponse),
    /// Any other server message: a push, a pong, an error reply, an acknowledgement.
    Message(ServerMessage),
    /// A text message that does not decode as a server message.
    Undecodable {
        /// The message as received.
        text: String,
        /// Why it does not decode.
        error: DecodeError,
    },
    /// A binary message, which the API never sends.
    UnexpectedBinary {
        /// Its length in bytes.
        len: usize,
    },
}

/// The client side of a connection, as the document's clients behave: it sends `auth`
/// first, holds `subscribe` and `unsubscribe` until the server answers
/// `{"type":"auth_response","success":true}`, and places filters as its [`FilterStyle`] says.
///
/// Drive it like a server session: after connecting, and after each call to
/// [`ValtronicsClient::handle_frame`] or an application method, drain
/// [`ValtronicsClient::poll_transmit`] into the socket and [`ValtronicsClient::poll_event`]
/// into the application.
#[derive(Debug, Clone)]
pub struct ValtronicsClient {
    style: FilterStyle,
    state: AuthState,
    held: VecDeque<ClientMessage>,
    subscriptions: BTreeMap<Channel, Filters>,
    transmit: VecDeque<Outbound>,
    events: VecDeque<ClientEvent>,
}

impl ValtronicsClient {
    /// A client that authenticates with `token` and places filters as `style` says. The
    /// `auth` message is the first frame to transmit.
    pub fn new(token: impl Into<String>, style: FilterStyle) -> Self {
        let mut client = Self {
            style,
            state: AuthState::Pending,
            held: VecDeque::new(),
            subscriptions: BTreeMap::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
        };
        client.authenticate(token);
        client
    }

    /// Where authentication stands.
    pub fn auth_state(&self) -> AuthState {
        self.state
    }

    /// The subscriptions asked for, by channel (as the document's clients keep them).
    pub fn subscriptions(&self) -> &BTreeMap<Channel, Filters> {
        &self.subscriptions
    }

    /// Sends `auth` with `token` (again, after a rejection or to change tokens).
    pub fn authenticate(&mut self, token: impl Into<String>) {
        self.state = AuthState::Pending;
        self.transmit(&ClientMessage::Auth(Auth {
            token: token.into(),
        }));
    }

    /// Subscribes to `channel` with `filters`; held until authenticated.
    pub fn subscribe(&mut self, channel: Channel, filters: Filters) {
        self.subscriptions.insert(channel.clone(), filters.clone());
        let message = ClientMessage::from(Subscribe::new(channel, filters, self.style));
        self.send_when_authenticated(message);
    }

    /// Unsubscribes from `channel`; held until authenticated.
    pub fn unsubscribe(&mut self, channel: Channel) {
        self.subscriptions.remove(&channel);
        let message = ClientMessage::Unsubscribe(Unsubscribe {
            channel,
            device_id: None,
        });
        self.send_when_authenticated(message);
    }

    /// Sends `ping` with the time `now` (allowed before authentication).
    pub fn ping(&mut self, now: Timestamp) {
        self.transmit(&ClientMessage::Ping(Ping {
            timestamp: Some(now.to_rfc3339_secs()),
        }));
    }

    /// A message arrived from the server.
    pub fn handle_frame(&mut self, _now: Timestamp, frame: Inbound<'_>) {
        let text = match frame {
            Inbound::Text(text) => text,
            Inbound::Binary(bytes) => {
                self.events
                    .push_back(ClientEvent::UnexpectedBinary { len: bytes.len() });
                return;
            }
        };
        match ServerMessage::decode(text) {
            Ok(ServerMessage::AuthResponse(reply)) if reply.success => {
                self.state = AuthState::Authenticated;
                self.events.push_back(ClientEvent::Authenticated);
                while let Some(message) = self.held.pop_front() {
                    self.transmit(&message);
                }
            }
            Ok(ServerMessage::AuthResponse(reply)) => {
                self.state = AuthState::Rejected;
                self.events.push_back(ClientEvent::AuthRejected(reply));
            }
            Ok(message) => self.events.push_back(ClientEvent::Message(message)),
            Err(error) => self.events.push_back(ClientEvent::Undecodable {
                text: text.to_owned(),
                error,
            }),
        }
    }

    /// The next frame to send, in order.
    pub fn poll_transmit(&mut self) -> Option<Outbound> {
        self.transmit.pop_front()
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    fn send_when_authenticated(&mut self, message: ClientMessage) {
        if self.state == AuthState::Authenticated {
            self.transmit(&message);
        } else {
            self.held.push_back(message);
        }
    }

    fn transmit(&mut self, message: &ClientMessage) {
        self.transmit.push_back(Outbound::Text(message.to_text()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::valtronics::codes::DeviceId;
    use crate::valtronics::codes::Severity;

    fn sent(client: &mut ValtronicsClient) -> Vec<serde_json::Value> {
        std::iter::from_fn(|| client.poll_transmit())
            .map(|frame| match frame {
                Outbound::Text(text) => serde_json::from_str(&text).unwrap(),
                other => panic!("unexpected frame {other:?}"),
            })
            .collect()
    }

    fn now() -> Timestamp {
        Timestamp::from_unix_secs(1_704_110_400)
    }

    const OK: &str = r#"{"type":"auth_response","success":true}"#;
    const REFUSED: &str =
        r#"{"type":"auth_response","success":false,"error":"invalid_token","message":"expired"}"#;

    #[test]
    fn auth_goes_first_and_subscriptions_wait_for_success() {
        let mut client = ValtronicsClient::new("jwt", FilterStyle::Spread);
        client.subscribe(Channel::TELEMETRY, Filters::none().with_device(DeviceId(1)));
        client.unsubscribe(Channel::ALERTS);
        assert_eq!(
            sent(&mut client),
            vec![serde_json::json!({"type": "auth", "token": "jwt"})]
        );
        assert_eq!(client.auth_state(), AuthState::Pending);
        client.handle_frame(now(), Inbound::Text(OK));
        assert_eq!(client.poll_event(), Some(ClientEvent::Authenticated));
        assert_eq!(
            sent(&mut client),
            vec![
                serde_json::json!({"type": "subscribe", "channel": "telemetry", "device_id": 1}),
                serde_json::json!({"type": "unsubscribe", "channel": "alerts"}),
            ]
        );
        client.subscribe(Channel::DEVICES, Filters::none());
        assert_eq!(
            sent(&mut client),
            vec![serde_json::json!({"type": "subscribe", "channel": "devices"})],
            "after auth, sent at once"
        );
        assert_eq!(
            client.subscriptions().keys().collect::<Vec<_>>(),
            [&Channel::DEVICES, &Channel::TELEMETRY]
        );
    }

    #[test]
    fn nested_style_puts_filters_under_filters() {
        let mut client = ValtronicsClient::new("jwt", FilterStyle::Nested);
        client.handle_frame(now(), Inbound::Text(OK));
        client.subscribe(
            Channel::ALERTS,
            Filters::none().with_severity([Severity::CRITICAL, Severity::WARNING]),
        );
        assert_eq!(
            sent(&mut client).last(),
            Some(&serde_json::json!({
                "type": "subscribe", "channel": "alerts",
                "filters": {"severity": ["critical", "warning"]}
            }))
        );
    }

    #[test]
    fn rejection_keeps_subscriptions_held_until_a_later_success() {
        let mut client = ValtronicsClient::new("old", FilterStyle::Spread);
        client.subscribe(Channel::SYSTEM, Filters::none());
        client.handle_frame(now(), Inbound::Text(REFUSED));
        assert_eq!(client.auth_state(), AuthState::Rejected);
        assert!(matches!(
            client.poll_event(),
            Some(ClientEvent::AuthRejected(AuthResponse {
                success: false,
                ..
            }))
        ));
        assert_eq!(sent(&mut client).len(), 1, "only the first auth");
        client.authenticate("new");
        client.handle_frame(now(), Inbound::Text(OK));
        assert_eq!(
            sent(&mut client),
            vec![
                serde_json::json!({"type": "auth", "token": "new"}),
                serde_json::json!({"type": "subscribe", "channel": "system"}),
            ]
        );
    }

    #[test]
    fn ping_is_sent_before_auth_and_replies_become_events() {
        let mut client = ValtronicsClient::new("jwt", FilterStyle::Spread);
        client.ping(now());
        let frames = sent(&mut client);
        assert_eq!(
            frames.get(1),
            Some(&serde_json::json!({"type": "ping", "timestamp": "2024-01-01T12:00:00Z"}))
        );
        client.handle_frame(now(), Inbound::Text(r#"{"type":"pong"}"#));
        assert!(matches!(
            client.poll_event(),
            Some(ClientEvent::Message(ServerMessage::Pong(_)))
        ));
        client.handle_frame(now(), Inbound::Text(r#"{"type":"surprise"}"#));
        assert!(matches!(
            client.poll_event(),
            Some(ClientEvent::Undecodable {
                error: DecodeError::UnknownType(_),
                ..
            })
        ));
        client.handle_frame(now(), Inbound::Binary(&[1, 2, 3]));
        assert_eq!(
            client.poll_event(),
            Some(ClientEvent::UnexpectedBinary { len: 3 })
        );
        assert_eq!(client.poll_event(), None);
    }
}
