//! Structure-aware inputs for the session fuzz targets.
//!
//! A session target's input is a sequence of steps separated by [`SEPARATOR`] bytes; each
//! chunk is turned into one API-specific step with `arbitrary` (the step's last field takes
//! the rest of the chunk, so raw text and bytes need no length prefix). Besides raw text,
//! raw bytes and clock ticks, every API's step enum has "well-formed message" variants built
//! from the typed messages of `telewire_protocols`, so the fuzzer reaches authenticated,
//! subscribed states quickly. The property checks themselves live in
//! `telewire_protocols::<api>::fuzzing`.

use std::fmt;
use std::marker::PhantomData;

use arbitrary::Arbitrary;
use arbitrary::Unstructured;
use telewire_protocols::fuzzing::Step;

pub mod molecule;
pub mod mosaic;
pub mod robot;
pub mod valtronics;
pub mod webmacs;

/// The byte that separates steps in a session target's input.
pub const SEPARATOR: u8 = 0xff;

/// The steps encoded in `data`: one per [`SEPARATOR`]-separated chunk that decodes.
pub fn steps<'a, T: Arbitrary<'a>>(data: &'a [u8]) -> Vec<T> {
    data.split(|b| *b == SEPARATOR)
        .filter_map(|chunk| T::arbitrary_take_rest(Unstructured::new(chunk)).ok())
        .collect()
}

/// A session target's whole input: `HEADER` leading bytes, then steps of type `T`.
///
/// It keeps the raw bytes (the targets decode them with [`steps`]); its `Debug` shows the
/// decoded steps, so `cargo fuzz fmt <target> <artifact>` prints a reproducer readably.
pub struct Steps<'a, T, const HEADER: usize = 0> {
    /// The raw input.
    pub data: &'a [u8],
    step: PhantomData<T>,
}

impl<'a, T, const HEADER: usize> Arbitrary<'a> for Steps<'a, T, HEADER> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let data = u.bytes(u.len())?;
        Ok(Self {
            data,
            step: PhantomData,
        })
    }

    fn arbitrary_take_rest(u: Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self {
            data: u.take_rest(),
            step: PhantomData,
        })
    }
}

impl<'a, T: Arbitrary<'a> + fmt::Debug, const HEADER: usize> fmt::Debug for Steps<'a, T, HEADER> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = self.data.get(..HEADER).unwrap_or(self.data);
        let rest = self.data.get(HEADER..).unwrap_or_default();
        f.debug_struct("Steps")
            .field("header", &header)
            .field("steps", &steps::<T>(rest))
            .finish()
    }
}

/// A client input with owned contents, from which a [`Step`] borrows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// Milliseconds of virtual time.
    Advance(u64),
}

impl Input {
    /// The step to hand to a property function.
    pub fn step(&self) -> Step<'_> {
        match self {
            Input::Text(text) => Step::Text(text),
            Input::Binary(bytes) => Step::Binary(bytes),
            Input::Advance(millis) => Step::Advance(*millis),
        }
    }
}

/// Which token a well-formed message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub enum Token {
    /// The token the property function accepts.
    Good,
    /// A token that has expired.
    Expired,
    /// A token nobody issued.
    Unknown,
    /// No token at all.
    Missing,
}

impl Token {
    /// The token string, given the good and the expired one.
    pub fn pick(self, good: &str, expired: &str) -> Option<String> {
        match self {
            Token::Good => Some(good.to_owned()),
            Token::Expired => Some(expired.to_owned()),
            Token::Unknown => Some("forged".to_owned()),
            Token::Missing => None,
        }
    }
}

#[cfg(test)]
mod seeds;
