//! Record a real session of any of the five APIs, and serve it again in place of the
//! simulated data (README "Record and replay").
//!
//! [`record`] connects as a dashboard would, logs in, subscribes, and writes every frame in
//! both directions with its offset as JSON Lines ([`format`]), secrets replaced
//! ([`redact`]). [`serve`] replays a recording's server data frames to each client of
//! `telewire serve <api> --replay FILE` once it authenticates, on the [`schedule`].

pub mod dashboard;
pub mod format;
pub mod http;
pub mod record;
pub mod redact;
pub mod schedule;
pub mod serve;

pub use format::Recording;
pub use format::RecordingError;
pub use schedule::ReplaySettings;
pub use schedule::Schedule;
pub use serve::Replay;
