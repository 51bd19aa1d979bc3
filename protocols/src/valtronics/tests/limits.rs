//! "Message Limits" and "Message Validation": size, rate, batches, malformed and binary input.

use super::*;

/// A ping of exactly `len` bytes.
fn ping_of_len(len: usize) -> String {
    let bare = json!({"type": "ping", "timestamp": ""}).to_string();
    let text = json!({"type": "ping", "timestamp": "x".repeat(len - bare.len())}).to_string();
    assert_eq!(text.len(), len);
    text
}

#[test]
fn a_message_of_one_kib_is_accepted_and_one_byte_more_closes_with_1009() {
    let mut s = open(Endpoint::Primary);
    s.handle_frame(at_ms(0), Inbound::Text(&ping_of_len(1024)));
    assert_eq!(wire(&mut s)[0]["type"], "pong");
    s.handle_frame(at_ms(1), Inbound::Text(&ping_of_len(1025)));
    assert_eq!(
        wire(&mut s),
        vec![json!({"close": 1009, "reason": "message exceeds 1024 bytes"})]
    );
    assert!(s.is_closed());
    assert_eq!(
        events(&mut s),
        vec![Event::Violation(Violation::MessageTooLarge {
            size: 1025,
            max: 1024
        })]
    );
}

#[test]
fn the_101st_message_within_one_second_is_refused() {
    let mut s = open(Endpoint::Primary);
    for i in 0..100 {
        send(&mut s, at_ms(i * 9), json!({"type": "ping"}));
    }
    assert_eq!(wire(&mut s).len(), 100, "100 pongs");
    send(&mut s, at_ms(999), json!({"type": "ping"}));
    assert_eq!(error_code(&mut s), "rate_limited");
    assert!(!s.is_closed());
    send(&mut s, at_ms(1_000), json!({"type": "ping"}));
    assert_eq!(
        wire(&mut s)[0]["type"],
        "pong",
        "the first message left the window"
    );
}

#[test]
fn going_on_over_the_rate_closes_with_1008() {
    let mut s = open(Endpoint::Primary);
    for _ in 0..100 {
        send(&mut s, at_ms(0), json!({"type": "ping"}));
    }
    wire(&mut s);
    for _ in 0..RATE_REFUSALS_BEFORE_CLOSE {
        send(&mut s, at_ms(500), json!({"type": "ping"}));
        assert_eq!(error_code(&mut s), "rate_limited");
    }
    send(&mut s, at_ms(500), json!({"type": "ping"}));
    assert_eq!(
        wire(&mut s),
        vec![json!({"close": 1008, "reason": "message rate exceeded"})]
    );
    assert!(s.is_closed());
    send(&mut s, at_s(5), json!({"type": "ping"}));
    assert_eq!(
        wire(&mut s),
        Vec::<Value>::new(),
        "input after close is ignored"
    );
}

#[test]
fn a_batch_of_more_than_50_items_is_refused_whole() {
    let mut s = open(Endpoint::Primary);
    let pings = |n: usize| vec![json!({"type": "ping"}); n];
    send(
        &mut s,
        at_ms(0),
        json!({"type": "batch", "messages": pings(51)}),
    );
    assert_eq!(error_code(&mut s), "batch_too_large");
    send(
        &mut s,
        at_ms(1),
        json!({"type": "batch", "messages": pings(50)}),
    );
    let frames = wire(&mut s);
    assert_eq!(frames.len(), 50);
    assert!(frames.iter().all(|f| f["type"] == "pong"));
}

#[test]
fn batch_items_are_processed_in_order_as_messages() {
    let mut s = open(Endpoint::Primary);
    send(
        &mut s,
        at_ms(0),
        json!({"type": "batch", "messages": [
            {"type": "subscribe", "channel": "telemetry"},
            {"type": "auth", "token": "good"},
            {"type": "subscribe", "channel": "alerts"},
        ]}),
    );
    let frames = wire(&mut s);
    assert_eq!(frames.len(), 3);
    assert_eq!(frames[0]["error"], "not_authenticated");
    assert_eq!(frames[1], json!({"type": "auth_response", "success": true}));
    assert_eq!(
        frames[2],
        json!({"type": "subscribed", "channel": "alerts"})
    );
}

#[test]
fn a_batch_counts_as_one_message_against_the_rate() {
    let mut s = open(Endpoint::Primary);
    for _ in 0..99 {
        send(&mut s, at_ms(0), json!({"type": "ping"}));
    }
    send(
        &mut s,
        at_ms(0),
        json!({"type": "batch", "messages": vec![json!({"type": "ping"}); 50]}),
    );
    assert_eq!(wire(&mut s).len(), 149);
    send(&mut s, at_ms(0), json!({"type": "ping"}));
    assert_eq!(error_code(&mut s), "rate_limited");
}

#[test]
fn malformed_messages_get_invalid_message_and_the_connection_stays_open() {
    let mut s = authed(Endpoint::Primary);
    for text in [
        "not json",
        "[1, 2]",
        r#"{"channel": "telemetry"}"#,
        r#"{"type": "hello"}"#,
        r#"{"type": "auth"}"#,
        r#"{"type": "subscribe", "channel": "telemetry", "metric": ["t"]}"#,
        r#"{"type": "subscribe", "channel": "telemetry", "device_id": 1, "filters": {"device_id": 2}}"#,
        r#"{"type": "batch", "messages": [{"type": "batch", "messages": []}]}"#,
        r#"{"type": "batch", "messages": [{"type": "ping"}, {"type": "nope"}]}"#,
    ] {
        s.handle_frame(at_ms(1), Inbound::Text(text));
        assert_eq!(error_code(&mut s), "invalid_message", "{text}");
        assert!(
            matches!(
                &events(&mut s)[..],
                [Event::Violation(Violation::Malformed(_))]
            ),
            "{text}"
        );
    }
    assert!(!s.is_closed());
}

#[test]
fn a_malformed_reply_names_the_fault() {
    let mut s = authed(Endpoint::Primary);
    let text = r#"{"type": "batch", "messages": [{"type": "ping"}, {"type": "nope"}]}"#;
    s.handle_frame(at_ms(1), Inbound::Text(text));
    let frames = wire(&mut s);
    let message = frames[0]["message"].as_str().unwrap();
    assert!(
        message.contains("messages[1]") && message.contains("nope"),
        "{message}"
    );
    s.handle_frame(at_ms(1), Inbound::Text("{\n \"type\": tru"));
    let frames = wire(&mut s);
    assert!(
        frames[0]["message"].as_str().unwrap().contains("line 2"),
        "{frames:?}"
    );
}

#[test]
fn a_binary_message_closes_with_1003() {
    let mut s = authed(Endpoint::Primary);
    s.handle_frame(at_ms(1), Inbound::Binary(b"{\"type\":\"ping\"}"));
    assert_eq!(
        wire(&mut s),
        vec![json!({"close": 1003, "reason": "binary messages are not supported"})]
    );
    assert!(s.is_closed());
}

#[test]
fn the_oversize_fault_closes_with_1008_and_only_an_oversized_message() {
    let config = SessionConfig {
        faults: SessionFaults {
            oversize_close_1008: true,
        },
        ..SessionConfig::default()
    };
    let registry = ConnectionRegistry::unlimited();
    let mut s =
        ValtronicsSession::with_config(at_ms(0), Endpoint::Primary, verifier(), &registry, config);
    s.handle_frame(at_ms(0), Inbound::Text(&ping_of_len(1024)));
    assert_eq!(wire(&mut s)[0]["type"], "pong");
    s.handle_frame(at_ms(1), Inbound::Text(&ping_of_len(1025)));
    assert_eq!(
        wire(&mut s),
        vec![json!({"close": 1008, "reason": "message exceeds 1024 bytes"})]
    );
}
