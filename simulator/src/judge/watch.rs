//! One judged connection: the driver feeds it every frame in and out with its time, and
//! it turns what it saw into verdicts on the client rules of its API.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde_json::Value;
use telewire_protocols::frame::Inbound;
use telewire_protocols::frame::Outbound;
use telewire_protocols::time::Timestamp;

use super::Outcome;
use super::Rule;
use super::Ticket;
use super::Verdict;
use super::rules;
use crate::serve::Api;

mod checks;

/// The documented message cap of Valtronics ("Maximum 1KB message size").
const VALTRONICS_MAX_MESSAGE: usize = 1024;
/// "Maximum 100 messages per second per connection".
const VALTRONICS_MAX_PER_SECOND: usize = 100;
/// "Batch messages limited to 50 items".
const VALTRONICS_MAX_BATCH: usize = 50;
/// WebMACS: "Batch of readings (max 500 items)".
const WEBMACS_MAX_BATCH: usize = 500;

/// Message times kept for the per-second rate: enough to see the limit exceeded.
const RECENT_CAP: usize = 4 * VALTRONICS_MAX_PER_SECOND;

/// Close codes that mean "I did not understand what you sent" (RFC 6455 §7.4.1).
const REJECTING_CLOSES: [u16; 3] = [1002, 1003, 1007];

/// Where the client's authentication stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Auth {
    Pending,
    Accepted,
    Refused(String),
}

/// The judge's view of one connection; [`Watch::off`] when judge mode is off.
///
/// Handlers take it as an extractor (it is `off` unless the judge's middleware admitted the
/// upgrade) and pass it to [`crate::driver::drive_watched`].
#[derive(Debug, Default)]
pub struct Watch {
    inner: Option<Box<Observed>>,
    /// The connection's entry in the live connection list (see [`crate::link`]).
    link: Option<crate::link::LinkTicket>,
}

#[derive(Debug)]
struct Observed {
    ticket: Ticket,
    api: Api,
    /// Mosaic: whether the controller's security is on (every message then needs a token).
    security: Option<bool>,
    auth: Auth,
    inbound: u64,
    last_inbound: Timestamp,
    longest_silence: Duration,
    injected: Option<Timestamp>,
    after_injection: u64,
    /// Times of the last second's messages (Valtronics rate).
    recent: VecDeque<Timestamp>,
    peak_per_second: usize,
    largest_message: usize,
    largest_batch: Option<usize>,
    auth_messages: u64,
    requests: u64,
    client_close: Option<Option<u16>>,
    server_close: Option<(u16, String)>,
    /// Molecule: a fingerprint of the handshake's token.
    token: Option<u64>,
    /// Mosaic: when the first all-zero keepalive reply went out, and messages since.
    zero_reply: Option<Timestamp>,
    after_zero_reply: u64,
    /// Verdicts so far: the first failure of a rule wins over any pass.
    verdicts: Vec<Verdict>,
}

impl<S: Send + Sync> FromRequestParts<S> for Watch {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut watch = parts
            .extensions
            .get::<Ticket>()
            .cloned()
            .map_or_else(Watch::off, Watch::new);
        watch.link = parts.extensions.get::<crate::link::LinkTicket>().cloned();
        Ok(watch)
    }
}

impl Watch {
    /// A watch that observes nothing (judge mode off).
    pub fn off() -> Self {
        Self {
            inner: None,
            link: None,
        }
    }

    /// The connection's ticket to the live connection list, taken once by the driver.
    pub fn take_link(&mut self) -> Option<crate::link::LinkTicket> {
        self.link.take()
    }

    fn new(ticket: Ticket) -> Self {
        let api = ticket.judge.api;
        let at = ticket.at;
        let verdicts = ticket.verdicts.clone();
        Self {
            inner: Some(Box::new(Observed {
                ticket,
                api,
                security: None,
                auth: Auth::Pending,
                inbound: 0,
                last_inbound: at,
                longest_silence: Duration::ZERO,
                injected: None,
                after_injection: 0,
                recent: VecDeque::new(),
                peak_per_second: 0,
                largest_message: 0,
                largest_batch: None,
                auth_messages: 0,
                requests: 0,
                client_close: None,
                server_close: None,
                token: None,
                zero_reply: None,
                after_zero_reply: 0,
                verdicts,
            })),
            link: None,
        }
    }

    /// Whether judge mode observes this connection.
    pub fn is_on(&self) -> bool {
        self.inner.is_some()
    }

    /// Mosaic: the controller's security setting (every message then needs a token).
    pub fn expect_token(&mut self, security: bool) {
        if let Some(o) = &mut self.inner {
            o.security = Some(security);
        }
    }

    /// A data frame arrived from the client at `now`.
    pub fn inbound(&mut self, now: Timestamp, frame: &Inbound<'_>) {
        if let Some(o) = &mut self.inner {
            o.inbound(now, frame);
        }
    }

    /// A frame over the transport's size cap arrived (it was never read).
    pub fn oversized(&mut self, now: Timestamp) {
        if let Some(o) = &mut self.inner {
            o.silence_until(now);
            if o.api == Api::Valtronics {
                o.fail(
                    rules::VALTRONICS_LIMITS,
                    "sent a message over the server's transport limit".into(),
                );
            }
        }
    }

    /// The server is writing `frame` at `now`.
    pub fn outbound(&mut self, now: Timestamp, frame: &Outbound) {
        if let Some(o) = &mut self.inner {
            o.outbound(now, frame);
        }
    }

    /// Every queued frame was written; the first call follows the connection's opening.
    /// Returns the undocumented frame to send, once, after a successful auth.
    pub fn flushed(&mut self, now: Timestamp) -> Option<Outbound> {
        let o = self.inner.as_mut()?;
        if o.auth == Auth::Pending && o.server_close.is_none() && o.authenticated_at_connect() {
            o.accept();
        }
        let settings = &o.ticket.judge.settings;
        if settings.unknown_frame
            && o.auth == Auth::Accepted
            && o.injected.is_none()
            && o.server_close.is_none()
        {
            o.injected = Some(now);
            return Some(probe(o.api));
        }
        None
    }

    /// The client closed (with `code`) or went away (`None`) at `now`.
    pub fn client_closed(&mut self, now: Timestamp, code: Option<u16>) {
        if let Some(o) = &mut self.inner {
            o.silence_until(now);
            o.client_close = Some(code);
            o.ticket.judge.ended(o.ticket.peer, now, code == Some(1000));
        }
    }

    /// The connection is over (`how`, in words): its verdicts go to the judge.
    pub fn finish(&mut self, now: Timestamp, how: &str) {
        if let Some(mut o) = self.inner.take() {
            o.finish(now, how);
        }
    }
}

impl Observed {
    fn verdict(&mut self, rule: Rule, outcome: Outcome, observed: String) {
        match self.verdicts.iter_mut().find(|v| v.rule.id == rule.id) {
            Some(v) if v.outcome == Outcome::Fail => {}
            Some(v) if outcome == Outcome::Fail => {
                v.outcome = outcome;
                v.observed = observed;
            }
            Some(_) => {}
            None => self.verdicts.push(Verdict {
                rule,
                outcome,
                observed,
            }),
        }
    }

    fn fail(&mut self, rule: Rule, observed: String) {
        self.verdict(rule, Outcome::Fail, observed);
    }

    fn pass(&mut self, rule: Rule, observed: String) {
        self.verdict(rule, Outcome::Pass, observed);
    }

    fn judged(&self, rule: Rule) -> bool {
        self.verdicts.iter().any(|v| v.rule.id == rule.id)
    }

    /// Query-token APIs are authenticated once the opening flush carried no close.
    fn authenticated_at_connect(&self) -> bool {
        match self.api {
            Api::Webmacs | Api::Robot => true,
            Api::Mosaic => self.security == Some(false),
            Api::Molecule | Api::Valtronics => false,
        }
    }

    fn accept(&mut self) {
        self.auth = Auth::Accepted;
        if let Some(rule) = token_rule(self.api) {
            self.pass(rule, "the token in ?token= was accepted".into());
        }
    }

    fn silence_until(&mut self, now: Timestamp) {
        let gap = now.saturating_since(self.last_inbound);
        self.longest_silence = self.longest_silence.max(gap);
        self.last_inbound = now;
    }

    fn inbound(&mut self, now: Timestamp, frame: &Inbound<'_>) {
        self.silence_until(now);
        let first = self.inbound == 0;
        self.inbound += 1;
        if self.injected.is_some() {
            self.after_injection += 1;
        }
        if self.zero_reply.is_some() {
            self.after_zero_reply += 1;
        }
        self.largest_message = self.largest_message.max(frame.len());
        if self.recent.len() <= RECENT_CAP {
            self.recent.push_back(now);
        }
        while self
            .recent
            .front()
            .is_some_and(|t| now.saturating_since(*t) >= Duration::from_secs(1))
        {
            self.recent.pop_front();
        }
        self.peak_per_second = self.peak_per_second.max(self.recent.len());
        match self.api {
            Api::Molecule => self.molecule(first, frame),
            Api::Valtronics => self.valtronics(frame),
            Api::Webmacs => self.webmacs(frame),
            Api::Mosaic => self.mosaic(frame),
            Api::Robot => self.robot(frame),
        }
    }

    fn outbound(&mut self, now: Timestamp, frame: &Outbound) {
        match frame {
            Outbound::Close(close) => {
                if self.server_close.is_none() && self.client_close.is_none() {
                    self.ticket
                        .judge
                        .ended(self.ticket.peer, now, close.code.0 == 1000);
                }
                self.server_close = Some((close.code.0, close.reason.clone()));
                if self.auth == Auth::Pending && close.code.0 == 1008 {
                    self.auth = Auth::Refused(format!("closed 1008 {:?}", close.reason));
                }
            }
            Outbound::Binary(bytes) if self.api == Api::Molecule => {
                if self.auth == Auth::Pending
                    && let [2, status, 4] = bytes.as_slice()
                {
                    if *status == 1 {
                        self.auth = Auth::Accepted;
                    } else {
                        self.auth = Auth::Refused(format!("auth response status {status}"));
                        if let Some(token) = self.token {
                            self.ticket.judge.token_refused(self.ticket.peer, token);
                        }
                    }
                }
            }
            Outbound::Binary(bytes) if self.api == Api::Mosaic => {
                if bytes.iter().any(|b| *b != 0) {
                    if self.auth == Auth::Pending {
                        self.auth = Auth::Accepted;
                    }
                } else if !bytes.is_empty() && self.zero_reply.is_none() {
                    self.zero_reply = Some(now);
                }
            }
            Outbound::Text(text) if self.auth == Auth::Pending => {
                let json: Option<Value> = serde_json::from_str(text).ok();
                match self.api {
                    Api::Valtronics => {
                        let reply = json.as_ref().filter(|v| {
                            v.get("type").and_then(Value::as_str) == Some("auth_response")
                        });
                        if let Some(reply) = reply {
                            if reply.get("success").and_then(Value::as_bool) == Some(true) {
                                self.auth = Auth::Accepted;
                                self.pass(
                                    rules::VALTRONICS_AUTH_FORMAT,
                                    "the auth message decoded and its token was accepted".into(),
                                );
                            } else {
                                let why = reply
                                    .get("error")
                                    .and_then(Value::as_str)
                                    .unwrap_or("no error code");
                                self.auth = Auth::Refused(format!("auth_response {why}"));
                                self.fail(
                                    rules::VALTRONICS_AUTH_FORMAT,
                                    format!("the server refused the auth message: {why}"),
                                );
                            }
                        }
                    }
                    Api::Mosaic if json.as_ref().is_some_and(|v| v.get("error").is_none()) => {
                        self.auth = Auth::Accepted;
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, now: Timestamp, how: &str) {
        if self.client_close.is_none() {
            self.silence_until(now);
            if self.server_close.is_none() {
                self.ticket.judge.ended(self.ticket.peer, now, false);
            }
        }
        let settings = self.ticket.judge.settings.clone();
        match self.api {
            Api::Molecule if self.inbound == 0 => self.fail(
                rules::MOLECULE_HANDSHAKE,
                "the client sent no handshake".into(),
            ),
            Api::Valtronics => self.finish_valtronics(),
            Api::Webmacs => {
                if let Some(n) = self.largest_batch
                    && !self.judged(rules::WEBMACS_BATCH)
                {
                    self.pass(
                        rules::WEBMACS_BATCH,
                        format!("largest batch {n} datapoints"),
                    );
                }
            }
            Api::Mosaic => {
                let limit = settings.keepalive_interval.saturating_mul(3) / 2;
                let longest = self.longest_silence;
                let observed = format!(
                    "longest silence {} ms (interval {} ms, limit {} ms)",
                    longest.as_millis(),
                    settings.keepalive_interval.as_millis(),
                    limit.as_millis()
                );
                if longest > limit {
                    self.fail(rules::MOSAIC_KEEPALIVE, observed);
                } else {
                    self.pass(rules::MOSAIC_KEEPALIVE, observed);
                }
                self.finish_timeout(now, &settings);
                if self.requests > 0 {
                    let n = self.requests;
                    self.pass(
                        rules::MOSAIC_TOKEN,
                        format!("{n} request/subscribe message(s), each with a token"),
                    );
                }
            }
            Api::Robot => {
                if self.inbound > 0 {
                    let n = self.inbound;
                    self.pass(
                        rules::ROBOT_MESSAGES,
                        format!("{n} message(s), each a documented action"),
                    );
                }
            }
            Api::Molecule => {}
        }
        if let Some(rule) = token_rule(self.api)
            && let Auth::Refused(why) = &self.auth
        {
            let observed = match query_token(self.ticket.query.as_deref()) {
                None => format!("no token query parameter; the server {why}"),
                Some(_) => format!("the token was refused: {why}"),
            };
            self.fail(rule, observed);
        }
        self.finish_unknown(now, &settings);
        let ended = match (&self.client_close, &self.server_close) {
            (Some(Some(code)), _) => format!("the client closed with {code}"),
            (Some(None), _) => "the client went away without a close frame".to_owned(),
            (None, Some((code, reason))) => format!("the server closed with {code} {reason:?}"),
            (None, None) => how.to_owned(),
        };
        self.ticket.judge.file(super::ClientReport {
            id: self.ticket.id,
            peer: self.ticket.peer,
            path: self.ticket.path.clone(),
            connected_at: self.ticket.at,
            ended,
            verdicts: std::mem::take(&mut self.verdicts),
        });
    }
}

/// The rule on the `?token=` query parameter, for the APIs that authenticate that way.
fn token_rule(api: Api) -> Option<Rule> {
    match api {
        Api::Webmacs => Some(rules::WEBMACS_TOKEN),
        Api::Robot => Some(rules::ROBOT_TOKEN),
        _ => None,
    }
}

fn query_token(query: Option<&str>) -> Option<String> {
    query
        .and_then(telewire_protocols::webmacs::token_from_query)
        .filter(|t| !t.is_empty())
}

/// Verdicts for an upgrade refused with `status` before any frame.
pub(super) fn token_refused_at_upgrade(
    api: Api,
    query: Option<&str>,
    status: StatusCode,
    verdicts: &mut Vec<Verdict>,
) {
    let Some(rule) = token_rule(api) else { return };
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        let refused = format!("the upgrade was refused with HTTP {}", status.as_u16());
        verdicts.push(Verdict {
            rule,
            outcome: Outcome::Fail,
            observed: match query_token(query) {
                None => format!("no token query parameter; {refused}"),
                Some(_) => format!("the token was refused: {refused}"),
            },
        });
    }
}

/// The one frame of an undocumented type the judge sends after auth.
fn probe(api: Api) -> Outbound {
    const NOTE: &str = "telewire judge: a frame of an undocumented type; a client should ignore it";
    match api {
        Api::Molecule => {
            // Type 99 is undocumented; the frame is longer than 3 bytes, so no client can
            // take it for an auth response.
            let mut frame = vec![99, 0];
            frame.extend_from_slice(NOTE.as_bytes());
            Outbound::Binary(frame)
        }
        Api::Valtronics | Api::Webmacs => Outbound::Text(
            serde_json::json!({"type": "telewire_notice", "message": NOTE}).to_string(),
        ),
        Api::Mosaic | Api::Robot => {
            Outbound::Text(serde_json::json!({"telewire_notice": NOTE}).to_string())
        }
    }
}

/// A fingerprint of a token, so that the judge compares tokens without keeping them.
fn fingerprint(token: &str) -> u64 {
    use std::hash::Hash as _;
    use std::hash::Hasher as _;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    token.hash(&mut hasher);
    hasher.finish()
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn clip(text: &str) -> String {
    const MAX: usize = 120;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}...", text.get(..at).unwrap_or_default()),
        None => text.to_owned(),
    }
}
