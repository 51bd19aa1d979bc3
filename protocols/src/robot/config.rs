//! The limits that keep a robot server safe (robot.txt states none: every value here is MAY).

use std::time::Duration;

use crate::limits::CapConfig;

/// Per-connection limits a [`super::RobotSession`] enforces.
///
/// robot.txt documents no limit; these are the simulator's choices (MAY), each answered
/// with an error reply naming it (see [`super::Violation`]), never with a silent drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest text frame accepted, in bytes (default 64 KiB). The driver should let
    /// frames somewhat larger than this through its WebSocket layer so that the client
    /// gets the error reply rather than a transport-level close.
    pub max_message_bytes: usize,
    /// Longest topic accepted, in bytes (default 128).
    pub max_topic_bytes: usize,
    /// Most topics one connection may be subscribed to at once (default 64).
    pub max_topics_per_connection: usize,
    /// Messages admitted per [`Limits::window`] (default 100).
    pub max_messages: usize,
    /// The rate window (default one second).
    pub window: Duration,
    /// Consecutive rate-limited messages after which the connection is closed with 1008
    /// (default 20).
    pub max_rate_strikes: u32,
}

impl Limits {
    /// The defaults.
    pub const DEFAULT: Self = Self {
        max_message_bytes: 64 * 1024,
        max_topic_bytes: 128,
        max_topics_per_connection: 64,
        max_messages: 100,
        window: Duration::from_secs(1),
        max_rate_strikes: 20,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// How one [`super::RobotSession`] behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// The per-connection limits.
    pub limits: Limits,
    /// Acknowledge each accepted subscribe, unsubscribe and publish (MAY). Off by default:
    /// the official client expects only `{name, type, data}` messages.
    pub acks: bool,
    /// Close with 1008 when the connection's token expires, and re-check the token (for
    /// revocation) on every message (MAY). On by default.
    pub enforce_token_expiry: bool,
}

impl SessionConfig {
    /// The defaults: [`Limits::DEFAULT`], no acks, token expiry enforced.
    pub const DEFAULT: Self = Self {
        limits: Limits::DEFAULT,
        acks: false,
        enforce_token_expiry: true,
    };
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Server-wide settings of a [`super::Broker`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokerConfig {
    /// Connection caps (default: 1000 connections in total, no per-user cap or rate, since
    /// every official client of a robot shares one API key).
    pub caps: CapConfig,
}

impl BrokerConfig {
    /// The defaults.
    pub const DEFAULT: Self = Self {
        caps: CapConfig {
            total: Some(1000),
            per_user: None,
            rate: None,
        },
    };
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}
