//! Every example of the Mosaic document and the specs README (`fixtures/mosaic/`) decodes,
//! snapshots, and re-encodes: byte for byte for binary frames, as equal JSON for text.

#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failed expectation panics

use std::path::Path;

use telewire_protocols::mosaic::ClientMessage;
use telewire_protocols::mosaic::KeepaliveReply;
use telewire_protocols::mosaic::ServerMessage;
use telewire_protocols::mosaic::http::AuthenticateFailure;
use telewire_protocols::mosaic::http::AuthenticateRequest;
use telewire_protocols::mosaic::http::AuthenticateResponse;

/// A fixture decoded as the type its file name announces.
#[derive(Debug)]
enum Decoded {
    Client(ClientMessage),
    Server(ServerMessage),
    Keepalive(KeepaliveReply),
    AuthenticateRequest(AuthenticateRequest),
    AuthenticateResponse(AuthenticateResponse),
    AuthenticateFailure(AuthenticateFailure),
}

impl Decoded {
    fn from_file(name: &str, bytes: &[u8]) -> Self {
        if name.ends_with(".bin") {
            assert!(
                name.starts_with("server-keepalive-"),
                "{name}: no binary type by that name"
            );
            return Self::Keepalive(KeepaliveReply::decode(bytes).unwrap());
        }
        assert!(
            name.ends_with(".json"),
            "{name}: fixtures are .json or .bin"
        );
        let text = std::str::from_utf8(bytes).unwrap();
        let decoded = if name.starts_with("client-") {
            ClientMessage::decode(text).map(Self::Client)
        } else if name.starts_with("server-") {
            ServerMessage::decode(text).map(Self::Server)
        } else if name.starts_with("http-authenticate-request") {
            AuthenticateRequest::decode(text).map(Self::AuthenticateRequest)
        } else if name.starts_with("http-authenticate-response") {
            AuthenticateResponse::decode(text).map(Self::AuthenticateResponse)
        } else if name.starts_with("http-authenticate-failure") {
            AuthenticateFailure::decode(text).map(Self::AuthenticateFailure)
        } else {
            panic!("{name}: no message type by that name")
        };
        decoded.unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Self::Client(m) => m.encode(&mut out),
            Self::Server(m) => m.encode(&mut out),
            Self::Keepalive(m) => m.encode(&mut out),
            Self::AuthenticateRequest(m) => m.encode(&mut out),
            Self::AuthenticateResponse(m) => m.encode(&mut out),
            Self::AuthenticateFailure(m) => m.encode(&mut out),
        }
        out
    }
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap()
}

#[test]
fn every_fixture_decodes_and_re_encodes() {
    insta::glob!("../../fixtures/mosaic", "*.*", |path| {
        let name = file_name(path);
        let bytes = std::fs::read(path).unwrap();
        let decoded = Decoded::from_file(name, &bytes);
        let encoded = decoded.encode();
        if name.ends_with(".bin") {
            assert_eq!(
                encoded, bytes,
                "{name}: binary re-encodes to the same bytes"
            );
        } else if bytes.iter().all(u8::is_ascii_whitespace) {
            assert!(encoded.is_empty(), "{name}: an empty frame stays empty");
        } else {
            let original: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            let again: serde_json::Value = serde_json::from_slice(&encoded)
                .unwrap_or_else(|e| panic!("{name}: re-encoded text is not JSON: {e}"));
            assert_eq!(again, original, "{name}: re-encodes to equal JSON");
        }
        insta::assert_debug_snapshot!(decoded);
    });
}

#[test]
fn the_documented_examples_are_all_present() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/mosaic");
    for name in [
        "client-subscribe-token.json",
        "client-keepalive.json",
        "client-keepalive-token.json",
        "client-keepalive-empty-frame.json",
        "client-request-system.json",
        "client-subscribe.json",
        "server-reply-system.json",
        "server-keepalive-ack.json",
        "server-keepalive-timed-out.bin",
        "server-keepalive-session-key.bin",
        "http-authenticate-request.json",
        "http-authenticate-response.json",
    ] {
        assert!(dir.join(name).is_file(), "{name} is missing");
    }
}
