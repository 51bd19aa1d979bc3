//! Valtronics session steps: raw frames, ticks, and well-formed client messages.

use std::time::Duration;

use arbitrary::Arbitrary;
use telewire_protocols::valtronics::Auth;
use telewire_protocols::valtronics::Batch;
use telewire_protocols::valtronics::Channel;
use telewire_protocols::valtronics::ClientMessage;
use telewire_protocols::valtronics::DeviceId;
use telewire_protocols::valtronics::FilterStyle;
use telewire_protocols::valtronics::Filters;
use telewire_protocols::valtronics::Frequency;
use telewire_protocols::valtronics::Ping;
use telewire_protocols::valtronics::Severity;
use telewire_protocols::valtronics::Subscribe;
use telewire_protocols::valtronics::Unsubscribe;
use telewire_protocols::valtronics::fuzzing::EXPIRED_TOKEN;
use telewire_protocols::valtronics::fuzzing::GOOD_TOKEN;

use telewire_protocols::fuzzing::assert_holds;
use telewire_protocols::valtronics::fuzzing::session;

use crate::Input;
use crate::Token;

/// One Valtronics step.
#[derive(Debug, Arbitrary)]
pub enum ValtronicsStep<'a> {
    /// Raw text.
    Text(&'a str),
    /// Raw bytes (a binary frame).
    Binary(&'a [u8]),
    /// Milliseconds pass.
    Tick(u16),
    /// `auth` with a token.
    Auth(Token),
    /// `subscribe` to a channel (index into the known ones; past them, an unknown name).
    Subscribe(Sub),
    /// `unsubscribe` from a channel, possibly naming devices.
    Unsubscribe {
        /// Channel index.
        channel: u8,
        /// Device to name.
        device: Option<u8>,
    },
    /// `ping`.
    Ping,
    /// A batch of subscribes and pings: `count % 8` items, or 40 to 94 for a count over
    /// 200 (over 50 is refused).
    Batch {
        /// Items.
        count: u8,
        /// The subscription in it.
        sub: Sub,
    },
    /// Pings at once: `n % 8`, or 101 to 155 for `n` over 200 (the rate limit is 100
    /// per second).
    Burst(u8),
    /// A ping padded past the 1 KiB limit by this many bytes.
    Oversize(u8),
}

/// A subscription's shape.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct Sub {
    channel: u8,
    device: Option<u8>,
    metrics: bool,
    frequency: Option<u8>,
    severity: bool,
    nested: bool,
}

fn channel(index: u8) -> Channel {
    Channel::KNOWN
        .get(usize::from(index))
        .cloned()
        .unwrap_or_else(|| Channel::new(format!("channel-{index}")))
}

impl Sub {
    fn message(self) -> ClientMessage {
        let mut filters = Filters::none();
        if let Some(device) = self.device {
            filters = filters.with_device(DeviceId(u64::from(device % 4)));
        }
        if self.metrics {
            filters = filters.with_metrics(["temperature", "cpu_usage"]);
        }
        if let Some(ms) = self.frequency {
            filters =
                filters.with_frequency(Frequency::every(Duration::from_millis(u64::from(ms) * 10)));
        }
        if self.severity {
            filters = filters.with_severity([Severity::CRITICAL]);
        }
        let style = if self.nested {
            FilterStyle::Nested
        } else {
            FilterStyle::Spread
        };
        Subscribe::new(channel(self.channel % 6), filters, style).into()
    }
}

/// Mostly small counts (`n % 8`), and now and then (`n` over 200) `large` and up.
fn spread(n: u8, large: usize) -> usize {
    if n > 200 {
        large + usize::from(n - 201)
    } else {
        usize::from(n % 8)
    }
}

fn ping() -> ClientMessage {
    ClientMessage::Ping(Ping { timestamp: None })
}

impl ValtronicsStep<'_> {
    /// Appends this step's inputs to `out`.
    pub fn inputs(&self, out: &mut Vec<Input>) {
        let text = |m: ClientMessage| Input::Text(m.to_text());
        match self {
            Self::Text(t) => out.push(Input::Text((*t).to_owned())),
            Self::Binary(b) => out.push(Input::Binary(b.to_vec())),
            Self::Tick(ms) => out.push(Input::Advance(u64::from(*ms))),
            Self::Auth(token) => out.push(text(ClientMessage::Auth(Auth {
                token: token.pick(GOOD_TOKEN, EXPIRED_TOKEN).unwrap_or_default(),
            }))),
            Self::Subscribe(sub) => out.push(text(sub.message())),
            Self::Unsubscribe { channel: c, device } => {
                out.push(text(ClientMessage::Unsubscribe(Unsubscribe {
                    channel: channel(c % 6),
                    device_id: device.map(|d| DeviceId(u64::from(d % 4)).into()),
                })));
            }
            Self::Ping => out.push(text(ping())),
            Self::Batch { count, sub } => {
                let messages = (0..spread(*count, 40))
                    .map(|i| if i % 2 == 0 { sub.message() } else { ping() })
                    .collect();
                out.push(text(ClientMessage::Batch(Batch { messages })));
            }
            Self::Burst(n) => out.extend((0..spread(*n, 101)).map(|_| text(ping()))),
            Self::Oversize(n) => out.push(text(ClientMessage::Ping(Ping {
                timestamp: Some("x".repeat(1_000 + usize::from(*n))),
            }))),
        }
    }
}

/// The inputs of every step in `data`.
pub fn inputs(data: &[u8]) -> Vec<Input> {
    let mut out = Vec::new();
    for step in crate::steps::<ValtronicsStep<'_>>(data) {
        step.inputs(&mut out);
    }
    out
}

/// The session target: every step of `data` through the Valtronics session properties.
pub fn run(data: &[u8]) {
    let inputs = inputs(data);
    let steps: Vec<_> = inputs.iter().map(Input::step).collect();
    assert_holds(session(&steps));
}

/// The session target's input, printed as steps by `cargo fuzz fmt`.
pub type SessionInput<'a> = crate::Steps<'a, ValtronicsStep<'a>>;
