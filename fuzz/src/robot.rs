//! Robot steps for two connections: raw frames, ticks, and well-formed subscribe, unsubscribe and publish.

use arbitrary::Arbitrary;
use telewire_protocols::robot::ClientMessage;
use telewire_protocols::robot::EmbeddedPayload;
use telewire_protocols::robot::Payload;
use telewire_protocols::robot::PublishData;
use telewire_protocols::robot::Topic;

use telewire_protocols::fuzzing::assert_holds;
use telewire_protocols::robot::fuzzing::two_clients;

use crate::Input;

/// One robot step, for connection `side % 2`.
#[derive(Debug, Arbitrary)]
pub struct RobotStep<'a> {
    /// Which connection.
    pub side: u8,
    /// What it does.
    pub action: RobotAction<'a>,
}

/// What a robot client does.
#[derive(Debug, Arbitrary)]
pub enum RobotAction<'a> {
    /// Raw text.
    Text(&'a str),
    /// Raw bytes (a binary frame).
    Binary(&'a [u8]),
    /// Milliseconds pass.
    Tick(u16),
    /// Minutes pass (the token lives an hour).
    Wait(u8),
    /// `subscribe` to a topic (a few fixed ones, then `t<n>`).
    Subscribe(u8),
    /// `unsubscribe` from a topic.
    Unsubscribe(u8),
    /// `publish` on a topic, as an object or as the official client's JSON string.
    Publish {
        /// Topic index.
        topic: u8,
        /// Send `data` as a string holding the object.
        embedded: bool,
        /// The value published.
        value: i16,
    },
    /// Subscribes at once: `n % 8`, or 102 to 210 for `n` over 200 (the rate limit is 100
    /// per second, the connection closes after 20 refusals in a row).
    Burst(u8),
}

fn topic(index: u8) -> Topic {
    match index {
        0 => Topic::new("arm"),
        1 => Topic::new("wheels"),
        2 => Topic::SERVER_LOGS,
        3 => Topic::new(""),
        4 => Topic::new("x".repeat(129)),
        n => Topic::new(format!("t{n}")),
    }
}

impl RobotStep<'_> {
    /// The side and the inputs of this step.
    pub fn inputs(&self, out: &mut Vec<(u8, Input)>) {
        let side = self.side % 2;
        let text = |m: ClientMessage| (side, Input::Text(m.to_text()));
        match &self.action {
            RobotAction::Text(t) => out.push((side, Input::Text((*t).to_owned()))),
            RobotAction::Binary(b) => out.push((side, Input::Binary(b.to_vec()))),
            RobotAction::Tick(ms) => out.push((side, Input::Advance(u64::from(*ms)))),
            RobotAction::Wait(m) => out.push((side, Input::Advance(u64::from(*m) * 60_000))),
            RobotAction::Subscribe(t) => {
                out.push(text(ClientMessage::Subscribe { topic: topic(*t) }))
            }
            RobotAction::Unsubscribe(t) => {
                out.push(text(ClientMessage::Unsubscribe { topic: topic(*t) }));
            }
            RobotAction::Publish {
                topic: t,
                embedded,
                value,
            } => {
                let payload = Payload::new("pos", "i16", serde_json::Value::from(*value));
                let data = if *embedded {
                    PublishData::Text(EmbeddedPayload::new(payload))
                } else {
                    PublishData::Object(payload)
                };
                out.push(text(ClientMessage::Publish {
                    topic: topic(*t),
                    data,
                }));
            }
            RobotAction::Burst(n) => {
                let count = if *n > 200 {
                    100 + 2 * usize::from(n - 200)
                } else {
                    usize::from(n % 8)
                };
                out.extend((0..count).map(|i| {
                    text(ClientMessage::Subscribe {
                        topic: topic(u8::try_from(i % 8).unwrap_or_default()),
                    })
                }));
            }
        }
    }
}

/// The inputs of every step in `data`, each with its side.
pub fn inputs(data: &[u8]) -> Vec<(u8, Input)> {
    let mut out = Vec::new();
    for step in crate::steps::<RobotStep<'_>>(data) {
        step.inputs(&mut out);
    }
    out
}

/// The session target: every step of `data` through the two-client robot properties.
pub fn run(data: &[u8]) {
    let inputs = inputs(data);
    let steps: Vec<_> = inputs.iter().map(|(side, i)| (*side, i.step())).collect();
    assert_holds(two_clients(&steps));
}

/// The session target's input, printed as steps by `cargo fuzz fmt`.
pub type SessionInput<'a> = crate::Steps<'a, RobotStep<'a>>;
