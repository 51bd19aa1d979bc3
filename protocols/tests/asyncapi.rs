//! The AsyncAPI documents: every fixture of `fixtures/<api>/` is an example in its API's
//! document and validates against the schema of its message (binary frames: their decoded
//! JSON payload), deliberately wrong messages are rejected by the same schemas, and the
//! YAML output parses back to the same document.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "a test fails on bad input"
)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use serde_json::json;
use telewire_protocols::asyncapi::Api;
use telewire_protocols::asyncapi::Body;
use telewire_protocols::asyncapi::Example;
use telewire_protocols::asyncapi::ExampleOf;
use telewire_protocols::asyncapi::to_yaml;

fn fixtures_dir(api: Api) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(api.name())
}

/// The JSON pointer of the schema an example is checked against.
fn pointer(of: ExampleOf) -> String {
    match of {
        ExampleOf::Message(id) => format!("/components/messages/{id}/payload"),
        ExampleOf::Decoded(id) => format!("/components/messages/{id}/x-decoded-payload"),
        ExampleOf::Schema(name) => format!("/components/schemas/{name}"),
    }
}

/// A validator for the schema at `pointer` inside `doc`, resolving its `$ref`s in `doc`.
fn validator(doc: &Value, pointer: &str) -> jsonschema::Validator {
    assert!(doc.pointer(pointer).is_some(), "the document has {pointer}");
    let root = json!({
        "$ref": format!("#{pointer}"),
        "components": doc["components"],
    });
    jsonschema::draft7::new(&root)
        .unwrap_or_else(|e| panic!("the schema at {pointer} compiles: {e}"))
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// The JSON value a fixture is checked as.
fn instance(api: Api, example: &Example) -> Value {
    match (example.body, example.of) {
        (Body::Json(text), _) => serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("{api}/{} is JSON: {e}", example.fixture)),
        (Body::Text(text), ExampleOf::Schema(_)) => decoded_form(api, text),
        (Body::Text(text), _) => Value::String(text.to_owned()),
        (Body::Binary(bytes), ExampleOf::Decoded(id)) => decoded_binary(api, id, bytes),
        (Body::Binary(bytes), _) => Value::String(hex(bytes)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A form body (Molecule's token request) as the JSON of the type that decodes it.
fn decoded_form(api: Api, text: &str) -> Value {
    assert_eq!(api, Api::Molecule, "only Molecule has a form body");
    let request = telewire_protocols::molecule::TokenRequest::decode(text)
        .unwrap_or_else(|e| panic!("the token request form decodes: {e}"));
    serde_json::to_value(request).unwrap()
}

/// The JSON payload of a binary frame, decoded by `protocols`.
fn decoded_binary(api: Api, id: &str, bytes: &[u8]) -> Value {
    use telewire_protocols::molecule::ServerMessage;
    assert_eq!(api, Api::Molecule, "only Molecule frames carry JSON");
    let ServerMessage::Data(frame) = ServerMessage::decode(bytes).unwrap() else {
        panic!("{id}: a data frame");
    };
    serde_json::from_slice(frame.payload())
        .unwrap_or_else(|e| panic!("{id}: the payload is JSON: {e}"))
}

/// The UTF-8 text of a Molecule text frame (a command, a command response, a log line).
fn decoded_text(bytes: &[u8]) -> Value {
    use telewire_protocols::molecule::ClientMessage;
    use telewire_protocols::molecule::ServerMessage;
    let payload = match (ClientMessage::decode(bytes), ServerMessage::decode(bytes)) {
        (Ok(ClientMessage::Command(command)), _) => command.text().as_bytes().to_vec(),
        (_, Ok(ServerMessage::Data(frame))) => frame.payload().to_vec(),
        other => panic!("not a text frame: {other:?}"),
    };
    Value::String(String::from_utf8(payload).unwrap())
}

#[test]
fn decoded_text_frames_validate_against_their_decoded_schema() {
    let doc = Api::Molecule.document();
    let mut checked = 0;
    for example in Api::Molecule.examples() {
        let (ExampleOf::Message(id), Body::Binary(bytes)) = (example.of, example.body) else {
            continue;
        };
        let pointer = pointer(ExampleOf::Decoded(id));
        if doc.pointer(&pointer).is_none() {
            continue;
        }
        let errors = errors(&validator(&doc, &pointer), &decoded_text(bytes));
        assert!(errors.is_empty(), "{}: {errors:?}", example.fixture);
        checked += 1;
    }
    assert_eq!(checked, 3, "command, command response and device log");
}

#[test]
fn every_fixture_is_an_example_of_its_api_document() {
    for api in Api::ALL {
        let listed: BTreeSet<&str> = api.examples().iter().map(|e| e.fixture).collect();
        assert_eq!(
            listed.len(),
            api.examples().len(),
            "{api}: no fixture twice"
        );
        let on_disk: BTreeSet<String> = std::fs::read_dir(fixtures_dir(api))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        let listed: BTreeSet<String> = listed.into_iter().map(str::to_owned).collect();
        assert_eq!(
            listed, on_disk,
            "{api}: the examples are exactly the fixtures"
        );
    }
}

#[test]
fn every_fixture_validates_against_its_schema() {
    let mut checked = 0;
    for api in Api::ALL {
        let doc = api.document();
        for example in api.examples() {
            let validator = validator(&doc, &pointer(example.of));
            let value = instance(api, example);
            let errors = errors(&validator, &value);
            assert!(
                errors.is_empty(),
                "{api}/{} against {:?}: {errors:#?}",
                example.fixture,
                example.of
            );
            checked += 1;
        }
    }
    assert!(checked >= 100, "checked {checked} fixtures");
}

#[test]
fn message_examples_are_the_fixtures() {
    for api in Api::ALL {
        let doc = api.document();
        for example in api.examples() {
            let ExampleOf::Message(id) = example.of else {
                continue;
            };
            let stem = example.fixture.rsplit_once('.').unwrap().0;
            let examples = doc["components"]["messages"][id]["examples"]
                .as_array()
                .unwrap_or_else(|| panic!("{api}: message {id} has examples"));
            let shown = examples
                .iter()
                .find(|e| e["name"] == stem)
                .unwrap_or_else(|| panic!("{api}: message {id} shows {}", example.fixture));
            assert_eq!(shown["payload"], instance(api, example), "{api}/{stem}");
        }
    }
}

/// Who else refuses a wrong message: the decoder of its direction, the session (a limit
/// the session enforces after decoding), or nobody (it is another valid message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AlsoRefusedBy {
    ClientDecoder,
    ServerDecoder,
    Session,
    Nobody,
}

/// Whether `protocols` fails to decode `text` as a message of `api` from `side`.
fn decoder_refuses(api: Api, side: AlsoRefusedBy, text: &str) -> bool {
    use AlsoRefusedBy::ClientDecoder as C;
    use AlsoRefusedBy::ServerDecoder as S;
    use telewire_protocols::mosaic;
    use telewire_protocols::robot;
    use telewire_protocols::valtronics;
    use telewire_protocols::webmacs;
    match (api, side) {
        (Api::Valtronics, C) => valtronics::ClientMessage::decode(text).is_err(),
        (Api::Valtronics, S) => valtronics::ServerMessage::decode(text).is_err(),
        (Api::Webmacs, C) => webmacs::ClientMessage::decode(text).is_err(),
        (Api::Webmacs, S) => webmacs::ServerMessage::decode(text).is_err(),
        (Api::Mosaic, C) => mosaic::ClientMessage::decode(text).is_err(),
        (Api::Mosaic, S) => mosaic::ServerMessage::decode(text).is_err(),
        (Api::Robot, C) => robot::ClientMessage::decode(text).is_err(),
        (Api::Robot, S) => robot::ServerMessage::decode(text).is_err(),
        other => panic!("no JSON decoder for {other:?}"),
    }
}

/// Deliberately wrong messages (a missing required field, a wrong type, an unknown field,
/// a broken limit): each is rejected by its message's schema, and by the decoder of its
/// direction unless a session limit or another message type explains it.
#[test]
fn wrong_messages_are_rejected_by_the_schema_and_the_decoder() {
    use AlsoRefusedBy::ClientDecoder as C;
    use AlsoRefusedBy::Nobody;
    use AlsoRefusedBy::ServerDecoder as S;
    use AlsoRefusedBy::Session;
    let too_many_valtronics: Vec<Value> = (0..51).map(|_| json!({"type": "ping"})).collect();
    let too_many_webmacs: Vec<Value> = (0..501)
        .map(|_| json!({"value": 1.5, "event_public_id": "abc"}))
        .collect();
    let cases: Vec<(Api, &str, AlsoRefusedBy, Value)> = vec![
        (Api::Valtronics, "auth", C, json!({"type": "auth"})),
        (
            Api::Valtronics,
            "auth",
            C,
            json!({"type": "auth", "token": 5}),
        ),
        (
            Api::Valtronics,
            "subscribe",
            C,
            json!({"type": "subscribe", "channel": "telemetry", "devices": [1]}),
        ),
        (Api::Valtronics, "auth", Nobody, json!({"type": "ping"})),
        (
            Api::Valtronics,
            "batch",
            Session,
            json!({"type": "batch", "messages": too_many_valtronics}),
        ),
        (
            Api::Valtronics,
            "batch",
            C,
            json!({"type": "batch", "messages": [{"type": "batch", "messages": []}]}),
        ),
        (
            Api::Valtronics,
            "telemetryUpdate",
            S,
            json!({"type": "telemetry_update", "channel": "telemetry", "device_id": "one", "telemetry": {}}),
        ),
        (Api::Webmacs, "telemetryBatch", C, json!({"datapoints": 3})),
        (Api::Webmacs, "telemetryBatch", C, json!({"readings": []})),
        (
            Api::Webmacs,
            "telemetryBatch",
            Session,
            json!({"datapoints": too_many_webmacs}),
        ),
        (
            Api::Webmacs,
            "datapointsBatch",
            S,
            json!({"type": "datapoints_batch", "datapoints": [{"value": 1.0, "event_public_id": "a", "timestamp": "yesterday", "experiment_public_id": null}]}),
        ),
        (Api::Webmacs, "error", S, json!({"type": "error"})),
        (
            Api::Robot,
            "publish",
            C,
            json!({"action": "publish", "topic": "t"}),
        ),
        (
            Api::Robot,
            "publish",
            C,
            json!({"action": "publish", "topic": "t", "data": {"name": "n", "type": "t"}}),
        ),
        (
            Api::Robot,
            "subscribe",
            C,
            json!({"action": "subscribe", "topic": 7}),
        ),
        (
            Api::Robot,
            "subscribe",
            C,
            json!({"action": "subscribe", "topic": "t", "extra": 1}),
        ),
        (
            Api::Robot,
            "error",
            S,
            json!({"action": "error", "error": "invalid_json"}),
        ),
        (
            Api::Mosaic,
            "request",
            C,
            json!({"request": "system", "id": "one"}),
        ),
        (
            Api::Mosaic,
            "request",
            C,
            json!({"request": "system", "subscribe": "log"}),
        ),
        (Api::Mosaic, "subscribe", C, json!({"subscribe": 3})),
        (
            Api::Mosaic,
            "replySystem",
            S,
            json!({"request": "system", "data": {"hardware_type": 1}}),
        ),
        (
            Api::Mosaic,
            "keepalive",
            C,
            json!({"token": "t", "other": 1}),
        ),
        (
            Api::Mosaic,
            "broadcastGroup",
            S,
            json!({"broadcast": "group", "data": {"num": 1, "name": "Facade", "level": 101}}),
        ),
    ];
    let mut docs = std::collections::HashMap::new();
    for (api, id, also, message) in cases {
        let doc = docs.entry(api).or_insert_with(|| api.document());
        let validator = validator(doc, &pointer(ExampleOf::Message(id)));
        assert!(
            !validator.is_valid(&message),
            "{api} {id}: the schema must reject {message}"
        );
        if matches!(also, C | S) {
            assert!(
                decoder_refuses(api, also, &message.to_string()),
                "{api} {id}: the decoder must refuse {message} as the schema does"
            );
        }
    }
}

#[test]
fn wrong_decoded_molecule_telemetry_is_rejected() {
    let doc = Api::Molecule.document();
    let validator = validator(&doc, &pointer(ExampleOf::Decoded("telemetry")));
    for wrong in [
        json!([{"key": "SOC", "val": 74.5}]),
        json!([{"lbl": "State of Charge", "val": "74.5"}]),
        json!({"key": "SOC", "val": "74.5"}),
    ] {
        assert!(!validator.is_valid(&wrong), "rejects {wrong}");
    }
}

#[test]
fn yaml_parses_back_to_the_same_document() {
    for api in Api::ALL {
        let doc = api.document();
        let yaml = to_yaml(&doc);
        let parsed: Value =
            serde_yaml::from_str(&yaml).unwrap_or_else(|e| panic!("{api}: the YAML parses: {e}"));
        assert_eq!(parsed, doc, "{api}: YAML round trip");
        assert!(yaml.starts_with("asyncapi: \"3.0.0\"\n"), "{api}");
    }
}

#[test]
fn documents_name_servers_channels_operations_and_security() {
    for api in Api::ALL {
        let doc = api.document();
        let servers = doc["servers"].as_object().unwrap();
        assert!(
            servers.contains_key("simulator") && servers.contains_key("vendor"),
            "{api}"
        );
        assert!(!doc["channels"].as_object().unwrap().is_empty(), "{api}");
        let operations = doc["operations"].as_object().unwrap();
        for action in ["send", "receive"] {
            assert!(
                operations.values().any(|o| o["action"] == action),
                "{api}: an operation that the server does {action}"
            );
        }
        assert!(
            !doc["components"]["securitySchemes"]
                .as_object()
                .unwrap()
                .is_empty(),
            "{api}"
        );
        // Every operation's messages are messages of its channel.
        for (id, operation) in operations {
            let channel = operation["channel"]["$ref"].as_str().unwrap();
            for message in operation["messages"].as_array().unwrap() {
                let target = message["$ref"].as_str().unwrap();
                assert!(
                    target.starts_with(&format!("{channel}/messages/")),
                    "{api} {id}"
                );
                assert!(
                    doc.pointer(target.trim_start_matches('#')).is_some(),
                    "{api} {id}: {target}"
                );
            }
        }
    }
}

#[test]
fn api_names_round_trip() {
    for api in Api::ALL {
        assert_eq!(Api::from_name(api.name()), Some(api));
        assert_eq!(Api::from_name(&api.name().to_uppercase()), Some(api));
    }
    assert_eq!(Api::from_name("mqtt"), None);
}
