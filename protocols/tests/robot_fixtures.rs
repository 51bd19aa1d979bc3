//! robot.txt and the specs README: every printed example decodes, snapshots, and re-encodes.
//!
//! A fixture's file name says what it decodes as: `client-*` a [`ClientMessage`],
//! `server-*` a [`ServerMessage`], `http-token-response*` a [`TokenResponse`], `http-error*`
//! an [`ErrorBody`]. A file matching none fails the test, so none is skipped.

use std::path::Path;

use telewire_protocols::robot::ClientMessage;
use telewire_protocols::robot::ErrorBody;
use telewire_protocols::robot::ServerMessage;
use telewire_protocols::robot::TokenResponse;

/// A decoded fixture, tagged with the type it decoded as.
#[derive(Debug)]
#[allow(dead_code, reason = "read through Debug by the snapshot")]
enum Decoded {
    Client(ClientMessage),
    Server(ServerMessage),
    Token(TokenResponse),
    Error(ErrorBody),
}

impl Decoded {
    fn decode(name: &str, text: &str) -> Result<Self, String> {
        let decoded = if name.starts_with("client-") {
            ClientMessage::decode(text).map(Self::Client)
        } else if name.starts_with("server-") {
            ServerMessage::decode(text).map(Self::Server)
        } else if name.starts_with("http-token-response") {
            TokenResponse::decode(text).map(Self::Token)
        } else if name.starts_with("http-error") {
            ErrorBody::decode(text).map(Self::Error)
        } else {
            return Err(format!("{name}: the file name names no robot type"));
        };
        decoded.map_err(|err| format!("{name} does not decode: {err}"))
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Self::Client(m) => m.encode(&mut out),
            Self::Server(m) => m.encode(&mut out),
            Self::Token(m) => m.encode(&mut out),
            Self::Error(m) => m.encode(&mut out),
        }
        out
    }
}

#[test]
fn decode() {
    insta::glob!("../../fixtures/robot", "*.json", |path| {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        let decoded = Decoded::decode(name, &text).unwrap();
        let original: serde_json::Value = serde_json::from_str(&text).unwrap();
        let reencoded: serde_json::Value = serde_json::from_slice(&decoded.encode()).unwrap();
        assert_eq!(reencoded, original, "{name} re-encodes to the same JSON");
        insta::assert_debug_snapshot!(decoded);
    });
}

#[test]
fn the_robot_fixtures_hold_only_json() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/robot");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(
            path.extension().and_then(|e| e.to_str()),
            Some("json"),
            "{}: the robot API is JSON text only; the glob would miss this file",
            path.display()
        );
        count += 1;
    }
    assert!(count >= 12, "only {count} fixtures in {}", dir.display());
}
