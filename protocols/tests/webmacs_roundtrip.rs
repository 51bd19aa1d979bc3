//! Property tests: every WebMACS message and HTTP body satisfies `decode(encode(x)) == x`.

// Test helpers outside `#[test]` functions: a panic here is a failed assertion.
#![allow(clippy::unwrap_used, clippy::panic)]

use proptest::prelude::*;
use serde_json::Value;
use serde_json::json;

use telewire_protocols::webmacs::BatchEntry;
use telewire_protocols::webmacs::BroadcastDatapoint;
use telewire_protocols::webmacs::ClientMessage;
use telewire_protocols::webmacs::Connected;
use telewire_protocols::webmacs::Datapoint;
use telewire_protocols::webmacs::DatapointsBatch;
use telewire_protocols::webmacs::DecodeError;
use telewire_protocols::webmacs::Endpoint;
use telewire_protocols::webmacs::ErrorKind;
use telewire_protocols::webmacs::ErrorReply;
use telewire_protocols::webmacs::EventKind;
use telewire_protocols::webmacs::EventPublicId;
use telewire_protocols::webmacs::ExperimentPublicId;
use telewire_protocols::webmacs::IsoTimestamp;
use telewire_protocols::webmacs::MAX_BATCH_SIZE;
use telewire_protocols::webmacs::MessageType;
use telewire_protocols::webmacs::Reading;
use telewire_protocols::webmacs::ServerMessage;
use telewire_protocols::webmacs::TelemetryBatch;
use telewire_protocols::webmacs::Violation;
use telewire_protocols::webmacs::client::chunk_readings;
use telewire_protocols::webmacs::client::connect_url;
use telewire_protocols::webmacs::http::DatapointRecord;
use telewire_protocols::webmacs::http::EventItem;
use telewire_protocols::webmacs::http::EventPage;
use telewire_protocols::webmacs::http::HttpError;
use telewire_protocols::webmacs::http::LatestDatapoints;
use telewire_protocols::webmacs::http::LoginRequest;
use telewire_protocols::webmacs::http::LoginResponse;
use telewire_protocols::webmacs::http::Page;
use telewire_protocols::webmacs::http::StatusResponse;
use telewire_protocols::webmacs::token_from_query;

// ---- Strategies ----

fn reading() -> impl Strategy<Value = Reading> {
    prop_oneof![
        any::<f64>().prop_filter_map("finite", Reading::new),
        (-1.0e6..1.0e6f64).prop_filter_map("finite", Reading::new),
        any::<i32>().prop_filter_map("finite", |i| Reading::new(f64::from(i))),
        Just(Reading::new(0.0).unwrap()),
        Just(Reading::new(f64::MAX).unwrap()),
        Just(Reading::new(f64::MIN_POSITIVE).unwrap()),
    ]
}

/// Ids are opaque strings: UUID-like, or any text (quotes, escapes, non-ASCII).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[a-z]{3}-[0-9]{3}",
        ".{0,24}",
    ]
}

fn event_id() -> impl Strategy<Value = EventPublicId> {
    text().prop_map(EventPublicId)
}

fn experiment_id() -> impl Strategy<Value = Option<ExperimentPublicId>> {
    proptest::option::of(text().prop_map(ExperimentPublicId))
}

prop_compose! {
    /// Any ISO 8601 timestamp of the accepted grammar: with or without a fraction
    /// (1-9 digits) and with no offset, `Z` or `±HH:MM`.
    fn iso_text()(
        year in 0u32..=9999,
        month in 1u32..=12,
        day in 1u32..=28,
        hour in 0u32..=23,
        minute in 0u32..=59,
        second in 0u32..=59,
        fraction in proptest::option::of("[0-9]{1,9}"),
        offset in prop_oneof![
            Just(String::new()),
            Just("Z".to_owned()),
            (prop_oneof![Just('+'), Just('-')], 0u32..=23, 0u32..=59)
                .prop_map(|(s, h, m)| format!("{s}{h:02}:{m:02}")),
        ],
    ) -> String {
        let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}{offset}")
    }
}

fn timestamp() -> impl Strategy<Value = IsoTimestamp> {
    prop_oneof![
        iso_text().prop_map(|t| IsoTimestamp::parse(&t).unwrap()),
        (0..=IsoTimestamp::LATEST.as_unix_micros()).prop_map(|micros| {
            IsoTimestamp::from_timestamp(telewire_protocols::time::Timestamp::from_unix_micros(
                micros,
            ))
        }),
    ]
}

prop_compose! {
    fn datapoint()(value in reading(), event in event_id()) -> Datapoint {
        Datapoint { value, event_public_id: event }
    }
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        reading().prop_map(|r| json!(r.get())),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
    ]
}

fn not_a_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::String),
        any::<bool>().prop_map(Value::Bool),
        Just(json!([])),
        Just(json!({"v": 1})),
    ]
}

/// Entries the server must drop, one strategy per defect.
fn invalid_entry() -> impl Strategy<Value = BatchEntry> {
    prop_oneof![
        // Not an object.
        prop_oneof![
            number(),
            not_a_number(),
            Just(Value::Null),
            (number(), text()).prop_map(|(n, s)| json!([n, s])),
        ],
        // Missing or null value.
        (text(), any::<bool>()).prop_map(|(id, null)| if null {
            json!({"value": null, "event_public_id": id})
        } else {
            json!({"event_public_id": id})
        }),
        // Value not a number.
        (not_a_number(), text()).prop_map(|(v, id)| json!({"value": v, "event_public_id": id})),
        // Missing or null event id.
        (number(), any::<bool>()).prop_map(|(v, null)| if null {
            json!({"value": v, "event_public_id": null})
        } else {
            json!({"value": v})
        }),
        // Event id not a string.
        (
            number(),
            prop_oneof![number(), Just(json!(true)), Just(json!(["id"]))]
        )
            .prop_map(|(v, id)| json!({"value": v, "event_public_id": id})),
    ]
    .prop_map(BatchEntry::classify)
}

fn batch_entry() -> impl Strategy<Value = BatchEntry> {
    prop_oneof![
        3 => datapoint().prop_map(BatchEntry::Valid),
        1 => invalid_entry(),
    ]
}

prop_compose! {
    fn telemetry_batch()(datapoints in proptest::collection::vec(batch_entry(), 0..12)) -> TelemetryBatch {
        TelemetryBatch { datapoints }
    }
}

fn client_message() -> impl Strategy<Value = ClientMessage> {
    prop_oneof![
        telemetry_batch().prop_map(ClientMessage::Telemetry),
        Just(ClientMessage::Ping),
    ]
}

prop_compose! {
    fn broadcast_datapoint()(
        value in reading(),
        event in event_id(),
        timestamp in timestamp(),
        experiment in experiment_id(),
    ) -> BroadcastDatapoint {
        BroadcastDatapoint { value, event_public_id: event, timestamp, experiment_public_id: experiment }
    }
}

fn server_message() -> impl Strategy<Value = ServerMessage> {
    prop_oneof![
        text().prop_map(|message| ServerMessage::Connected(Connected { message })),
        Just(ServerMessage::connected()),
        Just(ServerMessage::Pong),
        proptest::collection::vec(broadcast_datapoint(), 0..8)
            .prop_map(|datapoints| ServerMessage::DatapointsBatch(DatapointsBatch { datapoints })),
        text().prop_map(|message| ServerMessage::Error(ErrorReply { message })),
        (0usize..2_000)
            .prop_map(|n| ServerMessage::Error(Violation::batch_too_large(n).error_reply())),
        Just(ServerMessage::Error(
            Violation::NoValidDatapoints.error_reply()
        )),
    ]
}

prop_compose! {
    fn login_request()(email in text(), password in text()) -> LoginRequest {
        LoginRequest { email, password }
    }
}

prop_compose! {
    fn login_response()(
        access_token in text(),
        token_type in proptest::option::of(text()),
        status in proptest::option::of(text()),
        message in proptest::option::of(text()),
        public_id in proptest::option::of(text()),
        username in proptest::option::of(text()),
    ) -> LoginResponse {
        LoginResponse { access_token, token_type, status, message, public_id, username }
    }
}

prop_compose! {
    fn status_response()(status in text(), message in text()) -> StatusResponse {
        StatusResponse { status, message }
    }
}

prop_compose! {
    fn datapoint_record()(
        public_id in text(),
        value in reading(),
        timestamp in timestamp(),
        event in event_id(),
        experiment in experiment_id(),
    ) -> DatapointRecord {
        DatapointRecord { public_id, value, timestamp, event_public_id: event, experiment_public_id: experiment }
    }
}

fn event_kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![
        proptest::sample::select(EventKind::ALL.to_vec()),
        text().prop_map(|s| EventKind(s.into())),
    ]
}

prop_compose! {
    fn event_item()(
        public_id in event_id(),
        name in text(),
        min_value in reading(),
        max_value in reading(),
        unit in text(),
        kind in event_kind(),
        user_public_id in proptest::option::of(text()),
        enabled in proptest::option::of(any::<bool>()),
    ) -> EventItem {
        EventItem { public_id, name, min_value, max_value, unit, kind, user_public_id, enabled }
    }
}

prop_compose! {
    fn event_page()(
        page in any::<u32>(),
        page_size in any::<u32>(),
        total in any::<u64>(),
        data in proptest::collection::vec(event_item(), 0..5),
    ) -> EventPage {
        Page { page, page_size, total, data }
    }
}

// ---- Properties ----

macro_rules! roundtrip {
    ($name:ident, $strategy:expr, $ty:ty) => {
        proptest! {
            #[test]
            fn $name(value in $strategy) {
                let mut out = Vec::new();
                value.encode(&mut out);
                let text = std::str::from_utf8(&out).unwrap();
                prop_assert_eq!(<$ty>::decode(text), Ok(value.clone()), "{}", text);
                prop_assert_eq!(value.to_text(), text);
            }
        }
    };
}

roundtrip!(client_messages_roundtrip, client_message(), ClientMessage);
roundtrip!(
    telemetry_batches_roundtrip,
    telemetry_batch(),
    TelemetryBatch
);
roundtrip!(server_messages_roundtrip, server_message(), ServerMessage);
roundtrip!(login_requests_roundtrip, login_request(), LoginRequest);
roundtrip!(login_responses_roundtrip, login_response(), LoginResponse);
roundtrip!(
    status_responses_roundtrip,
    status_response(),
    StatusResponse
);
roundtrip!(
    datapoint_records_roundtrip,
    datapoint_record(),
    DatapointRecord
);
roundtrip!(
    latest_datapoints_roundtrip,
    proptest::collection::vec(datapoint_record(), 0..6).prop_map(LatestDatapoints),
    LatestDatapoints
);
roundtrip!(event_items_roundtrip, event_item(), EventItem);
roundtrip!(event_pages_roundtrip, event_page(), EventPage);
roundtrip!(
    http_errors_roundtrip,
    text().prop_map(HttpError::new),
    HttpError
);

proptest! {
    #[test]
    fn sessions_keep_their_contract_on_any_input(data in prop_oneof![
        any::<Vec<u8>>(),
        ".{0,64}".prop_map(String::into_bytes),
        client_message().prop_map(|m| m.to_text().into_bytes()),
        server_message().prop_map(|m| m.to_text().into_bytes()),
    ]) {
        telewire_protocols::webmacs::fuzzing::client_message(&data);
        telewire_protocols::webmacs::fuzzing::server_message(&data);
        telewire_protocols::webmacs::fuzzing::sessions(&data);
    }

    #[test]
    fn invalid_entries_stay_invalid(entry in invalid_entry()) {
        prop_assert!(matches!(entry, BatchEntry::Invalid(_)), "{:?}", entry);
    }

    #[test]
    fn broadcast_message_text_is_the_server_message(
        datapoints in proptest::collection::vec(broadcast_datapoint(), 0..6),
    ) {
        let batch = DatapointsBatch { datapoints };
        let text = batch.message_text();
        prop_assert_eq!(&text, &ServerMessage::DatapointsBatch(batch.clone()).to_text());
        prop_assert_eq!(ServerMessage::decode(&text), Ok(ServerMessage::DatapointsBatch(batch)));
    }

    #[test]
    fn timestamps_keep_their_text_and_instant(text in iso_text()) {
        let parsed = IsoTimestamp::parse(&text).unwrap();
        prop_assert_eq!(parsed.as_str(), text.as_str());
        if let Some(instant) = parsed.to_timestamp() {
            let canonical = IsoTimestamp::from_timestamp(instant);
            prop_assert_eq!(canonical.to_timestamp(), Some(instant));
        }
    }

    #[test]
    fn message_types_roundtrip_known_or_not(kind in prop_oneof![
        proptest::sample::select(MessageType::ALL.to_vec()),
        text().prop_map(|s| MessageType(s.into())),
    ]) {
        let encoded = serde_json::to_string(&kind).unwrap();
        prop_assert_eq!(serde_json::from_str::<MessageType>(&encoded).unwrap(), kind.clone());
        // Unknown types are kept in the decode error, in both directions.
        let message = json!({"type": kind.as_str()}).to_string();
        if kind != MessageType::PING {
            prop_assert_eq!(ClientMessage::decode(&message), Err(DecodeError::UnknownType(kind.clone())));
        }
        if !kind.is_known() {
            prop_assert_eq!(ServerMessage::decode(&message), Err(DecodeError::UnknownType(kind)));
        }
    }

    #[test]
    fn error_texts_are_recognised(count in 0usize..100_000) {
        prop_assert_eq!(
            Violation::batch_too_large(count).error_reply().kind(),
            ErrorKind::BatchTooLarge { count, max: MAX_BATCH_SIZE }
        );
    }

    #[test]
    fn chunks_rejoin_to_the_readings_and_pass_the_cap(
        shapes in proptest::collection::vec(datapoint(), 1..8),
        count in 0usize..1_200,
        size in 0usize..1_000,
    ) {
        // Up to 1 200 readings (past the 500 cap twice) from a few generated shapes, each
        // with its own value so that a reordering shows.
        let readings: Vec<Datapoint> = shapes
            .iter()
            .cycle()
            .take(count)
            .enumerate()
            .map(|(i, d)| Datapoint {
                value: Reading::new(i as f64).unwrap_or(d.value),
                ..d.clone()
            })
            .collect();
        let batches = chunk_readings(&readings, size);
        let rejoined: Vec<Datapoint> = batches.iter().flat_map(|b| b.valid().cloned()).collect();
        prop_assert_eq!(rejoined, readings);
        for batch in &batches {
            prop_assert!(batch.len() <= size.clamp(1, MAX_BATCH_SIZE));
            prop_assert!(batch.check().is_ok());
        }
    }

    #[test]
    fn tokens_survive_the_connect_url(token in ".{0,64}") {
        for endpoint in Endpoint::ALL {
            let url = connect_url("wss://lab.example", endpoint, &token);
            let (path, query) = url.trim_start_matches("wss://lab.example").split_once('?').unwrap();
            prop_assert_eq!(Endpoint::from_path(path), Some(endpoint));
            prop_assert_eq!(token_from_query(query), Some(token.clone()));
        }
    }
}

/// Batch entries of every shape: valid, missing or mistyped fields, duplicate keys, arrays.
fn entry_text() -> impl Strategy<Value = String> {
    let field_value = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("\"23.5\"".to_owned()),
        Just("[1]".to_owned()),
        Just("{}".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        Just("\"abc\\u002d123\"".to_owned()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        "[a-z0-9-]{0,8}".prop_map(|s| format!("\"{s}\"")),
    ];
    let name = prop_oneof![
        Just("value"),
        Just("event_public_id"),
        Just("timestamp"),
        Just("va\\u006cue"),
    ];
    prop_oneof![
        proptest::collection::vec((name, field_value), 0..4).prop_map(|fields| {
            let body: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("\"{k}\" : {v}"))
                .collect();
            format!("{{ {} }}", body.join(","))
        }),
        Just("[23.5,\"abc-123\"]".to_owned()),
        Just("null".to_owned()),
        Just("\"abc-123\"".to_owned()),
    ]
}

proptest! {
    #[test]
    fn batch_entries_decode_as_their_json_tree_classifies_them(
        entries in proptest::collection::vec(entry_text(), 0..6),
    ) {
        let text = format!("{{\"datapoints\":[{}]}}", entries.join(","));
        let tree: Value = serde_json::from_str(&text).unwrap();
        let expected: Vec<BatchEntry> = tree["datapoints"]
            .as_array()
            .unwrap()
            .iter()
            .cloned()
            .map(BatchEntry::classify)
            .collect();
        let decoded = TelemetryBatch::decode(&text).unwrap();
        prop_assert_eq!(decoded.datapoints, expected);
    }
}

/// Controller messages of every top-level shape: with or without `type`, duplicated or
/// mistyped `datapoints`, other members, non-objects.
fn controller_text() -> impl Strategy<Value = String> {
    let member = prop_oneof![
        proptest::collection::vec(entry_text(), 0..3)
            .prop_map(|e| format!("\"datapoints\":[{}]", e.join(","))),
        Just("\"datapoints\":5".to_owned()),
        Just("\"datapoints\":null".to_owned()),
        Just("\"type\":\"ping\"".to_owned()),
        Just("\"type\":\"other\"".to_owned()),
        Just("\"type\":7".to_owned()),
        Just("\"experiment\":{\"a\":[1,2]}".to_owned()),
    ];
    prop_oneof![
        proptest::collection::vec(member, 0..4).prop_map(|m| format!("{{{}}}", m.join(","))),
        Just("[]".to_owned()),
        Just("{\"datapoints\":[]".to_owned()),
    ]
}

proptest! {
    #[test]
    fn the_one_pass_batch_path_agrees_with_the_general_decoder(text in controller_text()) {
        prop_assert_eq!(ClientMessage::decode(&text), ClientMessage::decode_general(&text));
    }
}

/// Batches of the documented shape (the scanned fast path): numbers in every JSON form,
/// ids with and without escapes, members in either order, whitespace anywhere.
fn documented_batch() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        "-?(0|[1-9][0-9]{0,22})(\\.[0-9]{1,18})?([eE][+-]?[0-9]{1,3})?",
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| f.to_string()),
    ];
    let id = prop_oneof![
        "[a-z0-9-]{0,12}".prop_map(|s| format!("\"{s}\"")),
        Just("\"evt\\u002d1\"".to_owned()),
    ];
    let ws = prop_oneof![Just(""), Just(" "), Just("\n\t")];
    let entry = (number, id, any::<bool>(), ws.clone()).prop_map(|(n, id, swap, ws)| {
        let (a, b) = (
            format!("{ws}\"value\"{ws}:{ws}{n}{ws}"),
            format!("{ws}\"event_public_id\"{ws}:{ws}{id}{ws}"),
        );
        if swap {
            format!("{{{b},{a}}}")
        } else {
            format!("{{{a},{b}}}")
        }
    });
    (proptest::collection::vec(entry, 0..8), ws).prop_map(|(entries, ws)| {
        format!("{ws}{{{ws}\"datapoints\"{ws}:[{}]}}{ws}", entries.join(","))
    })
}

proptest! {
    #[test]
    fn the_scanned_batch_path_agrees_with_the_general_decoder(text in documented_batch()) {
        prop_assert_eq!(ClientMessage::decode(&text), ClientMessage::decode_general(&text));
    }
}
