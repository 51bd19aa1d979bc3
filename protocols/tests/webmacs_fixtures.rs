//! Every example of the WebMACS document and the specs README decodes, snapshots, and re-encodes to equal JSON.

// Test helpers outside `#[test]` functions: a panic here is a failed assertion.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::fmt::Debug;
use std::path::Path;

use telewire_protocols::webmacs::ClientMessage;
use telewire_protocols::webmacs::DecodeError;
use telewire_protocols::webmacs::ServerMessage;
use telewire_protocols::webmacs::http::EventPage;
use telewire_protocols::webmacs::http::HttpError;
use telewire_protocols::webmacs::http::LatestDatapoints;
use telewire_protocols::webmacs::http::LoginRequest;
use telewire_protocols::webmacs::http::LoginResponse;
use telewire_protocols::webmacs::http::StatusResponse;

/// Decodes `text` as `T`, snapshots the value and checks that it re-encodes to the same
/// JSON document.
fn check<T: Debug>(
    text: &str,
    decode: fn(&str) -> Result<T, DecodeError>,
    encode: fn(&T, &mut Vec<u8>),
) {
    let value = decode(text).unwrap_or_else(|err| panic!("does not decode: {err}"));
    insta::assert_debug_snapshot!("decoded", value);
    let mut out = Vec::new();
    encode(&value, &mut out);
    let original: serde_json::Value = serde_json::from_str(text).unwrap();
    let reencoded: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(reencoded, original, "re-encoded JSON differs");
}

#[test]
fn fixtures() {
    insta::glob!("../../fixtures/webmacs", "*", |path| {
        if path.is_dir() {
            return;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap();
        assert_eq!(
            path.extension().and_then(|e| e.to_str()),
            Some("json"),
            "{name}: WebMACS is a JSON API; every fixture is a .json file"
        );
        let text = std::fs::read_to_string(path).unwrap();
        decode_by_name(name, &text, path);
    });
}

/// The file name says what the fixture decodes as.
fn decode_by_name(name: &str, text: &str, path: &Path) {
    let stem = name.trim_end_matches(".json");
    match stem {
        s if s.starts_with("client-") => check(text, ClientMessage::decode, ClientMessage::encode),
        s if s.starts_with("server-") => check(text, ServerMessage::decode, ServerMessage::encode),
        "http-login-request" => check(text, LoginRequest::decode, LoginRequest::encode),
        "http-login-response" => check(text, LoginResponse::decode, LoginResponse::encode),
        "http-logout-response" => check(text, StatusResponse::decode, StatusResponse::encode),
        "http-datapoints-latest-response" => {
            check(text, LatestDatapoints::decode, LatestDatapoints::encode)
        }
        "http-events-response" => check(text, EventPage::decode, EventPage::encode),
        s if s.starts_with("http-error") => check(text, HttpError::decode, HttpError::encode),
        _ => panic!("{}: no decoder for this fixture name", path.display()),
    }
}
