//! Fuzz entry points for "Keep Alive", "Requesting a value" and "Subscribing": round trips and session rules.
//!
//! Each function is the body of a one-line fuzz target and returns the first broken
//! property; the stable test suite runs them over the committed seeds.

use std::collections::BTreeSet;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::TokenTable;
use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::fuzzing::Harness;
use crate::fuzzing::PropertyFailure;
use crate::fuzzing::START;
use crate::fuzzing::Step;
use crate::fuzzing::check;
use crate::fuzzing::round_trips;
use crate::time::Timestamp;

use super::Channel;
use super::ChannelKind;
use super::ClientMessage;
use super::ErrorCode;
use super::Event;
use super::KeepaliveReply;
use super::MosaicSession;
use super::PreparedBroadcast;
use super::ReplyData;
use super::RequestId;
use super::ServerFrame;
use super::ServerMessage;
use super::SessionConfig;
use super::SessionKey;

/// The token the session fuzz target's well-formed messages carry.
pub const GOOD_TOKEN: &str = "good-token";
/// A token that verifies as expired.
pub const EXPIRED_TOKEN: &str = "expired-token";

/// The binary keepalive reply: it decodes exactly when it is 16 bytes long, and
/// re-encodes to the same bytes.
pub fn keepalive(data: &[u8]) -> Result<(), PropertyFailure> {
    let decoded = KeepaliveReply::decode(data);
    check(
        decoded.is_ok() == (data.len() == SessionKey::LEN),
        "a keepalive reply is exactly 16 bytes",
        || format!("{data:02x?}: {decoded:?}"),
    )?;
    if let Ok(reply) = decoded {
        check(
            reply.to_bytes() == data,
            "a keepalive reply re-encodes to its bytes",
            || format!("{data:02x?}: {reply:?}"),
        )?;
        let frame = ServerFrame::decode(Inbound::Binary(data));
        check(
            frame == Ok(ServerFrame::Keepalive(reply)),
            "a binary server frame is the keepalive reply",
            || format!("{data:02x?}: {frame:?}"),
        )?;
    }
    Ok(())
}

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
    let decoded = match frame {
        Outbound::Text(text) => ServerFrame::decode(Inbound::Text(text)),
        Outbound::Binary(bytes) => ServerFrame::decode(Inbound::Binary(bytes)),
        Outbound::Close(_) => return Ok(()),
    }
    .map_err(|e| format!("{frame:?} does not decode: {e:?}"))?;
    let again = decoded.to_outbound();
    let redecoded = match &again {
        Outbound::Text(text) => ServerFrame::decode(Inbound::Text(text)),
        Outbound::Binary(bytes) => ServerFrame::decode(Inbound::Binary(bytes)),
        Outbound::Close(_) => return Err(format!("{decoded:?} re-encoded as a close")),
    };
    if redecoded.as_ref() == Ok(&decoded) {
        Ok(())
    } else {
        Err(format!(
            "{frame:?} decoded to {decoded:?}, re-encoded as {again:?}, then {redecoded:?}"
        ))
    }
}

/// Broadcasts the application offers, one per subscribable shape tried.
fn broadcasts() -> Vec<PreparedBroadcast> {
    [
        r#"{"broadcast":"beacon","data":{"on":true}}"#,
        r#"{"broadcast":"lua","data":{"show_mode":"evening","visitor_count":42}}"#,
        r#"{"broadcast":"remote-device","data":{"devices":[]}}"#,
        r#"{"broadcast":"system","data":{}}"#,
    ]
    .into_iter()
    .filter_map(|text| match ServerMessage::decode(text) {
        Ok(ServerMessage::Broadcast(b)) => PreparedBroadcast::new(b).ok(),
        _ => None,
    })
    .collect()
}

/// What the client can know: the requests it sent, awaiting replies in order, and the
/// channels it subscribed to without an error reply.
#[derive(Debug, Default)]
struct ClientView {
    awaiting: VecDeque<(Channel, Option<RequestId>)>,
    subscribed: BTreeSet<ChannelKind>,
}

/// Drives a `/query` session (security on when `secured`; token [`GOOD_TOKEN`] valid,
/// [`EXPIRED_TOKEN`] expired) with `steps`, answering every request at once (data for
/// untyped channels, an error reply otherwise), and after each step offers broadcasts.
/// Besides the shared invariants: every reply or error reply to a request echoes the
/// request's channel and `id`, in request order; every request is answered unless the
/// connection closed; with security on a keepalive is answered with one 16-byte binary
/// frame, without it with `{}`; a broadcast reaches only a client that subscribed to its
/// channel (and, with security on, holds a live session).
pub fn session(secured: bool, steps: &[Step<'_>]) -> Result<(), PropertyFailure> {
    let verifier = TokenTable::new()
        .with(GOOD_TOKEN, "fuzz", START + Duration::from_secs(86_400))
        .with(EXPIRED_TOKEN, "fuzz", START);
    let config = if secured {
        SessionConfig::secured()
    } else {
        SessionConfig::open()
    };
    let session = MosaicSession::new(config, Arc::new(verifier), SessionKey::from_seed(7));
    let mut harness = Harness::new(session, START, check_frame)?;
    let mut view = ClientView::default();
    let broadcasts = broadcasts();
    for step in steps {
        let was_closed = harness.closed();
        let message = match step {
            Step::Text(text) if !was_closed => ClientMessage::decode(text).ok(),
            _ => None,
        };
        if let Some(ClientMessage::Request(r)) = &message {
            view.awaiting.push_back((r.channel.clone(), r.id.clone()));
        }
        let mut frames = harness.step(step)?;
        if let Some(ClientMessage::Keepalive(_) | ClientMessage::EmptyFrame) = &message {
            let answered = match frames.first() {
                Some(Outbound::Binary(bytes)) => secured && bytes.len() == SessionKey::LEN,
                Some(Outbound::Text(text)) => !secured && text == "{}",
                _ => false,
            };
            check(
                answered && frames.len() == 1,
                "a keepalive gets one reply: 16 bytes with security, {} without",
                || format!("{frames:?}"),
            )?;
        }
        if let Some(ClientMessage::Subscribe(s)) = &message
            && let Some(kind) = s.channel.kind()
        {
            let refused = frames.iter().any(|f| {
                matches!(f, Outbound::Text(t)
                    if matches!(ServerMessage::decode(t), Ok(ServerMessage::Error(e)) if e.subscribe.is_some()))
            });
            if !refused {
                view.subscribed.insert(kind);
            }
        }
        answer_requests(&mut harness)?;
        frames.extend(harness.drain()?);
        match_replies(&mut view, &frames)?;
        offer_all(&mut harness, &view, &broadcasts)?;
        if harness.closed() {
            view.awaiting.clear();
        }
    }
    check(
        view.awaiting.is_empty(),
        "every request is answered",
        || format!("{:?}", view.awaiting),
    )
}

fn answer_requests(harness: &mut Harness<MosaicSession>) -> Result<(), PropertyFailure> {
    for event in harness.events() {
        let Event::Request(request) = event else {
            continue;
        };
        let data = ReplyData::Endpoint(serde_json::json!({"fuzz": true}));
        let answered = if data.fits(&request.channel) {
            harness.session.reply(request.ticket, data)
        } else {
            harness
                .session
                .reply_error(request.ticket, ErrorCode::UNAVAILABLE, "fuzz")
        };
        check(
            answered.is_ok(),
            "a pending request can be answered",
            || format!("{request:?}: {answered:?}"),
        )?;
    }
    Ok(())
}

fn match_replies(view: &mut ClientView, frames: &[Outbound]) -> Result<(), PropertyFailure> {
    for frame in frames {
        let Outbound::Text(text) = frame else {
            continue;
        };
        let (channel, id) = match ServerMessage::decode(text) {
            Ok(ServerMessage::Reply(r)) => (r.channel, r.id),
            Ok(ServerMessage::Error(e)) => match e.request {
                Some(channel) => (channel, e.id),
                None => continue,
            },
            _ => continue,
        };
        let expected = view.awaiting.pop_front();
        check(
            expected.as_ref() == Some(&(channel.clone(), id.clone())),
            "a reply echoes its request's channel and id, in request order",
            || format!("{text} answered, expected {expected:?}"),
        )?;
    }
    Ok(())
}

fn offer_all(
    harness: &mut Harness<MosaicSession>,
    view: &ClientView,
    broadcasts: &[PreparedBroadcast],
) -> Result<(), PropertyFailure> {
    let now: Timestamp = harness.now;
    for broadcast in broadcasts {
        let channel = &broadcast.broadcast().channel;
        let queued = harness.session.offer(now, broadcast);
        let frames = harness.drain()?;
        let subscribed = channel.kind().is_some_and(|k| view.subscribed.contains(&k));
        let may = subscribed && !harness.closed() && harness.session.is_authorised();
        check(
            queued == may && frames.len() == usize::from(queued),
            "a broadcast reaches exactly the authorised subscribers of its channel",
            || format!("{channel}: queued {queued}, view {view:?}, frames {frames:?}"),
        )?;
        if let [Outbound::Text(text)] = frames.as_slice() {
            let on = match ServerMessage::decode(text) {
                Ok(ServerMessage::Broadcast(b)) => b.channel.kind(),
                _ => None,
            };
            check(
                on == channel.kind(),
                "a broadcast is delivered on its channel",
                || text.clone(),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_hold() {
        let subscribe = format!(r#"{{"subscribe":"beacon","token":"{GOOD_TOKEN}"}}"#);
        let request = format!(r#"{{"request":"project","id":7,"token":"{GOOD_TOKEN}"}}"#);
        let refresh = format!(r#"{{"token":"{GOOD_TOKEN}"}}"#);
        for secured in [true, false] {
            let steps = [
                Step::Text(r#"{"request":"log","id":1}"#),
                Step::Text(&subscribe),
                Step::Text(&request),
                Step::Text(&refresh),
                Step::Text(""),
                Step::Advance(301_000),
                Step::Text("{}"),
                Step::Binary(&[1, 2]),
            ];
            assert_eq!(session(secured, &steps), Ok(()));
        }
        assert_eq!(keepalive(&[7; 16]), Ok(()));
        assert_eq!(keepalive(&[0; 15]), Ok(()));
        assert_eq!(message(br#"{"request":"log","id":1.5}"#), Ok(()));
    }
}
