//! A simulated WebMACS controller that pushes seeded readings into any WebMACS server.
//!
//! It connects to `/ws/controller/telemetry?token=<jwt>` (the document's "Authentication"
//! section), sends `{"datapoints": [...]}` batches chunked at 500 readings ("The
//! controller automatically chunks large batches"), answers pings, logs error replies, and
//! reconnects with capped exponential backoff and seeded jitter when the connection
//! breaks. A 1008 close (the token was refused) ends it with an error: retrying the same
//! token cannot help.

use std::collections::VecDeque;
use std::time::Duration;

use telewire_protocols::frame::CloseCode;
use telewire_protocols::webmacs::Endpoint;
use telewire_protocols::webmacs::MAX_BATCH_SIZE;
use telewire_protocols::webmacs::ServerMessage;
use telewire_protocols::webmacs::TelemetryBatch;
use telewire_protocols::webmacs::client::chunk_readings;
use tokio::time::Instant;
use tokio::time::MissedTickBehavior;

use crate::prng::Prng;
use crate::shutdown::Shutdown;

use super::device::Lab;
use crate::wsclient;
use crate::wsclient::Incoming;
use crate::wsclient::Trust;
use crate::wsclient::WsError;
use crate::wsclient::WsReader;
use crate::wsclient::WsWriter;

/// What to push, where, and how fast.
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerOptions {
    /// `ws://host:port` (the controller path is added) or the full endpoint URL.
    pub url: String,
    /// The JWT, sent as the `token` query parameter.
    pub token: String,
    /// The event public ids to send readings for, round-robin.
    pub events: Vec<String>,
    /// Datapoints per second, in total.
    pub rate: f64,
    /// The data seed: the same seed gives the same readings.
    pub seed: u64,
    /// Stop after this many datapoints; `None` runs until shutdown.
    pub limit: Option<u64>,
    /// Extra CA certificates (PEM) trusted for `wss://`, beside the web PKI roots: for
    /// example the certificate `telewire serve --tls` generated.
    pub ca_cert: Option<Vec<u8>>,
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ControllerStats {
    /// Datapoints written to the socket.
    pub sent: u64,
    /// Batches written to the socket.
    pub batches: u64,
    /// Reconnection attempts after a failed or broken connection.
    pub reconnects: u64,
}

/// Why the controller stopped without finishing.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// The URL cannot be used.
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No event ids were given.
    #[error("no event ids given: pass the public ids of the events to send readings for")]
    NoEvents,
    /// The rate is not a positive number.
    #[error("the rate must be a positive number of datapoints per second, not {0}")]
    InvalidRate(f64),
    /// The server closed with 1008: the token was refused.
    #[error(
        "the server refused the token (close {code}: {reason:?}); log in again for a fresh token"
    )]
    Refused {
        /// The close code (1008).
        code: u16,
        /// The documented reason, e.g. "Token has been revoked".
        reason: String,
    },
    /// The TLS settings cannot be used (an unreadable CA certificate).
    #[error("TLS: {0}")]
    Tls(String),
    /// The server answered the upgrade with a client error: wrong URL or not WebMACS.
    #[error(
        "the server answered the WebSocket upgrade of {url} with HTTP {status}; is this a WebMACS server?"
    )]
    Upgrade {
        /// The URL connected to.
        url: String,
        /// The HTTP status.
        status: u16,
    },
}

/// First reconnection delay.
const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// Longest reconnection delay.
const BACKOFF_CAP: Duration = Duration::from_secs(15);
/// How long to wait for the server's close reply.
const CLOSE_LINGER: Duration = Duration::from_secs(2);
/// At most this many datapoints are generated per tick (a late tick does not burst).
const MAX_PER_TICK: f64 = (10 * MAX_BATCH_SIZE) as f64;

/// The delay before reconnection attempt `attempt` (0-based): the base doubled per
/// attempt, capped, times a seeded jitter factor in `[0.5, 1)`.
pub fn backoff(attempt: u32, prng: &mut Prng) -> Duration {
    let exp = BACKOFF_BASE.saturating_mul(1u32 << attempt.min(16));
    exp.min(BACKOFF_CAP).mul_f64(prng.range_f64(0.5, 1.0))
}

/// The URL the controller connects to: the endpoint path is added to a bare `ws://host`,
/// then the token as the `token` query parameter.
pub fn controller_url(url: &str, token: &str) -> Result<String, ControllerError> {
    let target = wsclient::parse_url(url).map_err(|reason| ControllerError::InvalidUrl {
        url: url.to_owned(),
        reason,
    })?;
    let base = url.trim_end_matches('/');
    let with_path = if target.resource == "/" {
        format!("{base}{}", Endpoint::ControllerTelemetry.path())
    } else {
        base.to_owned()
    };
    let separator = if with_path.contains('?') { '&' } else { '?' };
    Ok(format!(
        "{with_path}{separator}token={}",
        telewire_protocols::urlencoded::encode_query_value(token)
    ))
}

/// How one connection ended.
enum End {
    /// The limit was reached and the connection closed.
    Done,
    /// Shutdown was signalled.
    Shutdown,
    /// The token was refused.
    Refused(u16, String),
    /// The connection broke; reconnect.
    Lost(String),
}

/// Runs the controller until `opts.limit` datapoints are sent, shutdown, or a refusal.
pub async fn run_controller(
    opts: ControllerOptions,
    mut shutdown: Shutdown,
) -> Result<ControllerStats, ControllerError> {
    if opts.events.is_empty() {
        return Err(ControllerError::NoEvents);
    }
    if !(opts.rate.is_finite() && opts.rate > 0.0) {
        return Err(ControllerError::InvalidRate(opts.rate));
    }
    let url = controller_url(&opts.url, &opts.token)?;
    let target = wsclient::parse_url(&url).map_err(|reason| ControllerError::InvalidUrl {
        url: opts.url.clone(),
        reason,
    })?;
    let trust = Trust::new(opts.ca_cert.as_deref()).map_err(ControllerError::Tls)?;
    let mut run = Run {
        lab: Lab::from_ids(opts.seed, &opts.events),
        pending: VecDeque::new(),
        stats: ControllerStats::default(),
        rate: opts.rate,
        limit: opts.limit,
        generated: 0,
    };
    let mut prng = Prng::derive(opts.seed, "webmacs/controller/network");
    let mut attempt = 0u32;
    let shown = controller_url(&opts.url, "<token>").unwrap_or_default();
    loop {
        if shutdown.is_triggered() || run.finished() {
            return Ok(run.stats);
        }
        let connected = tokio::select! {
            r = wsclient::connect(&target, &trust) => r,
            () = shutdown.wait() => return Ok(run.stats),
        };
        match connected {
            Ok((reader, writer)) => {
                attempt = 0;
                tracing::info!(url = %shown, "webmacs controller connected");
                match run.connection(reader, writer, &mut shutdown).await {
                    End::Done => {
                        tracing::info!(sent = run.stats.sent, "webmacs controller done");
                        return Ok(run.stats);
                    }
                    End::Shutdown => return Ok(run.stats),
                    End::Refused(code, reason) => {
                        tracing::warn!(code, %reason, "webmacs controller refused");
                        return Err(ControllerError::Refused { code, reason });
                    }
                    End::Lost(why) => tracing::warn!(%why, "webmacs controller connection lost"),
                }
            }
            Err(WsError::Status { status, .. }) if (400..500).contains(&status) => {
                return Err(ControllerError::Upgrade { url: shown, status });
            }
            // A certificate the client does not trust, or a server that does not speak
            // TLS: retrying cannot help, the settings must change.
            Err(WsError::Tls(err)) => {
                return Err(ControllerError::Tls(format!("{shown}: {err}")));
            }
            Err(err) => tracing::warn!(%err, url = %shown, "webmacs controller cannot connect"),
        }
        let delay = backoff(attempt, &mut prng);
        attempt = attempt.saturating_add(1);
        run.stats.reconnects += 1;
        tracing::info!(
            delay_ms = delay.as_millis(),
            "webmacs controller reconnecting"
        );
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shutdown.wait() => return Ok(run.stats),
        }
    }
}

/// The state that outlives one connection.
struct Run {
    lab: Lab,
    pending: VecDeque<TelemetryBatch>,
    stats: ControllerStats,
    rate: f64,
    limit: Option<u64>,
    generated: u64,
}

impl Run {
    fn finished(&self) -> bool {
        self.pending.is_empty() && self.limit.is_some_and(|limit| self.generated >= limit)
    }

    /// Generates the readings due after `elapsed`, carrying the fraction in `credit`.
    fn generate(&mut self, credit: &mut f64, elapsed: Duration) {
        *credit = (*credit + self.rate * elapsed.as_secs_f64()).min(MAX_PER_TICK);
        let mut n = credit.floor() as u64;
        *credit -= n as f64;
        if let Some(limit) = self.limit {
            n = n.min(limit.saturating_sub(self.generated));
        }
        if n == 0 {
            return;
        }
        self.generated += n;
        let readings = self.lab.take(usize::try_from(n).unwrap_or(usize::MAX));
        self.pending
            .extend(chunk_readings(&readings, MAX_BATCH_SIZE));
    }

    async fn connection(
        &mut self,
        mut reader: WsReader,
        mut writer: WsWriter,
        shutdown: &mut Shutdown,
    ) -> End {
        let tick = Duration::from_secs_f64((1.0 / self.rate).clamp(0.005, 0.1));
        let mut ticker = tokio::time::interval(tick);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last = Instant::now();
        let mut credit = 0.0;
        let mut warned = false;
        loop {
            while let Some(batch) = self.pending.front() {
                if let Err(err) = writer.text(&batch.to_text()).await {
                    return End::Lost(err.to_string());
                }
                self.stats.sent += batch.len() as u64;
                self.stats.batches += 1;
                tracing::debug!(size = batch.len(), "webmacs controller batch sent");
                self.pending.pop_front();
            }
            if self.finished() {
                let _ = writer.close(CloseCode::NORMAL.0, "done").await;
                linger(&mut reader).await;
                return End::Done;
            }
            tokio::select! {
                _ = ticker.tick() => {
                    let now = Instant::now();
                    self.generate(&mut credit, now - last);
                    last = now;
                }
                incoming = reader.next() => match incoming {
                    Ok(Incoming::Text(text)) => match ServerMessage::decode(&text) {
                        Ok(ServerMessage::Error(reply)) if !warned => {
                            warned = true;
                            tracing::warn!(message = %reply.message, "webmacs server refused a batch");
                        }
                        Ok(ServerMessage::Error(reply)) => {
                            tracing::debug!(message = %reply.message, "webmacs server refused a batch");
                        }
                        Ok(other) => tracing::debug!(kind = %other.kind(), "webmacs controller got a message"),
                        Err(err) => tracing::debug!(%err, "webmacs controller got an undecodable message"),
                    },
                    Ok(Incoming::Binary(_) | Incoming::Pong) => {}
                    Ok(Incoming::Ping) => {
                        if let Err(err) = writer.flush().await {
                            return End::Lost(err.to_string());
                        }
                    }
                    Ok(Incoming::Close(close)) => {
                        let code = close.as_ref().map_or(CloseCode::NORMAL.0, |c| c.0);
                        let _ = writer.close(code, "").await;
                        return match close {
                            Some((code, reason)) if code == CloseCode::POLICY_VIOLATION.0 => End::Refused(code, reason),
                            Some((code, reason)) => End::Lost(format!("server closed with {code} {reason:?}")),
                            None => End::Lost("server closed".to_owned()),
                        };
                    }
                    Err(err) => return End::Lost(err.to_string()),
                },
                () = shutdown.wait() => {
                    let _ = writer.close(CloseCode::GOING_AWAY.0, "controller shutting down").await;
                    linger(&mut reader).await;
                    return End::Shutdown;
                }
            }
        }
    }
}

/// Waits (bounded) for the server's close reply.
async fn linger(reader: &mut WsReader) {
    let _ = reader.linger(CLOSE_LINGER).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_with_jitter() {
        let mut prng = Prng::new(1);
        for attempt in 0..30 {
            let d = backoff(attempt, &mut prng);
            let full = BACKOFF_BASE
                .saturating_mul(1u32 << attempt.min(16))
                .min(BACKOFF_CAP);
            assert!(d >= full / 2 && d < full, "{attempt}: {d:?}");
        }
        let a: Vec<_> = (0..5)
            .map({
                let mut p = Prng::new(9);
                move |i| backoff(i, &mut p)
            })
            .collect();
        let b: Vec<_> = (0..5)
            .map({
                let mut p = Prng::new(9);
                move |i| backoff(i, &mut p)
            })
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn url_gets_the_path_and_the_token() {
        assert_eq!(
            controller_url("ws://127.0.0.1:9103", "a b").unwrap(),
            "ws://127.0.0.1:9103/ws/controller/telemetry?token=a%20b"
        );
        assert_eq!(
            controller_url("ws://h/ws/controller/telemetry?x=1", "t").unwrap(),
            "ws://h/ws/controller/telemetry?x=1&token=t"
        );
        assert_eq!(
            controller_url("wss://h", "t").unwrap(),
            "wss://h/ws/controller/telemetry?token=t"
        );
        assert!(matches!(
            controller_url("http://h", "t"),
            Err(ControllerError::InvalidUrl { .. })
        ));
    }
}
