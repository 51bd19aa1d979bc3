//! Every example of the Molecule document and its specs README, from `fixtures/molecule/`:
//! each decodes as the type its file name names, re-encodes to the same bytes (binary and
//! form bodies) or the same JSON value, and its decoded value is snapshotted.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers fail the test on bad input"
)]

use std::path::Path;

use telewire_protocols::molecule::AuthResponse;
use telewire_protocols::molecule::ClientMessage;
use telewire_protocols::molecule::Content;
use telewire_protocols::molecule::DataFrame;
use telewire_protocols::molecule::ErrorCode;
use telewire_protocols::molecule::Handshake;
use telewire_protocols::molecule::MessageType;
use telewire_protocols::molecule::OAuthError;
use telewire_protocols::molecule::ServerMessage;
use telewire_protocols::molecule::Telemetry;
use telewire_protocols::molecule::TokenRequest;
use telewire_protocols::molecule::TokenResponse;

fn name_of(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap()
}

fn encoded(encode: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    encode(&mut out);
    out
}

fn assert_same_json(file: &[u8], reencoded: &[u8]) {
    let file: serde_json::Value = serde_json::from_slice(file).unwrap();
    let again: serde_json::Value = serde_json::from_slice(reencoded).unwrap();
    assert_eq!(file, again, "JSON re-encodes to an equal value");
}

/// A decoded fixture, as snapshotted.
#[derive(Debug)]
#[allow(dead_code, reason = "fields are read through Debug")]
enum Decoded<'a> {
    Handshake(Handshake<'a>),
    Client(ClientMessage<'a>),
    AuthResponse(AuthResponse),
    Data {
        message_type: MessageType,
        reserved: u8,
        trailing_null: bool,
        content: Content<'a>,
    },
    Telemetry(Telemetry<'a>),
    TokenRequest(TokenRequest),
    TokenResponse(TokenResponse),
    OAuthError(OAuthError),
}

/// Decodes one fixture by its name, checks the re-encoding, and returns what to snapshot.
fn decode_fixture<'a>(name: &str, bytes: &'a [u8]) -> Decoded<'a> {
    let text = || std::str::from_utf8(bytes).unwrap();
    match name {
        n if n.starts_with("client-handshake") && n.ends_with(".bin") => {
            let hs = Handshake::decode(bytes).unwrap();
            assert_eq!(hs.to_bytes(), bytes);
            assert!(
                matches!(ClientMessage::decode(bytes), Ok(ClientMessage::Handshake(h)) if h == hs)
            );
            assert!(hs.token().split('.').count() == 3, "a JWT-shaped token");
            Decoded::Handshake(hs)
        }
        n if n.starts_with("client-command") && n.ends_with(".bin") => {
            let msg = ClientMessage::decode(bytes).unwrap();
            assert!(matches!(msg, ClientMessage::Command(_)));
            assert_eq!(encoded(|out| msg.encode(out)), bytes);
            Decoded::Client(msg)
        }
        n if n.starts_with("server-auth-response") && n.ends_with(".bin") => {
            let resp = AuthResponse::decode(bytes).unwrap();
            assert_eq!(resp.to_bytes(), bytes);
            assert_eq!(
                ServerMessage::decode(bytes).unwrap(),
                ServerMessage::AuthResponse(resp)
            );
            Decoded::AuthResponse(resp)
        }
        n if n.starts_with("server-data") && n.ends_with(".bin") => {
            let frame = DataFrame::decode(bytes).unwrap();
            assert_eq!(frame.to_bytes(), bytes);
            assert!(!frame.is_ambiguous());
            let msg = ServerMessage::decode(bytes).unwrap();
            assert_eq!(msg, ServerMessage::Data(frame));
            assert_eq!(encoded(|out| msg.encode(out)), bytes);
            let content = frame.content().unwrap();
            if frame.message_type() == MessageType::TELEMETRY {
                let json = frame.text().unwrap();
                let telemetry = Telemetry::decode(json).unwrap();
                assert_same_json(json.as_bytes(), &encoded(|out| telemetry.encode(out)));
            }
            Decoded::Data {
                message_type: frame.message_type(),
                reserved: frame.reserved(),
                trailing_null: frame.has_trailing_null(),
                content,
            }
        }
        n if n.starts_with("server-telemetry") && n.ends_with(".json") => {
            let telemetry = Telemetry::decode(text()).unwrap();
            assert_same_json(bytes, &encoded(|out| telemetry.encode(out)));
            Decoded::Telemetry(telemetry)
        }
        n if n.starts_with("http-token-request") && n.ends_with(".form") => {
            let req = TokenRequest::decode(text()).unwrap();
            assert_eq!(encoded(|out| req.encode(out)), bytes);
            assert_eq!(req.validate(), Ok(()));
            Decoded::TokenRequest(req)
        }
        n if n.starts_with("http-token-response") && n.ends_with(".json") => {
            let resp = TokenResponse::decode(text()).unwrap();
            assert_same_json(bytes, &encoded(|out| resp.encode(out)));
            assert_eq!(resp.token_type, "Bearer");
            Decoded::TokenResponse(resp)
        }
        n if n.starts_with("http-error") && n.ends_with(".json") => {
            let err = OAuthError::decode(text()).unwrap();
            assert_same_json(bytes, &encoded(|out| err.encode(out)));
            let status = if err.error == ErrorCode::INVALID_CLIENT {
                401
            } else {
                400
            };
            assert_eq!(err.http_status(), status);
            Decoded::OAuthError(err)
        }
        other => panic!("fixture {other} has no known type: name it by what it decodes as"),
    }
}

#[test]
fn decoded() {
    insta::glob!("../../fixtures/molecule", "*", |path| {
        if path.is_dir() {
            return; // the walk starts with the directory itself
        }
        let bytes = std::fs::read(path).unwrap();
        let decoded = decode_fixture(name_of(path), &bytes);
        insta::assert_debug_snapshot!(decoded);
    });
}

#[test]
fn the_fixture_directory_holds_every_documented_example() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/molecule");
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    for expected in [
        "client-handshake.bin",
        "server-auth-response-success.bin",
        "server-auth-response-failed.bin",
        "server-telemetry.json",
        "http-token-request.form",
        "http-token-response.json",
        "http-error-invalid-grant.json",
        "http-error-unsupported-grant-type.json",
        "http-error-invalid-client.json",
    ] {
        assert!(names.iter().any(|n| n == expected), "missing {expected}");
    }
}
