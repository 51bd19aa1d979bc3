//! Session rules (Authentication, Keep Alive, Requesting, Subscribing), driven by hand.

use std::sync::Arc;

use serde_json::Map;
use serde_json::Value;
use serde_json::json;

use crate::auth::AccessLevel;
use crate::auth::SharedVerifier;
use crate::auth::TokenRejection;
use crate::auth::TokenTable;
use crate::frame::Close;
use crate::frame::CloseCode;
use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::limits::CapExceeded;
use crate::session::ServerSession;
use crate::time::Timestamp;

use super::*;

fn t(secs: u64) -> Timestamp {
    Timestamp::from_unix_secs(1_000_000 + secs)
}

/// Tokens: `good` (Status, valid for an hour), `short` (Status, valid 60 s), `old`
/// (expired), `revoked`, `gone` (deleted user), `admin`.
fn verifier() -> (SharedVerifier, Arc<std::sync::Mutex<TokenTable>>) {
    let mut table = TokenTable::new();
    table.insert("good", "demo", AccessLevel::Status, t(3_600));
    table.insert("other", "demo", AccessLevel::Status, t(3_600));
    table.insert("short", "demo", AccessLevel::Status, t(60));
    table.insert("old", "demo", AccessLevel::Status, t(0));
    table.insert("revoked", "demo", AccessLevel::Admin, t(3_600));
    table.revoke("revoked");
    table.insert("gone", "ghost", AccessLevel::Admin, t(3_600));
    table.delete_subject("ghost");
    table.insert("admin", "root", AccessLevel::Admin, t(3_600));
    let shared = Arc::new(std::sync::Mutex::new(table));
    (Arc::new(Shared(shared.clone())), shared)
}

/// A verifier whose table a test can change mid-session.
struct Shared(Arc<std::sync::Mutex<TokenTable>>);

impl crate::auth::TokenVerifier for Shared {
    fn verify(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<crate::auth::Principal, TokenRejection> {
        self.0.lock().unwrap().verify(token, now)
    }
}

fn key() -> SessionKey {
    SessionKey::from_seed(42)
}

fn session(config: SessionConfig) -> MosaicSession {
    MosaicSession::new(config, verifier().0, key())
}

fn secured() -> MosaicSession {
    session(SessionConfig::secured())
}

fn open() -> MosaicSession {
    session(SessionConfig::open())
}

fn send(s: &mut MosaicSession, now: Timestamp, text: &str) {
    s.handle_frame(now, Inbound::Text(text));
}

fn frames(s: &mut MosaicSession) -> Vec<Outbound> {
    std::iter::from_fn(|| s.poll_transmit()).collect()
}

fn events(s: &mut MosaicSession) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

/// The only frame transmitted, as JSON.
fn json_frame(s: &mut MosaicSession) -> Value {
    match frames(s).as_slice() {
        [Outbound::Text(text)] => serde_json::from_str(text).unwrap(),
        other => panic!("expected one text frame, got {other:?}"),
    }
}

fn binary_frame(s: &mut MosaicSession) -> Vec<u8> {
    match frames(s).as_slice() {
        [Outbound::Binary(bytes)] => bytes.clone(),
        other => panic!("expected one binary frame, got {other:?}"),
    }
}

/// The ticket of the only event, which must be a request.
fn ticket(s: &mut MosaicSession) -> Ticket {
    match events(s).as_slice() {
        [Event::Request(p)] => p.ticket,
        [Event::Authenticated { .. }, Event::Request(p)] => p.ticket,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn log(text: &str) -> Log {
    Log {
        log: text.into(),
        extra: Map::new(),
    }
}

fn timeline_push(num: u32) -> PreparedBroadcast {
    PreparedBroadcast::new(Broadcast {
        channel: Channel::TIMELINE,
        data: BroadcastData::Timeline(TimelineStatus {
            num,
            state: TimelineState::Running,
            onstage: true,
            position: 1_500,
            extra: Map::new(),
        }),
        extra: Map::new(),
    })
    .unwrap()
}

/// Starts a secured session with `good` at t(0).
fn authenticated() -> MosaicSession {
    let mut s = secured();
    send(&mut s, t(0), r#"{"token":"good"}"#);
    assert_eq!(binary_frame(&mut s), key().as_bytes());
    events(&mut s);
    s
}

#[test]
fn sessions_are_send() {
    fn assert_send<T: Send>() {}
    assert_send::<MosaicSession>();
    assert_send::<ClientSession>();
    assert_send::<Controller>();
}

// --- Security off ------------------------------------------------------------------

#[test]
fn open_keepalive_is_answered_with_an_empty_object() {
    let mut s = open();
    send(&mut s, t(0), "{}");
    assert_eq!(json_frame(&mut s), json!({}));
    send(&mut s, t(1), "");
    assert_eq!(
        json_frame(&mut s),
        json!({}),
        "the empty text frame is a keepalive"
    );
    assert!(events(&mut s).is_empty());
}

#[test]
fn open_requests_need_no_token() {
    let mut s = open();
    send(&mut s, t(0), r#"{"request":"log","id":1}"#);
    let ticket = ticket(&mut s);
    s.reply(ticket, ReplyData::Log(log("boot"))).unwrap();
    assert_eq!(
        json_frame(&mut s),
        json!({"request":"log","id":1,"data":{"log":"boot"}})
    );
    assert_eq!(s.poll_timeout(), None, "nothing expires without security");
}

// --- Requests ----------------------------------------------------------------------

#[test]
fn request_id_and_channel_are_echoed() {
    let mut s = open();
    send(
        &mut s,
        t(0),
        r#"{"request":"project","id":77,"detail":true}"#,
    );
    let evs: [Event; 1] = events(&mut s).try_into().unwrap();
    let [Event::Request(p)] = evs else {
        panic!("{evs:?}")
    };
    assert_eq!(p.channel, Channel::PROJECT);
    assert_eq!(p.id, Some(RequestId::from(77)));
    assert_eq!(p.params.get("detail"), Some(&Value::Bool(true)));
    s.reply(p.ticket, ReplyData::Endpoint(json!({"name": "Demo"})))
        .unwrap();
    assert_eq!(
        json_frame(&mut s),
        json!({"request":"project","id":77,"data":{"name":"Demo"}})
    );
}

#[test]
fn request_without_id_gets_a_reply_without_id() {
    let mut s = open();
    send(&mut s, t(0), r#"{"request":"remote-device"}"#);
    let ticket = ticket(&mut s);
    let data = ReplyData::RemoteDevices(RemoteDevices {
        remote_devices: vec![],
        extra: Map::new(),
    });
    s.reply(ticket, data).unwrap();
    assert_eq!(
        json_frame(&mut s),
        json!({"request":"remote-device","data":{"remote_devices":[]}}),
        "`request` echoes the client's spelling"
    );
}

#[test]
fn replies_leave_in_request_order() {
    let mut s = open();
    send(&mut s, t(0), r#"{"request":"log"}"#);
    send(&mut s, t(0), r#"{"request":"log"}"#);
    let tickets: Vec<_> = events(&mut s)
        .into_iter()
        .map(|e| match e {
            Event::Request(p) => p.ticket,
            other => panic!("{other:?}"),
        })
        .collect();
    s.reply(tickets[1], ReplyData::Log(log("second"))).unwrap();
    assert!(frames(&mut s).is_empty(), "held behind the first request");
    send(&mut s, t(0), r#"{"request":"beacon"}"#);
    assert!(
        frames(&mut s).is_empty(),
        "error replies queue in order too"
    );
    s.reply(tickets[0], ReplyData::Log(log("first"))).unwrap();
    let texts: Vec<_> = frames(&mut s)
        .into_iter()
        .map(|f| match f {
            Outbound::Text(t) => serde_json::from_str::<Value>(&t).unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts[0]["data"]["log"], "first");
    assert_eq!(texts[1]["data"]["log"], "second");
    assert_eq!(texts[2]["error"], "not_requestable");
}

#[test]
fn unknown_channel_request_gets_an_error_reply() {
    let mut s = open();
    send(&mut s, t(0), r#"{"request":"time","id":5}"#);
    let reply = json_frame(&mut s);
    assert_eq!(reply["request"], "time");
    assert_eq!(reply["id"], 5);
    assert_eq!(reply["error"], "unknown_channel");
    assert_eq!(
        events(&mut s),
        [Event::Violation(Violation::UnknownChannel(Channel::new(
            "time"
        )))]
    );
}

#[test]
fn non_requestable_channel_gets_an_error_reply() {
    for name in ["beacon", "lua", "io_module"] {
        let mut s = open();
        send(&mut s, t(0), &format!(r#"{{"request":"{name}","id":1}}"#));
        let reply = json_frame(&mut s);
        assert_eq!(reply["error"], "not_requestable", "{name}");
        assert_eq!(reply["request"], name);
    }
}

#[test]
fn application_can_answer_with_an_error() {
    let mut s = open();
    send(&mut s, t(0), r#"{"request":"temperature","id":2}"#);
    let ticket = ticket(&mut s);
    s.reply_error(ticket, ErrorCode::UNAVAILABLE, "no sensor")
        .unwrap();
    assert_eq!(
        json_frame(&mut s),
        json!({"request":"temperature","id":2,"error":"unavailable","message":"no sensor"})
    );
}

#[test]
fn answers_are_checked() {
    let mut s = open();
    send(&mut s, t(0), r#"{"request":"system","id":1}"#);
    let ticket = ticket(&mut s);
    assert_eq!(
        s.reply(ticket, ReplyData::Log(log("x"))),
        Err(SessionError::DataMismatch(Channel::SYSTEM))
    );
    assert_eq!(
        s.reply(ticket, ReplyData::Endpoint(json!({}))),
        Err(SessionError::DataMismatch(Channel::SYSTEM)),
        "system data is typed"
    );
    assert_eq!(
        s.reply(Ticket(99), ReplyData::Log(log("x"))),
        Err(SessionError::UnknownTicket(Ticket(99)))
    );
    s.reply_error(ticket, ErrorCode::UNAVAILABLE, "later")
        .unwrap();
    assert_eq!(
        s.reply_error(ticket, ErrorCode::UNAVAILABLE, "again"),
        Err(SessionError::UnknownTicket(ticket)),
        "a request is answered once"
    );
}

// --- Subscriptions -----------------------------------------------------------------

#[test]
fn broadcasts_reach_only_subscribers() {
    let mut subscriber = open();
    let mut bystander = open();
    send(&mut subscriber, t(0), r#"{"subscribe":"timeline"}"#);
    assert_eq!(
        events(&mut subscriber),
        [Event::Subscribed(Channel::TIMELINE)]
    );
    assert!(frames(&mut subscriber).is_empty(), "no acknowledgement");
    send(&mut bystander, t(0), r#"{"subscribe":"scene"}"#);
    let push = timeline_push(3);
    assert!(subscriber.offer(t(1), &push));
    assert!(!bystander.offer(t(1), &push));
    assert_eq!(
        json_frame(&mut subscriber),
        json!({"broadcast":"timeline","data":{"num":3,"state":"running","onstage":true,"position":1500}})
    );
    assert!(frames(&mut bystander).is_empty());
    assert!(subscriber.is_subscribed(&Channel::TIMELINE));
    assert!(!subscriber.is_subscribed(&Channel::SCENE));
}

#[test]
fn subscribing_twice_records_one_subscription() {
    let mut s = open();
    send(&mut s, t(0), r#"{"subscribe":"beacon"}"#);
    send(&mut s, t(0), r#"{"subscribe":"beacon"}"#);
    assert_eq!(events(&mut s).len(), 2);
    assert_eq!(s.subscriptions().count(), 1);
    let push = PreparedBroadcast::new(Broadcast {
        channel: Channel::BEACON,
        data: BroadcastData::Beacon(Beacon {
            on: true,
            extra: Map::new(),
        }),
        extra: Map::new(),
    })
    .unwrap();
    assert!(s.offer(t(1), &push));
    assert_eq!(frames(&mut s).len(), 1, "delivered once");
}

#[test]
fn broadcasts_use_the_subscribers_spelling() {
    let mut s = open();
    send(&mut s, t(0), r#"{"subscribe":"remote-device"}"#);
    let push = PreparedBroadcast::new(Broadcast {
        channel: Channel::REMOTE_DEVICE,
        data: BroadcastData::RemoteDevices(RemoteDevices {
            remote_devices: vec![],
            extra: Map::new(),
        }),
        extra: Map::new(),
    })
    .unwrap();
    assert!(s.offer(t(1), &push));
    assert_eq!(json_frame(&mut s)["broadcast"], "remote-device");
}

#[test]
fn unknown_and_non_subscribable_channels_get_error_replies() {
    let mut s = open();
    send(&mut s, t(0), r#"{"subscribe":"weather"}"#);
    assert_eq!(
        json_frame(&mut s),
        json!({"subscribe":"weather","error":"unknown_channel","message":"unknown channel `weather`"})
    );
    send(&mut s, t(0), r#"{"subscribe":"system"}"#);
    let reply = json_frame(&mut s);
    assert_eq!(reply["subscribe"], "system");
    assert_eq!(reply["error"], "not_subscribable");
    assert_eq!(s.subscriptions().count(), 0);
}

#[test]
fn mismatched_broadcast_data_is_refused() {
    let err = PreparedBroadcast::new(Broadcast {
        channel: Channel::SCENE,
        data: BroadcastData::Log(log("x")),
        extra: Map::new(),
    });
    assert_eq!(err, Err(SessionError::DataMismatch(Channel::SCENE)));
}

// --- Security on: tokens -----------------------------------------------------------

#[test]
fn secured_messages_without_token_get_an_error_reply() {
    let mut s = secured();
    send(&mut s, t(0), r#"{"request":"system","id":1}"#);
    let reply = json_frame(&mut s);
    assert_eq!(reply["error"], "token_missing");
    assert_eq!(reply["id"], 1);
    send(&mut s, t(0), r#"{"subscribe":"timeline"}"#);
    assert_eq!(json_frame(&mut s)["error"], "token_missing");
    assert!(!s.is_subscribed(&Channel::TIMELINE));
}

#[test]
fn secured_request_with_token_is_answered() {
    let mut s = secured();
    send(&mut s, t(0), r#"{"request":"log","id":9,"token":"good"}"#);
    let evs = events(&mut s);
    assert!(
        matches!(&evs[0], Event::Authenticated { principal, expires_at }
        if principal.subject == "demo" && *expires_at == t(300))
    );
    let Event::Request(p) = &evs[1] else {
        panic!("{evs:?}")
    };
    s.reply(p.ticket, ReplyData::Log(log(""))).unwrap();
    assert_eq!(json_frame(&mut s)["id"], 9);
    assert_eq!(s.poll_timeout(), Some(t(300)));
}

#[test]
fn refused_tokens_get_their_error_code() {
    for (token, code, rejection) in [
        ("nope", "token_invalid", TokenRejection::Invalid),
        ("old", "token_expired", TokenRejection::Expired),
        ("revoked", "token_revoked", TokenRejection::Revoked),
        ("gone", "unknown_user", TokenRejection::UnknownSubject),
        ("", "token_missing", TokenRejection::Missing),
    ] {
        let mut s = secured();
        send(
            &mut s,
            t(10),
            &format!(r#"{{"request":"system","id":1,"token":"{token}"}}"#),
        );
        assert_eq!(json_frame(&mut s)["error"], code, "{token}");
        assert_eq!(
            events(&mut s),
            [Event::Violation(Violation::TokenRejected(rejection))]
        );
    }
}

#[test]
fn access_below_the_minimum_is_denied() {
    let mut s = session(SessionConfig {
        min_access: AccessLevel::Control,
        ..SessionConfig::secured()
    });
    send(&mut s, t(0), r#"{"subscribe":"log","token":"good"}"#);
    assert_eq!(json_frame(&mut s)["error"], "access_denied");
    send(&mut s, t(0), r#"{"token":"good"}"#);
    assert_eq!(binary_frame(&mut s), [0; 16]);
    send(&mut s, t(0), r#"{"subscribe":"log","token":"admin"}"#);
    assert!(frames(&mut s).is_empty());
    assert!(s.is_subscribed(&Channel::LOG));
}

#[test]
fn status_access_is_enough_by_default() {
    let mut s = secured();
    send(&mut s, t(0), r#"{"subscribe":"scene","token":"good"}"#);
    assert!(frames(&mut s).is_empty());
    assert!(s.is_subscribed(&Channel::SCENE));
    assert_eq!(s.principal().map(|p| p.access), Some(AccessLevel::Status));
}

// --- Security on: keepalive --------------------------------------------------------

#[test]
fn secured_keepalive_gets_the_session_key() {
    let mut s = secured();
    send(&mut s, t(0), r#"{"token":"good"}"#);
    assert_eq!(binary_frame(&mut s), key().as_bytes());
    assert_eq!(
        KeepaliveReply::decode(key().as_bytes()),
        Ok(KeepaliveReply::SessionKey(key()))
    );
}

#[test]
fn keepalive_renews_the_session() {
    let mut s = authenticated();
    for n in 1..=60 {
        send(&mut s, t(n * 10), r#"{"token":"good"}"#);
        assert_eq!(binary_frame(&mut s), key().as_bytes(), "keepalive {n}");
        assert_eq!(
            events(&mut s),
            [Event::Renewed {
                expires_at: t(n * 10 + 300)
            }]
        );
    }
    assert_eq!(s.poll_timeout(), Some(t(900)));
    assert!(s.is_authorised());
}

#[test]
fn requests_do_not_renew_the_session() {
    let mut s = authenticated();
    send(&mut s, t(200), r#"{"request":"log","token":"good"}"#);
    ticket(&mut s);
    assert_eq!(s.poll_timeout(), Some(t(300)));
}

#[test]
fn keepalive_after_the_session_timed_out_gets_16_zero_bytes() {
    let mut s = authenticated();
    assert_eq!(s.poll_timeout(), Some(t(300)));
    s.handle_timeout(t(299));
    assert!(events(&mut s).is_empty());
    s.handle_timeout(t(300));
    assert_eq!(events(&mut s), [Event::SessionTimedOut]);
    assert_eq!(s.poll_timeout(), None);
    send(&mut s, t(301), r#"{"token":"good"}"#);
    assert_eq!(binary_frame(&mut s), [0; 16]);
    assert_eq!(
        events(&mut s),
        [Event::Violation(Violation::SessionTimedOut)]
    );
    send(&mut s, t(302), "");
    assert_eq!(
        binary_frame(&mut s),
        [0; 16],
        "an empty frame does not revive it"
    );
    send(&mut s, t(303), r#"{"request":"log","id":4,"token":"good"}"#);
    let reply = json_frame(&mut s);
    assert_eq!(reply["error"], "session_timed_out");
    assert_eq!(reply["id"], 4);
}

#[test]
fn timeout_is_noticed_on_the_next_frame_without_a_timer() {
    let mut s = authenticated();
    send(&mut s, t(301), r#"{"token":"good"}"#);
    assert_eq!(binary_frame(&mut s), [0; 16]);
    assert_eq!(
        events(&mut s),
        [
            Event::SessionTimedOut,
            Event::Violation(Violation::SessionTimedOut)
        ]
    );
}

#[test]
fn a_new_token_starts_a_new_session_after_timeout() {
    let mut s = authenticated();
    s.handle_timeout(t(300));
    assert_eq!(events(&mut s), [Event::SessionTimedOut]);
    send(&mut s, t(310), r#"{"token":"other"}"#);
    assert_eq!(binary_frame(&mut s), key().as_bytes());
    let evs = events(&mut s);
    assert!(
        matches!(evs.as_slice(), [Event::Authenticated { expires_at, .. }] if *expires_at == t(610)),
        "{evs:?}"
    );
    assert!(s.is_authorised());
}

#[test]
fn keepalive_without_token_reports_without_renewing() {
    let mut s = secured();
    send(&mut s, t(0), "{}");
    assert_eq!(binary_frame(&mut s), [0; 16], "no session yet");
    assert_eq!(events(&mut s), [Event::Violation(Violation::TokenMissing)]);
    send(&mut s, t(0), r#"{"token":"good"}"#);
    binary_frame(&mut s);
    send(&mut s, t(100), "");
    assert_eq!(
        binary_frame(&mut s),
        key().as_bytes(),
        "the empty frame is a keepalive"
    );
    send(&mut s, t(200), "{}");
    assert_eq!(binary_frame(&mut s), key().as_bytes());
    assert_eq!(s.poll_timeout(), Some(t(300)), "not renewed");
}

#[test]
fn refused_token_on_keepalive_gets_zero_bytes() {
    let mut s = secured();
    send(&mut s, t(0), r#"{"token":"nope"}"#);
    assert_eq!(binary_frame(&mut s), [0; 16]);
    assert_eq!(
        events(&mut s),
        [Event::Violation(Violation::TokenRejected(
            TokenRejection::Invalid
        ))]
    );
}

#[test]
fn keepalive_refreshes_past_the_tokens_own_expiry() {
    let mut s = secured();
    send(&mut s, t(0), r#"{"token":"short"}"#);
    binary_frame(&mut s);
    for n in 1..=12 {
        send(&mut s, t(n * 10), r#"{"token":"short"}"#);
        assert_eq!(binary_frame(&mut s), key().as_bytes(), "at {}s", n * 10);
    }
    send(
        &mut s,
        t(125),
        r#"{"request":"log","id":1,"token":"short"}"#,
    );
    assert!(matches!(events(&mut s).last(), Some(Event::Request(_))));
}

#[test]
fn revocation_ends_the_session() {
    let (verifier, table) = verifier();
    let mut s = MosaicSession::new(SessionConfig::secured(), verifier, key());
    send(&mut s, t(0), r#"{"token":"good"}"#);
    binary_frame(&mut s);
    table.lock().unwrap().revoke("good");
    send(&mut s, t(10), r#"{"token":"good"}"#);
    assert_eq!(binary_frame(&mut s), [0; 16]);
    assert!(!s.is_authorised());
    send(&mut s, t(11), "{}");
    assert_eq!(binary_frame(&mut s), [0; 16]);
}

#[test]
fn broadcasts_stop_when_the_session_times_out() {
    let mut s = secured();
    send(&mut s, t(0), r#"{"subscribe":"timeline","token":"good"}"#);
    events(&mut s);
    assert!(s.offer(t(299), &timeline_push(1)));
    frames(&mut s);
    assert!(!s.offer(t(300), &timeline_push(1)));
    assert_eq!(events(&mut s), [Event::SessionTimedOut]);
    send(&mut s, t(310), r#"{"token":"other"}"#);
    binary_frame(&mut s);
    assert!(
        s.offer(t(311), &timeline_push(1)),
        "subscriptions survive re-authentication"
    );
}

#[test]
fn key_follows_a_controller_restart() {
    let mut controller = Controller::new(ControllerModel::Msc, 42);
    let (verifier, _) = verifier();
    let mut s = MosaicSession::new(SessionConfig::secured(), verifier, controller.session_key());
    send(&mut s, t(0), r#"{"token":"good"}"#);
    let before = binary_frame(&mut s);
    assert_eq!(before, controller.session_key().as_bytes());
    send(&mut s, t(10), r#"{"token":"good"}"#);
    assert_eq!(binary_frame(&mut s), before, "stable until restart");
    s.set_session_key(controller.restart());
    send(&mut s, t(20), r#"{"token":"good"}"#);
    let after = binary_frame(&mut s);
    assert_ne!(after, before);
    assert_eq!(after, controller.session_key().as_bytes());
}

// --- Malformed input and closing ----------------------------------------------------

#[test]
fn malformed_text_gets_an_error_reply() {
    let mut s = open();
    send(&mut s, t(0), "{\"request\": \"log\"");
    let reply = json_frame(&mut s);
    assert_eq!(reply["error"], "malformed");
    assert!(reply.get("request").is_none());
    assert!(matches!(
        events(&mut s).as_slice(),
        [Event::Violation(Violation::Malformed(DecodeError::Json(_)))]
    ));
    send(&mut s, t(0), r#"{"unsubscribe":"log"}"#);
    assert_eq!(json_frame(&mut s)["error"], "malformed");
}

#[test]
fn binary_frames_get_an_error_reply() {
    let mut s = authenticated();
    s.handle_frame(t(1), Inbound::Binary(&[1, 2, 3]));
    assert_eq!(json_frame(&mut s)["error"], "unsupported_data");
    assert_eq!(
        events(&mut s),
        [Event::Violation(Violation::BinaryMessage { len: 3 })]
    );
    assert!(!s.is_closed());
}

#[test]
fn close_ends_the_session() {
    let mut s = open();
    send(&mut s, t(0), r#"{"request":"log","id":1}"#);
    let ticket = ticket(&mut s);
    let going_away = Close::new(CloseCode::GOING_AWAY, "controller restarting");
    s.close(going_away.clone());
    assert!(s.is_closed());
    assert_eq!(frames(&mut s), [Outbound::Close(going_away)]);
    send(&mut s, t(1), "{}");
    assert!(frames(&mut s).is_empty(), "input after close is ignored");
    assert_eq!(
        s.reply(ticket, ReplyData::Log(log(""))),
        Err(SessionError::Closed)
    );
    assert!(!s.offer(t(1), &timeline_push(1)));
}

#[test]
fn connection_cap_violation_closes_with_try_again_later() {
    let violation = Violation::TooManyConnections(CapExceeded::Total(8));
    let Wire::Close(close) = violation.wire(&Origin::Unattributed) else {
        panic!()
    };
    assert_eq!(close.code, CloseCode::TRY_AGAIN_LATER);
    assert!(close.reason.contains('8'));
    assert!(close.reason.len() <= 123);
}

#[test]
fn auth_violations_on_keepalives_map_to_zero_bytes_and_elsewhere_to_replies() {
    for v in [
        Violation::TokenMissing,
        Violation::TokenRejected(TokenRejection::Expired),
        Violation::SessionTimedOut,
        Violation::InsufficientAccess {
            required: AccessLevel::Control,
            granted: AccessLevel::Status,
        },
    ] {
        assert_eq!(
            v.wire(&Origin::Keepalive),
            Wire::Keepalive(KeepaliveReply::TimedOut),
            "{v}"
        );
        assert!(matches!(
            v.wire(&Origin::Subscribe {
                channel: Channel::LOG
            }),
            Wire::Error(ErrorReply {
                subscribe: Some(_),
                ..
            })
        ));
    }
    assert_eq!(
        Wire::Keepalive(KeepaliveReply::TimedOut).to_outbound(),
        Outbound::Binary(vec![0; 16])
    );
}

#[test]
fn the_reply_id_fault_echoes_only_the_first_id() {
    let mut s = session(SessionConfig {
        faults: SessionFaults {
            drop_later_reply_ids: true,
            ..SessionFaults::NONE
        },
        ..SessionConfig::open()
    });
    for (id, expected) in [(1, json!(1)), (2, Value::Null)] {
        send(
            &mut s,
            t(0),
            &format!(r#"{{"request":"project","id":{id}}}"#),
        );
        let ticket = ticket(&mut s);
        s.reply(ticket, ReplyData::Endpoint(json!({"name": "Demo"})))
            .unwrap();
        assert_eq!(json_frame(&mut s)["id"], expected);
    }
}

#[test]
fn the_short_key_fault_answers_a_live_keepalive_with_8_bytes() {
    let mut s = session(SessionConfig {
        faults: SessionFaults {
            short_session_key: true,
            ..SessionFaults::NONE
        },
        ..SessionConfig::secured()
    });
    send(&mut s, t(0), r#"{"token":"good"}"#);
    assert_eq!(
        binary_frame(&mut s).as_slice(),
        key().as_bytes().get(..8).unwrap()
    );
}
