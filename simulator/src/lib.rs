//! Simulated servers and devices for the five telemetry WebSocket APIs.
//!
//! Each API module is IO only: it accepts connections, feeds frames to the sans-IO session
//! of `telewire-protocols`, writes what the session polls, and sleeps until its next
//! deadline. Shared concepts live once: [`clock`], [`jwt`], [`hub`] (bounded fan-out),
//! [`driver`] (the per-connection loop), [`faults`] (faults on demand and the admin API),
//! [`link`] (the live connection list), [`prng`] and [`shutdown`].

pub mod breaks;
pub mod clock;
pub mod context;
pub mod control;
pub mod cors;
pub mod driver;
pub mod faults;
pub mod hub;
pub mod judge;
pub mod jwt;
pub mod link;
pub mod logtap;
pub mod molecule;
pub mod mosaic;
pub mod prng;
pub mod replay;
pub mod robot;
pub mod scenario;
pub mod serve;
pub mod shutdown;
pub mod signals;
pub mod tls;
pub mod valtronics;
pub mod webmacs;
pub mod wsclient;
