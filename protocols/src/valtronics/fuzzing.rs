//! Fuzz entry points for "Message Formats", "Rate Limiting" and "Available Channels": round trips and session rules.
//!
//! Each function is the body of a one-line fuzz target and returns the first broken
//! property; the stable test suite runs them over the committed seeds.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::TokenTable;
use crate::frame::CloseCode;
use crate::frame::Outbound;
use crate::fuzzing::Harness;
use crate::fuzzing::PropertyFailure;
use crate::fuzzing::START;
use crate::fuzzing::Step;
use crate::fuzzing::check;
use crate::fuzzing::json_frame;
use crate::fuzzing::round_trips;
use crate::time::Timestamp;

use super::Alert;
use super::Channel;
use super::ClientMessage;
use super::ConnectionRegistry;
use super::DeviceId;
use super::DeviceStatus;
use super::DeviceStatusUpdate;
use super::Endpoint;
use super::ErrorCode;
use super::Extra;
use super::MAX_BATCH_ITEMS;
use super::MAX_MESSAGE_BYTES;
use super::MAX_MESSAGES_PER_SECOND;
use super::Offer;
use super::Reading;
use super::ServerMessage;
use super::Severity;
use super::SystemStatusUpdate;
use super::TelemetryUpdate;
use super::ValtronicsSession;

/// The token the session fuzz target's well-formed `auth` carries.
pub const GOOD_TOKEN: &str = "good-token";
/// A token that verifies as expired.
pub const EXPIRED_TOKEN: &str = "expired-token";

/// Any text that decodes as a client message (the server's inbound decoder) re-encodes
/// to text that decodes to the same message; the same for server messages.
pub fn message(data: &[u8]) -> Result<(), PropertyFailure> {
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

fn check_frame(frame: &Outbound) -> Result<(), String> {
    json_frame(frame, ServerMessage::decode, ServerMessage::to_text)
}

/// One data push per channel, as the application offers them.
fn pushes(now: Timestamp) -> Vec<ServerMessage> {
    let at = now.to_rfc3339_secs();
    let mut telemetry = BTreeMap::new();
    if let Some(reading) = Reading::new(23.5, "°C", now) {
        telemetry.insert("temperature".to_owned(), reading);
    }
    let mut metrics = BTreeMap::new();
    metrics.insert("cpu_usage".to_owned(), serde_json::Number::from(42));
    vec![
        ServerMessage::TelemetryUpdate(TelemetryUpdate::new(DeviceId(1), telemetry)),
        ServerMessage::Alert(Alert {
            channel: Channel::ALERTS,
            alert_id: 123,
            device_id: DeviceId(1),
            severity: Severity::CRITICAL,
            title: "High Temperature Alert".to_owned(),
            message: "Temperature exceeds safe threshold".to_owned(),
            timestamp: at.clone(),
            alert_type: Some("threshold".to_owned()),
            metadata: None,
            extra: Extra::new(),
        }),
        ServerMessage::DeviceStatusUpdate(DeviceStatusUpdate {
            channel: Channel::DEVICES,
            device_id: DeviceId(2),
            old_status: DeviceStatus::ONLINE,
            new_status: DeviceStatus::OFFLINE,
            timestamp: at.clone(),
            reason: None,
            metadata: None,
            extra: Extra::new(),
        }),
        ServerMessage::SystemStatusUpdate(SystemStatusUpdate {
            channel: Channel::SYSTEM,
            metrics,
            timestamp: at,
            extra: Extra::new(),
        }),
    ]
}

/// What the client can know from the frames it received.
#[derive(Debug, Default)]
struct ClientView {
    authenticated: bool,
    subscribed: BTreeSet<Channel>,
    accepted: Vec<Timestamp>,
}

impl ClientView {
    fn learn(&mut self, frames: &[Outbound]) {
        for frame in frames {
            let Outbound::Text(text) = frame else {
                continue;
            };
            match ServerMessage::decode(text) {
                Ok(ServerMessage::AuthResponse(r)) if r.success => self.authenticated = true,
                Ok(ServerMessage::Subscribed(s)) => {
                    self.subscribed.insert(s.channel);
                }
                Ok(ServerMessage::Unsubscribed(u)) => {
                    self.subscribed.remove(&u.channel);
                }
                _ => {}
            }
        }
    }
}

fn is_error(frame: Option<&Outbound>, code: &ErrorCode) -> bool {
    let Some(Outbound::Text(text)) = frame else {
        return false;
    };
    matches!(ServerMessage::decode(text), Ok(ServerMessage::Error(e)) if e.error == *code)
}

fn is_rate_refusal(frames: &[Outbound]) -> bool {
    is_error(frames.first(), &ErrorCode::RATE_LIMITED)
        || matches!(frames.first(), Some(Outbound::Close(c))
            if c.code == CloseCode::POLICY_VIOLATION && c.reason == "message rate exceeded")
}

/// Drives a session on `/ws` with `steps` (token [`GOOD_TOKEN`] is valid, [`EXPIRED_TOKEN`]
/// expired) and, after each step, offers one push per channel. Besides the shared
/// invariants: no more than 100 messages are admitted in any second; a frame over 1 KiB
/// closes with 1009; a batch of more than 50 items is refused with `batch_too_large`; a
/// push is delivered only once the client was told it authenticated and subscribed to
/// the push's channel (and not since unsubscribed), and a delivered push is on that
/// channel.
pub fn session(steps: &[Step<'_>]) -> Result<(), PropertyFailure> {
    let verifier = TokenTable::new()
        .with(GOOD_TOKEN, "fuzz", START + Duration::from_secs(86_400))
        .with(EXPIRED_TOKEN, "fuzz", START);
    let registry = ConnectionRegistry::unlimited();
    let session = ValtronicsSession::new(START, Endpoint::Primary, Arc::new(verifier), &registry);
    let mut harness = Harness::new(session, START, check_frame)?;
    let mut view = ClientView::default();
    offer_all(&mut harness, &view)?;
    for step in steps {
        let was_closed = harness.closed();
        let frames = harness.step(step)?;
        if let (false, Step::Text(text)) = (was_closed, step) {
            if text.len() > MAX_MESSAGE_BYTES {
                check(
                    matches!(frames.as_slice(), [Outbound::Close(c)] if c.code == CloseCode::MESSAGE_TOO_BIG),
                    "a message over 1 KiB closes with 1009",
                    || format!("{} bytes: {frames:?}", text.len()),
                )?;
            } else if !is_rate_refusal(&frames) {
                view.accepted.push(harness.now);
                if let Ok(ClientMessage::Batch(batch)) = ClientMessage::decode(text)
                    && batch.messages.len() > MAX_BATCH_ITEMS
                {
                    check(
                        frames.len() == 1 && is_error(frames.first(), &ErrorCode::BATCH_TOO_LARGE),
                        "a batch over 50 items is refused as a whole",
                        || format!("{} items: {frames:?}", batch.messages.len()),
                    )?;
                }
            }
        }
        view.learn(&frames);
        harness.events();
        offer_all(&mut harness, &view)?;
    }
    check_rate(&view.accepted)
}

fn offer_all(
    harness: &mut Harness<ValtronicsSession>,
    view: &ClientView,
) -> Result<(), PropertyFailure> {
    for push in pushes(harness.now) {
        let Some(channel) = push.push_channel() else {
            continue;
        };
        let offer = harness.session.offer(harness.now, &push);
        let frames = harness.drain()?;
        let expected_refusal = if harness.closed() {
            Some(Offer::Closed)
        } else if !view.authenticated {
            Some(Offer::NotAuthenticated)
        } else if !view.subscribed.contains(&channel) {
            Some(Offer::NotSubscribed)
        } else {
            None
        };
        let delivered = match frames.as_slice() {
            [] => false,
            [Outbound::Text(text)] => {
                let pushed = ServerMessage::decode(text)
                    .ok()
                    .and_then(|m| m.push_channel());
                check(
                    pushed.as_ref() == Some(&channel),
                    "a push is delivered on its own channel",
                    || format!("{channel}: {text}"),
                )?;
                true
            }
            more => {
                return Err(PropertyFailure {
                    property: "an offer queues at most one push",
                    detail: format!("{more:?}"),
                });
            }
        };
        match expected_refusal {
            Some(expected) => check(
                offer == expected && !delivered,
                "nothing is pushed to a client that did not authenticate and subscribe",
                || format!("{channel}: {offer:?}, expected {expected:?}, view {view:?}"),
            )?,
            None => check(
                delivered == (offer == Offer::Sent)
                    && matches!(offer, Offer::Sent | Offer::Filtered),
                "a subscribed client gets what its filters pass",
                || format!("{channel}: {offer:?}, frames {frames:?}"),
            )?,
        }
    }
    Ok(())
}

/// No window of one second holds more than [`MAX_MESSAGES_PER_SECOND`] admitted messages.
fn check_rate(accepted: &[Timestamp]) -> Result<(), PropertyFailure> {
    let second = Duration::from_secs(1);
    let mut start = 0;
    for (end, at) in accepted.iter().enumerate() {
        while accepted
            .get(start)
            .is_some_and(|first| at.saturating_since(*first) >= second)
        {
            start += 1;
        }
        let in_window = end + 1 - start;
        check(
            in_window <= MAX_MESSAGES_PER_SECOND,
            "at most 100 messages are admitted per second",
            || format!("{in_window} admitted in the second ending {at}"),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_hold() {
        let auth = format!(r#"{{"type":"auth","token":"{GOOD_TOKEN}"}}"#);
        let subscribe = r#"{"type":"subscribe","channel":"alerts"}"#;
        let ping = r#"{"type":"ping"}"#;
        let mut steps = vec![
            Step::Text(subscribe),
            Step::Text(&auth),
            Step::Text(subscribe),
        ];
        steps.extend(std::iter::repeat_n(Step::Text(ping), 120));
        steps.push(Step::Advance(1_000));
        steps.push(Step::Text(r#"{"type":"unsubscribe","channel":"alerts"}"#));
        assert_eq!(session(&steps), Ok(()));
        let big = "x".repeat(2_000);
        assert_eq!(session(&[Step::Text(&big), Step::Text(ping)]), Ok(()));
        assert_eq!(message(br#"{"type":"ping"}"#), Ok(()));
    }
}
