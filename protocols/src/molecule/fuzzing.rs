//! Fuzz entry points for Steps 1 to 5: each checks a round-trip property, not only "no panic".
//!
//! A fuzz target is one line, for example `molecule::fuzzing::handshake(data)`, turning
//! the returned [`PropertyFailure`] into a crash; the stable test suite runs the same
//! functions over the committed seeds.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::TokenTable;
use crate::frame::CloseCode;
use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::fuzzing::Harness;
pub use crate::fuzzing::PropertyFailure;
use crate::fuzzing::START;
use crate::fuzzing::Step;

use super::client::ClientSession;
use super::frames::Content;
use super::frames::DataFrame;
use super::gateways::GatewayTable;
use super::handshake::Handshake;
use super::http::TokenRequest;
use super::messages::AuthResponse;
use super::messages::ClientMessage;
use super::messages::ServerMessage;
use super::session::MoleculeSession;
use super::session::PushError;
use super::session::SessionConfig;
use super::telemetry::Telemetry;
use super::telemetry::TelemetryItem;

/// The token the session fuzz target's well-formed handshake carries.
pub const GOOD_TOKEN: &str = "good";
/// The gateway the session fuzz target's well-formed handshake names.
pub const GATEWAY: &str = "demo-gateway";

fn check(holds: bool, property: &'static str, input: &[u8]) -> Result<(), PropertyFailure> {
    crate::fuzzing::check(holds, property, || format!("{input:02x?}"))
}

fn encoded(encode: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    encode(&mut out);
    out
}

/// The handshake decoder: whatever decodes re-encodes to the same bytes, and decodes
/// as a client message too.
pub fn handshake(data: &[u8]) -> Result<(), PropertyFailure> {
    if let Ok(hs) = Handshake::decode(data) {
        check(hs.to_bytes() == data, "handshake re-encodes", data)?;
        check(
            hs.encoded_len() == data.len(),
            "handshake length is its encoded length",
            data,
        )?;
        check(
            matches!(ClientMessage::decode(data), Ok(ClientMessage::Handshake(h)) if h == hs),
            "a handshake is a client message",
            data,
        )?;
    }
    Ok(())
}

/// The 3-byte auth response decoder: whatever decodes is 3 bytes ending in `0x04` and
/// re-encodes to the same bytes.
pub fn auth_response(data: &[u8]) -> Result<(), PropertyFailure> {
    if let Ok(resp) = AuthResponse::decode(data) {
        check(
            data.len() == AuthResponse::LEN && data.last() == Some(&AuthResponse::END_OF_FRAME),
            "an auth response is 3 bytes ending in 0x04",
            data,
        )?;
        check(resp.to_bytes() == data, "auth response re-encodes", data)?;
        check(
            ServerMessage::decode(data) == Ok(ServerMessage::AuthResponse(resp)),
            "a server frame of that shape is the auth response",
            data,
        )?;
    }
    Ok(())
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
        if let Ok(Content::Telemetry(telemetry)) = frame.content() {
            let text = telemetry.to_text();
            check(
                Telemetry::decode(&text).as_ref() == Ok(&telemetry),
                "telemetry payload round trip",
                data,
            )?;
        }
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

fn check_frame(frame: &Outbound) -> Result<(), String> {
    let Outbound::Binary(bytes) = frame else {
        return Err(format!("Molecule sent {frame:?}"));
    };
    let decoded = ServerMessage::decode(bytes).map_err(|e| format!("{bytes:02x?}: {e:?}"))?;
    if encoded(|out| decoded.encode(out)) == *bytes {
        Ok(())
    } else {
        Err(format!(
            "{bytes:02x?} decoded to {decoded:?}, which re-encodes differently"
        ))
    }
}

/// Drives a server session (token [`GOOD_TOKEN`] for gateway [`GATEWAY`] is valid, expiring
/// an hour after the start, and closes the session then) with `steps`; after each step it
/// pushes one telemetry frame. Besides the shared invariants: the first frame sent is the
/// 3-byte auth response or a close, and a data frame follows only a successful one; a
/// frame over the size cap closes with 1009; a push is refused before authentication
/// and after the close; a pushed frame decodes as the telemetry pushed; a client session
/// fed everything the server sent never panics.
pub fn session(steps: &[Step<'_>]) -> Result<(), PropertyFailure> {
    let verifier = TokenTable::new().with(GOOD_TOKEN, "demo", START + Duration::from_secs(3_600));
    let config = SessionConfig {
        close_on_token_expiry: true,
        ..SessionConfig::default()
    };
    let max = config.max_frame_len;
    let session = MoleculeSession::new(
        START,
        config,
        Arc::new(verifier),
        Arc::new(GatewayTable::new().with(GATEWAY)),
    );
    let mut harness = Harness::new(session, START, check_frame)?;
    let item = [TelemetryItem::new("temp", "21.5").with_label("Temperature")];
    for step in steps {
        let was_closed = harness.closed();
        let frames = harness.step(step)?;
        harness.events();
        if let (false, Some(frame)) = (was_closed, step.frame())
            && frame.len() > max
        {
            let too_big = matches!(frames.last(), Some(Outbound::Close(c)) if c.code == CloseCode::MESSAGE_TOO_BIG);
            crate::fuzzing::check(
                too_big,
                "a frame over the size cap closes with 1009",
                || format!("{} bytes: {frames:?}", frame.len()),
            )?;
        }
        let authenticated = harness.session.is_authenticated();
        let pushed = harness.session.push_telemetry(&item);
        let expected = if harness.closed() {
            Err(PushError::Closed)
        } else if authenticated {
            Ok(())
        } else {
            Err(PushError::NotAuthenticated)
        };
        crate::fuzzing::check(
            pushed == expected,
            "telemetry is pushed only once authenticated",
            || format!("{pushed:?}, expected {expected:?}"),
        )?;
        let frames = harness.drain()?;
        let content = match frames.as_slice() {
            [Outbound::Binary(bytes)] => {
                DataFrame::decode(bytes)
                    .ok()
                    .and_then(|f| match f.content() {
                        Ok(Content::Telemetry(t)) => Some(t.items.iter().all(|i| i.key == "temp")),
                        _ => None,
                    })
            }
            _ => None,
        };
        crate::fuzzing::check(
            frames.is_empty() == pushed.is_err() && (pushed.is_err() || content == Some(true)),
            "a pushed frame carries the telemetry pushed",
            || format!("{frames:?}"),
        )?;
    }
    let first_ok = match harness.sent.first() {
        Some(Outbound::Binary(b)) => b.len() == AuthResponse::LEN,
        Some(Outbound::Close(_)) | None => true,
        Some(Outbound::Text(_)) => false,
    };
    crate::fuzzing::check(first_ok, "the auth response or a close comes first", || {
        format!("{:?}", harness.sent.first())
    })?;
    let success = harness
        .sent
        .first()
        .is_some_and(|f| *f == Outbound::Binary(AuthResponse::SUCCESS.to_bytes().to_vec()));
    let data_frames = harness
        .sent
        .iter()
        .skip(1)
        .filter(|f| matches!(f, Outbound::Binary(_)))
        .count();
    crate::fuzzing::check(
        success || data_frames == 0,
        "data frames follow only a successful auth response",
        || format!("{:?}", harness.sent),
    )?;
    if let Ok(mut client) = ClientSession::new(GATEWAY, GOOD_TOKEN) {
        for frame in &harness.sent {
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
        let hs = Handshake::new(GATEWAY, GOOD_TOKEN).unwrap().to_bytes();
        assert_eq!(client_frame(&hs), Ok(()));
        assert_eq!(handshake(&hs), Ok(()));
        assert_eq!(auth_response(&[2, 1, 4]), Ok(()));
        assert_eq!(server_frame(&[100, 0, b'[', b']', 0]), Ok(()));
        assert_eq!(
            token_request(b"username=a&password=b&client_id=c&grant_type=d"),
            Ok(())
        );
        let big = vec![1; 9_000];
        let steps = [
            Step::Binary(&hs),
            Step::Binary(&[1, 0, b'g', b'o']),
            Step::Advance(10_000),
            Step::Text("x"),
        ];
        assert_eq!(session(&steps), Ok(()));
        assert_eq!(session(&[Step::Binary(&hs), Step::Binary(&big)]), Ok(()));
        assert_eq!(session(&[Step::Advance(3_600_000)]), Ok(()));
        assert_eq!(session(&[Step::Binary(&big)]), Ok(()));
        assert_eq!(session(&[]), Ok(()));
    }
}
