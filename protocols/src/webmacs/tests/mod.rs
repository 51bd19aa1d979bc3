//! Session tests for the whole "WebSocket API" document, driven by hand with explicit time.

mod auth;
mod controller;
mod pipeline;
mod stream;

use std::sync::Arc;
use std::time::Duration;

use crate::auth::AccessLevel;
use crate::auth::SharedVerifier;
use crate::auth::TokenTable;
use crate::frame::Close;
use crate::frame::CloseCode;
use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::session::ServerSession;
use crate::time::Timestamp;

use super::http::EventItem;
use super::*;

/// 2025-01-15T14:30:00.123456Z, the instant of the document's broadcast example.
const T0: u64 = 1_736_951_400_123_456;

fn at(ms: u64) -> Timestamp {
    Timestamp::from_unix_micros(T0 + ms * 1_000)
}

fn verifier() -> SharedVerifier {
    let expiry = at(3_600_000);
    let mut table = TokenTable::new()
        .with("controller-jwt", "controller@lab", expiry)
        .with("dashboard-jwt", "viewer@lab", expiry)
        .with("short-jwt", "viewer@lab", at(1_000))
        .with("logged-out-jwt", "viewer@lab", expiry);
    table.insert("orphan-jwt", "deleted@lab", AccessLevel::Admin, expiry);
    table.revoke("logged-out-jwt");
    table.delete_subject("deleted@lab");
    Arc::new(table)
}

fn controller() -> ControllerSession {
    let mut s = ControllerSession::connect(Some("controller-jwt"), &verifier(), at(0));
    assert!(matches!(
        s.poll_event(),
        Some(ControllerEvent::Authenticated(_))
    ));
    assert_eq!(
        s.poll_transmit(),
        None,
        "the ingest socket sends nothing on connect"
    );
    s
}

fn stream() -> StreamSession {
    let mut s = StreamSession::connect(Some("dashboard-jwt"), &*verifier(), at(0));
    assert!(matches!(s.poll_event(), Some(StreamEvent::Subscribed(_))));
    assert_eq!(
        s.poll_transmit(),
        Some(Outbound::Text(
            r#"{"type":"connected","message":"Subscribed to live datapoint stream."}"#.into()
        ))
    );
    s
}

fn texts(s: &mut impl ServerSession) -> Vec<String> {
    std::iter::from_fn(|| s.poll_transmit())
        .map(|frame| match frame {
            Outbound::Text(t) => t,
            other => panic!("expected text, got {other:?}"),
        })
        .collect()
}

fn error_text(message: &str) -> String {
    ServerMessage::Error(ErrorReply {
        message: message.into(),
    })
    .to_text()
}

fn batch_json(entries: &[(&str, f64)]) -> String {
    TelemetryBatch::new(
        entries
            .iter()
            .map(|(e, v)| Datapoint::new(*e, Reading::new(*v).unwrap())),
    )
    .to_text()
}

fn event(id: &str) -> EventItem {
    EventItem {
        public_id: id.into(),
        name: format!("Sensor {id}"),
        min_value: Reading::new(0.0).unwrap(),
        max_value: Reading::new(2000.0).unwrap(),
        unit: "°C".into(),
        kind: EventKind::SENSOR,
        user_public_id: None,
        enabled: None,
    }
}

fn hub() -> IngestHub {
    let mut hub = IngestHub::new();
    for id in ["abc-123", "def-456", "ghi-789"] {
        hub.register_event(event(id), true);
    }
    hub
}

/// Sends `text` on the controller at `now` and returns the accepted datapoints, asserting
/// that the server replied nothing.
fn accepted(s: &mut ControllerSession, now: Timestamp, text: &str) -> Vec<Datapoint> {
    s.handle_frame(now, Inbound::Text(text));
    assert_eq!(
        texts(s),
        Vec::<String>::new(),
        "a successful batch gets no reply"
    );
    match s.poll_event() {
        Some(ControllerEvent::Batch { datapoints, .. }) => datapoints,
        other => panic!("expected a batch, got {other:?}"),
    }
}
