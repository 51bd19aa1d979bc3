//! A simulated robot device for robot.txt "Messages": publishes seeded data into any robot server.
//!
//! It connects like the official client (`?token=` on the URL), sends
//! `{"action":"publish","topic":t,"data":"<{name, type, data} as a JSON string>"}` at a
//! fixed rate, answers pings, and reconnects with capped exponential backoff when the
//! connection is lost. A refused token (HTTP 401/403 or close 1008) ends it with an error:
//! retrying the same token cannot help.

use std::time::Duration;

use serde_json::json;
use telewire_protocols::robot::ErrorCode;
use telewire_protocols::robot::Payload;
use telewire_protocols::robot::ServerMessage;
use telewire_protocols::robot::Topic;
use telewire_protocols::robot::client;
use tokio::time::MissedTickBehavior;

use crate::shutdown::Shutdown;
use crate::signals::Signal;
use crate::signals::SignalSpec;
use crate::signals::round_to;

use crate::wsclient;
use crate::wsclient::Incoming;
use crate::wsclient::Trust;
use crate::wsclient::WsError;
use crate::wsclient::WsReader;
use crate::wsclient::WsWriter;

/// First wait before a reconnect.
const BACKOFF_START: Duration = Duration::from_millis(100);
/// Longest wait between reconnects.
const BACKOFF_CAP: Duration = Duration::from_secs(5);
/// How long a connection and its opening handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for the server's close reply when stopping.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// What to publish, where, and how fast.
#[derive(Debug, Clone, PartialEq)]
pub struct PublisherOptions {
    /// The server's WebSocket URL (`ws://host:port/wss`), with or without `?token=`.
    pub url: String,
    /// A JWT, appended as `?token=` when given.
    pub token: Option<String>,
    /// The topic to publish on.
    pub topic: String,
    /// Messages per second.
    pub rate: f64,
    /// The data seed: the same seed publishes the same values.
    pub seed: u64,
    /// Stop after this many messages; `None` publishes until shutdown.
    pub limit: Option<u64>,
    /// Extra CA certificates (PEM) trusted for `wss://`, beside the web PKI roots: for
    /// example the certificate `telewire serve --tls` generated.
    pub ca_cert: Option<Vec<u8>>,
}

/// What a publisher did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublisherStats {
    /// Messages sent.
    pub sent: u64,
    /// Successful reconnections after the first connection.
    pub reconnects: u64,
}

/// Why a publisher stopped before its limit or shutdown.
#[derive(Debug, thiserror::Error)]
pub enum PublisherError {
    /// The URL cannot be used.
    #[error("invalid URL '{url}': {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The rate is not a positive, finite number.
    #[error("rate must be a positive number of messages per second, got {0}")]
    InvalidRate(f64),
    /// The topic cannot be published on.
    #[error("cannot publish on topic '{topic}': {reason}")]
    InvalidTopic {
        /// The topic given.
        topic: String,
        /// Why not.
        reason: &'static str,
    },
    /// The first connection failed (nothing listens there, or it is not a WebSocket server).
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The server refused the WebSocket upgrade with HTTP 401 or 403.
    #[error(
        "the server refused the connection with HTTP {status} ({body}); get a token from GET /api/v1/auth/ with the X-API-Key header"
    )]
    Unauthorized {
        /// The status.
        status: u16,
        /// The response body.
        body: String,
    },
    /// The server closed the connection with 1008 (a missing, invalid or expired token).
    #[error(
        "the server closed the connection with 1008 ({reason}); get a fresh token from GET /api/v1/auth/"
    )]
    Refused {
        /// The close reason.
        reason: String,
    },
    /// The server closed the connection with 1008 for another reason than the token (for
    /// example a rate limit that persisted).
    #[error(
        "the server closed the connection with 1008 ({reason}); lower the rate if the server limits it"
    )]
    PolicyClose {
        /// The close reason.
        reason: String,
    },
    /// The server answered a publish with an error reply other than `rate_limited`.
    #[error("the server refused a publish: {error}: {message}")]
    Rejected {
        /// The error code.
        error: String,
        /// The server's explanation.
        message: String,
    },
}

/// How one connection ended.
enum Ended {
    /// The limit was reached or shutdown fired: stop.
    Done,
    /// The connection was lost: reconnect.
    Lost(String),
    /// Stop with this error.
    Fatal(PublisherError),
}

/// The values a publisher sends: a seeded sine with noise, one sample per message.
struct Source {
    topic: String,
    signal: Signal,
    seq: u64,
}

impl Source {
    fn new(topic: &str, seed: u64, rate: f64) -> Self {
        let spec = SignalSpec::Sine {
            mean: 50.0,
            amplitude: 25.0,
            // One period a minute.
            period: (60.0 * rate).max(2.0),
            noise: 0.5,
            drift: 0.0,
        };
        Self {
            topic: topic.to_owned(),
            signal: Signal::new(spec, seed, &format!("robot/publisher/{topic}")),
            seq: 0,
        }
    }

    /// The next `{name, type, data}`: `data` is `{"seq": n, "value": v}`.
    fn next(&mut self) -> Payload {
        self.seq += 1;
        let value = round_to(self.signal.next_value(), 3);
        Payload::new(
            self.topic.clone(),
            "json",
            json!({"seq": self.seq, "value": value}),
        )
    }
}

/// Publishes into the robot server at `opts.url` until `opts.limit` messages are sent or
/// `shutdown` fires; reconnects with capped exponential backoff when the connection is lost.
pub async fn run_publisher(
    opts: PublisherOptions,
    mut shutdown: Shutdown,
) -> Result<PublisherStats, PublisherError> {
    if !opts.rate.is_finite() || opts.rate <= 0.0 {
        return Err(PublisherError::InvalidRate(opts.rate));
    }
    let topic = Topic::new(opts.topic.clone());
    if topic.is_empty() {
        return Err(PublisherError::InvalidTopic {
            topic: opts.topic,
            reason: "the topic is empty",
        });
    }
    if topic == Topic::SERVER_LOGS {
        return Err(PublisherError::InvalidTopic {
            topic: opts.topic,
            reason: "server_logs is the server's own",
        });
    }
    let full_url = match &opts.token {
        Some(token) => client::connect_url(&opts.url, token),
        None => opts.url.clone(),
    };
    let url = wsclient::parse_url(&full_url).map_err(|reason| PublisherError::InvalidUrl {
        url: opts.url.clone(),
        reason: reason.to_owned(),
    })?;
    let trust = Trust::new(opts.ca_cert.as_deref()).map_err(|reason| PublisherError::Connect {
        url: opts.url.clone(),
        reason,
    })?;
    let period = Duration::from_secs_f64(1.0 / opts.rate).max(Duration::from_micros(10));
    let mut source = Source::new(&opts.topic, opts.seed, opts.rate);
    let mut stats = PublisherStats::default();
    let mut backoff = BACKOFF_START;
    let mut connected_before = false;
    loop {
        if shutdown.is_triggered() || opts.limit.is_some_and(|l| stats.sent >= l) {
            return Ok(stats);
        }
        let connecting = tokio::select! {
            result = tokio::time::timeout(CONNECT_TIMEOUT, wsclient::connect(&url, &trust)) => {
                result.unwrap_or_else(|_| Err(WsError::WebSocket(format!(
                    "no WebSocket handshake within {CONNECT_TIMEOUT:?}"
                ))))
            }
            () = shutdown.wait() => return Ok(stats),
        };
        let lost = match connecting {
            Ok((mut reader, mut writer)) => {
                if connected_before {
                    stats.reconnects += 1;
                }
                connected_before = true;
                backoff = BACKOFF_START;
                tracing::info!(url = %opts.url, topic = %opts.topic, "robot publisher connected");
                let mut ws = Connection {
                    reader: &mut reader,
                    writer: &mut writer,
                };
                match publish(
                    &mut ws,
                    &opts,
                    &mut source,
                    &mut stats,
                    period,
                    &mut shutdown,
                )
                .await
                {
                    Ended::Done => return Ok(stats),
                    Ended::Fatal(err) => return Err(err),
                    Ended::Lost(reason) => reason,
                }
            }
            Err(WsError::Status { status, body }) if status == 401 || status == 403 => {
                return Err(PublisherError::Unauthorized { status, body });
            }
            Err(err) if !connected_before || matches!(err, WsError::Tls(_)) => {
                return Err(PublisherError::Connect {
                    url: opts.url.clone(),
                    reason: err.to_string(),
                });
            }
            Err(err) => err.to_string(),
        };
        tracing::info!(%lost, retry_in = ?backoff, "robot publisher disconnected");
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = shutdown.wait() => return Ok(stats),
        }
        backoff = (backoff * 2).min(BACKOFF_CAP);
    }
}

/// Publishes over one connection until the limit, shutdown, a fatal reply or a loss.
/// One open connection's two halves.
struct Connection<'a> {
    reader: &'a mut WsReader,
    writer: &'a mut WsWriter,
}

async fn publish(
    ws: &mut Connection<'_>,
    opts: &PublisherOptions,
    source: &mut Source,
    stats: &mut PublisherStats,
    period: Duration,
    shutdown: &mut Shutdown,
) -> Ended {
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if opts.limit.is_some_and(|l| stats.sent >= l) {
                    return finish(ws).await;
                }
                let message = client::publish(opts.topic.as_str(), source.next());
                if let Err(err) = ws.writer.text(&message.to_text()).await {
                    return Ended::Lost(err.to_string());
                }
                stats.sent += 1;
                tracing::debug!(sent = stats.sent, topic = %opts.topic, "robot publisher sent");
                if opts.limit.is_some_and(|l| stats.sent >= l) {
                    return finish(ws).await;
                }
            }
            incoming = ws.reader.next() => {
                if let Some(ended) = handle(ws, incoming).await {
                    return ended;
                }
            }
            () = shutdown.wait() => {
                let _ = ws.writer.close(1001, "publisher stopping").await;
                let _ = ws.reader.linger(CLOSE_WAIT).await;
                return Ended::Done;
            }
        }
    }
}

/// Closes with 1000 once the limit is reached; a server that had refused the token by then
/// (close 1008) makes it an error rather than a success.
async fn finish(ws: &mut Connection<'_>) -> Ended {
    let _ = ws.writer.close(1000, "publisher done").await;
    match ws.reader.linger(CLOSE_WAIT).await {
        Some((1008, reason)) => Ended::Fatal(policy_close(reason)),
        _ => Ended::Done,
    }
}

/// The error a close 1008 is: a refused token (its reason names the token), or another
/// policy such as a persisting rate excess.
fn policy_close(reason: String) -> PublisherError {
    if reason.contains("token") {
        PublisherError::Refused { reason }
    } else {
        PublisherError::PolicyClose { reason }
    }
}

/// Handles every complete frame received; `Some` when the connection is over.
/// Reacts to one message from the server; `Some` ends the connection.
async fn handle(ws: &mut Connection<'_>, incoming: Result<Incoming, WsError>) -> Option<Ended> {
    match incoming {
        Err(err) => Some(Ended::Lost(err.to_string())),
        // The WebSocket layer queued the pong; flushing sends it.
        Ok(Incoming::Ping) => ws
            .writer
            .flush()
            .await
            .err()
            .map(|err| Ended::Lost(err.to_string())),
        Ok(Incoming::Close(close)) => {
            let (code, reason) = close.unwrap_or((1005, String::new()));
            let _ = ws.writer.close(1000, "").await;
            if code == 1008 {
                return Some(Ended::Fatal(policy_close(reason)));
            }
            Some(Ended::Lost(format!(
                "the server closed the connection ({code} {reason})"
            )))
        }
        Ok(Incoming::Text(text)) => match ServerMessage::decode(&text) {
            Ok(ServerMessage::Error(reply)) if reply.error == ErrorCode::RATE_LIMITED => {
                tracing::warn!(message = %reply.message, "robot publisher rate limited");
                None
            }
            Ok(ServerMessage::Error(reply)) => Some(Ended::Fatal(PublisherError::Rejected {
                error: reply.error.to_string(),
                message: reply.message,
            })),
            _ => None,
        },
        Ok(Incoming::Binary(_) | Incoming::Pong) => None,
    }
}
