//! What each malformed kind is on each API, and the frame that carries it.
//!
//! - Molecule (binary `[type][reserved=0][UTF-8 payload]`): `truncated` is a frame of one
//!   byte (the two-byte header cut short); `bad-utf8` a device log line (type 2) whose text
//!   is not UTF-8; `wrong-type` a telemetry payload under the undocumented type `0xEE`
//!   (the document says a client passes unknown types through raw); `invalid-json` a
//!   telemetry frame (type 100) whose JSON is cut off.
//! - Mosaic (JSON text, plus the 16-byte binary keepalive reply): `truncated` is a keepalive
//!   reply of 8 bytes; `wrong-type` a broadcast sent in a binary frame, where only the
//!   keepalive reply is binary; `bad-utf8` a broadcast whose bytes are not UTF-8;
//!   `invalid-json` a text broadcast that does not parse.
//! - Valtronics, WebMACS, Robot (JSON text only): `truncated` is a data message cut in
//!   half; `bad-utf8` a data message whose bytes are not UTF-8; `invalid-json` a message
//!   with single-quoted keys. They have no binary frames, so no `wrong-type`.
//!
//! The server's WebSocket layer only writes text frames that are valid UTF-8, so every
//! `bad-utf8` frame is a binary frame: a client that decodes every frame as UTF-8 text
//! meets the invalid bytes.

use telewire_protocols::frame::Outbound;

use super::Malformed;
use crate::serve::Api;

/// A well-formed data message of each JSON API, the base of its malformed frames.
fn sample(api: Api) -> &'static str {
    match api {
        Api::Valtronics => {
            r#"{"type":"telemetry","device_id":1,"data":{"temperature":21.5},"timestamp":"2026-01-01T00:00:00Z"}"#
        }
        Api::Webmacs => {
            r#"{"type":"datapoints_batch","datapoints":[{"value":21.5,"event_public_id":"evt-temperature","timestamp":"2026-01-01T00:00:00+00:00"}]}"#
        }
        Api::Robot => r#"{"name":"temperature","type":"sensor","data":{"value":21.5}}"#,
        Api::Mosaic => r#"{"broadcast":"group","data":{"num":1,"name":"Foyer","level":50}}"#,
        Api::Molecule => r#"[{"key":"SOC","lbl":"State of Charge (%)","val":"87.5"}]"#,
    }
}

/// The malformed kinds `api` has.
pub fn kinds(api: Api) -> &'static [Malformed] {
    match api {
        Api::Molecule | Api::Mosaic => &Malformed::ALL,
        Api::Valtronics | Api::Webmacs | Api::Robot => &[
            Malformed::Truncated,
            Malformed::BadUtf8,
            Malformed::InvalidJson,
        ],
    }
}

/// Why `api` lacks `kind`.
pub fn why_not(api: Api, kind: Malformed) -> String {
    match kind {
        Malformed::WrongType => format!(
            "{api} sends JSON text frames only; wrong-type is about a binary frame's type (Molecule's header byte, Mosaic's keepalive reply)"
        ),
        _ => format!("{api} has no such frame"),
    }
}

/// Bytes that are not UTF-8 (a lone continuation byte, then an invalid lead byte).
const NOT_UTF8: [u8; 2] = [0x80, 0xFF];

/// The frame that carries `kind` on `api`, or `None` when `api` lacks it.
pub fn frame(api: Api, kind: Malformed) -> Option<Outbound> {
    if !kinds(api).contains(&kind) {
        return None;
    }
    let text = sample(api);
    Some(match (api, kind) {
        (Api::Molecule, Malformed::Truncated) => Outbound::Binary(vec![100]),
        (Api::Molecule, Malformed::BadUtf8) => {
            let mut bytes = vec![2, 0];
            bytes.extend_from_slice(b"battery ");
            bytes.extend_from_slice(&NOT_UTF8);
            bytes.extend_from_slice(b" ok");
            Outbound::Binary(bytes)
        }
        (Api::Molecule, Malformed::WrongType) => {
            let mut bytes = vec![0xEE, 0];
            bytes.extend_from_slice(text.as_bytes());
            Outbound::Binary(bytes)
        }
        (Api::Molecule, Malformed::InvalidJson) => {
            let mut bytes = vec![100, 0];
            bytes.extend_from_slice(&text.as_bytes()[..text.len() / 2]);
            Outbound::Binary(bytes)
        }
        (Api::Mosaic, Malformed::Truncated) => Outbound::Binary(vec![0x5A; 8]),
        (Api::Mosaic, Malformed::WrongType) => Outbound::Binary(text.as_bytes().to_vec()),
        (_, Malformed::Truncated) => Outbound::Text(text[..text.len() / 2].to_owned()),
        (_, Malformed::BadUtf8) => {
            // Inside the first string value: `..."te<bad>mperature"...`.
            let at = text.find("e").map_or(0, |i| i + 1);
            let mut bytes = text.as_bytes()[..at].to_vec();
            bytes.extend_from_slice(&NOT_UTF8);
            bytes.extend_from_slice(&text.as_bytes()[at..]);
            Outbound::Binary(bytes)
        }
        (_, Malformed::InvalidJson) => Outbound::Text(text.replace('"', "'")),
        (_, Malformed::WrongType) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_an_api_has_is_a_frame_that_its_decoder_refuses() {
        for api in Api::ALL {
            for kind in Malformed::ALL {
                let frame = frame(api, kind);
                assert_eq!(
                    frame.is_some(),
                    kinds(api).contains(&kind),
                    "{api} {kind:?}"
                );
                match frame {
                    Some(Outbound::Text(text)) => {
                        assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());
                    }
                    Some(Outbound::Binary(bytes)) => match (api, kind) {
                        (_, Malformed::BadUtf8) => assert!(std::str::from_utf8(&bytes).is_err()),
                        (Api::Molecule, Malformed::WrongType) => assert_eq!(bytes[0], 0xEE),
                        (Api::Molecule, Malformed::Truncated) => assert_eq!(bytes.len(), 1),
                        (Api::Molecule, Malformed::InvalidJson) => {
                            assert!(
                                serde_json::from_slice::<serde_json::Value>(&bytes[2..]).is_err()
                            );
                        }
                        (Api::Mosaic, Malformed::Truncated) => assert_eq!(bytes.len(), 8),
                        (Api::Mosaic, Malformed::WrongType) => {
                            assert!(serde_json::from_slice::<serde_json::Value>(&bytes).is_ok());
                        }
                        other => panic!("unexpected binary frame for {other:?}"),
                    },
                    Some(Outbound::Close(_)) => panic!("a malformed frame is never a close"),
                    None => {}
                }
            }
        }
    }
}
