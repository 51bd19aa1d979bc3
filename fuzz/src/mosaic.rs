//! Mosaic `/query` session steps: raw frames, ticks, and well-formed requests, subscriptions and keepalives.

use arbitrary::Arbitrary;
use telewire_protocols::mosaic::Channel;
use telewire_protocols::mosaic::ChannelKind;
use telewire_protocols::mosaic::ClientMessage;
use telewire_protocols::mosaic::Keepalive;
use telewire_protocols::mosaic::Request;
use telewire_protocols::mosaic::RequestId;
use telewire_protocols::mosaic::Subscribe;
use telewire_protocols::mosaic::fuzzing::EXPIRED_TOKEN;
use telewire_protocols::mosaic::fuzzing::GOOD_TOKEN;

use telewire_protocols::fuzzing::assert_holds;
use telewire_protocols::mosaic::fuzzing::session;

use crate::Input;
use crate::Token;

/// One Mosaic step.
#[derive(Debug, Arbitrary)]
pub enum MosaicStep<'a> {
    /// Raw text.
    Text(&'a str),
    /// Raw bytes (a binary frame).
    Binary(&'a [u8]),
    /// Milliseconds pass.
    Tick(u16),
    /// Seconds pass (sessions live 5 minutes).
    Wait(u8),
    /// A keepalive object, with or without a token.
    Keepalive(Token),
    /// The empty text frame one client sends as its keepalive.
    Empty,
    /// A request for a channel (index into the known ones; past them, an unknown name).
    Request {
        /// Channel index.
        channel: u8,
        /// The `id` to echo.
        id: Option<u16>,
        /// The token.
        token: Token,
    },
    /// A subscription to a channel.
    Subscribe {
        /// Channel index (`remote-device` spelled with a hyphen past the known ones).
        channel: u8,
        /// The token.
        token: Token,
    },
}

fn channel(index: u8) -> Channel {
    let kinds = ChannelKind::ALL;
    match kinds.get(usize::from(index)) {
        Some(kind) => kind.channel(),
        None if index.is_multiple_of(2) => Channel::REMOTE_DEVICE_HYPHEN,
        None => Channel::new(format!("channel_{index}")),
    }
}

impl MosaicStep<'_> {
    /// This step's input.
    pub fn input(&self) -> Input {
        let pick = |t: &Token| t.pick(GOOD_TOKEN, EXPIRED_TOKEN);
        let text = |m: ClientMessage| Input::Text(m.to_text());
        match self {
            Self::Text(t) => Input::Text((*t).to_owned()),
            Self::Binary(b) => Input::Binary(b.to_vec()),
            Self::Tick(ms) => Input::Advance(u64::from(*ms)),
            Self::Wait(s) => Input::Advance(u64::from(*s) * 1_000),
            Self::Keepalive(token) => {
                text(ClientMessage::Keepalive(Keepalive { token: pick(token) }))
            }
            Self::Empty => Input::Text(String::new()),
            Self::Request {
                channel: c,
                id,
                token,
            } => text(ClientMessage::Request(Request {
                channel: channel(c % 32),
                id: id.map(|n| RequestId::from(u64::from(n))),
                token: pick(token),
                params: serde_json::Map::new(),
            })),
            Self::Subscribe { channel: c, token } => text(ClientMessage::Subscribe(Subscribe {
                channel: channel(c % 32),
                token: pick(token),
                extra: serde_json::Map::new(),
            })),
        }
    }
}

/// Whether the session runs with controller security, and the inputs of every step in
/// `data`: the first byte chooses security (even: on).
pub fn inputs(data: &[u8]) -> (bool, Vec<Input>) {
    let secured = data.first().is_none_or(|b| b % 2 == 0);
    let rest = data.get(1..).unwrap_or_default();
    let steps = crate::steps::<MosaicStep<'_>>(rest);
    (secured, steps.iter().map(MosaicStep::input).collect())
}

/// The session target: every step of `data` through the Mosaic session properties.
pub fn run(data: &[u8]) {
    let (secured, inputs) = inputs(data);
    let steps: Vec<_> = inputs.iter().map(Input::step).collect();
    assert_holds(session(secured, &steps));
}

/// The session target's input (the security byte, then steps), printed by `cargo fuzz fmt`.
pub type SessionInput<'a> = crate::Steps<'a, MosaicStep<'a>, 1>;
