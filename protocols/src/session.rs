//! The contract between a sans-IO server session and the IO driver that feeds it.
//!
//! A driver owns one session per connection and, in a loop:
//!
//! 1. feeds every received data frame to [`ServerSession::handle_frame`] with the current time;
//! 2. when the deadline from [`ServerSession::poll_timeout`] passes, calls
//!    [`ServerSession::handle_timeout`];
//! 3. after each input, drains [`ServerSession::poll_transmit`] and writes the frames in
//!    order, then drains [`ServerSession::poll_event`] for application events (a subscription
//!    made, a batch accepted, a message to route);
//! 4. stops reading once [`ServerSession::is_closed`] is true: a `Close` frame was the last
//!    thing transmitted.
//!
//! Application inputs that differ per API (a telemetry sample to push, a broadcast to offer)
//! are inherent methods of each session type; they queue frames the same way.

use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::time::Timestamp;

/// A server-side connection state machine, driven with explicit time.
pub trait ServerSession {
    /// What the session reports to the application (auth done, subscription changes, ...).
    type Event;

    /// A text or binary message arrived from the client at `now`.
    fn handle_frame(&mut self, now: Timestamp, frame: Inbound<'_>);

    /// The deadline returned by [`ServerSession::poll_timeout`] has passed.
    fn handle_timeout(&mut self, now: Timestamp);

    /// The next frame to write to the client, in order.
    fn poll_transmit(&mut self) -> Option<Outbound>;

    /// The next application event.
    fn poll_event(&mut self) -> Option<Self::Event>;

    /// When [`ServerSession::handle_timeout`] should next be called, if ever.
    fn poll_timeout(&self) -> Option<Timestamp>;

    /// Whether the session has queued its close frame and accepts no more input.
    fn is_closed(&self) -> bool;

    /// What an operator sees of the session now (the control page's client list).
    fn view(&self) -> SessionView {
        SessionView::default()
    }
}

/// Where a connection's authentication stands, as an operator sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AuthView {
    /// The session does not report it.
    #[default]
    Unknown,
    /// Nothing accepted yet (the handshake or auth message is still due).
    Pending,
    /// The API needs no authentication on this connection.
    Open,
    /// Authenticated as this principal (user, gateway, subject).
    Authenticated(String),
    /// The credentials were refused.
    Refused,
}

impl std::fmt::Display for AuthView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthView::Unknown => f.write_str("unknown"),
            AuthView::Pending => f.write_str("pending"),
            AuthView::Open => f.write_str("open (no authentication)"),
            AuthView::Authenticated(who) => write!(f, "authenticated as {who}"),
            AuthView::Refused => f.write_str("refused"),
        }
    }
}

/// What an operator sees of a session: its authentication and its subscriptions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionView {
    /// Where authentication stands.
    pub auth: AuthView,
    /// The channels, topics or subscriptions the client holds, in the API's own names.
    pub subscriptions: Vec<String>,
}
