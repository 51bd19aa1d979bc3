//! Judge mode (`telewire serve <api> --judge`): every connected client is checked against
//! the client rules of its API's document, and each gets verdicts when it disconnects.
//!
//! The pieces: [`rules`] lists the documented rules; [`observe`] (a middleware on every
//! route) sees each WebSocket upgrade request, judges what can be judged from the request
//! alone (connection rate, reconnection delay, the token query parameter) and hands a
//! [`Ticket`] to the handler; the handler turns it into a [`Watch`] that the driver feeds
//! with every frame in and out; the watch reports to the [`Judge`] of its API at the end.
//! `GET /_telewire/verdicts` returns the verdicts as JSON (loopback clients only).

pub mod rules;
mod watch;

use std::collections::HashMap;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::Request;
use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;
use serde_json::Value;
use serde_json::json;
use telewire_protocols::time::Timestamp;

use crate::clock::Clock;
use crate::link::peer_of;
use crate::serve::Api;

pub use rules::Level;
pub use rules::Rule;
pub use watch::Watch;

/// The path of the verdicts endpoint on every API's port.
pub const VERDICTS_PATH: &str = "/_telewire/verdicts";

/// Reports kept per API; the oldest go first.
const KEEP_REPORTS: usize = 1000;

/// Connection attempts remembered per address (the connection-rate window needs 11).
const KEEP_ATTEMPTS: usize = 64;

/// Addresses remembered; past this, those without a connection in the last window go.
const KEEP_PEERS: usize = 10_000;

/// The timing the judge applies. The defaults are the documents' values; tests shorten them.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgeSettings {
    /// Mosaic: the documented keepalive cadence ("every ~10 seconds"). A silence longer
    /// than 1.5 intervals fails `mosaic.client.keepalive`.
    pub keepalive_interval: Duration,
    /// The shortest acceptable delay before reconnecting after a connection ended other than
    /// by a 1000 close (both documented backoffs start at 1 s).
    pub min_backoff: Duration,
    /// Valtronics: the window of "10 per minute".
    pub connection_window: Duration,
    /// Send one frame of an undocumented type after auth, to judge that the client
    /// tolerates it.
    pub unknown_frame: bool,
    /// How long a client must stay connected after the undocumented frame when it sends
    /// nothing more, for its tolerance to count as observed.
    pub unknown_grace: Duration,
    /// Mosaic: how long a client may stay after an all-zero keepalive reply.
    pub timeout_grace: Duration,
    /// Print each client's verdicts on stdout when it disconnects (the CLI does).
    pub print: bool,
}

impl Default for JudgeSettings {
    fn default() -> Self {
        Self {
            keepalive_interval: Duration::from_secs(10),
            min_backoff: Duration::from_secs(1),
            connection_window: Duration::from_secs(60),
            unknown_frame: true,
            unknown_grace: Duration::from_secs(2),
            timeout_grace: Duration::from_secs(2),
            print: false,
        }
    }
}

/// Whether a client met a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It did.
    Pass,
    /// It did not.
    Fail,
}

/// One rule judged for one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The rule.
    pub rule: Rule,
    /// Pass or fail.
    pub outcome: Outcome,
    /// What the client did.
    pub observed: String,
}

impl Verdict {
    /// The verdict as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "rule": self.rule.id,
            "level": self.rule.level.name(),
            "outcome": match self.outcome { Outcome::Pass => "pass", Outcome::Fail => "fail" },
            "spec": self.rule.spec,
            "expected": self.rule.expected,
            "observed": self.observed,
        })
    }

    fn line(&self) -> String {
        let mark = match (self.outcome, self.rule.level) {
            (Outcome::Pass, _) => "PASS",
            (Outcome::Fail, Level::May) => "INFO",
            (Outcome::Fail, _) => "FAIL",
        };
        let mut line = format!(
            "  {mark:<4} {:<6} {}: {}",
            self.rule.level.name(),
            self.rule.id,
            self.observed
        );
        if self.outcome == Outcome::Fail {
            let _ = write!(line, "\n              expected: {}", self.rule.expected);
        }
        line
    }
}

/// Everything judged about one connection (or one refused upgrade).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientReport {
    /// Per API, in order of arrival.
    pub id: u64,
    /// The client's address.
    pub peer: SocketAddr,
    /// The path it connected to.
    pub path: String,
    /// When it connected (Unix milliseconds).
    pub connected_at: Timestamp,
    /// How it ended, in words.
    pub ended: String,
    /// One verdict per rule that applied, in rule order.
    pub verdicts: Vec<Verdict>,
}

impl ClientReport {
    /// The report as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "peer": self.peer.to_string(),
            "path": self.path,
            "connected_at": self.connected_at.to_rfc3339_micros(),
            "ended": self.ended,
            "verdicts": self.verdicts.iter().map(Verdict::to_json).collect::<Vec<_>>(),
        })
    }

    /// Readable text: a header line and one line per verdict.
    pub fn text(&self, api: Api) -> String {
        let mut out = format!(
            "judge {api} client #{} {} {}: {}",
            self.id, self.peer, self.path, self.ended
        );
        for verdict in &self.verdicts {
            out.push('\n');
            out.push_str(&verdict.line());
        }
        out
    }
}

/// What the judge remembers about one address across its connections.
#[derive(Debug, Default)]
struct Peer {
    /// Recent connection attempts.
    attempts: VecDeque<Timestamp>,
    /// When its last connection ended, and whether by a 1000 close.
    last_end: Option<(Timestamp, bool)>,
    /// The delay before its last reconnection after an abnormal end.
    last_delay: Option<Duration>,
    /// Molecule: a fingerprint of the last token its handshake had refused.
    refused_token: Option<u64>,
}

#[derive(Debug, Default)]
struct Store {
    next_id: u64,
    reports: VecDeque<ClientReport>,
    peers: HashMap<IpAddr, Peer>,
    finished: usize,
}

/// The judge of one API: settings, the verdicts so far, and what it knows about each address.
#[derive(Debug)]
pub struct Judge {
    api: Api,
    clock: Clock,
    settings: JudgeSettings,
    store: Mutex<Store>,
    finished: tokio::sync::watch::Sender<usize>,
}

impl Judge {
    /// A judge for `api`.
    pub fn new(api: Api, clock: Clock, settings: JudgeSettings) -> Self {
        Self {
            api,
            clock,
            settings,
            store: Mutex::default(),
            finished: tokio::sync::watch::Sender::new(0),
        }
    }

    /// The API it judges.
    pub fn api(&self) -> Api {
        self.api
    }

    /// Its settings.
    pub fn settings(&self) -> &JudgeSettings {
        &self.settings
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every finished report so far, oldest first.
    pub fn reports(&self) -> Vec<ClientReport> {
        self.store().reports.iter().cloned().collect()
    }

    /// Waits until `count` connections have finished (and been reported), at most `wait`.
    pub async fn wait_for_reports(&self, count: usize, wait: Duration) -> bool {
        let mut rx = self.finished.subscribe();
        tokio::time::timeout(wait, rx.wait_for(|n| *n >= count))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// All reports as the JSON document of `GET /_telewire/verdicts`.
    pub fn to_json(&self) -> Value {
        let reports = self.reports();
        json!({
            "api": self.api.name(),
            "rules": rules::of(self.api).iter().map(|r| json!({
                "rule": r.id, "level": r.level.name(), "spec": r.spec, "expected": r.expected,
            })).collect::<Vec<_>>(),
            "clients": reports.iter().map(ClientReport::to_json).collect::<Vec<_>>(),
        })
    }

    /// The shutdown summary: per rule, how many clients passed and failed, then each failure.
    pub fn summary(&self) -> String {
        let reports = self.reports();
        let mut out = format!(
            "judge summary: {} ({} client connection(s))\n",
            self.api,
            reports.len()
        );
        for rule in rules::of(self.api) {
            let verdicts = reports
                .iter()
                .flat_map(|r| r.verdicts.iter().map(move |v| (r, v)))
                .filter(|(_, v)| v.rule.id == rule.id);
            let (mut pass, mut fail) = (0, Vec::new());
            for (report, verdict) in verdicts {
                match verdict.outcome {
                    Outcome::Pass => pass += 1,
                    Outcome::Fail => fail.push(format!(
                        "      client #{} {}: {}",
                        report.id, report.peer, verdict.observed
                    )),
                }
            }
            let _ = writeln!(
                out,
                "  {:<6} {:<36} {pass} passed, {} failed",
                rule.level.name(),
                rule.id,
                fail.len()
            );
            for line in fail {
                let _ = writeln!(out, "{line}");
            }
        }
        out
    }

    /// A WebSocket upgrade request from `peer` for `path`: judges what the request alone
    /// shows and returns the ticket the handler turns into a [`Watch`].
    fn admit(self: &Arc<Self>, peer: SocketAddr, path: &str, query: Option<&str>) -> Ticket {
        let now = self.clock.now();
        let mut store = self.store();
        let id = store.next_id;
        store.next_id += 1;
        if store.peers.len() >= KEEP_PEERS {
            let window = self.settings.connection_window;
            store.peers.retain(|_, p| {
                p.attempts
                    .back()
                    .is_some_and(|t| now.saturating_since(*t) < window)
            });
        }
        let history = store.peers.entry(peer.ip()).or_default();
        let mut verdicts = Vec::new();
        if self.api == Api::Valtronics {
            let window = self.settings.connection_window;
            let recent = history
                .attempts
                .iter()
                .filter(|t| now.saturating_since(**t) < window)
                .count()
                + 1;
            verdicts.push(Verdict {
                rule: rules::VALTRONICS_RATE,
                outcome: if recent > 10 {
                    Outcome::Fail
                } else {
                    Outcome::Pass
                },
                observed: format!("connection {recent} from {} within {window:?}", peer.ip()),
            });
        }
        history.attempts.push_back(now);
        while history.attempts.len() > KEEP_ATTEMPTS {
            history.attempts.pop_front();
        }
        if let (Some(rule), Some((ended, normal))) = (rules::backoff(self.api), history.last_end)
            && !normal
        {
            let delay = now.saturating_since(ended);
            let min = self.settings.min_backoff;
            let shrank = history.last_delay.filter(|last| delay < *last);
            let (outcome, observed) = if delay < min {
                (
                    Outcome::Fail,
                    format!(
                        "reconnected {} ms after the previous connection ended abnormally (minimum {} ms)",
                        delay.as_millis(),
                        min.as_millis()
                    ),
                )
            } else if let Some(last) = shrank {
                (
                    Outcome::Fail,
                    format!(
                        "reconnected after {} ms, sooner than the previous delay of {} ms",
                        delay.as_millis(),
                        last.as_millis()
                    ),
                )
            } else {
                (
                    Outcome::Pass,
                    format!(
                        "reconnected {} ms after the previous connection ended abnormally",
                        delay.as_millis()
                    ),
                )
            };
            verdicts.push(Verdict {
                rule,
                outcome,
                observed,
            });
            history.last_delay = Some(delay);
        }
        // A reconnection is judged once, against the end that caused it.
        history.last_end = None;
        Ticket {
            judge: self.clone(),
            id,
            peer,
            path: path.to_owned(),
            query: query.map(str::to_owned),
            at: now,
            verdicts,
        }
    }

    /// The connection from `peer` ended at `at` (`normal`: by a 1000 close).
    fn ended(&self, peer: SocketAddr, at: Timestamp, normal: bool) {
        let mut store = self.store();
        let history = store.peers.entry(peer.ip()).or_default();
        history.last_end = Some((at, normal));
        if normal {
            history.last_delay = None;
        }
    }

    /// Molecule: the handshake's token (fingerprint `token`) was refused.
    fn token_refused(&self, peer: SocketAddr, token: u64) {
        self.store()
            .peers
            .entry(peer.ip())
            .or_default()
            .refused_token = Some(token);
    }

    /// Molecule: a handshake with token fingerprint `token`; whether it repeats the token
    /// refused last (`None`: nothing was refused since the last check).
    fn repeats_refused_token(&self, peer: SocketAddr, token: u64) -> Option<bool> {
        let mut store = self.store();
        let history = store.peers.entry(peer.ip()).or_default();
        history.refused_token.take().map(|refused| refused == token)
    }

    /// Files a finished report: stored, printed if asked, and announced to waiters.
    fn file(&self, mut report: ClientReport) {
        report
            .verdicts
            .sort_by_key(|v| rules::of(self.api).iter().position(|r| r.id == v.rule.id));
        let text = report.text(self.api);
        if !self.settings.print {
            tracing::info!(api = self.api.name(), "{text}");
        }
        if self.settings.print {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}").and_then(|()| out.flush());
        }
        let finished = {
            let mut store = self.store();
            store.reports.push_back(report);
            while store.reports.len() > KEEP_REPORTS {
                store.reports.pop_front();
            }
            store.finished += 1;
            store.finished
        };
        self.finished.send_replace(finished);
    }
}

/// What the upgrade request showed, handed from [`observe`] to the WebSocket handler.
#[derive(Debug, Clone)]
pub struct Ticket {
    judge: Arc<Judge>,
    id: u64,
    peer: SocketAddr,
    path: String,
    query: Option<String>,
    at: Timestamp,
    verdicts: Vec<Verdict>,
}

impl Ticket {
    /// The upgrade was answered with `status` instead of 101: the attempt is reported as is.
    fn refused(self, status: StatusCode) {
        let mut verdicts = self.verdicts;
        watch::token_refused_at_upgrade(
            self.judge.api,
            self.query.as_deref(),
            status,
            &mut verdicts,
        );
        self.judge.ended(self.peer, self.at, false);
        self.judge.file(ClientReport {
            id: self.id,
            peer: self.peer,
            path: self.path,
            connected_at: self.at,
            ended: format!("upgrade refused with HTTP {}", status.as_u16()),
            verdicts,
        });
    }
}

/// Middleware on every route of a judged API: WebSocket upgrade requests get a [`Ticket`].
pub async fn observe(
    State(judge): State<Arc<Judge>>,
    mut request: Request,
    next: Next,
) -> Response {
    if !crate::link::is_upgrade(&request) {
        return next.run(request).await;
    }
    let peer = peer_of(&request);
    let ticket = judge.admit(peer, request.uri().path(), request.uri().query());
    request.extensions_mut().insert(ticket.clone());
    let response = next.run(request).await;
    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        ticket.refused(response.status());
    }
    response
}

/// Whether `ip` is this host (IPv4-mapped IPv6 included).
pub(crate) fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// `GET /_telewire/verdicts`: every finished client's verdicts, to loopback clients only.
pub async fn verdicts(State(judge): State<Arc<Judge>>, request: Request) -> Response {
    let peer = peer_of(&request);
    if !is_loopback(peer.ip()) {
        return (
            StatusCode::FORBIDDEN,
            "the verdicts are served to loopback clients only: ask from the judging host\n",
        )
            .into_response();
    }
    axum::Json(judge.to_json()).into_response()
}

/// Adds the verdicts route and the upgrade observer to an API's router.
pub fn wrap(router: axum::Router, judge: Arc<Judge>) -> axum::Router {
    router
        .route(
            VERDICTS_PATH,
            axum::routing::get(verdicts).with_state(judge.clone()),
        )
        .layer(axum::middleware::from_fn_with_state(judge, observe))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_host_reads_the_verdicts() {
        for ip in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "0.0.0.0",
            "10.0.0.1",
            "192.168.1.2",
            "::ffff:10.0.0.1",
            "fe80::1",
        ] {
            assert!(!is_loopback(ip.parse().unwrap()), "{ip}");
        }
    }
}
