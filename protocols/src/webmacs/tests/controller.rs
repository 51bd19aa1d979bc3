//! "Controller Telemetry": batch validation, error replies, the socket staying open.

use super::*;

#[test]
fn documented_batch_is_accepted_without_reply() {
    let mut s = controller();
    let text = r#"{"datapoints":[{"value":23.5,"event_public_id":"abc-123"},{"value":1013.2,"event_public_id":"def-456"},{"value":7.14,"event_public_id":"ghi-789"}]}"#;
    let got = accepted(&mut s, at(0), text);
    assert_eq!(
        got.iter()
            .map(|d| (d.event_public_id.as_str(), d.value.get()))
            .collect::<Vec<_>>(),
        [("abc-123", 23.5), ("def-456", 1013.2), ("ghi-789", 7.14)]
    );
}

#[test]
fn batch_of_500_is_accepted() {
    let mut s = controller();
    let entries: Vec<(&str, f64)> = (0..500).map(|i| ("abc-123", f64::from(i))).collect();
    assert_eq!(accepted(&mut s, at(0), &batch_json(&entries)).len(), 500);
}

#[test]
fn batch_of_501_gets_batch_too_large_and_the_socket_stays_open() {
    let mut s = controller();
    let entries: Vec<(&str, f64)> = (0..501).map(|i| ("abc-123", f64::from(i))).collect();
    s.handle_frame(at(0), Inbound::Text(&batch_json(&entries)));
    assert_eq!(
        texts(&mut s),
        [error_text("Batch too large (501), max 500")]
    );
    assert_eq!(
        s.poll_event(),
        Some(ControllerEvent::Rejected(Violation::BatchTooLarge {
            count: 501,
            max: 500
        }))
    );
    assert!(!s.is_closed());
    assert_eq!(
        accepted(&mut s, at(1), &batch_json(&[("abc-123", 1.0)])).len(),
        1
    );
}

#[test]
fn size_cap_counts_invalid_entries_too() {
    let mut s = controller();
    let text = format!(r#"{{"datapoints":[{}]}}"#, vec!["{}"; 600].join(","));
    s.handle_frame(at(0), Inbound::Text(&text));
    assert_eq!(
        texts(&mut s),
        [error_text("Batch too large (600), max 500")]
    );
}

#[test]
fn batch_without_a_valid_entry_gets_no_valid_datapoints() {
    let mut s = controller();
    let text = r#"{"datapoints":[
        {"event_public_id":"abc-123"},
        {"value":null,"event_public_id":"abc-123"},
        {"value":"23.5","event_public_id":"abc-123"},
        {"value":true,"event_public_id":"abc-123"},
        {"value":23.5},
        {"value":23.5,"event_public_id":null},
        {"value":23.5,"event_public_id":123},
        [23.5,"abc-123"],
        "abc-123",
        null
    ]}"#;
    s.handle_frame(at(0), Inbound::Text(text));
    assert_eq!(texts(&mut s), [error_text("No valid datapoints in batch")]);
    assert_eq!(
        s.poll_event(),
        Some(ControllerEvent::Rejected(Violation::NoValidDatapoints))
    );
    assert!(!s.is_closed());
}

#[test]
fn empty_batch_gets_no_valid_datapoints() {
    let mut s = controller();
    s.handle_frame(at(0), Inbound::Text(r#"{"datapoints":[]}"#));
    assert_eq!(texts(&mut s), [error_text("No valid datapoints in batch")]);
}

#[test]
fn invalid_entries_are_dropped_and_the_rest_accepted() {
    let mut s = controller();
    let text = r#"{"datapoints":[{"value":"x","event_public_id":"abc-123"},{"value":2,"event_public_id":"def-456","unit":"hPa"},{"value":1}]}"#;
    s.handle_frame(at(0), Inbound::Text(text));
    assert_eq!(texts(&mut s), Vec::<String>::new());
    assert_eq!(
        s.poll_event(),
        Some(ControllerEvent::Batch {
            datapoints: vec![Datapoint::new("def-456", Reading::new(2.0).unwrap())],
            invalid: 2,
        })
    );
}

#[test]
fn message_that_is_not_a_datapoints_object_gets_an_error_reply() {
    let mut s = controller();
    for text in [
        "not json",
        "[]",
        "42",
        "{}",
        r#"{"type":"ping"}"#,
        r#"{"datapoints":null}"#,
        r#"{"datapoints":{"value":1,"event_public_id":"abc-123"}}"#,
        r#"{"datapoints":[{"value":NaN,"event_public_id":"abc-123"}]}"#,
        r#"{"datapoints":[{"value":Infinity,"event_public_id":"abc-123"}]}"#,
        // Out of f64 range: the parser refuses the message rather than read infinity.
        r#"{"datapoints":[{"value":1e400,"event_public_id":"abc-123"}]}"#,
    ] {
        s.handle_frame(at(0), Inbound::Text(text));
        let replies = texts(&mut s);
        assert_eq!(replies.len(), 1, "{text}");
        let ServerMessage::Error(reply) = ServerMessage::decode(&replies[0]).unwrap() else {
            panic!("expected an error reply to {text}")
        };
        assert!(reply.message.starts_with("Invalid message: "), "{reply:?}");
        assert!(matches!(
            s.poll_event(),
            Some(ControllerEvent::Rejected(Violation::Malformed(_)))
        ));
        assert!(!s.is_closed());
    }
}

#[test]
fn decode_error_reply_says_where() {
    let mut s = controller();
    s.handle_frame(at(0), Inbound::Text("{\n  \"datapoints\": 5\n}"));
    let [reply] = texts(&mut s).try_into().unwrap();
    assert!(reply.contains("line 2"), "{reply}");
    assert!(reply.contains("invalid type: integer"), "{reply}");
}

#[test]
fn binary_frames_get_an_error_reply_on_both_endpoints() {
    let mut c = controller();
    c.handle_frame(at(0), Inbound::Binary(b"{}"));
    assert_eq!(
        texts(&mut c),
        [error_text("Binary frames are not supported")]
    );
    assert!(!c.is_closed());
    let mut st = stream();
    st.handle_frame(at(0), Inbound::Binary(&[0x89]));
    assert_eq!(
        texts(&mut st),
        [error_text("Binary frames are not supported")]
    );
    assert_eq!(
        st.poll_event(),
        Some(StreamEvent::Rejected(Violation::BinaryFrame))
    );
}

#[test]
fn application_close_is_the_last_frame() {
    let mut s = controller();
    s.close(Close::new(CloseCode::GOING_AWAY, "server shutdown"));
    s.close(Close::new(CloseCode::NORMAL, "twice"));
    assert!(s.is_closed());
    assert_eq!(
        s.poll_transmit(),
        Some(Outbound::Close(Close::new(
            CloseCode::GOING_AWAY,
            "server shutdown"
        )))
    );
    assert_eq!(s.poll_transmit(), None);
    s.handle_frame(at(1), Inbound::Text(&batch_json(&[("abc-123", 1.0)])));
    assert_eq!(s.poll_event(), None);
}
