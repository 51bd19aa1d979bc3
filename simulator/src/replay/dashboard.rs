//! What a dashboard of each API does on a recorded connection: its login message or
//! handshake, its subscriptions and keepalives, and which server frames are data.

use std::collections::VecDeque;
use std::time::Duration;

use telewire_protocols::frame::Close;
use telewire_protocols::frame::CloseCode;
use telewire_protocols::frame::Inbound;
use telewire_protocols::frame::Outbound;
use telewire_protocols::molecule;
use telewire_protocols::mosaic;
use telewire_protocols::robot;
use telewire_protocols::time::Timestamp;
use telewire_protocols::valtronics;
use tokio::time::Instant;

use super::format::Content;
use super::format::REDACTED;
use super::record::RecordOptions;
use super::redact::Redactor;
use crate::clock::Clock;
use crate::serve::Api;
use crate::wsclient::Incoming;

/// WebMACS: "The built-in Vue frontend sends a ping every 25 seconds."
const WEBMACS_PING: Duration = telewire_protocols::webmacs::client::PING_INTERVAL;

/// The API's dashboard endpoint, used when the URL names no path.
pub fn default_path(api: Api) -> &'static str {
    match api {
        Api::Molecule | Api::Valtronics => "/ws",
        Api::Webmacs => telewire_protocols::webmacs::Endpoint::DatapointStream.path(),
        Api::Mosaic => mosaic::QUERY_PATH,
        Api::Robot => "/wss",
    }
}

/// The channels or topics a dashboard subscribes to by default.
pub fn default_subscriptions(api: Api) -> Vec<String> {
    match api {
        Api::Valtronics => [
            valtronics::Channel::TELEMETRY,
            valtronics::Channel::ALERTS,
            valtronics::Channel::DEVICES,
            valtronics::Channel::SYSTEM,
        ]
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect(),
        Api::Mosaic => mosaic::ChannelKind::ALL
            .iter()
            .filter(|k| k.capability().subscribe)
            .map(|k| k.name().to_owned())
            .collect(),
        // The document's own topic, and the topics the built-in robot publishes on.
        Api::Robot => std::iter::once(robot::Topic::SERVER_LOGS.as_str().to_owned())
            .chain(
                crate::scenario::Scenario::embedded_default()
                    .robot
                    .topics
                    .into_iter()
                    .map(|t| t.topic),
            )
            .collect(),
        Api::Molecule | Api::Webmacs => Vec::new(),
    }
}

/// What a dashboard of each API does on the connection.
enum Script {
    Molecule(molecule::ClientSession),
    Valtronics(valtronics::ValtronicsClient),
    Webmacs { next_ping: Instant },
    Mosaic(mosaic::ClientSession),
    Robot,
}

/// The recorder's client side: the API's script, what it sends, what it made of the
/// server's frames.
pub(crate) struct Dashboard {
    api: Api,
    script: Script,
    /// Frames to send, in order.
    pub(crate) queue: VecDeque<Outbound>,
    server_frames: u64,
    /// Why the server refused the login, once it has.
    pub(crate) refused: Option<String>,
    gateway_id: String,
}

impl Dashboard {
    pub(crate) fn new(
        api: Api,
        token: &str,
        opts: &RecordOptions,
        now: Timestamp,
    ) -> Result<Self, String> {
        let subscriptions = if opts.subscribe.is_empty() {
            default_subscriptions(api)
        } else {
            opts.subscribe.clone()
        };
        let mut queue = VecDeque::new();
        let script = match api {
            Api::Molecule => Script::Molecule(
                molecule::ClientSession::new(&opts.credentials.gateway_id, token)
                    .map_err(|e| format!("cannot build the handshake: {e}"))?,
            ),
            Api::Valtronics => {
                let mut client =
                    valtronics::ValtronicsClient::new(token, valtronics::FilterStyle::Spread);
                for channel in &subscriptions {
                    client.subscribe(
                        valtronics::Channel::from(channel.as_str()),
                        valtronics::Filters::none(),
                    );
                }
                Script::Valtronics(client)
            }
            Api::Webmacs => Script::Webmacs {
                next_ping: Instant::now() + WEBMACS_PING,
            },
            Api::Mosaic => {
                let mut client = mosaic::ClientSession::new(
                    now,
                    mosaic::ClientConfig {
                        token: Some(token.to_owned()),
                        ..mosaic::ClientConfig::default()
                    },
                );
                for channel in &subscriptions {
                    client.subscribe(mosaic::Channel::new(channel.as_str()));
                }
                Script::Mosaic(client)
            }
            Api::Robot => {
                for topic in &subscriptions {
                    queue.push_back(Outbound::Text(
                        robot::client::subscribe(topic.as_str()).to_text(),
                    ));
                }
                Script::Robot
            }
        };
        let mut dashboard = Self {
            api,
            script,
            queue,
            server_frames: 0,
            refused: None,
            gateway_id: opts.credentials.gateway_id.clone(),
        };
        dashboard.drain();
        Ok(dashboard)
    }

    /// Moves what the protocol client wants to send into the queue.
    fn drain(&mut self) {
        loop {
            let frame = match &mut self.script {
                Script::Molecule(c) => c.poll_transmit(),
                Script::Valtronics(c) => c.poll_transmit(),
                Script::Mosaic(c) => c.poll_transmit(),
                Script::Webmacs { .. } | Script::Robot => None,
            };
            match frame {
                Some(frame) => self.queue.push_back(frame),
                None => break,
            }
        }
        self.events();
    }

    /// Reads the protocol client's events: a refused login is remembered.
    fn events(&mut self) {
        match &mut self.script {
            Script::Molecule(c) => {
                while let Some(event) = c.poll_event() {
                    match event {
                        molecule::ClientEvent::AuthFailed { status } => {
                            self.refused = Some(format!(
                                "the gateway refused the handshake (auth status {}): check --gateway-id and the credentials",
                                status.0
                            ));
                        }
                        molecule::ClientEvent::Error(molecule::ClientError::NotAnAuthResponse(
                            err,
                        )) => {
                            self.refused = Some(format!(
                                "the server's first frame is not a Molecule auth response ({err}): is --url a Molecule gateway relay?"
                            ));
                        }
                        _ => {}
                    }
                }
            }
            Script::Valtronics(c) => {
                while let Some(event) = c.poll_event() {
                    if let valtronics::ClientEvent::AuthRejected(reply) = event {
                        self.refused = Some(format!(
                            "the server refused the token ({}): check the credentials, or pass a fresh --token",
                            reply
                                .message
                                .clone()
                                .or_else(|| reply.error.as_ref().map(|e| e.as_str().to_owned()))
                                .unwrap_or_default()
                        ));
                    }
                }
            }
            Script::Mosaic(c) => {
                while let Some(event) = c.poll_event() {
                    match event {
                        mosaic::ClientEvent::SessionTimedOut => {
                            self.refused = Some(
                                "the controller refused the session (a zero key for the keepalive: no valid token): check the credentials, or pass a fresh --token".into(),
                            );
                        }
                        mosaic::ClientEvent::Message(mosaic::ServerMessage::Error(reply))
                            if [
                                mosaic::ErrorCode::TOKEN_MISSING,
                                mosaic::ErrorCode::TOKEN_INVALID,
                                mosaic::ErrorCode::TOKEN_EXPIRED,
                                mosaic::ErrorCode::TOKEN_REVOKED,
                                mosaic::ErrorCode::UNKNOWN_USER,
                                mosaic::ErrorCode::ACCESS_DENIED,
                            ]
                            .contains(&reply.error) =>
                        {
                            self.refused = Some(format!(
                                "the controller refused the token ({}): check the credentials, or pass a fresh --token",
                                reply
                                    .message
                                    .unwrap_or_else(|| reply.error.as_str().to_owned())
                            ));
                        }
                        _ => {}
                    }
                }
            }
            Script::Webmacs { .. } | Script::Robot => {}
        }
    }

    /// A frame from the server: whether it is data a dashboard shows.
    pub(crate) fn on_frame(&mut self, now: Timestamp, frame: &Incoming) -> bool {
        let first = self.server_frames == 0;
        self.server_frames += 1;
        let inbound = match frame {
            Incoming::Text(text) => Inbound::Text(text),
            Incoming::Binary(bytes) => Inbound::Binary(bytes),
            _ => return false,
        };
        match &mut self.script {
            Script::Molecule(c) => c.handle_frame(inbound),
            Script::Valtronics(c) => c.handle_frame(now, inbound),
            Script::Mosaic(c) => c.handle_frame(now, inbound),
            Script::Webmacs { .. } | Script::Robot => {}
        }
        self.drain();
        // A refused login ends the recording: close, unless the protocol client did.
        if self.refused.is_some() && !self.queue.iter().any(|f| matches!(f, Outbound::Close(_))) {
            self.queue.push_back(Outbound::Close(Close::new(
                CloseCode::NORMAL,
                "login refused",
            )));
        }
        is_data(self.api, first, frame)
    }

    /// When the script next has something to do on its own.
    pub(crate) fn deadline(&self, clock: &Clock) -> Option<Instant> {
        match &self.script {
            Script::Mosaic(c) => c.poll_timeout().map(|t| clock.instant_at(t)),
            Script::Webmacs { next_ping } => Some(*next_ping),
            _ => None,
        }
    }

    pub(crate) fn on_deadline(&mut self, now: Timestamp) {
        match &mut self.script {
            Script::Mosaic(c) => c.handle_timeout(now),
            Script::Webmacs { next_ping } => {
                self.queue
                    .push_back(Outbound::Text(r#"{"type":"ping"}"#.to_owned()));
                *next_ping = Instant::now() + WEBMACS_PING;
            }
            _ => {}
        }
        self.drain();
    }

    /// What the file holds of a frame the recorder sent.
    pub(crate) fn sent_content(&self, frame: &Outbound, redactor: &Redactor) -> Content {
        match frame {
            // The handshake holds the token inside length-prefixed fields: rebuild it.
            Outbound::Binary(_) if self.api == Api::Molecule && self.server_frames == 0 => {
                match molecule::build_handshake(&self.gateway_id, REDACTED) {
                    Ok(bytes) => Content::Binary(bytes),
                    Err(_) => Content::RedactedBinary,
                }
            }
            other => content_of(other, redactor),
        }
    }

    /// What the file holds of a frame from the server.
    pub(crate) fn received_content(
        &self,
        frame: &Incoming,
        redactor: &Redactor,
    ) -> Option<Content> {
        Some(match frame {
            Incoming::Text(text) => Content::Text(redactor.text(text)),
            // Mosaic's binary frames are keepalive replies: the session key is a secret.
            Incoming::Binary(_) if self.api == Api::Mosaic => Content::RedactedBinary,
            Incoming::Binary(bytes) => {
                Content::Binary(redactor.binary(bytes).unwrap_or_else(|| bytes.clone()))
            }
            Incoming::Close(close) => {
                let (code, reason) = close.clone().unwrap_or((1005, String::new()));
                Content::Close {
                    code,
                    reason: redactor.text(&reason),
                }
            }
            Incoming::Ping | Incoming::Pong => return None,
        })
    }
}

pub(crate) fn content_of(frame: &Outbound, redactor: &Redactor) -> Content {
    match frame {
        Outbound::Text(text) => Content::Text(redactor.text(text)),
        Outbound::Binary(bytes) => {
            Content::Binary(redactor.binary(bytes).unwrap_or_else(|| bytes.clone()))
        }
        Outbound::Close(close) => Content::Close {
            code: close.code.0,
            reason: redactor.text(&close.reason),
        },
    }
}

/// Whether a server frame is data a dashboard shows, rather than an auth reply, ack,
/// keepalive reply, pong or error reply.
pub fn is_data(api: Api, first: bool, frame: &Incoming) -> bool {
    let json = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok();
    match (api, frame) {
        (Api::Molecule, Incoming::Binary(_)) => !first,
        (Api::Valtronics, Incoming::Text(text)) => json(text).is_some_and(|v| {
            !matches!(
                v.get("type").and_then(|t| t.as_str()),
                Some("auth_response" | "pong" | "error" | "subscribed" | "unsubscribed") | None
            )
        }),
        (Api::Webmacs, Incoming::Text(text)) => json(text).is_some_and(|v| {
            !matches!(
                v.get("type").and_then(|t| t.as_str()),
                Some("connected" | "pong" | "error") | None
            )
        }),
        (Api::Mosaic, Incoming::Text(text)) => {
            json(text).is_some_and(|v| v.get("broadcast").is_some())
        }
        (Api::Robot, Incoming::Text(text)) => json(text).is_some_and(|v| {
            v.is_object() && v.get("action").is_none() && v.get("error").is_none()
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_frames_are_told_from_replies() {
        let text = |s: &str| Incoming::Text(s.to_owned());
        assert!(!is_data(
            Api::Molecule,
            true,
            &Incoming::Binary(vec![2, 1, 4])
        ));
        assert!(is_data(
            Api::Molecule,
            false,
            &Incoming::Binary(vec![2, 1, 4])
        ));
        assert!(!is_data(
            Api::Valtronics,
            false,
            &text(r#"{"type":"auth_response","success":true}"#)
        ));
        assert!(is_data(
            Api::Valtronics,
            false,
            &text(r#"{"type":"telemetry","data":{}}"#)
        ));
        assert!(!is_data(
            Api::Webmacs,
            true,
            &text(r#"{"type":"connected"}"#)
        ));
        assert!(is_data(
            Api::Webmacs,
            false,
            &text(r#"{"type":"datapoints_batch"}"#)
        ));
        assert!(is_data(
            Api::Mosaic,
            false,
            &text(r#"{"broadcast":"scene","data":{}}"#)
        ));
        assert!(!is_data(Api::Mosaic, false, &Incoming::Binary(vec![1; 16])));
        assert!(!is_data(
            Api::Robot,
            false,
            &text(r#"{"action":"subscribed"}"#)
        ));
        assert!(is_data(
            Api::Robot,
            false,
            &text(r#"{"name":"a","type":"b","data":1}"#)
        ));
    }
}
