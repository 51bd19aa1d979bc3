//! "Complete Example", "Error Handling", "Reconnection with backoff": the client side.

use std::collections::VecDeque;
use std::time::Duration;

use crate::frame::Close;
use crate::frame::CloseCode;
use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::time::Timestamp;

use super::error::DecodeError;
use super::frames::Content;
use super::frames::DataFrame;
use super::frames::MessageType;
use super::handshake::FieldTooLong;
use super::handshake::Handshake;
use super::labels::LabelCache;
use super::labels::Reading;
use super::messages::AuthResponse;
use super::messages::AuthStatus;
use super::messages::Command;

/// The first reconnect delay.
pub const RECONNECT_BASE: Duration = Duration::from_secs(1);
/// The longest reconnect delay ("cap at 30s").
pub const RECONNECT_CAP: Duration = Duration::from_secs(30);

/// "Math.min(1000 * 2 ** attempt, 30000)": the delay before reconnect attempt `attempt`
/// (counted from 0), in milliseconds doubling from 1 s up to 30 s.
pub fn reconnect_delay(attempt: u32) -> Duration {
    let cap = RECONNECT_CAP.as_millis();
    let millis = 2u128
        .checked_pow(attempt)
        .and_then(|factor| factor.checked_mul(RECONNECT_BASE.as_millis()))
        .map_or(cap, |ms| ms.min(cap));
    Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
}

/// "Always check expiresAt before connecting. If the token has expired, re-authenticate
/// before opening the WebSocket."
pub fn should_reauthenticate(expires_at: Timestamp, now: Timestamp) -> bool {
    now >= expires_at
}

/// What the client should do after the connection closed ("Error Handling").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseAction {
    /// Code 1000: a normal close; do not reconnect.
    Done,
    /// Code 1008 ("Token rejected- re-authenticate"), or auth status 0 ("Re-authenticate
    /// and retry"): get a new token, then reconnect with backoff.
    Reauthenticate,
    /// Code 1009: "Handshake too large- contact support"; retrying will not help.
    ContactSupport,
    /// Any other code: reconnect with the same token after [`reconnect_delay`].
    Reconnect,
}

/// A frame the client could not use, or an input it refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The first frame is not a 3-byte auth response.
    #[error("first frame is not an auth response: {0}")]
    NotAnAuthResponse(DecodeError),
    /// The server sent text; "all frames are binary".
    #[error("text frame; all frames are binary")]
    TextFrame,
    /// A data frame whose header, UTF-8 or telemetry JSON is malformed ("Decode error",
    /// "Telemetry parse error"); it is dropped.
    #[error("malformed data frame: {0}")]
    BadFrame(DecodeError),
    /// A command was sent before authentication.
    #[error("not authenticated")]
    NotAuthenticated,
    /// The connection is closed or closing.
    #[error("connection closed")]
    Closed,
}

/// What a [`ClientSession`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// `[2][1][0x04]`: "Connected and authenticated".
    Authenticated,
    /// The auth response's status was not 1; the client closes ("Auth failed").
    AuthFailed {
        /// The status received.
        status: AuthStatus,
    },
    /// A type-100 frame, each item's label resolved through the session's [`LabelCache`].
    Telemetry(Vec<Reading>),
    /// A type-1 frame.
    CommandResponse(String),
    /// A type-2 frame.
    DeviceLog(String),
    /// Any other type, passed through raw and never rejected.
    Unknown {
        /// Byte 0.
        message_type: MessageType,
        /// The whole frame as received.
        frame: Vec<u8>,
    },
    /// A frame that could not be used; the connection stays as it was unless the error was
    /// in the auth response.
    Error(ClientError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitingAuth,
    Authenticated,
    Closed,
}

/// The document's `MoleculeWS` client, sans-IO.
///
/// # Driving it
///
/// Create it with [`ClientSession::new`] when the WebSocket opens: the handshake is queued
/// at once ("Immediately after the connection opens"). Then, in a loop: write what
/// [`ClientSession::poll_transmit`] yields, feed each received message to
/// [`ClientSession::handle_frame`], and drain [`ClientSession::poll_event`]. When the
/// connection closes, [`ClientSession::handle_close`] says what to do next.
///
/// The first frame received is the auth response: both detection styles of the document
/// (`length === 3 && data[2] === 0x04`, and "the first message") agree on a conforming
/// server, which always sends exactly 3 bytes first. Later frames are data frames, even
/// when they happen to be 3 bytes ending in `0x04`.
#[derive(Debug)]
pub struct ClientSession {
    state: State,
    auth_failed: bool,
    labels: LabelCache,
    transmit: VecDeque<Outbound>,
    events: VecDeque<ClientEvent>,
}

impl ClientSession {
    /// A client for `gateway_id` with `token`, its handshake queued.
    pub fn new(gateway_id: &str, token: &str) -> Result<Self, FieldTooLong> {
        let handshake = Handshake::new(gateway_id, token)?.to_bytes();
        Ok(Self {
            state: State::AwaitingAuth,
            auth_failed: false,
            labels: LabelCache::new(),
            transmit: VecDeque::from([Outbound::Binary(handshake)]),
            events: VecDeque::new(),
        })
    }

    /// Whether `[2][1][0x04]` arrived and the connection is open.
    pub fn is_authenticated(&self) -> bool {
        self.state == State::Authenticated
    }

    /// Whether the client has queued its close or saw the connection close.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// The labels seen so far.
    pub fn labels(&self) -> &LabelCache {
        &self.labels
    }

    /// Queues a command for the gateway (MAY), answered by a [`ClientEvent::CommandResponse`].
    pub fn send_command(&mut self, text: &str) -> Result<(), ClientError> {
        match self.state {
            State::AwaitingAuth => return Err(ClientError::NotAuthenticated),
            State::Closed => return Err(ClientError::Closed),
            State::Authenticated => {}
        }
        let mut out = Vec::new();
        Command::new(text).encode(&mut out);
        self.transmit.push_back(Outbound::Binary(out));
        Ok(())
    }

    /// "disconnect()": queues a normal close.
    pub fn disconnect(&mut self) -> Result<(), ClientError> {
        if self.state == State::Closed {
            return Err(ClientError::Closed);
        }
        self.close(Close::new(CloseCode::NORMAL, "client disconnect"));
        Ok(())
    }

    /// The next frame to write to the server.
    pub fn poll_transmit(&mut self) -> Option<Outbound> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// A message arrived from the server.
    pub fn handle_frame(&mut self, frame: Inbound<'_>) {
        let bytes = match (self.state, frame) {
            (State::Closed, _) => return,
            (_, Inbound::Text(_)) => return self.error(ClientError::TextFrame),
            (_, Inbound::Binary(bytes)) => bytes,
        };
        if self.state == State::AwaitingAuth {
            return self.handle_auth_response(bytes);
        }
        match DataFrame::decode(bytes).and_then(|f| f.content()) {
            Ok(Content::Telemetry(telemetry)) => {
                let readings = self.labels.apply(&telemetry);
                self.events.push_back(ClientEvent::Telemetry(readings));
            }
            Ok(Content::CommandResponse(text)) => self
                .events
                .push_back(ClientEvent::CommandResponse(text.to_owned())),
            Ok(Content::DeviceLog(line)) => {
                self.events
                    .push_back(ClientEvent::DeviceLog(line.to_owned()));
            }
            Ok(Content::Unknown { message_type, .. }) => {
                self.events.push_back(ClientEvent::Unknown {
                    message_type,
                    frame: bytes.to_vec(),
                });
            }
            Err(err) => self.error(ClientError::BadFrame(err)),
        }
    }

    /// The connection closed with `close`: what the document says to do next.
    pub fn handle_close(&mut self, close: &Close) -> CloseAction {
        self.state = State::Closed;
        match close.code {
            CloseCode::MESSAGE_TOO_BIG => CloseAction::ContactSupport,
            _ if self.auth_failed => CloseAction::Reauthenticate,
            CloseCode::NORMAL => CloseAction::Done,
            CloseCode::POLICY_VIOLATION => CloseAction::Reauthenticate,
            _ => CloseAction::Reconnect,
        }
    }

    fn handle_auth_response(&mut self, bytes: &[u8]) {
        match AuthResponse::decode(bytes) {
            Ok(resp) if resp.is_success() => {
                self.state = State::Authenticated;
                self.events.push_back(ClientEvent::Authenticated);
            }
            Ok(resp) => {
                self.auth_failed = true;
                self.events.push_back(ClientEvent::AuthFailed {
                    status: resp.status,
                });
                self.close(Close::new(CloseCode::NORMAL, "auth failed"));
            }
            Err(err) => {
                self.error(ClientError::NotAnAuthResponse(err));
                self.close(Close::new(
                    CloseCode::PROTOCOL_ERROR,
                    "expected a 3-byte auth response",
                ));
            }
        }
    }

    fn error(&mut self, err: ClientError) {
        self.events.push_back(ClientEvent::Error(err));
    }

    fn close(&mut self, close: Close) {
        self.transmit.push_back(Outbound::Close(close));
        self.state = State::Closed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::CloseCode;
    use crate::molecule::TokenResponse;
    use crate::molecule::build_handshake;

    const T0: Timestamp = Timestamp::from_unix_secs(1_700_000_000);
    const STATUS_0: [u8; 3] = [2, 0, 4];
    const STATUS_1: [u8; 3] = [2, 1, 4];

    fn close(code: CloseCode, reason: &str) -> Outbound {
        Outbound::Close(Close::new(code, reason))
    }

    fn client() -> ClientSession {
        ClientSession::new("demo-gateway", "good").unwrap()
    }

    fn client_events(c: &mut ClientSession) -> Vec<ClientEvent> {
        std::iter::from_fn(|| c.poll_event()).collect()
    }

    #[test]
    fn client_sends_the_handshake_first() {
        let mut c = client();
        assert_eq!(
            c.poll_transmit(),
            Some(Outbound::Binary(
                build_handshake("demo-gateway", "good").unwrap()
            ))
        );
        assert_eq!(c.poll_transmit(), None);
        assert_eq!(c.send_command("x"), Err(ClientError::NotAuthenticated));
        let long = "x".repeat(65_536);
        assert!(ClientSession::new("g", &long).is_err());
    }

    #[test]
    fn client_treats_the_first_frame_as_the_auth_response() {
        let mut c = client();
        c.handle_frame(Inbound::Binary(&STATUS_1));
        assert!(c.is_authenticated());
        // Later 3-byte frames ending in 0x04 are data, not auth responses.
        c.handle_frame(Inbound::Binary(&[2, 0, 4]));
        assert_eq!(
            client_events(&mut c),
            [
                ClientEvent::Authenticated,
                ClientEvent::DeviceLog("\u{4}".into())
            ]
        );
    }

    // "Auth response success = 0 | Re-authenticate and retry".
    #[test]
    fn client_closes_after_status_0_and_reauthenticates() {
        let mut c = client();
        c.poll_transmit();
        c.handle_frame(Inbound::Binary(&STATUS_0));
        assert_eq!(
            client_events(&mut c),
            [ClientEvent::AuthFailed {
                status: AuthStatus::FAILED
            }]
        );
        assert_eq!(
            c.poll_transmit(),
            Some(close(CloseCode::NORMAL, "auth failed"))
        );
        assert!(c.is_closed());
        assert_eq!(
            c.handle_close(&Close::new(CloseCode::PROTOCOL_ERROR, "")),
            CloseAction::Reauthenticate
        );
    }

    #[test]
    fn client_rejects_a_first_frame_that_is_not_an_auth_response() {
        let mut c = client();
        c.poll_transmit();
        c.handle_frame(Inbound::Binary(&[100, 0, b'[', b']']));
        assert!(matches!(
            client_events(&mut c)[..],
            [ClientEvent::Error(ClientError::NotAnAuthResponse(
                DecodeError::WrongLength { found: 4, .. }
            ))]
        ));
        assert!(
            matches!(c.poll_transmit(), Some(Outbound::Close(c)) if c.code == CloseCode::PROTOCOL_ERROR)
        );
    }

    // "Always cache it the first time you see it for a given key and reuse it".
    #[test]
    fn client_decodes_data_frames_and_caches_labels() {
        let mut c = client();
        c.handle_frame(Inbound::Binary(&STATUS_1));
        c.handle_frame(Inbound::Binary(
            b"\x64\x00[{\"key\":\"SOC\",\"lbl\":\"State of Charge\",\"val\":\"74.5\"}]\x00",
        ));
        c.handle_frame(Inbound::Binary(
            b"\x64\x00[{\"key\":\"SOC\",\"val\":\"75\"},{\"key\":\"GRID\",\"val\":\"1\"}]",
        ));
        c.handle_frame(Inbound::Binary(b"\x01\x00done"));
        c.handle_frame(Inbound::Binary(&[0x99, 0, 0xff, 0]));
        let reading = |key: &str, label: &str, value: &str| Reading {
            key: key.into(),
            label: label.into(),
            value: value.into(),
        };
        assert_eq!(
            client_events(&mut c),
            [
                ClientEvent::Authenticated,
                ClientEvent::Telemetry(vec![reading("SOC", "State of Charge", "74.5")]),
                ClientEvent::Telemetry(vec![
                    reading("SOC", "State of Charge", "75"),
                    reading("GRID", "GRID", "1")
                ]),
                ClientEvent::CommandResponse("done".into()),
                ClientEvent::Unknown {
                    message_type: MessageType(0x99),
                    frame: vec![0x99, 0, 0xff, 0]
                },
            ]
        );
        assert_eq!(c.labels().label_for("SOC"), "State of Charge");
    }

    #[test]
    fn client_drops_malformed_frames_without_closing() {
        let mut c = client();
        c.handle_frame(Inbound::Binary(&STATUS_1));
        c.handle_frame(Inbound::Binary(&[2, 0, 0xff]));
        c.handle_frame(Inbound::Binary(b"\x64\x00not json"));
        c.handle_frame(Inbound::Binary(&[7]));
        c.handle_frame(Inbound::Text("hi"));
        let events = client_events(&mut c);
        assert_eq!(events.len(), 5);
        assert!(matches!(
            &events[1..],
            [
                ClientEvent::Error(ClientError::BadFrame(DecodeError::InvalidUtf8 {
                    offset: 2,
                    ..
                })),
                ClientEvent::Error(ClientError::BadFrame(DecodeError::Json(_))),
                ClientEvent::Error(ClientError::BadFrame(DecodeError::TooShort { .. })),
                ClientEvent::Error(ClientError::TextFrame),
            ]
        ));
        assert!(c.is_authenticated());
    }

    // "Error Handling" and "Reconnection with backoff".
    #[test]
    fn client_close_codes_map_to_the_documented_actions() {
        let action = |code| client().handle_close(&Close::new(CloseCode(code), ""));
        assert_eq!(action(1000), CloseAction::Done);
        assert_eq!(action(1008), CloseAction::Reauthenticate);
        assert_eq!(action(1009), CloseAction::ContactSupport);
        assert_eq!(action(1006), CloseAction::Reconnect);
        assert_eq!(action(1011), CloseAction::Reconnect);
    }

    #[test]
    fn reconnect_delay_doubles_up_to_30_seconds() {
        let ms = |attempt| reconnect_delay(attempt).as_millis();
        assert_eq!(ms(0), 1000);
        assert_eq!(ms(1), 2000);
        assert_eq!(ms(4), 16_000);
        assert_eq!(ms(5), 30_000);
        assert_eq!(ms(64), 30_000);
        assert_eq!(ms(u32::MAX), 30_000);
    }

    #[test]
    fn expired_tokens_need_reauthentication_before_connecting() {
        let expires_at = TokenResponse::bearer("t", 60).expires_at(T0);
        assert!(!should_reauthenticate(expires_at, T0));
        assert!(should_reauthenticate(
            expires_at,
            T0 + Duration::from_secs(60)
        ));
    }
}
