//! The cucumber World: the target, the open connections and the transcript of one scenario.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use telewire_simulator::wsclient;
use telewire_simulator::wsclient::Incoming;
use telewire_simulator::wsclient::WsError;
use telewire_simulator::wsclient::WsReader;
use telewire_simulator::wsclient::WsWriter;

use crate::suite::Suite;
use crate::target::Target;
use crate::transcript::Direction;
use crate::transcript::Payload;
use crate::transcript::Transcript;

/// The upper bound on waiting for one frame; never a synchronisation sleep.
pub const WAIT: Duration = Duration::from_secs(10);

/// A step's verdict: `Err` says what was expected and what was observed.
pub type StepResult = Result<(), String>;

/// One open WebSocket.
pub struct Conn {
    reader: WsReader,
    writer: WsWriter,
    /// Whether the server's close frame (or the end of the stream) was seen.
    pub closed: bool,
}

/// The state of one scenario.
#[derive(cucumber::World)]
#[world(init = Self::new)]
pub struct World {
    /// What is checked.
    pub target: Arc<Target>,
    /// Which suite.
    pub suite: Suite,
    /// Frames exchanged.
    pub transcript: Transcript,
    conns: HashMap<String, Conn>,
    /// Molecule: every frame received on the socket, in order.
    pub received: Vec<Incoming>,
    /// WebMACS: every text message a stream client received, as JSON.
    pub stream_messages: Vec<serde_json::Value>,
    /// WebMACS: a token obtained by a step (login, then logout).
    pub scratch_token: Option<String>,
    /// WebMACS: values pushed by the scenario, in order.
    pub pushed: Vec<f64>,
    /// WebMACS: the broadcast that showed the last pushed value.
    pub seen_broadcast: Option<serde_json::Value>,
    /// WebMACS: the reading pushed within the throttle interval.
    pub held_back: Option<f64>,
    /// The last HTTP answer: status and body.
    pub http_answer: Option<(u16, String)>,
    /// The connection the last step opened.
    pub last: String,
    /// The HTTP status of a refused upgrade, by connection name.
    pub refused: HashMap<String, u16>,
    /// Robot: topics and tokens of the scenario.
    pub robot: crate::steps::robot::RobotState,
    /// Mosaic: the session key of the first keepalive reply.
    pub session_key: Option<Vec<u8>>,
    /// Valtronics: a device id and one of its metrics, learned from a push.
    pub learned: Option<(u64, String)>,
    /// Client scenarios: the judged simulator the scripted clients connect to.
    pub judged: Option<crate::steps::client::Judged>,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("suite", &self.suite)
            .field("conns", &self.conns.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl World {
    fn new() -> Self {
        Self {
            target: Arc::new(Target::default()),
            suite: Suite::Molecule,
            transcript: Transcript::default(),
            conns: HashMap::new(),
            received: Vec::new(),
            stream_messages: Vec::new(),
            scratch_token: None,
            pushed: Vec::new(),
            seen_broadcast: None,
            held_back: None,
            http_answer: None,
            last: String::new(),
            refused: HashMap::new(),
            robot: Default::default(),
            session_key: None,
            learned: None,
            judged: None,
        }
    }

    /// The configured token (always present once the target is resolved).
    pub fn token(&self) -> String {
        self.target.token.clone().unwrap_or_default()
    }

    /// Opens `name` to `url`. An upgrade refused with an HTTP status comes back as
    /// `Ok(Some(status))`.
    pub async fn connect(&mut self, name: &str, url: &str) -> Result<Option<u16>, String> {
        self.note(name, format!("connect {url}"));
        let target = wsclient::parse_url(url).map_err(|e| format!("bad URL {url}: {e}"))?;
        let trust = self.target.trust()?;
        match tokio::time::timeout(WAIT, wsclient::connect(&target, &trust)).await {
            Err(_) => Err(format!("the upgrade did not complete within {WAIT:?}")),
            Ok(Err(WsError::Status { status, body })) => {
                self.note(name, format!("upgrade refused: HTTP {status} {body}"));
                Ok(Some(status))
            }
            Ok(Err(err)) => Err(format!("cannot connect: {err}")),
            Ok(Ok((reader, writer))) => {
                self.conns.insert(
                    name.to_owned(),
                    Conn {
                        reader,
                        writer,
                        closed: false,
                    },
                );
                Ok(None)
            }
        }
    }

    /// Records a harness note in the transcript.
    pub fn note(&mut self, name: &str, text: String) {
        self.transcript
            .push(Direction::Note, name, Payload::Text(text));
    }

    fn conn(&mut self, name: &str) -> Result<&mut Conn, String> {
        self.conns
            .get_mut(name)
            .ok_or_else(|| format!("no open {name} connection (an earlier step did not open it)"))
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, name: &str, text: &str) -> StepResult {
        self.transcript
            .push(Direction::Sent, name, Payload::Text(text.to_owned()));
        let conn = self.conn(name)?;
        conn.writer
            .text(text)
            .await
            .map_err(|e| format!("sending failed: {e}"))
    }

    /// Sends a binary frame.
    pub async fn send_binary(&mut self, name: &str, bytes: Vec<u8>) -> StepResult {
        self.transcript
            .push(Direction::Sent, name, Payload::Binary(bytes.clone()));
        let conn = self.conn(name)?;
        conn.writer
            .binary(bytes)
            .await
            .map_err(|e| format!("sending failed: {e}"))
    }

    /// The next text, binary or close message on `name` (pings and pongs skipped), waiting
    /// at most `wait`. The end of the stream reads as `Close(None)`.
    pub async fn recv_within(&mut self, name: &str, wait: Duration) -> Result<Incoming, String> {
        let conn = self.conn(name)?;
        if conn.closed {
            return Err("the connection is already closed".into());
        }
        let read = async {
            loop {
                match conn.reader.next().await {
                    Ok(Incoming::Ping | Incoming::Pong) => {
                        let _ = conn.writer.flush().await;
                    }
                    Ok(other) => return other,
                    Err(_) => return Incoming::Close(None),
                }
            }
        };
        let incoming = tokio::time::timeout(wait, read)
            .await
            .map_err(|_| format!("nothing arrived within {wait:?}"))?;
        if matches!(incoming, Incoming::Close(_)) {
            conn.closed = true;
        }
        let payload = match &incoming {
            Incoming::Text(text) => Payload::Text(text.clone()),
            Incoming::Binary(bytes) => Payload::Binary(bytes.clone()),
            Incoming::Close(Some((code, reason))) => {
                Payload::Text(format!("close {code} {reason:?}"))
            }
            Incoming::Close(None) => Payload::Text("closed without a close frame".into()),
            Incoming::Ping | Incoming::Pong => Payload::Text("control frame".into()),
        };
        self.transcript.push(Direction::Received, name, payload);
        Ok(incoming)
    }

    /// [`World::recv_within`] with [`WAIT`].
    pub async fn recv(&mut self, name: &str) -> Result<Incoming, String> {
        self.recv_within(name, WAIT).await
    }

    /// Reads until the close frame; its code and reason (`None`: no close frame).
    pub async fn close_of(&mut self, name: &str) -> Result<Option<(u16, String)>, String> {
        loop {
            match self.recv(name).await {
                Ok(Incoming::Close(close)) => return Ok(close),
                Ok(_) => {}
                Err(err) => return Err(format!("expected a close frame; {err}")),
            }
        }
    }

    /// Closes every connection politely (the scenario is over), and stops a judged
    /// simulator a client scenario started.
    pub async fn close_all(&mut self) {
        for (_, mut conn) in self.conns.drain() {
            if !conn.closed {
                let _ = conn.writer.close(1000, "").await;
            }
        }
        if let Some(judged) = self.judged.take() {
            judged.stop().await;
        }
    }

    /// Sends a close frame with `code` on `name` and reads (bounded) until the server's
    /// close reply or the end of the stream; the connection is gone afterwards.
    pub async fn close_with(&mut self, name: &str, code: u16) -> StepResult {
        self.note(name, format!("close {code}"));
        let mut conn = self.conns.remove(name).ok_or_else(|| {
            format!("no open {name} connection (an earlier step did not open it)")
        })?;
        if conn.closed {
            return Ok(());
        }
        let _ = conn.writer.close(code, "").await;
        let read = async {
            loop {
                match conn.reader.next().await {
                    Ok(Incoming::Close(_)) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        };
        tokio::time::timeout(WAIT, read)
            .await
            .map_err(|_| format!("the server did not answer the close within {WAIT:?}"))
    }

    /// Forgets `name` after the server closed it.
    pub fn forget(&mut self, name: &str) {
        self.conns.remove(name);
    }
}

/// Describes a received message for a verdict.
pub fn describe(incoming: &Incoming) -> String {
    match incoming {
        Incoming::Text(text) => format!("text {text:?}"),
        Incoming::Binary(bytes) => {
            format!("binary frame of {} bytes {}", bytes.len(), hex(bytes, 16))
        }
        Incoming::Close(Some((code, reason))) => format!("close {code} {reason:?}"),
        Incoming::Close(None) => "the connection ended without a close frame".into(),
        Incoming::Ping => "ping".into(),
        Incoming::Pong => "pong".into(),
    }
}

/// The first `max` bytes in hex.
pub fn hex(bytes: &[u8], max: usize) -> String {
    let mut out: Vec<String> = bytes.iter().take(max).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > max {
        out.push("...".into());
    }
    out.join(" ")
}
