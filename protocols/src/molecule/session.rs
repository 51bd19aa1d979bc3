//! The server side of Steps 3 to 5: handshake, 3-byte auth response first, then data frames.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::time::Duration;

use crate::auth::SharedVerifier;
use crate::frame::Close;
use crate::frame::CloseCode;
use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::session::ServerSession;
use crate::time::Timestamp;

use super::error::Violation;
use super::frames::DataFrame;
use super::frames::MessageType;
use super::gateways::GatewayRejection;
use super::gateways::SharedGateways;
use super::handshake::Handshake;
use super::handshake::MARKER;
use super::handshake::SENTINEL;
use super::labels::LabelSchedule;
use super::messages::AuthResponse;
use super::messages::ClientMessage;
use super::telemetry::TelemetryItem;

/// The documented handshake cap's default: 8 KiB (specs README, "for example 8 KiB").
pub const DEFAULT_MAX_FRAME_LEN: usize = 8 * 1024;

/// Settings of one server session. Levels per the specs README in parentheses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Largest inbound frame. A larger handshake closes with 1009 (MUST); a larger frame
    /// after authentication also closes with 1009 (MAY). Default 8 KiB.
    pub max_frame_len: usize,
    /// Time allowed between connection and handshake; then close 1002 (MAY).
    /// Default 10 s; `None` waits forever.
    pub handshake_timeout: Option<Duration>,
    /// Repeat each key's `lbl` every this many frames of the key, after its first
    /// [SHOULD: "first frame for a key, then every N frames"]. Default 10; `None` sends
    /// it only on the first frame and when it changes.
    pub label_every: Option<NonZeroU32>,
    /// End every data frame with `0x00` ("may have a trailing 0x00") (MAY). Default off.
    pub trailing_null: bool,
    /// Close with 1008 "token expired" when the token's lifetime ends mid-session (MAY).
    /// Default off: the document checks expiry only before connecting.
    pub close_on_token_expiry: bool,
    /// Deliberate deviations from the document; all off by default.
    pub faults: SessionFaults,
}

/// Deliberate deviations from the document, for proving that a checker catches each one
/// (`telewire serve --break`). All off by default; each breaks one documented rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionFaults {
    /// Accept a handshake that ends without the sentinel `0x01 0x04`, breaking "the
    /// sentinel `0x01 0x04` is mandatory. A handshake that does not parse gets auth
    /// response status 0".
    pub accept_missing_sentinel: bool,
    /// Send the successful auth response with one extra `0x00` (4 bytes), breaking "Auth
    /// response- 3 bytes ending in 0x04".
    pub long_auth_response: bool,
    /// Close an oversized handshake with 1008 instead of 1009, breaking "ws.onclose with
    /// code 1009 | Handshake too large".
    pub too_large_close_1008: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            handshake_timeout: Some(Duration::from_secs(10)),
            label_every: NonZeroU32::new(10),
            trailing_null: false,
            close_on_token_expiry: false,
            faults: SessionFaults::default(),
        }
    }
}

/// What a [`MoleculeSession`] reports to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The handshake was accepted and `[2][1][0x04]` queued: start relaying this gateway.
    Authenticated {
        /// The gateway the client asked for.
        gateway_id: String,
        /// The token's subject.
        subject: String,
    },
    /// The client sent a command for the gateway (MAY); answer it with
    /// [`MoleculeSession::push_command_response`].
    CommandReceived(String),
    /// The client sent a data frame of a type with no documented client meaning. It is
    /// reported, not rejected, as the document asks of unknown types (MAY).
    UnknownFrame {
        /// Byte 0.
        message_type: MessageType,
        /// Byte 1.
        reserved: u8,
        /// The payload, without a trailing null.
        payload: Vec<u8>,
    },
    /// A rule was broken; its reply and close frame are queued and the session is closed.
    Violation(Violation),
}

/// Why an application input was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// Data frames may only follow the successful auth response.
    #[error("the session is not authenticated yet")]
    NotAuthenticated,
    /// The close frame has been queued.
    #[error("the session is closed")]
    Closed,
}

#[derive(Debug)]
enum State {
    AwaitingHandshake {
        deadline: Option<Timestamp>,
    },
    Authenticated {
        gateway_id: String,
        subject: String,
        expires_at: Timestamp,
    },
    Closed,
}

/// One client connection to the gateway relay, sans-IO.
///
/// # Driving it
///
/// Create it with [`MoleculeSession::new`] when the WebSocket opens, passing the time.
/// Then, in a loop (see [`crate::session`]):
///
/// 1. feed each received message to [`ServerSession::handle_frame`]; call
///    [`ServerSession::handle_timeout`] once the instant from
///    [`ServerSession::poll_timeout`] has passed (the handshake deadline, or the token's
///    expiry with [`SessionConfig::close_on_token_expiry`]);
/// 2. after every input (frames, timeouts and the `push_*` / [`MoleculeSession::close`]
///    application inputs) drain [`ServerSession::poll_transmit`] and write the frames in
///    order, then drain [`ServerSession::poll_event`];
/// 3. once [`ServerSession::is_closed`] is true the last frame polled was a `Close`: stop
///    reading. Frames handed in after that are ignored.
///
/// # Protocol
///
/// The first inbound frame must be the binary handshake. The first outbound data frame is
/// always the 3-byte auth response. A handshake over [`SessionConfig::max_frame_len`]
/// gets close 1009 only. A handshake that does not parse, a text frame, an unknown gateway
/// or a rejected token gets `[2][0][0x04]` and then the close of [`Violation::close`].
/// After `[2][1][0x04]`, the `push_*` methods queue data frames; commands and unknown
/// frames from the client become [`Event`]s.
pub struct MoleculeSession {
    config: SessionConfig,
    verifier: SharedVerifier,
    gateways: SharedGateways,
    state: State,
    labels: LabelSchedule,
    transmit: VecDeque<Outbound>,
    events: VecDeque<Event>,
}

impl MoleculeSession {
    /// A session for a connection opened at `now`, checking tokens with `verifier` and
    /// gateway ids with `gateways`.
    pub fn new(
        now: Timestamp,
        config: SessionConfig,
        verifier: SharedVerifier,
        gateways: SharedGateways,
    ) -> Self {
        let deadline = config.handshake_timeout.map(|t| now + t);
        Self {
            labels: LabelSchedule::new(config.label_every),
            config,
            verifier,
            gateways,
            state: State::AwaitingHandshake { deadline },
            transmit: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Whether the auth response `[2][1][0x04]` has been queued and the session is open.
    pub fn is_authenticated(&self) -> bool {
        matches!(self.state, State::Authenticated { .. })
    }

    /// The gateway this session relays, once authenticated.
    pub fn gateway_id(&self) -> Option<&str> {
        match &self.state {
            State::Authenticated { gateway_id, .. } => Some(gateway_id),
            _ => None,
        }
    }

    /// The token's subject, once authenticated.
    pub fn subject(&self) -> Option<&str> {
        match &self.state {
            State::Authenticated { subject, .. } => Some(subject),
            _ => None,
        }
    }

    /// Queues a type-100 frame of `items`, applying the label schedule: each item's `lbl`
    /// is remembered and sent on the key's first frame, every N frames, and on change.
    pub fn push_telemetry(&mut self, items: &[TelemetryItem<'_>]) -> Result<(), PushError> {
        self.check_open()?;
        let payload = self.labels.apply(items).to_text();
        self.queue_data(DataFrame::from_text(MessageType::TELEMETRY, &payload));
        Ok(())
    }

    /// Queues a type-1 frame: the reply to a command.
    pub fn push_command_response(&mut self, text: &str) -> Result<(), PushError> {
        self.push_frame(DataFrame::from_text(MessageType::COMMAND_RESPONSE, text))
    }

    /// Queues a type-2 frame: one device log line.
    pub fn push_device_log(&mut self, line: &str) -> Result<(), PushError> {
        self.push_frame(DataFrame::from_text(MessageType::DEVICE_LOG, line))
    }

    /// Queues any data frame, for example of an unknown type. The configured trailing null
    /// is added; a frame that would look like an auth response gets it regardless.
    pub fn push_frame(&mut self, frame: DataFrame<'_>) -> Result<(), PushError> {
        self.check_open()?;
        self.queue_data(frame);
        Ok(())
    }

    /// Closes the connection from the application side (server shutdown, gateway gone).
    pub fn close(&mut self, close: Close) -> Result<(), PushError> {
        if matches!(self.state, State::Closed) {
            return Err(PushError::Closed);
        }
        self.transmit.push_back(Outbound::Close(close));
        self.state = State::Closed;
        Ok(())
    }

    fn check_open(&self) -> Result<(), PushError> {
        match self.state {
            State::Authenticated { .. } => Ok(()),
            State::AwaitingHandshake { .. } => Err(PushError::NotAuthenticated),
            State::Closed => Err(PushError::Closed),
        }
    }

    fn queue_data(&mut self, frame: DataFrame<'_>) {
        let frame =
            frame.with_trailing_null(frame.has_trailing_null() || self.config.trailing_null);
        let frame = if frame.is_ambiguous() {
            frame.with_trailing_null(true)
        } else {
            frame
        };
        self.transmit.push_back(Outbound::Binary(frame.to_bytes()));
    }

    fn fail(&mut self, violation: Violation) {
        let reply = violation.reply();
        if let Some(auth) = reply.auth_response {
            self.transmit
                .push_back(Outbound::Binary(auth.to_bytes().to_vec()));
        }
        let mut close = reply.close;
        if self.config.faults.too_large_close_1008
            && matches!(violation, Violation::HandshakeTooLarge { .. })
        {
            close.code = CloseCode::POLICY_VIOLATION;
        }
        self.transmit.push_back(Outbound::Close(close));
        self.events.push_back(Event::Violation(violation));
        self.state = State::Closed;
    }

    fn handle_handshake(&mut self, now: Timestamp, bytes: &[u8]) {
        let padded;
        let bytes = if self.config.faults.accept_missing_sentinel && !bytes.ends_with(&SENTINEL) {
            padded = [bytes, &SENTINEL[..]].concat();
            padded.as_slice()
        } else {
            bytes
        };
        let handshake = match Handshake::decode(bytes) {
            Ok(hs) => hs,
            Err(err) => return self.fail(Violation::MalformedHandshake(err)),
        };
        let principal = match self.verifier.verify(handshake.token(), now) {
            Ok(p) => p,
            Err(rejection) => return self.fail(Violation::TokenRejected(rejection)),
        };
        let gateway_id = handshake.gateway_id().to_owned();
        if let Err(rejection) = self.gateways.admit(&gateway_id, &principal.subject) {
            return self.fail(match rejection {
                GatewayRejection::Unknown => Violation::UnknownGateway { gateway_id },
                GatewayRejection::NotPermitted => Violation::GatewayNotPermitted {
                    gateway_id,
                    subject: principal.subject,
                },
            });
        }
        let mut response = AuthResponse::SUCCESS.to_bytes().to_vec();
        if self.config.faults.long_auth_response {
            response.push(0);
        }
        self.transmit.push_back(Outbound::Binary(response));
        self.events.push_back(Event::Authenticated {
            gateway_id: gateway_id.clone(),
            subject: principal.subject.clone(),
        });
        self.state = State::Authenticated {
            gateway_id,
            subject: principal.subject,
            expires_at: principal.expires_at,
        };
    }

    fn handle_client_frame(&mut self, bytes: &[u8]) {
        if bytes.starts_with(&MARKER) {
            return self.fail(Violation::RepeatedHandshake);
        }
        match ClientMessage::decode(bytes) {
            Ok(ClientMessage::Command(cmd)) => self
                .events
                .push_back(Event::CommandReceived(cmd.text().to_owned())),
            Ok(ClientMessage::Other(frame)) => self.events.push_back(Event::UnknownFrame {
                message_type: frame.message_type(),
                reserved: frame.reserved(),
                payload: frame.payload().to_vec(),
            }),
            Ok(ClientMessage::Handshake(_)) => self.fail(Violation::RepeatedHandshake),
            Err(err) => self.fail(Violation::MalformedFrame(err)),
        }
    }
}

impl ServerSession for MoleculeSession {
    type Event = Event;

    fn handle_frame(&mut self, now: Timestamp, frame: Inbound<'_>) {
        let len = frame.len();
        let max = self.config.max_frame_len;
        match (&self.state, frame) {
            (State::Closed, _) => {}
            (State::AwaitingHandshake { .. }, _) if len > max => {
                self.fail(Violation::HandshakeTooLarge { len, max });
            }
            (State::AwaitingHandshake { .. }, Inbound::Text(_)) => {
                self.fail(Violation::NotAHandshake);
            }
            (State::AwaitingHandshake { .. }, Inbound::Binary(bytes)) => {
                self.handle_handshake(now, bytes);
            }
            (State::Authenticated { .. }, _) if len > max => {
                self.fail(Violation::FrameTooLarge { len, max });
            }
            (State::Authenticated { .. }, Inbound::Text(_)) => self.fail(Violation::TextFrame),
            (State::Authenticated { .. }, Inbound::Binary(bytes)) => {
                self.handle_client_frame(bytes);
            }
        }
    }

    fn handle_timeout(&mut self, now: Timestamp) {
        match self.state {
            State::AwaitingHandshake {
                deadline: Some(deadline),
            } if now >= deadline => self.fail(Violation::HandshakeTimeout),
            State::Authenticated { expires_at, .. }
                if self.config.close_on_token_expiry && now >= expires_at =>
            {
                self.fail(Violation::TokenExpired);
            }
            _ => {}
        }
    }

    fn poll_transmit(&mut self) -> Option<Outbound> {
        self.transmit.pop_front()
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Timestamp> {
        match self.state {
            State::AwaitingHandshake { deadline } => deadline,
            State::Authenticated { expires_at, .. } if self.config.close_on_token_expiry => {
                Some(expires_at)
            }
            _ => None,
        }
    }

    fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    fn view(&self) -> crate::session::SessionView {
        let auth = match &self.state {
            State::AwaitingHandshake { .. } => crate::session::AuthView::Pending,
            State::Authenticated {
                gateway_id,
                subject,
                ..
            } => {
                crate::session::AuthView::Authenticated(format!("{subject} (gateway {gateway_id})"))
            }
            State::Closed => crate::session::AuthView::Unknown,
        };
        crate::session::SessionView {
            auth,
            subscriptions: Vec::new(),
        }
    }
}

impl std::fmt::Debug for MoleculeSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MoleculeSession")
            .field("config", &self.config)
            .field("state", &self.state)
            .field("queued_frames", &self.transmit.len())
            .field("queued_events", &self.events.len())
            .finish_non_exhaustive()
    }
}
