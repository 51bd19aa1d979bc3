//! Sans-IO codecs and session state machines for five real-time telemetry WebSocket APIs.
//!
//! Each API has one module ([`molecule`], [`valtronics`], [`webmacs`], [`mosaic`],
//! [`robot`]) holding its typed messages, `decode` / `encode` with typed errors, a server
//! session state machine and, where the spec documents client behaviour, the client side.
//!
//! Nothing here performs IO or reads a clock: bytes and messages go in, bytes and messages
//! come out, and time is passed in as a [`time::Timestamp`]. The shared vocabulary lives in
//! [`codec`] (binary cursor, JSON errors), [`frame`] (WebSocket frames and close codes),
//! [`session`] (the driver contract), [`auth`] (token verification) and [`limits`]
//! (rate limits, connection caps, throttles).

#[cfg(feature = "schema")]
pub mod asyncapi;
pub mod auth;
pub mod codec;
pub mod frame;
#[doc(hidden)]
pub mod fuzzing;
pub mod limits;
pub mod molecule;
pub mod mosaic;
pub mod robot;
mod scan;
pub mod session;
pub mod time;
pub mod urlencoded;
pub mod valtronics;
pub mod webmacs;
