//! Mosaic (Pharos) controllers' WebSocket API at `/query`: JSON requests, subscriptions and
//! broadcasts, and a keepalive whose reply is binary when controller security is enabled.
//!
//! - [`ClientMessage`] / [`ServerMessage`]: the JSON messages, typed per [`Channel`]
//!   ([`ReplyData`], [`BroadcastData`]); [`KeepaliveReply`]: the 16-byte binary reply.
//! - [`MosaicSession`]: the server side of one connection; [`Controller`]: what every
//!   connection of one controller shares (connection cap, session key).
//! - [`ClientSession`]: the client's keepalive timer and reply interpretation.
//! - [`http`]: the `POST /authenticate` bodies.
//!
//! Error replies are not documented; this module defines one shape (level MAY), see
//! [`ErrorReply`].

use std::time::Duration;

mod channel;
mod client;
mod controller;
mod data;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
mod keepalive;
mod messages;
mod payload;
mod replies;
mod session;
#[cfg(test)]
mod tests;

pub use channel::Capability;
pub use channel::Channel;
pub use channel::ChannelKind;
pub use client::ClientConfig;
pub use client::ClientEvent;
pub use client::ClientSession;
pub use controller::ConnectionPermit;
pub use controller::Controller;
pub use controller::ControllerModel;
pub use data::Beacon;
pub use data::ContentTarget;
pub use data::ContentTargets;
pub use data::CurrentTime;
pub use data::Extra;
pub use data::GroupStatus;
pub use data::IoInstance;
pub use data::IoModule;
pub use data::IoModules;
pub use data::IoStatus;
pub use data::Level;
pub use data::LevelOutOfRange;
pub use data::Log;
pub use data::LuaVariables;
pub use data::NetworkAdapter;
pub use data::NetworkAdapters;
pub use data::RemoteDevice;
pub use data::RemoteDevices;
pub use data::SceneState;
pub use data::SceneStatus;
pub use data::Serial;
pub use data::SystemInfo;
pub use data::TimelineState;
pub use data::TimelineStatus;
pub use error::BinaryProblem;
pub use error::DecodeError;
pub use error::ErrorCode;
pub use error::Violation;
pub use error::Wire;
pub use keepalive::KeepaliveReply;
pub use keepalive::SessionKey;
pub use messages::ClientMessage;
pub use messages::Keepalive;
pub use messages::Origin;
pub use messages::Request;
pub use messages::RequestId;
pub use messages::Subscribe;
pub use payload::BroadcastData;
pub use payload::ReplyData;
pub use replies::Broadcast;
pub use replies::ErrorReply;
pub use replies::Reply;
pub use replies::ServerFrame;
pub use replies::ServerMessage;
pub use session::Event;
pub use session::MosaicSession;
pub use session::PendingRequest;
pub use session::PreparedBroadcast;
pub use session::SessionConfig;
pub use session::SessionError;
pub use session::SessionFaults;
pub use session::Ticket;

/// The WebSocket endpoint: `ws://{controller}/query` (port 80) or `wss://` (port 443).
pub const QUERY_PATH: &str = "/query";

/// "A message should be sent every ~10 seconds to keep the connection alive."
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);

/// Tokens live 5 minutes unless refreshed by keepalive.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(5 * 60);
