//! Fuzz entry points for the whole "WebSocket API" document: round-trip and session properties on arbitrary input.
//!
//! Each function returning `Result` is the body of a one-line fuzz target and returns the
//! first broken property; the stable test suite runs them over
//! the committed seeds. [`client_message`], [`server_message`] and [`sessions`] are the
//! same checks as panicking wrappers, for callers that want a panic.

use std::collections::BTreeMap;

use crate::auth::TokenTable;
use crate::frame::Outbound;
use crate::fuzzing::Harness;
use crate::fuzzing::PropertyFailure;
use crate::fuzzing::START;
use crate::fuzzing::Step;
use crate::fuzzing::assert_holds;
use crate::fuzzing::check;
use crate::fuzzing::json_frame;
use crate::fuzzing::round_trips;
use crate::time::Timestamp;

use super::BROADCAST_INTERVAL;
use super::ClientMessage;
use super::ControllerEvent;
use super::ControllerSession;
use super::EventPublicId;
use super::IngestHub;
use super::MAX_BATCH_SIZE;
use super::ServerMessage;
use super::StreamSession;
use super::TelemetryBatch;

/// The token both fuzzed sessions present.
pub const GOOD_TOKEN: &str = "jwt";
/// The events registered (and enabled) in the fuzzed hub; others are dropped on ingest.
pub const EVENTS: [&str; 3] = ["abc-123", "def-456", "ghi-789"];

/// Any text that decodes as a controller batch re-encodes to text that decodes to the
/// same batch, and the server's check accepts at most 500 entries.
pub fn batch(data: &[u8]) -> Result<(), PropertyFailure> {
    let Ok(text) = std::str::from_utf8(data) else {
        return Ok(());
    };
    if let Some(batch) = round_trips(
        "telemetry batch round trip",
        text,
        TelemetryBatch::decode,
        TelemetryBatch::to_text,
    )? {
        let checked = batch.check();
        check(
            checked
                .as_ref()
                .is_ok_and(|valid| !valid.is_empty() && batch.len() <= MAX_BATCH_SIZE)
                || checked.is_err(),
            "an accepted batch holds 1 to 500 entries",
            || format!("{} entries: {checked:?}", batch.len()),
        )?;
        check(
            batch.len() <= MAX_BATCH_SIZE || checked.is_err(),
            "a batch over 500 entries is refused",
            || format!("{} entries", batch.len()),
        )?;
    }
    Ok(())
}

/// Any text that decodes as a client message (controller batch or stream ping) re-encodes
/// to text that decodes to the same message; the same for server messages.
pub fn messages(data: &[u8]) -> Result<(), PropertyFailure> {
    let Ok(text) = std::str::from_utf8(data) else {
        return Ok(());
    };
    round_trips(
        "client message round trip",
        text,
        ClientMessage::decode,
        ClientMessage::to_text,
    )?;
    round_trips(
        "server message round trip",
        text,
        ServerMessage::decode,
        ServerMessage::to_text,
    )?;
    Ok(())
}

/// [`messages`], client side only, panicking on a broken property.
pub fn client_message(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    assert_holds(
        round_trips(
            "client message round trip",
            text,
            ClientMessage::decode,
            ClientMessage::to_text,
        )
        .map(drop),
    );
}

/// [`messages`], server side only, panicking on a broken property.
pub fn server_message(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    assert_holds(
        round_trips(
            "server message round trip",
            text,
            ServerMessage::decode,
            ServerMessage::to_text,
        )
        .map(drop),
    );
}

/// [`session`] with `data` sent as one frame (text when UTF-8, else binary) to both
/// endpoints, panicking on a broken property.
pub fn sessions(data: &[u8]) {
    let step = match std::str::from_utf8(data) {
        Ok(text) => Step::Text(text),
        Err(_) => Step::Binary(data),
    };
    assert_holds(session(&[(0, step), (1, step)]));
}

fn check_frame(frame: &Outbound) -> Result<(), String> {
    json_frame(frame, ServerMessage::decode, ServerMessage::to_text)
}

/// A controller session and a stream session sharing one [`IngestHub`]; each step goes
/// to the controller (`side` even) or the stream (odd), and every accepted batch is
/// ingested and broadcast to the stream at the step's time. Besides the shared
/// invariants: no input closes either socket; the controller answers only with error
/// replies and the stream only with `pong` or an error reply; an accepted batch holds 1 to
/// 500 datapoints; the hub stores exactly the datapoints of registered events, the stream
/// receives exactly the stored values of the events the 200 ms throttle lets through, and
/// no event is broadcast twice within 200 ms.
pub fn session(steps: &[(u8, Step<'_>)]) -> Result<(), PropertyFailure> {
    let table = TokenTable::new().with(
        GOOD_TOKEN,
        "fuzz",
        Timestamp::from_unix_secs(u64::MAX / 2_000_000),
    );
    let controller = ControllerSession::connect(Some(GOOD_TOKEN), &table, START);
    let stream = StreamSession::connect(Some(GOOD_TOKEN), &table, START);
    let mut controller = Harness::new(controller, START, check_frame)?;
    let mut stream = Harness::new(stream, START, check_frame)?;
    controller.events();
    stream.events();
    let mut hub = IngestHub::new();
    for id in EVENTS {
        hub.register_event(event_item(id), true);
    }
    let mut last_broadcast: BTreeMap<EventPublicId, Timestamp> = BTreeMap::new();
    let mut now = START;
    for (side, step) in steps {
        let (frames, events) = if side % 2 == 0 {
            controller.now = now;
            let frames = controller.step(step)?;
            now = controller.now;
            (frames, controller.events())
        } else {
            stream.now = now;
            let frames = stream.step(step)?;
            now = stream.now;
            stream.events();
            (frames, Vec::new())
        };
        check(
            !controller.closed() && !stream.closed(),
            "no input closes a socket",
            || format!("{step:?}: {frames:?}"),
        )?;
        for frame in &frames {
            let Outbound::Text(text) = frame else {
                continue;
            };
            let reply = ServerMessage::decode(text);
            let allowed = match reply {
                Ok(ServerMessage::Error(_)) => true,
                Ok(ServerMessage::Pong) => side % 2 == 1,
                _ => false,
            };
            check(
                allowed,
                "only error replies, and pong on the stream",
                || format!("{step:?}: {text}"),
            )?;
        }
        for event in events {
            if let ControllerEvent::Batch { datapoints, .. } = event {
                check(
                    !datapoints.is_empty() && datapoints.len() <= MAX_BATCH_SIZE,
                    "an accepted batch holds 1 to 500 datapoints",
                    || format!("{}", datapoints.len()),
                )?;
                ingest(&mut hub, &mut stream, &mut last_broadcast, now, &datapoints)?;
            }
        }
    }
    Ok(())
}

fn ingest(
    hub: &mut IngestHub,
    stream: &mut Harness<StreamSession>,
    last_broadcast: &mut BTreeMap<EventPublicId, Timestamp>,
    now: Timestamp,
    datapoints: &[super::Datapoint],
) -> Result<(), PropertyFailure> {
    let outcome = hub.ingest(now, datapoints);
    let registered: Vec<_> = datapoints
        .iter()
        .filter(|dp| EVENTS.contains(&dp.event_public_id.as_str()))
        .map(|dp| (dp.event_public_id.clone(), dp.value))
        .collect();
    let stored: Vec<_> = outcome
        .stored
        .iter()
        .map(|r| (r.event_public_id.clone(), r.value))
        .collect();
    check(
        stored == registered,
        "the hub stores exactly the datapoints of registered events",
        || format!("stored {stored:?}, sent {registered:?}"),
    )?;
    let Some(batch) = outcome.broadcast else {
        return Ok(());
    };
    let broadcast: Vec<_> = batch
        .datapoints
        .iter()
        .map(|d| (d.event_public_id.clone(), d.value))
        .collect();
    let passing: Vec<_> = stored
        .iter()
        .filter(|(id, _)| broadcast.iter().any(|(b, _)| b == id))
        .cloned()
        .collect();
    check(
        broadcast == passing,
        "the broadcast carries the stored values of the events it names",
        || format!("broadcast {broadcast:?}, stored {stored:?}"),
    )?;
    for (id, _) in &broadcast {
        if let Some(last) = last_broadcast.get(id) {
            check(
                now.saturating_since(*last) >= BROADCAST_INTERVAL,
                "an event is broadcast at most once per 200 ms",
                || format!("{id:?} at {last} and {now}"),
            )?;
        }
    }
    for (id, _) in &broadcast {
        last_broadcast.insert(id.clone(), now);
    }
    check(
        stream.session.push_batch(&batch),
        "an open stream takes a broadcast",
        || format!("{batch:?}"),
    )?;
    let frames = stream.drain()?;
    let delivered = match frames.as_slice() {
        [Outbound::Text(text)] => ServerMessage::decode(text).ok(),
        _ => None,
    };
    check(
        delivered == Some(ServerMessage::DatapointsBatch(batch)),
        "the stream receives the broadcast as ingested",
        || format!("{frames:?}"),
    )
}

fn event_item(id: &str) -> super::http::EventItem {
    super::http::EventItem {
        public_id: EventPublicId::from(id),
        name: String::new(),
        min_value: super::Reading::new(0.0).unwrap_or_default(),
        max_value: super::Reading::new(100.0).unwrap_or_default(),
        unit: String::new(),
        kind: super::EventKind::SENSOR,
        user_public_id: None,
        enabled: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_accept_seed_inputs() {
        for seed in [
            &br#"{"datapoints":[{"value":23.5,"event_public_id":"abc-123"},{"value":1}]}"#[..],
            br#"{"type":"ping"}"#,
            br#"{"type":"datapoints_batch","datapoints":[{"value":1.5,"event_public_id":"a","timestamp":"2025-01-15T14:30:00","experiment_public_id":null}]}"#,
            b"\xff\x00",
            b"[]",
        ] {
            client_message(seed);
            server_message(seed);
            sessions(seed);
            assert_eq!(batch(seed), Ok(()));
            assert_eq!(messages(seed), Ok(()));
        }
        let twice = r#"{"datapoints":[{"value":1,"event_public_id":"abc-123"},{"value":2,"event_public_id":"nope"}]}"#;
        let steps = [
            (0, Step::Text(twice)),
            (0, Step::Text(twice)),
            (1, Step::Advance(250)),
            (0, Step::Text(twice)),
            (1, Step::Text(r#"{"type":"ping"}"#)),
        ];
        assert_eq!(session(&steps), Ok(()));
    }
}
