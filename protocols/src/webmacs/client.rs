//! Client behaviour the document describes: controller batch chunking, the `?token=` URL, and the dashboard's "Frontend Fallback Strategy".

use std::fmt;
use std::time::Duration;

use crate::time::Timestamp;

use super::MAX_BATCH_SIZE;
use super::messages::Datapoint;
use super::messages::TelemetryBatch;
use super::session::Endpoint;

/// The controller's default `WEBMACS_MAX_BATCH_SIZE` (its allowed range is 1–500).
pub const DEFAULT_CONTROLLER_BATCH_SIZE: usize = 100;

/// "The built-in Vue frontend sends a ping every **25 seconds**."
pub const PING_INTERVAL: Duration = Duration::from_secs(25);

/// "falls back to `GET /api/v1/datapoints/latest` every **1500ms**".
pub const POLL_INTERVAL: Duration = Duration::from_millis(1500);

/// "After **3 consecutive failures**, falls back to" HTTP polling.
pub const FAILURES_BEFORE_POLLING: u32 = 3;

/// "The controller automatically chunks large batches via `WEBMACS_MAX_BATCH_SIZE`":
/// splits `readings` into batches of at most `max_batch_size` datapoints, in order.
///
/// `max_batch_size` is clamped to 1–500, so no batch can be refused as too large. No
/// readings give no batch (an empty batch would only earn "No valid datapoints in batch").
pub fn chunk_readings(readings: &[Datapoint], max_batch_size: usize) -> Vec<TelemetryBatch> {
    let size = max_batch_size.clamp(1, MAX_BATCH_SIZE);
    readings
        .chunks(size)
        .map(|chunk| TelemetryBatch::new(chunk.iter().cloned()))
        .collect()
}

/// The URL a client connects to: `base` (`ws://host` or `wss://host`, a trailing `/` is
/// ignored), the endpoint's path and `?token=` with the token percent-encoded.
pub fn connect_url(base: &str, endpoint: Endpoint, token: &str) -> String {
    format!(
        "{}{}?token={}",
        base.trim_end_matches('/'),
        endpoint.path(),
        crate::urlencoded::encode_query_value(token)
    )
}

/// The dashboard's `ConnectionMode`: `'websocket' | 'polling' | 'connecting'`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionMode {
    /// Live over `/ws/datapoints/stream`.
    WebSocket,
    /// Polling `GET /api/v1/datapoints/latest` while the socket keeps failing.
    Polling,
    /// Opening the socket.
    Connecting,
}

impl ConnectionMode {
    /// The frontend's name for the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionMode::WebSocket => "websocket",
            ConnectionMode::Polling => "polling",
            ConnectionMode::Connecting => "connecting",
        }
    }
}

impl fmt::Display for ConnectionMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something the dashboard driver must do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DashboardAction {
    /// Send `{"type": "ping"}` on the stream.
    SendPing,
    /// Request `GET /api/v1/datapoints/latest`.
    PollLatest,
}

/// The dashboard's "WebSocket-first with automatic HTTP polling fallback", sans-IO.
///
/// Report every socket outcome ([`DashboardLink::on_open`], [`DashboardLink::on_failure`]);
/// when [`DashboardLink::poll_timeout`] passes, call [`DashboardLink::poll_action`] until it
/// returns `None`. When to retry the socket is the driver's choice (the document does not
/// say); a socket that opens stops the polling.
#[derive(Debug, Clone)]
pub struct DashboardLink {
    mode: ConnectionMode,
    failures: u32,
    next_ping: Option<Timestamp>,
    next_poll: Option<Timestamp>,
}

impl Default for DashboardLink {
    fn default() -> Self {
        Self::new()
    }
}

impl DashboardLink {
    /// A dashboard about to open its first socket.
    pub fn new() -> Self {
        Self {
            mode: ConnectionMode::Connecting,
            failures: 0,
            next_ping: None,
            next_poll: None,
        }
    }

    /// The current mode.
    pub fn mode(&self) -> ConnectionMode {
        self.mode
    }

    /// Consecutive socket failures since the last successful open.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The stream opened at `now` (its `connected` arrived): live mode, pings every 25 s,
    /// polling stopped, failure count reset.
    pub fn on_open(&mut self, now: Timestamp) {
        self.mode = ConnectionMode::WebSocket;
        self.failures = 0;
        self.next_ping = Some(now + PING_INTERVAL);
        self.next_poll = None;
    }

    /// A connection attempt failed, or the open socket closed, at `now`. The third
    /// consecutive failure starts polling at once; while polling, failed retries keep it.
    pub fn on_failure(&mut self, now: Timestamp) {
        self.failures = self.failures.saturating_add(1);
        self.next_ping = None;
        if self.mode == ConnectionMode::Polling {
            return;
        }
        if self.failures >= FAILURES_BEFORE_POLLING {
            self.mode = ConnectionMode::Polling;
            self.next_poll = Some(now);
        } else {
            self.mode = ConnectionMode::Connecting;
        }
    }

    /// When [`DashboardLink::poll_action`] next has something to do.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        match (self.next_ping, self.next_poll) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next action due at `now`, rescheduling it.
    pub fn poll_action(&mut self, now: Timestamp) -> Option<DashboardAction> {
        if let Some(at) = self.next_ping
            && at <= now
        {
            self.next_ping = Some(now + PING_INTERVAL);
            return Some(DashboardAction::SendPing);
        }
        if let Some(at) = self.next_poll
            && at <= now
        {
            self.next_poll = Some(now + POLL_INTERVAL);
            return Some(DashboardAction::PollLatest);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webmacs::Reading;

    fn readings(n: usize) -> Vec<Datapoint> {
        (0..n)
            .map(|i| Datapoint::new(format!("e-{i}"), Reading::new(i as f64).unwrap()))
            .collect()
    }

    #[test]
    fn chunker_splits_in_order_within_the_cap() {
        let input = readings(1_201);
        let batches = chunk_readings(&input, 10_000);
        assert_eq!(
            batches.iter().map(TelemetryBatch::len).collect::<Vec<_>>(),
            [500, 500, 201]
        );
        let rejoined: Vec<Datapoint> = batches.iter().flat_map(|b| b.valid().cloned()).collect();
        assert_eq!(rejoined, input);
        for batch in &batches {
            assert!(batch.check().is_ok());
        }
        assert_eq!(
            chunk_readings(&input, DEFAULT_CONTROLLER_BATCH_SIZE).len(),
            13
        );
        assert_eq!(
            chunk_readings(&readings(3), 0).len(),
            3,
            "size 0 counts as 1"
        );
        assert!(chunk_readings(&[], 100).is_empty());
    }

    #[test]
    fn url_carries_the_token_in_the_query() {
        assert_eq!(
            connect_url("wss://lab.example/", Endpoint::DatapointStream, "a.b-c_d~"),
            "wss://lab.example/ws/datapoints/stream?token=a.b-c_d~"
        );
        assert_eq!(
            connect_url("ws://h", Endpoint::ControllerTelemetry, "x y+/="),
            "ws://h/ws/controller/telemetry?token=x%20y%2B%2F%3D"
        );
        let query = connect_url("ws://h", Endpoint::ControllerTelemetry, "é&t=1");
        let (_, q) = query.split_once('?').unwrap();
        assert_eq!(
            crate::webmacs::token_from_query(q),
            Some("é&t=1".to_owned())
        );
    }

    #[test]
    fn three_failures_fall_back_to_polling_until_the_socket_opens() {
        let t = |ms| Timestamp::from_unix_millis(ms);
        let mut link = DashboardLink::new();
        assert_eq!(link.mode(), ConnectionMode::Connecting);
        link.on_failure(t(0));
        link.on_failure(t(1_000));
        assert_eq!(link.mode(), ConnectionMode::Connecting);
        assert_eq!(link.poll_timeout(), None);
        link.on_failure(t(2_000));
        assert_eq!(link.mode(), ConnectionMode::Polling);
        assert_eq!(
            link.poll_action(t(2_000)),
            Some(DashboardAction::PollLatest)
        );
        assert_eq!(link.poll_action(t(2_000)), None);
        assert_eq!(link.poll_timeout(), Some(t(3_500)));
        link.on_failure(t(3_000));
        assert_eq!(link.mode(), ConnectionMode::Polling, "retries keep polling");
        assert_eq!(link.poll_action(t(3_499)), None);
        assert_eq!(
            link.poll_action(t(3_500)),
            Some(DashboardAction::PollLatest)
        );
        link.on_open(t(4_000));
        assert_eq!(link.mode(), ConnectionMode::WebSocket);
        assert_eq!(link.failures(), 0);
        assert_eq!(link.poll_timeout(), Some(t(29_000)), "polling stopped");
        assert_eq!(link.poll_action(t(28_999)), None);
        assert_eq!(link.poll_action(t(29_000)), Some(DashboardAction::SendPing));
        assert_eq!(link.poll_timeout(), Some(t(54_000)));
        link.on_failure(t(30_000));
        assert_eq!(link.mode(), ConnectionMode::Connecting);
        assert_eq!(link.poll_timeout(), None);
    }
}
