//! Every example message of the Valtronics document and the specs README decodes, snapshots,
//! and re-encodes to the same JSON.

use serde_json::Value;
use telewire_protocols::valtronics::ClientMessage;
use telewire_protocols::valtronics::ServerMessage;
use telewire_protocols::valtronics::http::LoginError;
use telewire_protocols::valtronics::http::LoginRequest;
use telewire_protocols::valtronics::http::LoginResponse;

/// A fixture decoded as the type its file name names.
#[derive(Debug)]
#[allow(
    dead_code,
    reason = "the fields are read through Debug by the snapshots"
)]
enum Decoded {
    Client(ClientMessage),
    Server(ServerMessage),
    LoginRequest(LoginRequest),
    LoginResponse(LoginResponse),
    LoginError(LoginError),
}

/// Decodes `text` as `$ty`, wrapped as `Decoded::$variant`, with its re-encoding.
macro_rules! decode_as {
    ($ty:ty, $variant:ident, $text:expr) => {{
        let message = <$ty>::decode($text).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        message.encode(&mut out);
        Ok((Decoded::$variant(message), out))
    }};
}

/// Decodes `text` as the type the prefix of `name` names, with its re-encoding.
fn decode_as_named(name: &str, text: &str) -> Result<(Decoded, Vec<u8>), String> {
    if name.starts_with("client-") {
        decode_as!(ClientMessage, Client, text)
    } else if name.starts_with("server-") {
        decode_as!(ServerMessage, Server, text)
    } else if name.starts_with("http-login-request") {
        decode_as!(LoginRequest, LoginRequest, text)
    } else if name.starts_with("http-login-response") {
        decode_as!(LoginResponse, LoginResponse, text)
    } else if name.starts_with("http-login-error") {
        decode_as!(LoginError, LoginError, text)
    } else {
        Err("the file name does not say what type it decodes as".to_owned())
    }
}

#[test]
fn decode() {
    insta::glob!("../../fixtures/valtronics", "*", |path| {
        if path.is_dir() {
            return; // the pattern also matches the fixture directory itself
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap();
        assert!(
            name.ends_with(".json"),
            "{name}: Valtronics is a JSON API, every fixture is a .json file"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let (decoded, encoded) = decode_as_named(name, &text)
            .map_err(|e| format!("{name}: {e}"))
            .unwrap();
        let original: Value = serde_json::from_str(&text).unwrap();
        let again: Value = serde_json::from_slice(&encoded).unwrap();
        assert_eq!(again, original, "{name} re-encodes to the same JSON");
        insta::assert_debug_snapshot!(decoded);
    });
}
