//! "Datapoint Stream": confirmation, ping/pong and replies to anything else.

use super::*;

#[test]
fn stream_confirms_then_answers_pings() {
    let mut s = stream();
    s.handle_frame(at(25_000), Inbound::Text(r#"{"type":"ping"}"#));
    assert_eq!(texts(&mut s), [r#"{"type":"pong"}"#]);
    assert_eq!(s.poll_event(), Some(StreamEvent::Ping));
    s.handle_frame(
        at(50_000),
        Inbound::Text(r#"{"type":"ping","timestamp":123}"#),
    );
    assert_eq!(texts(&mut s), [r#"{"type":"pong"}"#]);
    assert!(!s.is_closed());
}

#[test]
fn stream_answers_other_messages_with_an_error() {
    let mut s = stream();
    s.handle_frame(at(0), Inbound::Text(r#"{"type":"subscribe"}"#));
    assert_eq!(
        texts(&mut s),
        [error_text(
            r#"Invalid message: unknown message type "subscribe""#
        )]
    );
    assert_eq!(
        s.poll_event(),
        Some(StreamEvent::Rejected(Violation::Malformed(
            DecodeError::UnknownType(MessageType::from("subscribe"))
        )))
    );
    s.handle_frame(at(0), Inbound::Text(&batch_json(&[("abc-123", 1.0)])));
    assert_eq!(texts(&mut s), [error_text(STREAM_IS_READ_ONLY)]);
    s.handle_frame(at(0), Inbound::Text("ping"));
    let [reply] = texts(&mut s).try_into().unwrap();
    assert!(reply.contains("Invalid message: Syntax error"), "{reply}");
    assert!(!s.is_closed());
}

#[test]
fn push_after_close_is_refused() {
    let mut s = stream();
    let batch = DatapointsBatch::default();
    assert!(s.push_batch(&batch));
    assert_eq!(
        texts(&mut s),
        [r#"{"type":"datapoints_batch","datapoints":[]}"#]
    );
    s.close(Close::new(CloseCode::GOING_AWAY, "bye"));
    assert!(!s.push_batch(&batch));
    assert!(!s.push_encoded(&batch.message_text()));
    assert!(matches!(s.poll_transmit(), Some(Outbound::Close(_))));
    assert_eq!(s.poll_transmit(), None);
}
