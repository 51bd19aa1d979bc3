//! "Connection Process" to "Rate Limiting" as session tests with explicit time: the shared helpers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use serde_json::json;

use super::*;
use crate::auth::SharedVerifier;
use crate::auth::TokenRejection;
use crate::auth::TokenTable;
use crate::frame::Close;
use crate::frame::CloseCode;
use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::limits::CapConfig;
use crate::limits::CapExceeded;
use crate::session::ServerSession;
use crate::time::Timestamp;

mod auth;
mod connections;
mod limits;
mod pushes;
mod subscriptions;

/// 2024-01-01T12:00:00Z, the document's example time.
const T0_SECS: u64 = 1_704_110_400;

fn at_ms(ms: u64) -> Timestamp {
    Timestamp::from_unix_millis(T0_SECS * 1_000 + ms)
}

fn at_s(secs: u64) -> Timestamp {
    at_ms(secs * 1_000)
}

fn verifier() -> SharedVerifier {
    let far = Timestamp::from_unix_secs(T0_SECS + 86_400);
    Arc::new(
        TokenTable::new()
            .with("good", "demo", far)
            .with("alice-token", "alice", far)
            .with("old", "demo", Timestamp::from_unix_secs(T0_SECS - 1)),
    )
}

fn open(endpoint: Endpoint) -> ValtronicsSession {
    ValtronicsSession::new(
        at_ms(0),
        endpoint,
        verifier(),
        &ConnectionRegistry::unlimited(),
    )
}

/// A session on `endpoint` that has authenticated at time 0, with its output drained.
fn authed(endpoint: Endpoint) -> ValtronicsSession {
    let mut s = open(endpoint);
    send(&mut s, at_ms(0), json!({"type": "auth", "token": "good"}));
    assert_eq!(
        wire(&mut s),
        vec![json!({"type": "auth_response", "success": true})]
    );
    events(&mut s);
    s
}

fn send(s: &mut ValtronicsSession, now: Timestamp, message: Value) {
    s.handle_frame(now, Inbound::Text(&message.to_string()));
}

/// Drains the frames: text as JSON, a close as `{"close": code, "reason": ...}`.
fn wire(s: &mut ValtronicsSession) -> Vec<Value> {
    std::iter::from_fn(|| s.poll_transmit())
        .map(|frame| match frame {
            Outbound::Text(text) => serde_json::from_str(&text).unwrap(),
            Outbound::Close(Close { code, reason }) => json!({"close": code.0, "reason": reason}),
            Outbound::Binary(bytes) => panic!("unexpected binary {bytes:?}"),
        })
        .collect()
}

fn events(s: &mut ValtronicsSession) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

/// The `error` code of the single error reply the session sent.
fn error_code(s: &mut ValtronicsSession) -> String {
    let frames = wire(s);
    assert_eq!(frames.len(), 1, "one reply expected, got {frames:?}");
    assert_eq!(frames[0]["type"], "error", "{frames:?}");
    assert!(frames[0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    frames[0]["error"].as_str().unwrap().to_owned()
}

fn subscribe(s: &mut ValtronicsSession, now: Timestamp, message: Value) {
    send(s, now, message);
    let frames = wire(s);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0]["type"], "subscribed", "{frames:?}");
    events(s);
}

fn reading(value: f64, unit: &str) -> Reading {
    Reading::new(value, unit, at_s(0)).unwrap()
}

fn telemetry(device: u64, metrics: &[(&str, f64)]) -> ServerMessage {
    let map: BTreeMap<String, Reading> = metrics
        .iter()
        .map(|(name, value)| ((*name).to_owned(), reading(*value, "u")))
        .collect();
    TelemetryUpdate::new(DeviceId(device), map).into()
}

fn system(metrics: &[(&str, u64)]) -> ServerMessage {
    SystemStatusUpdate {
        channel: Channel::SYSTEM,
        metrics: metrics
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).into()))
            .collect(),
        timestamp: at_s(0).to_rfc3339_secs(),
        extra: Extra::new(),
    }
    .into()
}

fn alert(device: u64, severity: Severity, alert_type: Option<&str>) -> ServerMessage {
    Alert {
        channel: Channel::ALERTS,
        alert_id: 123,
        device_id: DeviceId(device),
        severity,
        title: "High Temperature Alert".into(),
        message: "Temperature exceeds safe threshold".into(),
        timestamp: at_s(0).to_rfc3339_secs(),
        alert_type: alert_type.map(str::to_owned),
        metadata: None,
        extra: Extra::new(),
    }
    .into()
}

fn device_status(device: u64, new_status: DeviceStatus) -> ServerMessage {
    DeviceStatusUpdate {
        channel: Channel::DEVICES,
        device_id: DeviceId(device),
        old_status: DeviceStatus::ONLINE,
        new_status,
        timestamp: at_s(0).to_rfc3339_secs(),
        reason: None,
        metadata: None,
        extra: Extra::new(),
    }
    .into()
}
