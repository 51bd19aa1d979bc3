//! robot.txt, every rule and error path of a session, driven by hand with explicit time.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::auth::Principal;
use crate::auth::SharedVerifier;
use crate::auth::TokenRejection;
use crate::auth::TokenTable;
use crate::auth::TokenVerifier;
use crate::frame::Close;
use crate::frame::CloseCode;
use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::limits::CapExceeded;
use crate::session::ServerSession;
use crate::time::Timestamp;

/// `ms` milliseconds after the start of every test.
fn at(ms: u64) -> Timestamp {
    Timestamp::from_unix_millis(1_704_110_400_000 + ms)
}

/// A token table the test can still change (revoke) after handing it to a session.
#[derive(Default)]
struct Tokens(Mutex<TokenTable>);

impl TokenVerifier for Tokens {
    fn verify(&self, token: &str, now: Timestamp) -> Result<Principal, TokenRejection> {
        self.0.lock().unwrap().verify(token, now)
    }
}

/// `good` lives an hour, `short` ten seconds.
fn tokens() -> Arc<Tokens> {
    let table =
        TokenTable::new()
            .with("good", "demo", at(3_600_000))
            .with("short", "demo", at(10_000));
    Arc::new(Tokens(Mutex::new(table)))
}

fn open_with(config: SessionConfig) -> RobotSession {
    let verifier: SharedVerifier = tokens();
    RobotSession::connect(Some("good"), verifier, config, at(0))
}

fn open() -> RobotSession {
    open_with(SessionConfig::DEFAULT)
}

fn send(s: &mut RobotSession, ms: u64, text: &str) {
    s.handle_frame(at(ms), Inbound::Text(text));
}

fn frames(s: &mut RobotSession) -> Vec<Outbound> {
    std::iter::from_fn(|| s.poll_transmit()).collect()
}

fn events(s: &mut RobotSession) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

/// The server messages queued, decoded.
fn replies(s: &mut RobotSession) -> Vec<ServerMessage> {
    frames(s)
        .into_iter()
        .map(|f| match f {
            Outbound::Text(t) => ServerMessage::decode(&t).unwrap(),
            other => panic!("expected text, got {other:?}"),
        })
        .collect()
}

/// Sends `text` and expects exactly one error reply with `code`, the connection open.
fn expect_error(s: &mut RobotSession, ms: u64, text: &str, code: &ErrorCode) -> String {
    send(s, ms, text);
    let got = replies(s);
    let [ServerMessage::Error(reply)] = got.as_slice() else {
        panic!("one error reply for {text}, got {got:?}");
    };
    assert_eq!(&reply.error, code, "{text}: {}", reply.message);
    assert!(!s.is_closed());
    let evs = events(s);
    assert!(
        matches!(evs.as_slice(), [Event::Refused(v)] if v.code().as_ref() == Some(code)),
        "{evs:?}"
    );
    reply.message.clone()
}

fn subscribe(s: &mut RobotSession, ms: u64, topic: &str) {
    send(s, ms, &client::subscribe(topic).to_text());
}

fn the_close(s: &mut RobotSession) -> Close {
    let got = frames(s);
    let [Outbound::Close(close)] = got.as_slice() else {
        panic!("one close frame, got {got:?}");
    };
    assert!(s.is_closed());
    close.clone()
}

#[test]
fn a_valid_token_opens_a_silent_session() {
    let mut s = open();
    assert!(!s.is_closed());
    assert_eq!(s.principal().map(|p| p.subject.as_str()), Some("demo"));
    assert_eq!(frames(&mut s), []);
    assert_eq!(events(&mut s), []);
    assert_eq!(s.poll_timeout(), Some(at(3_600_000)), "the token's expiry");
}

#[test]
fn a_missing_or_invalid_token_is_closed_with_1008() {
    for (token, why) in [
        (None, "no token provided"),
        (Some(""), "no token provided"),
        (
            Some("forged"),
            "token is malformed or its signature is invalid",
        ),
    ] {
        let verifier: SharedVerifier = tokens();
        let mut s = RobotSession::connect(token, verifier, SessionConfig::DEFAULT, at(0));
        assert_eq!(
            the_close(&mut s),
            Close::new(CloseCode::POLICY_VIOLATION, why)
        );
        assert_eq!(s.poll_timeout(), None);
        send(&mut s, 1, r#"{"action":"subscribe","topic":"t"}"#);
        assert_eq!(frames(&mut s), [], "input after the close is ignored");
    }
    let verifier: SharedVerifier = tokens();
    let mut s = RobotSession::connect(Some("short"), verifier, SessionConfig::DEFAULT, at(10_000));
    assert_eq!(the_close(&mut s).reason, "token has expired");
}

#[test]
fn a_rejection_before_the_session_becomes_its_close_frame() {
    let mut s = RobotSession::refused(Rejection::Token(TokenRejection::Revoked));
    assert_eq!(
        the_close(&mut s),
        Close::new(CloseCode::POLICY_VIOLATION, "token has been revoked")
    );
    assert_eq!(
        events(&mut s),
        [Event::Refused(Violation::Token(TokenRejection::Revoked))]
    );
    let mut full = RobotSession::refused(Rejection::Capacity(CapExceeded::Total(1000)));
    assert_eq!(the_close(&mut full).code, CloseCode::TRY_AGAIN_LATER);
}

#[test]
fn subscribe_reports_a_new_topic_once() {
    let mut s = open();
    subscribe(&mut s, 1, "some_topic");
    subscribe(&mut s, 2, "some_topic");
    assert_eq!(frames(&mut s), [], "no ack unless enabled");
    assert_eq!(
        events(&mut s),
        [Event::Subscribed {
            topic: Topic::new("some_topic")
        }]
    );
    assert!(s.is_subscribed(&Topic::new("some_topic")));
}

#[test]
fn unsubscribe_reports_only_a_topic_that_was_held() {
    let mut s = open();
    subscribe(&mut s, 1, "a");
    send(&mut s, 2, &client::unsubscribe("a").to_text());
    send(&mut s, 3, &client::unsubscribe("never").to_text());
    assert_eq!(frames(&mut s), []);
    assert_eq!(
        events(&mut s),
        [
            Event::Subscribed {
                topic: Topic::new("a")
            },
            Event::Unsubscribed {
                topic: Topic::new("a")
            }
        ]
    );
    assert_eq!(s.subscriptions().count(), 0);
}

#[test]
fn acks_confirm_every_accepted_message_when_enabled() {
    let mut s = open_with(SessionConfig {
        acks: true,
        ..SessionConfig::DEFAULT
    });
    subscribe(&mut s, 1, "t");
    subscribe(&mut s, 2, "t");
    send(
        &mut s,
        3,
        &client::publish("t", Payload::new("n", "k", json!(1))).to_text(),
    );
    send(&mut s, 4, &client::unsubscribe("t").to_text());
    let ack = |kind| {
        ServerMessage::Ack(Ack {
            kind,
            topic: Topic::new("t"),
        })
    };
    assert_eq!(
        replies(&mut s),
        [
            ack(AckKind::Subscribed),
            ack(AckKind::Subscribed),
            ack(AckKind::Published),
            ack(AckKind::Unsubscribed)
        ]
    );
}

#[test]
fn publish_in_either_form_reports_the_payload() {
    let mut s = open();
    let payload = Payload::new("name_of_data", "type_of_data", json!("your_data_here"));
    send(
        &mut s,
        1,
        &client::publish_object("some_topic", payload.clone()).to_text(),
    );
    send(
        &mut s,
        2,
        &client::publish("some_topic", payload.clone()).to_text(),
    );
    let published = Event::Published {
        topic: Topic::new("some_topic"),
        payload,
    };
    assert_eq!(events(&mut s), [published.clone(), published]);
    assert_eq!(frames(&mut s), []);
}

#[test]
fn deliveries_reach_a_session_only_while_it_is_subscribed() {
    let mut s = open();
    let delivery = Delivery::new(Topic::new("t"), Payload::new("n", "k", json!({"v": 2})));
    assert!(!s.deliver(&delivery), "not subscribed yet");
    subscribe(&mut s, 1, "t");
    assert!(s.deliver(&delivery));
    assert_eq!(
        replies(&mut s),
        [ServerMessage::Data(Payload::new("n", "k", json!({"v": 2})))]
    );
    send(&mut s, 2, &client::unsubscribe("t").to_text());
    assert!(!s.deliver(&delivery), "unsubscribe stops delivery at once");
    assert_eq!(frames(&mut s), []);
}

#[test]
fn bad_json_gets_invalid_json_with_line_and_column() {
    let mut s = open();
    let message = expect_error(
        &mut s,
        1,
        "{\"action\": \"subscribe\",\n \"topic\": }",
        &ErrorCode::INVALID_JSON,
    );
    assert_eq!(
        message,
        "invalid JSON: Syntax error at line 2, column 11: expected value"
    );
    expect_error(&mut s, 2, "", &ErrorCode::INVALID_JSON);
}

#[test]
fn json_that_is_not_a_message_gets_invalid_message() {
    let mut s = open();
    expect_error(&mut s, 1, "[]", &ErrorCode::INVALID_MESSAGE);
    let message = expect_error(
        &mut s,
        2,
        r#"{"action":"subscribe","topic":"t","qos":1}"#,
        &ErrorCode::INVALID_MESSAGE,
    );
    assert_eq!(message, "unknown field `qos` in `$`");
    assert_eq!(
        s.subscriptions().count(),
        0,
        "the refused message had no effect"
    );
}

#[test]
fn an_unknown_or_missing_action_gets_unknown_action() {
    let mut s = open();
    let message = expect_error(
        &mut s,
        1,
        r#"{"action":"list","topic":"t"}"#,
        &ErrorCode::UNKNOWN_ACTION,
    );
    assert_eq!(
        message,
        "unknown action `list`: expected one of `subscribe`, `unsubscribe`, `publish`"
    );
    expect_error(&mut s, 2, r#"{"topic":"t"}"#, &ErrorCode::UNKNOWN_ACTION);
    expect_error(&mut s, 3, r#"{"action":1}"#, &ErrorCode::UNKNOWN_ACTION);
}

#[test]
fn a_missing_topic_gets_missing_topic() {
    let mut s = open();
    for (ms, action) in [(1, "subscribe"), (2, "unsubscribe"), (3, "publish")] {
        let message = expect_error(
            &mut s,
            ms,
            &format!(r#"{{"action":"{action}"}}"#),
            &ErrorCode::MISSING_TOPIC,
        );
        assert_eq!(message, "missing field `$.topic`");
    }
}

#[test]
fn a_topic_that_is_not_a_non_empty_string_gets_invalid_topic() {
    let mut s = open();
    expect_error(
        &mut s,
        1,
        r#"{"action":"subscribe","topic":null}"#,
        &ErrorCode::INVALID_TOPIC,
    );
    let message = expect_error(
        &mut s,
        2,
        r#"{"action":"subscribe","topic":""}"#,
        &ErrorCode::INVALID_TOPIC,
    );
    assert_eq!(message, "topic must not be empty");
}

#[test]
fn bad_publish_data_gets_invalid_data() {
    let mut s = open();
    let cases = [
        (
            r#"{"action":"publish","topic":"t"}"#,
            "missing field `$.data`",
        ),
        (
            r#"{"action":"publish","topic":"t","data":"not json"}"#,
            "`$.data` is a string that does not hold JSON: Syntax error at line 1, column 2: expected ident",
        ),
        (
            r#"{"action":"publish","topic":"t","data":"\"a string\""}"#,
            "`$.data` must be an object, found a string",
        ),
        (
            r#"{"action":"publish","topic":"t","data":"{\"name\":\"n\",\"data\":1}"}"#,
            "missing field `$.data.type`",
        ),
        (
            r#"{"action":"publish","topic":"t","data":{"name":1,"type":"k","data":1}}"#,
            "`$.data.name` must be a string, found a number",
        ),
        (
            r#"{"action":"publish","topic":"t","data":[]}"#,
            "`$.data` must be an object {name, type, data} or a string holding one, found an array",
        ),
    ];
    for (ms, (text, expected)) in (1..).zip(cases) {
        let message = expect_error(&mut s, ms, text, &ErrorCode::INVALID_DATA);
        assert_eq!(message, expected, "{text}");
    }
}

#[test]
fn binary_frames_get_unsupported_frame() {
    let mut s = open();
    s.handle_frame(at(1), Inbound::Binary(&[0x7b, 0x7d]));
    let got = replies(&mut s);
    assert!(
        matches!(got.as_slice(), [ServerMessage::Error(e)] if e.error == ErrorCode::UNSUPPORTED_FRAME),
        "{got:?}"
    );
    assert!(!s.is_closed());
}

#[test]
fn the_message_size_limit_is_inclusive() {
    let limits = Limits {
        max_message_bytes: 60,
        ..Limits::DEFAULT
    };
    let mut s = open_with(SessionConfig {
        limits,
        ..SessionConfig::DEFAULT
    });
    let fits = r#"{"action":"subscribe","topic":"abcdefghijklmnopqrstuvwxyz"}"#;
    let fits = format!("{fits:<60}");
    assert_eq!(fits.len(), 60);
    send(&mut s, 1, &fits);
    assert_eq!(events(&mut s).len(), 1, "60 bytes are accepted");
    let message = expect_error(
        &mut s,
        2,
        &format!("{fits} "),
        &ErrorCode::MESSAGE_TOO_LARGE,
    );
    assert_eq!(
        message,
        "message of 61 bytes exceeds the maximum of 60 bytes"
    );
}

#[test]
fn the_topic_length_limit_is_inclusive_for_every_action() {
    let mut s = open();
    let longest = "t".repeat(128);
    subscribe(&mut s, 1, &longest);
    assert_eq!(events(&mut s).len(), 1);
    let too_long = "t".repeat(129);
    for (ms, message) in [
        (2, client::subscribe(too_long.as_str())),
        (3, client::unsubscribe(too_long.as_str())),
        (
            4,
            client::publish_object(too_long.as_str(), Payload::new("n", "k", json!(0))),
        ),
    ] {
        let text = expect_error(&mut s, ms, &message.to_text(), &ErrorCode::TOPIC_TOO_LONG);
        assert_eq!(text, "topic of 129 bytes exceeds the maximum of 128 bytes");
    }
}

#[test]
fn the_topic_count_limit_frees_a_place_on_unsubscribe() {
    let limits = Limits {
        max_topics_per_connection: 2,
        ..Limits::DEFAULT
    };
    let mut s = open_with(SessionConfig {
        limits,
        ..SessionConfig::DEFAULT
    });
    subscribe(&mut s, 1, "a");
    subscribe(&mut s, 2, "b");
    subscribe(&mut s, 3, "a");
    assert_eq!(events(&mut s).len(), 2, "re-subscribing takes no place");
    let message = expect_error(
        &mut s,
        4,
        &client::subscribe("c").to_text(),
        &ErrorCode::TOO_MANY_TOPICS,
    );
    assert_eq!(message, "already subscribed to the maximum of 2 topics");
    send(&mut s, 5, &client::unsubscribe("a").to_text());
    subscribe(&mut s, 6, "c");
    assert_eq!(
        events(&mut s),
        [
            Event::Unsubscribed {
                topic: Topic::new("a")
            },
            Event::Subscribed {
                topic: Topic::new("c")
            }
        ]
    );
}

#[test]
fn clients_may_read_but_not_write_server_logs() {
    let mut s = open();
    subscribe(&mut s, 1, "server_logs");
    assert_eq!(
        events(&mut s),
        [Event::Subscribed {
            topic: Topic::SERVER_LOGS
        }]
    );
    let forged = client::publish(
        "server_logs",
        Payload::new("server_logs", "error", json!("x")),
    );
    let message = expect_error(&mut s, 2, &forged.to_text(), &ErrorCode::RESERVED_TOPIC);
    assert_eq!(
        message,
        "topic `server_logs` is reserved for the server's own log lines"
    );
}

#[test]
fn the_rate_limit_replies_then_recovers_in_the_next_window() {
    let limits = Limits {
        max_messages: 3,
        window: Duration::from_secs(1),
        ..Limits::DEFAULT
    };
    let mut s = open_with(SessionConfig {
        limits,
        ..SessionConfig::DEFAULT
    });
    for ms in [0, 10, 20] {
        subscribe(&mut s, ms, &format!("t{ms}"));
    }
    assert_eq!(events(&mut s).len(), 3);
    let message = expect_error(
        &mut s,
        999,
        &client::subscribe("late").to_text(),
        &ErrorCode::RATE_LIMITED,
    );
    assert_eq!(message, "more than 3 messages in 1s: message dropped");
    assert!(!s.is_subscribed(&Topic::new("late")));
    subscribe(&mut s, 1_000, "late");
    assert_eq!(
        events(&mut s),
        [Event::Subscribed {
            topic: Topic::new("late")
        }],
        "the first message left the window"
    );
}

#[test]
fn a_rate_excess_that_persists_closes_with_1008() {
    let limits = Limits {
        max_messages: 1,
        max_rate_strikes: 3,
        ..Limits::DEFAULT
    };
    let mut s = open_with(SessionConfig {
        limits,
        ..SessionConfig::DEFAULT
    });
    let text = client::subscribe("t").to_text();
    send(&mut s, 0, &text);
    assert_eq!(events(&mut s).len(), 1);
    for ms in [1, 2] {
        expect_error(&mut s, ms, &text, &ErrorCode::RATE_LIMITED);
    }
    send(&mut s, 3, &text);
    assert_eq!(
        the_close(&mut s),
        Close::new(
            CloseCode::POLICY_VIOLATION,
            "rate limit exceeded 3 times in a row"
        )
    );
}

#[test]
fn an_admitted_message_resets_the_strikes() {
    let limits = Limits {
        max_messages: 1,
        max_rate_strikes: 2,
        ..Limits::DEFAULT
    };
    let mut s = open_with(SessionConfig {
        limits,
        ..SessionConfig::DEFAULT
    });
    let text = client::subscribe("t").to_text();
    send(&mut s, 0, &text);
    assert_eq!(events(&mut s).len(), 1);
    expect_error(&mut s, 1, &text, &ErrorCode::RATE_LIMITED);
    send(&mut s, 1_000, &text);
    events(&mut s);
    expect_error(&mut s, 1_001, &text, &ErrorCode::RATE_LIMITED);
    assert!(!s.is_closed(), "one strike since the last admitted message");
}

#[test]
fn token_expiry_closes_the_connection_at_its_deadline() {
    let verifier: SharedVerifier = tokens();
    let mut s = RobotSession::connect(Some("short"), verifier, SessionConfig::DEFAULT, at(0));
    assert_eq!(s.poll_timeout(), Some(at(10_000)));
    s.handle_timeout(at(9_999));
    assert_eq!(frames(&mut s), [], "early wake-ups do nothing");
    s.handle_timeout(at(10_000));
    assert_eq!(
        the_close(&mut s),
        Close::new(CloseCode::POLICY_VIOLATION, "token has expired")
    );
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn an_expired_token_closes_on_the_next_message() {
    let verifier: SharedVerifier = tokens();
    let mut s = RobotSession::connect(Some("short"), verifier, SessionConfig::DEFAULT, at(0));
    send(&mut s, 10_500, &client::subscribe("t").to_text());
    assert_eq!(the_close(&mut s).reason, "token has expired");
    assert_eq!(
        events(&mut s),
        [Event::Refused(Violation::Token(TokenRejection::Expired))],
        "the message was not handled"
    );
}

#[test]
fn a_revoked_token_closes_on_the_next_message() {
    let tokens = tokens();
    let verifier: SharedVerifier = tokens.clone();
    let mut s = RobotSession::connect(Some("good"), verifier, SessionConfig::DEFAULT, at(0));
    subscribe(&mut s, 1, "t");
    tokens.0.lock().unwrap().revoke("good");
    subscribe(&mut s, 2, "u");
    assert_eq!(the_close(&mut s).reason, "token has been revoked");
}

#[test]
fn expiry_is_not_enforced_when_disabled() {
    let verifier: SharedVerifier = tokens();
    let config = SessionConfig {
        enforce_token_expiry: false,
        ..SessionConfig::DEFAULT
    };
    let mut s = RobotSession::connect(Some("short"), verifier, config, at(0));
    assert_eq!(s.poll_timeout(), None);
    s.handle_timeout(at(20_000));
    subscribe(&mut s, 20_001, "t");
    assert!(!s.is_closed());
    assert_eq!(events(&mut s).len(), 1);
}

#[test]
fn the_application_can_close_the_session() {
    let mut s = open();
    subscribe(&mut s, 1, "t");
    s.close(Close::new(CloseCode::GOING_AWAY, "server shutting down"));
    s.close(Close::new(CloseCode::NORMAL, "twice"));
    assert_eq!(the_close(&mut s).code, CloseCode::GOING_AWAY);
    let delivery = Delivery::new(Topic::new("t"), Payload::new("n", "k", json!(null)));
    assert!(!s.deliver(&delivery), "nothing after the close frame");
}

#[test]
fn sessions_are_send() {
    fn assert_send<T: Send>() {}
    assert_send::<RobotSession>();
    assert_send::<Broker>();
    assert_send::<Delivery>();
}

/// Routes every session's events through `broker` and hands deliveries to the sessions.
fn pump(broker: &mut Broker, sessions: &mut [(ConnectionId, RobotSession)]) {
    let mut routed = Vec::new();
    for (id, s) in sessions.iter_mut() {
        while let Some(event) = s.poll_event() {
            routed.extend(broker.apply(*id, &event));
        }
    }
    for r in routed {
        for (id, s) in sessions.iter_mut() {
            if r.recipients.contains(id) {
                assert!(s.deliver(&r.delivery), "a recipient is subscribed");
            }
        }
    }
}

#[test]
fn a_robot_publish_reaches_only_that_topic_subscribers() {
    let mut broker = Broker::default();
    let mut conns: Vec<(ConnectionId, RobotSession)> = (0..4)
        .map(|_| (broker.connect(Some("demo"), at(0)).unwrap(), open()))
        .collect();
    // 0 and 1 watch the arm, 2 the wheels, 3 (the robot) publishes and watches the arm too.
    for (i, topic) in [(0, "arm"), (1, "arm"), (2, "wheels"), (3, "arm")] {
        subscribe(&mut conns[i].1, 1, topic);
    }
    pump(&mut broker, &mut conns);
    let payload = Payload::new("joint", "float", json!("0.25"));
    send(
        &mut conns[3].1,
        2,
        &client::publish("arm", payload.clone()).to_text(),
    );
    pump(&mut broker, &mut conns);
    let heard: Vec<Vec<ServerMessage>> = conns.iter_mut().map(|(_, s)| replies(s)).collect();
    let got = ServerMessage::Data(payload.clone());
    assert_eq!(
        heard,
        [
            vec![got.clone()],
            vec![got.clone()],
            vec![],
            vec![got.clone()]
        ]
    );

    // 1 unsubscribes, 0 disconnects: only the publisher itself still hears the arm.
    send(&mut conns[1].1, 3, &client::unsubscribe("arm").to_text());
    broker.disconnect(conns[0].0);
    pump(&mut broker, &mut conns);
    send(
        &mut conns[3].1,
        4,
        &client::publish_object("arm", payload).to_text(),
    );
    pump(&mut broker, &mut conns);
    let heard: Vec<usize> = conns.iter_mut().map(|(_, s)| replies(s).len()).collect();
    assert_eq!(heard, [0, 0, 0, 1]);
}

#[test]
fn server_log_lines_reach_server_logs_subscribers() {
    let mut broker = Broker::default();
    let mut conns: Vec<(ConnectionId, RobotSession)> = (0..2)
        .map(|_| (broker.connect(None, at(0)).unwrap(), open()))
        .collect();
    subscribe(&mut conns[0].1, 1, "server_logs");
    subscribe(&mut conns[1].1, 1, "some_topic");
    pump(&mut broker, &mut conns);
    let routed = broker.server_log(at(2_000), LogLevel::Warning, "client #2 sent bad JSON");
    for (id, s) in conns.iter_mut() {
        assert_eq!(s.deliver(&routed.delivery), routed.recipients.contains(id));
    }
    assert_eq!(
        replies(&mut conns[0].1),
        [ServerMessage::Data(Payload::new(
            "server_logs",
            "warning",
            json!("2024-01-01T12:00:02Z client #2 sent bad JSON")
        ))]
    );
    assert_eq!(replies(&mut conns[1].1), []);
}

/// Text frames shaped like messages, right or wrong, plus arbitrary text.
fn any_frame() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let value = prop_oneof![
        Just(json!(null)),
        Just(json!(7)),
        Just(json!("")),
        Just(json!("some_topic")),
        Just(json!("server_logs")),
        Just(json!("subscribe")),
        Just(json!("unsubscribe")),
        Just(json!("publish")),
        Just(json!({"name": "n", "type": "t", "data": 1})),
        Just(json!("{\"name\":\"n\",\"type\":\"t\",\"data\":1}")),
        Just(json!("{\"name\":")),
        Just(json!([])),
    ];
    let key = prop::sample::select(vec!["action", "topic", "data", "extra"]);
    let object = prop::collection::btree_map(key, value, 0..4)
        .prop_map(|m| serde_json::to_string(&m).unwrap());
    prop_oneof![object, any::<String>()]
}

proptest::proptest! {
    #[test]
    fn every_frame_is_answered_and_none_panics(
        frames_in in proptest::collection::vec(any_frame(), 1..24),
        binary in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..16),
    ) {
        let mut s = open_with(SessionConfig {
            acks: true,
            ..SessionConfig::DEFAULT
        });
        for (ms, text) in (0..).zip(&frames_in) {
            send(&mut s, ms, text);
            let out = frames(&mut s);
            proptest::prop_assert!(!out.is_empty(), "no answer to {text:?}");
            events(&mut s);
        }
        s.handle_frame(at(100), Inbound::Binary(&binary));
        proptest::prop_assert_eq!(frames(&mut s).len(), 1);
        proptest::prop_assert!(!s.is_closed());
    }
}
