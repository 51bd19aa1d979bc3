//! Molecule steps: raw frames, ticks, and well-formed handshakes, commands and data frames.

use arbitrary::Arbitrary;
use telewire_protocols::molecule::DataFrame;
use telewire_protocols::molecule::MessageType;
use telewire_protocols::molecule::build_handshake;
use telewire_protocols::molecule::fuzzing::GATEWAY;
use telewire_protocols::molecule::fuzzing::GOOD_TOKEN;

use telewire_protocols::fuzzing::assert_holds;
use telewire_protocols::molecule::fuzzing::session;

use crate::Input;
use crate::Token;

/// One Molecule step.
#[derive(Debug, Arbitrary)]
pub enum MoleculeStep<'a> {
    /// Raw text.
    Text(&'a str),
    /// Raw bytes (a binary frame).
    Binary(&'a [u8]),
    /// Milliseconds pass (the handshake must come within 10 s).
    Tick(u16),
    /// Minutes pass (the token lives an hour).
    Wait(u8),
    /// The handshake, for the known gateway or another.
    Handshake {
        /// Name the known gateway.
        known_gateway: bool,
        /// The token.
        token: Token,
    },
    /// A command `[1][0][text]`.
    Command(&'a str),
    /// A data frame of any type.
    Frame {
        /// Byte 0.
        kind: u8,
        /// The payload.
        payload: &'a [u8],
    },
    /// A frame padded past the 8 KiB cap by this many bytes.
    Oversize(u8),
}

impl MoleculeStep<'_> {
    /// This step's input.
    pub fn input(&self) -> Input {
        match self {
            Self::Text(t) => Input::Text((*t).to_owned()),
            Self::Binary(b) => Input::Binary(b.to_vec()),
            Self::Tick(ms) => Input::Advance(u64::from(*ms)),
            Self::Wait(m) => Input::Advance(u64::from(*m) * 60_000),
            Self::Handshake {
                known_gateway,
                token,
            } => {
                let gateway = if *known_gateway {
                    GATEWAY
                } else {
                    "other-gateway"
                };
                let token = token.pick(GOOD_TOKEN, "expired").unwrap_or_default();
                Input::Binary(build_handshake(gateway, &token).unwrap_or_default())
            }
            Self::Command(text) => {
                Input::Binary(DataFrame::from_text(MessageType::COMMAND, text).to_bytes())
            }
            Self::Frame { kind, payload } => {
                Input::Binary(DataFrame::new(MessageType(*kind), payload).to_bytes())
            }
            Self::Oversize(n) => Input::Binary(
                DataFrame::new(
                    MessageType::COMMAND,
                    &vec![b'a'; 8 * 1024 + usize::from(*n)],
                )
                .to_bytes(),
            ),
        }
    }
}

/// The inputs of every step in `data`.
pub fn inputs(data: &[u8]) -> Vec<Input> {
    crate::steps::<MoleculeStep<'_>>(data)
        .iter()
        .map(MoleculeStep::input)
        .collect()
}

/// The session target: every step of `data` through the Molecule session properties.
pub fn run(data: &[u8]) {
    let inputs = inputs(data);
    let steps: Vec<_> = inputs.iter().map(Input::step).collect();
    assert_holds(session(&steps));
}

/// The session target's input, printed as steps by `cargo fuzz fmt`.
pub type SessionInput<'a> = crate::Steps<'a, MoleculeStep<'a>>;
