//! WebMACS steps for the controller and stream sockets: raw frames, ticks, batches and pings.

use arbitrary::Arbitrary;
use telewire_protocols::webmacs::BatchEntry;
use telewire_protocols::webmacs::ClientMessage;
use telewire_protocols::webmacs::TelemetryBatch;
use telewire_protocols::webmacs::fuzzing::EVENTS;

use telewire_protocols::fuzzing::assert_holds;
use telewire_protocols::webmacs::fuzzing::session;

use crate::Input;

/// One WebMACS step, for the controller (`stream` false) or the stream socket.
#[derive(Debug, Arbitrary)]
pub struct WebmacsStep<'a> {
    /// Which socket.
    pub stream: bool,
    /// What arrives on it.
    pub action: WebmacsAction<'a>,
}

/// What a WebMACS client sends.
#[derive(Debug, Arbitrary)]
pub enum WebmacsAction<'a> {
    /// Raw text.
    Text(&'a str),
    /// Raw bytes (a binary frame).
    Binary(&'a [u8]),
    /// Milliseconds pass (the broadcast throttle is 200 ms per event).
    Tick(u16),
    /// `{"type":"ping"}`.
    Ping,
    /// A batch of `count % 16` readings, or 480 to 519 for a count from `0xf000` (over 500
    /// is refused), spread over the registered events and one unknown event, `invalid % 4`
    /// of every four entries malformed.
    Batch {
        /// Entries.
        count: u16,
        /// First value.
        value: i16,
        /// Which event first.
        event: u8,
        /// Malformed entries per four.
        invalid: u8,
    },
}

fn batch(count: u16, value: i16, event: u8, invalid: u8) -> ClientMessage {
    let len = if count >= 0xf000 {
        480 + count % 40
    } else {
        count % 16
    };
    let entries = (0..len).map(|i| {
        let id = EVENTS
            .get(usize::from((u16::from(event) + i) % 4))
            .copied()
            .unwrap_or("unknown-event");
        let raw = if i % 4 < u16::from(invalid % 4) {
            serde_json::json!({ "value": "NaN", "event_public_id": id })
        } else {
            serde_json::json!({ "value": f64::from(value) + f64::from(i) / 4.0, "event_public_id": id })
        };
        BatchEntry::classify(raw)
    });
    ClientMessage::Telemetry(TelemetryBatch {
        datapoints: entries.collect(),
    })
}

impl WebmacsStep<'_> {
    /// The side (0 controller, 1 stream) and input of this step.
    pub fn input(&self) -> (u8, Input) {
        let side = u8::from(self.stream);
        let input = match &self.action {
            WebmacsAction::Text(t) => Input::Text((*t).to_owned()),
            WebmacsAction::Binary(b) => Input::Binary(b.to_vec()),
            WebmacsAction::Tick(ms) => Input::Advance(u64::from(*ms)),
            WebmacsAction::Ping => Input::Text(ClientMessage::Ping.to_text()),
            WebmacsAction::Batch {
                count,
                value,
                event,
                invalid,
            } => Input::Text(batch(*count, *value, *event, *invalid).to_text()),
        };
        (side, input)
    }
}

/// The inputs of every step in `data`, each with its side.
pub fn inputs(data: &[u8]) -> Vec<(u8, Input)> {
    crate::steps::<WebmacsStep<'_>>(data)
        .iter()
        .map(WebmacsStep::input)
        .collect()
}

/// The session target: every step of `data` through the WebMACS session properties.
pub fn run(data: &[u8]) {
    let inputs = inputs(data);
    let steps: Vec<_> = inputs.iter().map(|(side, i)| (*side, i.step())).collect();
    assert_holds(session(&steps));
}

/// The session target's input, printed as steps by `cargo fuzz fmt`.
pub type SessionInput<'a> = crate::Steps<'a, WebmacsStep<'a>>;
