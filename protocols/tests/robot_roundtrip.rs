//! robot.txt "Messages" and the README's HTTP bodies: `decode(encode(x)) == x` for every type.

use proptest::prelude::*;
use serde_json::Value;
use telewire_protocols::robot::Ack;
use telewire_protocols::robot::AckKind;
use telewire_protocols::robot::ClientMessage;
use telewire_protocols::robot::DataForm;
use telewire_protocols::robot::EmbeddedPayload;
use telewire_protocols::robot::ErrorBody;
use telewire_protocols::robot::ErrorCode;
use telewire_protocols::robot::ErrorReply;
use telewire_protocols::robot::LogLevel;
use telewire_protocols::robot::Payload;
use telewire_protocols::robot::PublishData;
use telewire_protocols::robot::ServerMessage;
use telewire_protocols::robot::TokenResponse;
use telewire_protocols::robot::Topic;
use telewire_protocols::robot::server_log;
use telewire_protocols::time::Timestamp;

/// Any JSON value, with finite floats only (JSON has no NaN or infinity).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn topic() -> impl Strategy<Value = Topic> {
    prop_oneof![
        Just(Topic::SERVER_LOGS),
        Just(Topic::new("some_topic")),
        any::<String>().prop_map(Topic::new),
    ]
}

prop_compose! {
    fn payload()(name in any::<String>(), kind in any::<String>(), data in json_value()) -> Payload {
        Payload::new(name, kind, data)
    }
}

#[allow(
    clippy::unwrap_used,
    reason = "test strategy: a failure is a test failure"
)]
fn publish_data() -> impl Strategy<Value = PublishData> {
    prop_oneof![
        payload().prop_map(PublishData::Object),
        // The official client's compact string.
        payload().prop_map(|p| PublishData::Text(EmbeddedPayload::new(p))),
        // A string in another layout (Python's spaced, or pretty-printed): kept verbatim.
        payload().prop_map(|p| {
            let raw = serde_json::to_string_pretty(&p).unwrap();
            PublishData::Text(EmbeddedPayload::parse(raw).unwrap())
        }),
    ]
}

fn client_message() -> impl Strategy<Value = ClientMessage> {
    prop_oneof![
        topic().prop_map(|topic| ClientMessage::Subscribe { topic }),
        topic().prop_map(|topic| ClientMessage::Unsubscribe { topic }),
        (topic(), publish_data()).prop_map(|(topic, data)| ClientMessage::Publish { topic, data }),
    ]
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    prop_oneof![
        prop::sample::select(ErrorCode::ALL.to_vec()),
        any::<String>().prop_map(ErrorCode::new),
    ]
}

prop_compose! {
    fn error_reply()(error in error_code(), message in any::<String>()) -> ErrorReply {
        ErrorReply::new(error, message)
    }
}

prop_compose! {
    fn ack()(kind in prop::sample::select(AckKind::ALL.to_vec()), topic in topic()) -> Ack {
        Ack { kind, topic }
    }
}

fn server_message() -> impl Strategy<Value = ServerMessage> {
    prop_oneof![
        payload().prop_map(ServerMessage::Data),
        error_reply().prop_map(ServerMessage::Error),
        ack().prop_map(ServerMessage::Ack),
    ]
}

#[allow(
    clippy::unwrap_used,
    reason = "test helper: a failure is a test failure"
)]
fn encoded<F: Fn(&mut Vec<u8>)>(encode: F) -> String {
    let mut out = Vec::new();
    encode(&mut out);
    String::from_utf8(out).unwrap()
}

proptest! {
    #[test]
    fn client_messages_round_trip(m in client_message()) {
        let text = encoded(|out| m.encode(out));
        prop_assert_eq!(&text, &m.to_text());
        prop_assert_eq!(ClientMessage::decode(&text).unwrap(), m);
    }

    #[test]
    fn publish_keeps_its_form(topic in topic(), data in publish_data()) {
        let form = data.form();
        let m = ClientMessage::Publish { topic, data };
        let ClientMessage::Publish { data: back, .. } = ClientMessage::decode(&m.to_text()).unwrap() else {
            panic!("a publish decodes as a publish");
        };
        prop_assert_eq!(back.form(), form);
        if let PublishData::Text(e) = &back {
            prop_assert_eq!(form, DataForm::Text);
            let reparsed = EmbeddedPayload::parse(e.raw()).unwrap();
            prop_assert_eq!(reparsed.payload(), e.payload());
        }
    }

    #[test]
    fn server_messages_round_trip(m in server_message()) {
        let text = encoded(|out| m.encode(out));
        prop_assert_eq!(&text, &m.to_text());
        prop_assert_eq!(ServerMessage::decode(&text).unwrap(), m);
    }

    #[test]
    fn payloads_round_trip_alone(p in payload()) {
        let text = encoded(|out| p.encode(out));
        prop_assert_eq!(&text, &p.to_text());
        prop_assert_eq!(Payload::decode(&text).unwrap(), p);
    }

    #[test]
    fn server_log_lines_round_trip(
        micros in 0u64..4_102_444_800_000_000,
        level in prop::sample::select(LogLevel::ALL.to_vec()),
        line in any::<String>(),
    ) {
        let payload = server_log(Timestamp::from_unix_micros(micros), level, &line);
        prop_assert_eq!(payload.name.as_str(), "server_logs");
        prop_assert_eq!(LogLevel::from_name(&payload.kind), Some(level));
        let m = ServerMessage::Data(payload);
        prop_assert_eq!(ServerMessage::decode(&m.to_text()).unwrap(), m);
    }

    #[test]
    fn token_responses_round_trip(token in any::<String>()) {
        let body = TokenResponse { token };
        let text = encoded(|out| body.encode(out));
        prop_assert_eq!(&text, &body.to_text());
        prop_assert_eq!(TokenResponse::decode(&text).unwrap(), body);
    }

    #[test]
    fn error_bodies_round_trip(detail in any::<String>()) {
        let body = ErrorBody::new(detail);
        let text = encoded(|out| body.encode(out));
        prop_assert_eq!(&text, &body.to_text());
        prop_assert_eq!(ErrorBody::decode(&text).unwrap(), body);
    }
}

#[test]
fn every_named_wire_value_round_trips() {
    for code in ErrorCode::ALL {
        let m = ServerMessage::Error(ErrorReply::new(code.clone(), "m"));
        assert_eq!(ServerMessage::decode(&m.to_text()).unwrap(), m, "{code}");
    }
    for kind in AckKind::ALL {
        let m = ServerMessage::Ack(Ack {
            kind,
            topic: Topic::SERVER_LOGS,
        });
        assert_eq!(ServerMessage::decode(&m.to_text()).unwrap(), m, "{kind:?}");
    }
    for level in LogLevel::ALL {
        assert_eq!(LogLevel::from_name(level.as_str()), Some(level));
    }
}
