//! Fuzz entry points for Steps 1 to 5: each checks a round-trip property, not only "no panic".
//!
//! A fuzz target is one line, for example `molecule::fuzzing::client_frame(data).unwrap()`.

use std::sync::Arc;

use crate::auth::TokenTable;
use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::session::ServerSession;
use crate::time::Timestamp;

use super::client::ClientSession;
use super::frames::DataFrame;
use super::gateways::GatewayTable;
use super::handshake::Handshake;
use super::http::TokenRequest;
use super::messages::AuthResponse;
use super::messages::ClientMessage;
use super::messages::ServerMessage;
use super::session::MoleculeSession;
use super::session::SessionConfig;

/// A broken property, naming the decoder and the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{property} failed for {input:02x?}")]
pub struct PropertyFailure {
    /// What should have held.
    pub property: &'static str,
    /// The input that broke it.
    pub input: Vec<u8>,
}

fn check(holds: bool, property: &'static str, input: &[u8]) -> Result<(), PropertyFailure> {
    if holds {
        Ok(())
    } else {
        Err(PropertyFailure {
            property,
            input: input.to_vec(),
        })
    }
}

fn encoded(encode: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    encode(&mut out);
    out
}

/// Every client-frame decoder: whatever decodes re-encodes to the same bytes.
pub fn client_frame(data: &[u8]) -> Result<(), PropertyFailure> {
    if let Ok(hs) = Handshake::decode(data) {
        check(hs.to_bytes() == data, "handshake re-encodes", data)?;
    }
    if let Ok(msg) = ClientMessage::decode(data) {
        check(
            encoded(|out| msg.encode(out)) == data,
            "client message re-encodes",
            data,
        )?;
    }
    Ok(())
}

/// Every server-frame decoder: whatever decodes re-encodes to the same bytes.
pub fn server_frame(data: &[u8]) -> Result<(), PropertyFailure> {
    if let Ok(resp) = AuthResponse::decode(data) {
        check(resp.to_bytes() == data, "auth response re-encodes", data)?;
    }
    if let Ok(frame) = DataFrame::decode(data) {
        check(frame.to_bytes() == data, "data frame re-encodes", data)?;
        let _ = frame.content();
    }
    if let Ok(msg) = ServerMessage::decode(data) {
        check(
            encoded(|out| msg.encode(out)) == data,
            "server message re-encodes",
            data,
        )?;
    }
    Ok(())
}

/// The token request body: whatever decodes survives encode and decode again.
pub fn token_request(data: &[u8]) -> Result<(), PropertyFailure> {
    let Ok(text) = std::str::from_utf8(data) else {
        return Ok(());
    };
    if let Ok(req) = TokenRequest::decode(text) {
        let again = TokenRequest::decode(&req.to_text());
        check(
            again.as_ref() == Ok(&req),
            "token request round-trips",
            data,
        )?;
    }
    Ok(())
}

/// A server session fed `data` split at `0xff` bytes into frames (a frame starting with
/// `0xfe` is sent as text): the first frame out is a 3-byte auth response or a close,
/// at most one close is sent and it is the last frame; a client session fed the
/// server's output never panics either.
pub fn server_session(data: &[u8]) -> Result<(), PropertyFailure> {
    let now = Timestamp::from_unix_secs(1_000);
    let verifier = TokenTable::new().with("good", "demo", Timestamp::from_unix_secs(2_000));
    let gateways = GatewayTable::new().with("demo-gateway");
    let mut session = MoleculeSession::new(
        now,
        SessionConfig::default(),
        Arc::new(verifier),
        Arc::new(gateways),
    );
    let mut out = Vec::new();
    for chunk in data.split(|b| *b == 0xff) {
        match chunk.split_first() {
            Some((0xfe, rest)) => {
                session.handle_frame(now, Inbound::Text(&String::from_utf8_lossy(rest)));
            }
            _ => session.handle_frame(now, Inbound::Binary(chunk)),
        }
        out.extend(std::iter::from_fn(|| session.poll_transmit()));
    }
    let first_ok = match out.first() {
        Some(Outbound::Binary(b)) => b.len() == AuthResponse::LEN,
        Some(Outbound::Close(_)) | None => true,
        Some(Outbound::Text(_)) => false,
    };
    check(first_ok, "the auth response or a close comes first", data)?;
    let closes = out
        .iter()
        .filter(|o| matches!(o, Outbound::Close(_)))
        .count();
    let last_is_close = matches!(out.last(), Some(Outbound::Close(_)));
    check(
        closes == 0 || (closes == 1 && last_is_close),
        "one close, last",
        data,
    )?;
    if let Ok(mut client) = ClientSession::new("demo-gateway", "good") {
        for frame in &out {
            match frame {
                Outbound::Binary(b) => client.handle_frame(Inbound::Binary(b)),
                Outbound::Text(t) => client.handle_frame(Inbound::Text(t)),
                Outbound::Close(c) => {
                    client.handle_close(c);
                }
            }
        }
        while client.poll_event().is_some() {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_accept_seeds() {
        let hs = Handshake::new("demo-gateway", "good").unwrap().to_bytes();
        assert_eq!(client_frame(&hs), Ok(()));
        assert_eq!(server_frame(&[100, 0, b'[', b']', 0]), Ok(()));
        assert_eq!(
            token_request(b"username=a&password=b&client_id=c&grant_type=d"),
            Ok(())
        );
        let mut session_input = hs.clone();
        session_input.extend_from_slice(&[0xff, 1, 0, b'g', b'o', 0xff, 0xfe, b'x']);
        assert_eq!(server_session(&session_input), Ok(()));
        assert_eq!(server_session(&[]), Ok(()));
    }
}
