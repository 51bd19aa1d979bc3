//! Fuzz entry points for the whole "WebSocket API" document: round-trip and session properties on arbitrary input.
//!
//! Each function is the body of a one-line fuzz target. They panic, on purpose, when a
//! property fails; nothing else in the module calls them.

#![allow(clippy::panic)]

use crate::auth::TokenTable;
use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::session::ServerSession;
use crate::time::Timestamp;

use super::ClientMessage;
use super::ControllerEvent;
use super::ControllerSession;
use super::IngestHub;
use super::MAX_BATCH_SIZE;
use super::ServerMessage;
use super::StreamSession;

/// Any text that decodes as a client message re-encodes to text that decodes to the
/// same message.
pub fn client_message(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(message) = ClientMessage::decode(text) {
        let again = ClientMessage::decode(&message.to_text());
        assert_eq!(again.as_ref(), Ok(&message), "client message round trip");
    }
}

/// Any text that decodes as a server message re-encodes to text that decodes to the
/// same message.
pub fn server_message(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(message) = ServerMessage::decode(text) {
        let again = ServerMessage::decode(&message.to_text());
        assert_eq!(again.as_ref(), Ok(&message), "server message round trip");
    }
}

/// Feeds `data` to an authenticated controller session and a stream session, as one
/// frame (text when UTF-8, else binary), and checks the documented contract: the socket
/// stays open, every reply is a decodable error or pong, and an accepted batch holds at
/// most 500 datapoints and reaches the stream as one broadcast.
pub fn sessions(data: &[u8]) {
    let now = Timestamp::from_unix_secs(1_736_951_400);
    let table = TokenTable::new().with(
        "jwt",
        "fuzz",
        Timestamp::from_unix_secs(u64::MAX / 2_000_000),
    );
    let frame = match std::str::from_utf8(data) {
        Ok(text) => Inbound::Text(text),
        Err(_) => Inbound::Binary(data),
    };
    let mut controller = ControllerSession::connect(Some("jwt"), &table, now);
    let mut stream = StreamSession::connect(Some("jwt"), &table, now);
    while controller.poll_event().is_some() {}
    while stream.poll_event().is_some() {}
    while stream.poll_transmit().is_some() {}

    controller.handle_frame(now, frame);
    stream.handle_frame(now, frame);
    assert!(
        !controller.is_closed() && !stream.is_closed(),
        "input never closes"
    );
    for reply in std::iter::from_fn(|| controller.poll_transmit())
        .chain(std::iter::from_fn(|| stream.poll_transmit()))
    {
        let Outbound::Text(text) = reply else {
            panic!("only text replies: {reply:?}");
        };
        match ServerMessage::decode(&text) {
            Ok(ServerMessage::Error(_) | ServerMessage::Pong) => {}
            other => panic!("unexpected reply {other:?}"),
        }
    }

    let mut hub = IngestHub::new();
    while let Some(event) = controller.poll_event() {
        if let ControllerEvent::Batch { datapoints, .. } = event {
            assert!(!datapoints.is_empty() && datapoints.len() <= MAX_BATCH_SIZE);
            for dp in &datapoints {
                hub.register_event(
                    super::http::EventItem {
                        public_id: dp.event_public_id.clone(),
                        name: String::new(),
                        min_value: dp.value,
                        max_value: dp.value,
                        unit: String::new(),
                        kind: super::EventKind::SENSOR,
                        user_public_id: None,
                        enabled: None,
                    },
                    true,
                );
            }
            let outcome = hub.ingest(now, &datapoints);
            assert_eq!(outcome.stored.len(), datapoints.len());
            let Some(batch) = outcome.broadcast else {
                panic!("a first batch is never throttled");
            };
            assert!(stream.push_batch(&batch));
            let Some(Outbound::Text(text)) = stream.poll_transmit() else {
                panic!("the broadcast is queued");
            };
            assert_eq!(
                ServerMessage::decode(&text),
                Ok(ServerMessage::DatapointsBatch(batch))
            );
        }
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
        }
    }
}
