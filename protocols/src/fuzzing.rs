//! Shared fuzzing vocabulary: property failures, client steps and a checked driver for any [`ServerSession`].
//!
//! Each API's `fuzzing` module builds on this: its property functions feed a sequence of
//! [`Step`]s to its server session through a [`Harness`], which checks the invariants every
//! session shares after each input, then check the API's own rules. The functions return
//! `Result<(), PropertyFailure>`; a fuzz target turns an `Err` into a panic, and the stable
//! test suite runs the same functions over the committed seeds.
//!
//! The invariants the harness checks (see [`crate::session`] for the contract):
//!
//! - at most one close frame is transmitted and nothing follows it;
//! - a close reason fits the wire (at most 123 bytes);
//! - [`ServerSession::is_closed`] is true exactly when the close frame has been polled;
//! - every text or binary frame decodes with the API's decoder for server frames and
//!   re-encodes to a frame that decodes to an equal value;
//! - a session's deadline from [`ServerSession::poll_timeout`] is honoured when time
//!   advances past it, and input after the close changes nothing.

use std::fmt;
use std::time::Duration;

use crate::frame::Inbound;
use crate::frame::MAX_CLOSE_REASON;
use crate::frame::Outbound;
use crate::session::ServerSession;
use crate::time::Timestamp;

/// A broken property: which one, and what broke it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("property `{property}` failed: {detail}")]
pub struct PropertyFailure {
    /// What should have held.
    pub property: &'static str,
    /// The input or frames that broke it.
    pub detail: String,
}

/// `Ok(())` when `holds`, else a [`PropertyFailure`] for `property` with the `detail`.
pub fn check(
    holds: bool,
    property: &'static str,
    detail: impl FnOnce() -> String,
) -> Result<(), PropertyFailure> {
    if holds {
        Ok(())
    } else {
        Err(PropertyFailure {
            property,
            detail: detail(),
        })
    }
}

/// Panics with the failure's message when `outcome` is an `Err`: for callers (fuzz
/// targets, wrappers) that report a broken property as a crash.
#[allow(clippy::panic)]
pub fn assert_holds(outcome: Result<(), PropertyFailure>) {
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

/// [`check`] with the `Debug` form of `what` as the detail.
pub fn check_debug(
    holds: bool,
    property: &'static str,
    what: &dyn fmt::Debug,
) -> Result<(), PropertyFailure> {
    check(holds, property, || format!("{what:?}"))
}

/// Round-trip through a decoder and an encoder: `decode(text)` is either an error, or
/// a value whose encoding decodes to an equal value.
pub fn round_trips<T, E>(
    property: &'static str,
    text: &str,
    decode: impl Fn(&str) -> Result<T, E>,
    encode: impl Fn(&T) -> String,
) -> Result<Option<T>, PropertyFailure>
where
    T: PartialEq + fmt::Debug,
    E: fmt::Debug,
{
    let Ok(value) = decode(text) else {
        return Ok(None);
    };
    let again = encode(&value);
    match decode(&again) {
        Ok(decoded) if decoded == value => Ok(Some(value)),
        other => Err(PropertyFailure {
            property,
            detail: format!(
                "{text:?} decoded to {value:?}, re-encoded as {again:?}, then {other:?}"
            ),
        }),
    }
}

/// One input from the client side, as a fuzz target or a test hands it to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// A text message.
    Text(&'a str),
    /// A binary message.
    Binary(&'a [u8]),
    /// Virtual time passes, in milliseconds; a passed deadline is handled.
    Advance(u64),
}

impl<'a> Step<'a> {
    /// The frame this step sends, if it sends one.
    pub fn frame(&self) -> Option<Inbound<'a>> {
        match *self {
            Step::Text(text) => Some(Inbound::Text(text)),
            Step::Binary(bytes) => Some(Inbound::Binary(bytes)),
            Step::Advance(_) => None,
        }
    }
}

/// Checks one frame the server transmitted (not a close): it decodes with the API's
/// server decoder and re-encodes to an equal value. `Err` holds what went wrong.
pub type FrameCheck = fn(&Outbound) -> Result<(), String>;

/// The first instant the harnesses use: 2025-01-15T14:30:00Z.
pub const START: Timestamp = Timestamp::from_unix_secs(1_736_951_400);

/// Drives one [`ServerSession`] and checks the shared invariants after every input.
pub struct Harness<S: ServerSession> {
    /// The session under test.
    pub session: S,
    /// The current virtual time.
    pub now: Timestamp,
    check_frame: FrameCheck,
    closed: bool,
    /// Every frame transmitted so far, in order.
    pub sent: Vec<Outbound>,
}

impl<S: ServerSession> fmt::Debug for Harness<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Harness")
            .field("now", &self.now)
            .field("closed", &self.closed)
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

impl<S: ServerSession> Harness<S> {
    /// A harness around a session created at `now`; frames it queued at creation are
    /// drained and checked at once.
    pub fn new(
        session: S,
        now: Timestamp,
        check_frame: FrameCheck,
    ) -> Result<Self, PropertyFailure> {
        let mut harness = Self {
            session,
            now,
            check_frame,
            closed: false,
            sent: Vec::new(),
        };
        harness.drain()?;
        Ok(harness)
    }

    /// Whether the close frame has been transmitted.
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Feeds `step` and returns the frames it produced, checked.
    pub fn step(&mut self, step: &Step<'_>) -> Result<Vec<Outbound>, PropertyFailure> {
        match step.frame() {
            Some(frame) => self.session.handle_frame(self.now, frame),
            None => {
                if let Step::Advance(millis) = step {
                    self.advance(Duration::from_millis(*millis));
                }
            }
        }
        let frames = self.drain()?;
        check(
            !self.closed || self.session.poll_timeout().is_none(),
            "a closed session sets no deadline",
            || format!("{:?}", self.session.poll_timeout()),
        )?;
        Ok(frames)
    }

    /// Moves virtual time on by `by` and calls `handle_timeout` if the deadline passed.
    pub fn advance(&mut self, by: Duration) {
        self.now = self.now + by;
        if let Some(deadline) = self.session.poll_timeout()
            && self.now >= deadline
        {
            self.session.handle_timeout(self.now);
        }
    }

    /// Drains and checks every queued frame; returns them.
    pub fn drain(&mut self) -> Result<Vec<Outbound>, PropertyFailure> {
        let frames: Vec<Outbound> = std::iter::from_fn(|| self.session.poll_transmit()).collect();
        for frame in &frames {
            check(!self.closed, "nothing follows the close frame", || {
                format!("{frame:?} after {:?}", self.sent)
            })?;
            match frame {
                Outbound::Close(close) => {
                    check_debug(
                        close.reason.len() <= MAX_CLOSE_REASON,
                        "a close reason fits the wire",
                        close,
                    )?;
                    self.closed = true;
                }
                other => (self.check_frame)(other).map_err(|detail| PropertyFailure {
                    property: "every frame sent decodes and re-encodes to itself",
                    detail,
                })?,
            }
        }
        check(
            self.session.is_closed() == self.closed,
            "is_closed() is true exactly when the close frame was sent",
            || format!("is_closed {} after {:?}", self.session.is_closed(), frames),
        )?;
        self.sent.extend(frames.iter().cloned());
        Ok(frames)
    }

    /// Drains the session's events.
    pub fn events(&mut self) -> Vec<S::Event> {
        std::iter::from_fn(|| self.session.poll_event()).collect()
    }
}

/// A [`FrameCheck`] helper for JSON APIs: a text frame must round-trip through `decode`
/// and `encode`; a binary frame is refused.
pub fn json_frame<T, E>(
    frame: &Outbound,
    decode: impl Fn(&str) -> Result<T, E>,
    encode: impl Fn(&T) -> String,
) -> Result<(), String>
where
    T: PartialEq + fmt::Debug,
    E: fmt::Debug,
{
    let Outbound::Text(text) = frame else {
        return Err(format!("a JSON API sent {frame:?}"));
    };
    let value = decode(text).map_err(|e| format!("{text:?} does not decode: {e:?}"))?;
    let again = encode(&value);
    match decode(&again) {
        Ok(decoded) if decoded == value => Ok(()),
        other => Err(format!(
            "{text:?} decoded to {value:?}, re-encoded as {again:?}, then {other:?}"
        )),
    }
}

/// Splits `data` into steps the way the byte-level session targets do: chunks separated
/// by `0xff`; a chunk starting with `0xfe` is a clock tick of `rest[0] * 100` ms, one
/// that is valid UTF-8 is text, anything else binary.
pub fn byte_steps(data: &[u8]) -> Vec<Step<'_>> {
    data.split(|b| *b == 0xff)
        .map(|chunk| match chunk.split_first() {
            Some((0xfe, rest)) => {
                Step::Advance(u64::from(rest.first().copied().unwrap_or(1)) * 100)
            }
            _ => match std::str::from_utf8(chunk) {
                Ok(text) => Step::Text(text),
                Err(_) => Step::Binary(chunk),
            },
        })
        .collect()
}
