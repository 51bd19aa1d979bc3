//! Session rules of Steps 3 to 5 and "Error Handling", driven by hand on explicit time.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;

use crate::auth::SharedVerifier;
use crate::auth::TokenRejection;
use crate::auth::TokenTable;
use crate::frame::Close;
use crate::frame::CloseCode;
use crate::frame::Inbound;
use crate::frame::Outbound;
use crate::session::ServerSession;
use crate::time::Timestamp;

use super::*;

const T0: Timestamp = Timestamp::from_unix_secs(1_700_000_000);

fn verifier() -> SharedVerifier {
    let hour = T0 + Duration::from_secs(3600);
    let mut table = TokenTable::new()
        .with("good", "demo", hour)
        .with("alice-token", "alice", hour)
        .with("revoked", "demo", hour)
        .with("stale", "demo", T0);
    table.revoke("revoked");
    Arc::new(table)
}

fn gateways() -> SharedGateways {
    let mut table = GatewayTable::new().with("demo-gateway");
    table.grant("private-gateway", "alice");
    Arc::new(table)
}

fn session(config: SessionConfig) -> MoleculeSession {
    MoleculeSession::new(T0, config, verifier(), gateways())
}

fn hs(gateway: &str, token: &str) -> Vec<u8> {
    build_handshake(gateway, token).unwrap()
}

fn sent(s: &mut MoleculeSession) -> Vec<Outbound> {
    std::iter::from_fn(|| s.poll_transmit()).collect()
}

fn events(s: &mut MoleculeSession) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn binary(bytes: &[u8]) -> Outbound {
    Outbound::Binary(bytes.to_vec())
}

fn close(code: CloseCode, reason: &str) -> Outbound {
    Outbound::Close(Close::new(code, reason))
}

const STATUS_0: [u8; 3] = [2, 0, 4];
const STATUS_1: [u8; 3] = [2, 1, 4];

fn authenticated(config: SessionConfig) -> MoleculeSession {
    let mut s = session(config);
    s.handle_frame(T0, Inbound::Binary(&hs("demo-gateway", "good")));
    assert_eq!(sent(&mut s), [binary(&STATUS_1)]);
    assert_eq!(events(&mut s).len(), 1);
    s
}

fn data_frames(s: &mut MoleculeSession) -> Vec<Vec<u8>> {
    sent(s)
        .into_iter()
        .map(|o| match o {
            Outbound::Binary(b) => b,
            other => panic!("expected a binary frame, got {other:?}"),
        })
        .collect()
}

// Step 4: a valid handshake gets [2][1][0x04] as the first frame.
#[test]
fn valid_handshake_gets_status_1_first() {
    let mut s = session(SessionConfig::default());
    assert_eq!(
        s.push_device_log("early"),
        Err(PushError::NotAuthenticated),
        "nothing may precede the auth response"
    );
    s.handle_frame(
        T0 + Duration::from_millis(5),
        Inbound::Binary(&hs("demo-gateway", "good")),
    );
    assert_eq!(sent(&mut s), [binary(&STATUS_1)]);
    assert_eq!(
        events(&mut s),
        [Event::Authenticated {
            gateway_id: "demo-gateway".into(),
            subject: "demo".into()
        }]
    );
    assert!(s.is_authenticated());
    assert_eq!(s.gateway_id(), Some("demo-gateway"));
    assert_eq!(s.subject(), Some("demo"));
    assert_eq!(s.poll_timeout(), None, "handshake deadline cleared");
}

// Specs README: "A handshake that does not parse gets auth response status 0".
#[test]
fn bad_sentinel_gets_status_0_then_close_1002() {
    let mut bytes = hs("demo-gateway", "good");
    let last = bytes.len() - 1;
    bytes[last] = 0x05;
    let mut s = session(SessionConfig::default());
    s.handle_frame(T0, Inbound::Binary(&bytes));
    let out = sent(&mut s);
    assert_eq!(out[0], binary(&STATUS_0));
    let Outbound::Close(c) = &out[1] else {
        panic!("close expected")
    };
    assert_eq!(c.code, CloseCode::PROTOCOL_ERROR);
    assert!(
        c.reason
            .starts_with("malformed handshake: wrong end-of-message sentinel")
    );
    assert_eq!(out.len(), 2);
    assert!(s.is_closed());
    assert!(matches!(
        events(&mut s)[..],
        [Event::Violation(Violation::MalformedHandshake(
            DecodeError::BadSentinel { .. }
        ))]
    ));
}

#[test]
fn inconsistent_lengths_get_status_0() {
    let good = hs("demo-gateway", "good");
    let mut id_too_long = good.clone();
    id_too_long[3] = 200;
    let mut id_too_short = good.clone();
    id_too_short[3] = 3;
    let mut token_too_long = good.clone();
    token_too_long[4 + 12 + 1] = 50;
    let mut token_too_short = good.clone();
    token_too_short[4 + 12 + 1] = 2;
    for bytes in [id_too_long, id_too_short, token_too_long, token_too_short] {
        let mut s = session(SessionConfig::default());
        s.handle_frame(T0, Inbound::Binary(&bytes));
        let out = sent(&mut s);
        assert_eq!(out[0], binary(&STATUS_0), "for {bytes:02x?}");
        assert!(matches!(&out[1], Outbound::Close(c) if c.code == CloseCode::PROTOCOL_ERROR));
        assert!(s.is_closed());
    }
}

#[test]
fn every_other_parse_failure_gets_status_0() {
    let good = hs("demo-gateway", "good");
    let mut bad_marker = good.clone();
    bad_marker[0] = 0x07;
    let mut trailing = good.clone();
    trailing.push(0);
    let no_sentinel = good[..good.len() - 2].to_vec();
    let bad_utf8 = [1, 2, 0, 1, 0xff, 0, 1, b't', 1, 4].to_vec();
    let cases: [&[u8]; 6] = [&[], &[1], &bad_marker, &trailing, &no_sentinel, &bad_utf8];
    for bytes in cases {
        let mut s = session(SessionConfig::default());
        s.handle_frame(T0, Inbound::Binary(bytes));
        let out = sent(&mut s);
        assert_eq!(out.first(), Some(&binary(&STATUS_0)), "for {bytes:02x?}");
        assert_eq!(out.len(), 2);
    }
}

// "ws.onclose with code 1009 | Handshake too large".
#[test]
fn handshake_over_the_cap_gets_close_1009_only() {
    let token = "t".repeat(DEFAULT_MAX_TOKEN_AT_CAP + 1);
    let bytes = hs("demo-gateway", &token);
    assert_eq!(bytes.len(), 8 * 1024 + 1);
    let mut s = session(SessionConfig::default());
    s.handle_frame(T0, Inbound::Binary(&bytes));
    assert_eq!(
        sent(&mut s),
        [close(CloseCode::MESSAGE_TOO_BIG, "handshake too large")]
    );
    assert_eq!(
        events(&mut s),
        [Event::Violation(Violation::HandshakeTooLarge {
            len: 8193,
            max: 8192
        })]
    );
}

const DEFAULT_MAX_TOKEN_AT_CAP: usize = 8 * 1024 - 8 - 12;

#[test]
fn handshake_at_the_cap_is_parsed_and_the_cap_is_configurable() {
    let token = "t".repeat(DEFAULT_MAX_TOKEN_AT_CAP);
    let bytes = hs("demo-gateway", &token);
    assert_eq!(bytes.len(), 8 * 1024);
    let mut s = session(SessionConfig::default());
    s.handle_frame(T0, Inbound::Binary(&bytes));
    assert_eq!(sent(&mut s)[0], binary(&STATUS_0), "parsed: token unknown");

    let config = SessionConfig {
        max_frame_len: 16,
        ..SessionConfig::default()
    };
    let mut s = session(config);
    s.handle_frame(T0, Inbound::Binary(&hs("demo-gateway", "good")));
    assert_eq!(
        sent(&mut s),
        [close(CloseCode::MESSAGE_TOO_BIG, "handshake too large")]
    );
}

// "Auth failed- check gateway ID and token".
#[test]
fn unknown_gateway_gets_status_0_then_close_1008() {
    let mut s = session(SessionConfig::default());
    s.handle_frame(T0, Inbound::Binary(&hs("no-such-gateway", "good")));
    assert_eq!(
        sent(&mut s),
        [
            binary(&STATUS_0),
            close(CloseCode::POLICY_VIOLATION, "unknown gateway")
        ]
    );
    assert_eq!(
        events(&mut s),
        [Event::Violation(Violation::UnknownGateway {
            gateway_id: "no-such-gateway".into()
        })]
    );
}

#[test]
fn gateway_of_another_subject_gets_status_0_then_close_1008() {
    let mut s = session(SessionConfig::default());
    s.handle_frame(T0, Inbound::Binary(&hs("private-gateway", "good")));
    assert_eq!(
        sent(&mut s),
        [
            binary(&STATUS_0),
            close(CloseCode::POLICY_VIOLATION, "gateway not permitted")
        ]
    );
    let mut s = session(SessionConfig::default());
    s.handle_frame(T0, Inbound::Binary(&hs("private-gateway", "alice-token")));
    assert_eq!(sent(&mut s), [binary(&STATUS_1)]);
}

// "ws.onclose with code 1008 | Token rejected- re-authenticate".
#[test]
fn rejected_tokens_get_status_0_then_close_1008_token_rejected() {
    let cases = [
        ("forged", TokenRejection::Invalid),
        ("stale", TokenRejection::Expired),
        ("revoked", TokenRejection::Revoked),
        ("", TokenRejection::Missing),
    ];
    for (token, rejection) in cases {
        let mut s = session(SessionConfig::default());
        s.handle_frame(T0, Inbound::Binary(&hs("demo-gateway", token)));
        assert_eq!(
            sent(&mut s),
            [
                binary(&STATUS_0),
                close(CloseCode::POLICY_VIOLATION, "token rejected")
            ],
            "token {token:?}"
        );
        assert_eq!(
            events(&mut s),
            [Event::Violation(Violation::TokenRejected(rejection))]
        );
    }
}

#[test]
fn the_token_is_checked_before_the_gateway() {
    let mut s = session(SessionConfig::default());
    s.handle_frame(T0, Inbound::Binary(&hs("no-such-gateway", "forged")));
    assert_eq!(
        events(&mut s),
        [Event::Violation(Violation::TokenRejected(
            TokenRejection::Invalid
        ))],
        "an unauthenticated client learns nothing about gateway ids"
    );
}

// "binaryType = 'arraybuffer'; // required- all frames are binary".
#[test]
fn text_frame_instead_of_handshake_gets_status_0_then_close_1003() {
    let mut s = session(SessionConfig::default());
    s.handle_frame(T0, Inbound::Text("hello"));
    assert_eq!(
        sent(&mut s),
        [
            binary(&STATUS_0),
            close(CloseCode::UNSUPPORTED_DATA, "binary handshake expected")
        ]
    );
    assert_eq!(events(&mut s), [Event::Violation(Violation::NotAHandshake)]);
}

#[test]
fn a_command_before_the_handshake_is_a_malformed_handshake() {
    let mut s = session(SessionConfig::default());
    s.handle_frame(T0, Inbound::Binary(&[1, 0, b'g', b'o']));
    assert_eq!(sent(&mut s)[0], binary(&STATUS_0));
    assert!(matches!(
        events(&mut s)[..],
        [Event::Violation(Violation::MalformedHandshake(
            DecodeError::BadMarker { found: [1, 0] }
        ))]
    ));
}

// "Immediately after the connection opens, send a binary handshake packet."
#[test]
fn no_handshake_in_time_closes_1002_without_auth_response() {
    let mut s = session(SessionConfig::default());
    let deadline = T0 + Duration::from_secs(10);
    assert_eq!(s.poll_timeout(), Some(deadline));
    s.handle_timeout(deadline.saturating_sub(Duration::from_millis(1)));
    assert!(!s.is_closed(), "early wake-ups change nothing");
    s.handle_timeout(deadline);
    assert_eq!(
        sent(&mut s),
        [close(CloseCode::PROTOCOL_ERROR, "handshake timeout")]
    );
    assert_eq!(
        events(&mut s),
        [Event::Violation(Violation::HandshakeTimeout)]
    );
    assert_eq!(s.poll_timeout(), None);

    let s = session(SessionConfig {
        handshake_timeout: None,
        ..SessionConfig::default()
    });
    assert_eq!(s.poll_timeout(), None);
}

// Step 5 and specs README: "lbl is sent only periodically (first frame for a key, then
// every N frames)".
#[test]
fn telemetry_frames_carry_labels_on_schedule() {
    let mut s = authenticated(SessionConfig {
        label_every: NonZeroU32::new(2),
        ..SessionConfig::default()
    });
    let items = [
        TelemetryItem::new("SOC", "74.5").with_label("State of Charge"),
        TelemetryItem::new("GRID", "3200").with_label("Grid Power"),
    ];
    for _ in 0..3 {
        s.push_telemetry(&items).unwrap();
    }
    let frames = data_frames(&mut s);
    assert_eq!(frames.len(), 3);
    let labelled: Vec<bool> = frames
        .iter()
        .map(|bytes| {
            assert_eq!(&bytes[..2], &[100, 0]);
            let frame = DataFrame::decode(bytes).unwrap();
            assert!(!frame.has_trailing_null());
            let Content::Telemetry(t) = frame.content().unwrap() else {
                panic!("telemetry expected")
            };
            assert_eq!(t.items[0].val, "74.5");
            assert_eq!(t.items[0].lbl.is_some(), t.items[1].lbl.is_some());
            t.items[0].lbl.is_some()
        })
        .collect();
    assert_eq!(labelled, [true, false, true]);
    assert_eq!(
        std::str::from_utf8(&frames[1][2..]).unwrap(),
        r#"[{"key":"SOC","val":"74.5"},{"key":"GRID","val":"3200"}]"#
    );
}

// "Command response" (1) and "Device log" (2) frames.
#[test]
fn command_responses_and_device_logs_are_typed_frames() {
    let mut s = authenticated(SessionConfig::default());
    s.push_command_response("OK").unwrap();
    s.push_device_log("boot complete").unwrap();
    s.push_frame(DataFrame::new(MessageType(0x37), &[0xde, 0xad]))
        .unwrap();
    let frames = data_frames(&mut s);
    assert_eq!(frames[0], b"\x01\x00OK");
    assert_eq!(frames[1], b"\x02\x00boot complete");
    assert_eq!(frames[2], [0x37, 0, 0xde, 0xad]);
}

// "UTF-8 payload (may have a trailing 0x00 null terminator)".
#[test]
fn trailing_null_setting_ends_every_data_frame_with_0() {
    let mut s = authenticated(SessionConfig {
        trailing_null: true,
        ..SessionConfig::default()
    });
    s.push_device_log("x").unwrap();
    s.push_telemetry(&[TelemetryItem::new("k", "v")]).unwrap();
    for frame in data_frames(&mut s) {
        assert_eq!(frame.last(), Some(&0));
        assert!(DataFrame::decode(&frame).unwrap().has_trailing_null());
    }
}

// Specs README: the auth response "must always be ... exactly 3 bytes", and clients detect
// it by `length === 3 && data[2] === 0x04`: no data frame may look like one.
#[test]
fn a_data_frame_shaped_like_an_auth_response_gets_a_trailing_null() {
    let mut s = authenticated(SessionConfig::default());
    s.push_device_log("\u{4}").unwrap();
    assert_eq!(data_frames(&mut s), [vec![2, 0, 4, 0]]);
}

// Specs README (MAY): "a client frame [1][0][UTF-8 command] is answered by a type-1 frame".
#[test]
fn commands_become_events_and_are_answered_with_type_1() {
    let mut s = authenticated(SessionConfig::default());
    s.handle_frame(T0, Inbound::Binary(b"\x01\x00reboot\x00"));
    assert_eq!(events(&mut s), [Event::CommandReceived("reboot".into())]);
    s.push_command_response("rebooting").unwrap();
    assert_eq!(data_frames(&mut s), [b"\x01\x00rebooting".to_vec()]);
    assert!(!s.is_closed());
}

#[test]
fn unknown_client_frames_are_reported_not_rejected() {
    let mut s = authenticated(SessionConfig::default());
    s.handle_frame(T0, Inbound::Binary(&[0x42, 7, 0xff]));
    assert_eq!(
        events(&mut s),
        [Event::UnknownFrame {
            message_type: MessageType(0x42),
            reserved: 7,
            payload: vec![0xff]
        }]
    );
    assert!(sent(&mut s).is_empty());
    assert!(!s.is_closed());
}

#[test]
fn text_after_authentication_closes_1003() {
    let mut s = authenticated(SessionConfig::default());
    s.handle_frame(T0, Inbound::Text("{}"));
    assert_eq!(
        sent(&mut s),
        [close(CloseCode::UNSUPPORTED_DATA, "all frames are binary")]
    );
    assert_eq!(events(&mut s), [Event::Violation(Violation::TextFrame)]);
}

#[test]
fn a_second_handshake_closes_1002_without_auth_response() {
    for bytes in [hs("demo-gateway", "good"), vec![1, 2, 0]] {
        let mut s = authenticated(SessionConfig::default());
        s.handle_frame(T0, Inbound::Binary(&bytes));
        assert_eq!(
            sent(&mut s),
            [close(CloseCode::PROTOCOL_ERROR, "repeated handshake")]
        );
        assert_eq!(
            events(&mut s),
            [Event::Violation(Violation::RepeatedHandshake)]
        );
    }
}

#[test]
fn malformed_frames_after_authentication_close_1002_or_1007() {
    let mut s = authenticated(SessionConfig::default());
    s.handle_frame(T0, Inbound::Binary(&[9]));
    let out = sent(&mut s);
    assert!(
        matches!(&out[..], [Outbound::Close(c)] if c.code == CloseCode::PROTOCOL_ERROR),
        "{out:?}"
    );

    let mut s = authenticated(SessionConfig::default());
    s.handle_frame(T0, Inbound::Binary(&[1, 0, b'a', 0xc3]));
    let out = sent(&mut s);
    assert!(
        matches!(&out[..], [Outbound::Close(c)] if c.code == CloseCode::INVALID_PAYLOAD
            && c.reason == "malformed frame: payload is not valid UTF-8: invalid byte at offset 3"),
        "{out:?}"
    );
}

#[test]
fn frames_over_the_cap_after_authentication_close_1009() {
    let mut s = authenticated(SessionConfig::default());
    let mut big = vec![1, 0];
    big.resize(8 * 1024 + 1, b'a');
    s.handle_frame(T0, Inbound::Binary(&big));
    assert_eq!(
        sent(&mut s),
        [close(CloseCode::MESSAGE_TOO_BIG, "frame too large")]
    );
}

// "Tokens have a limited lifetime" (MAY: close when it ends, if configured).
#[test]
fn token_expiry_closes_1008_when_configured() {
    let mut s = authenticated(SessionConfig {
        close_on_token_expiry: true,
        ..SessionConfig::default()
    });
    let expiry = T0 + Duration::from_secs(3600);
    assert_eq!(s.poll_timeout(), Some(expiry));
    s.handle_timeout(expiry.saturating_sub(Duration::from_secs(1)));
    assert!(!s.is_closed());
    s.handle_timeout(expiry);
    assert_eq!(
        sent(&mut s),
        [close(CloseCode::POLICY_VIOLATION, "token expired")]
    );
    assert_eq!(events(&mut s), [Event::Violation(Violation::TokenExpired)]);

    let mut s = authenticated(SessionConfig::default());
    assert_eq!(s.poll_timeout(), None);
    s.handle_timeout(expiry);
    assert!(!s.is_closed());
}

#[test]
fn application_close_ends_the_session() {
    let mut s = authenticated(SessionConfig::default());
    s.close(Close::new(CloseCode::GOING_AWAY, "gateway offline"))
        .unwrap();
    assert_eq!(
        sent(&mut s),
        [close(CloseCode::GOING_AWAY, "gateway offline")]
    );
    assert!(s.is_closed());
    assert_eq!(s.push_device_log("late"), Err(PushError::Closed));
    assert_eq!(
        s.close(Close::new(CloseCode::NORMAL, "")),
        Err(PushError::Closed)
    );
    s.handle_frame(T0, Inbound::Binary(b"\x01\x00cmd"));
    assert!(sent(&mut s).is_empty());
    assert!(events(&mut s).is_empty());
}

#[test]
fn sessions_are_send() {
    fn assert_send<T: Send>() {}
    assert_send::<MoleculeSession>();
    assert_send::<ClientSession>();
}

proptest! {
    #[test]
    fn arbitrary_input_never_panics_and_auth_response_comes_first(
        frames in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..64).prop_map(Ok),
                ".{0,16}".prop_map(Err),
            ],
            1..6,
        ),
        authenticate_first in any::<bool>(),
    ) {
        let mut s = session(SessionConfig::default());
        let mut out = Vec::new();
        if authenticate_first {
            s.handle_frame(T0, Inbound::Binary(&hs("demo-gateway", "good")));
        }
        for frame in &frames {
            match frame {
                Ok(bytes) => s.handle_frame(T0, Inbound::Binary(bytes)),
                Err(text) => s.handle_frame(T0, Inbound::Text(text)),
            }
            out.extend(sent(&mut s));
        }
        s.handle_timeout(T0 + Duration::from_secs(60));
        out.extend(sent(&mut s));
        match out.first() {
            Some(Outbound::Binary(b)) => prop_assert_eq!(b.len(), 3),
            Some(Outbound::Close(_)) | None => {}
            Some(other) => prop_assert!(false, "unexpected first frame {:?}", other),
        }
        let closes = out.iter().filter(|o| matches!(o, Outbound::Close(_))).count();
        prop_assert!(closes <= 1);
        if closes == 1 {
            prop_assert!(matches!(out.last(), Some(Outbound::Close(_))));
            prop_assert!(s.is_closed());
        }
    }
}

// ---- Client and server together ----

fn client() -> ClientSession {
    ClientSession::new("demo-gateway", "good").unwrap()
}

fn client_events(c: &mut ClientSession) -> Vec<ClientEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

#[test]
fn client_and_server_talk_end_to_end() {
    let mut server = session(SessionConfig {
        label_every: NonZeroU32::new(3),
        trailing_null: true,
        ..SessionConfig::default()
    });
    let mut client = client();
    let pump = |from: &mut dyn FnMut() -> Option<Outbound>, to: &mut dyn FnMut(&[u8])| {
        while let Some(frame) = from() {
            match frame {
                Outbound::Binary(b) => to(&b),
                other => panic!("unexpected {other:?}"),
            }
        }
    };
    pump(&mut || client.poll_transmit(), &mut |b| {
        server.handle_frame(T0, Inbound::Binary(b))
    });
    server
        .push_telemetry(&[TelemetryItem::new("SOC", "74.5").with_label("State of Charge")])
        .unwrap();
    server
        .push_telemetry(&[TelemetryItem::new("SOC", "74.6").with_label("State of Charge")])
        .unwrap();
    pump(&mut || server.poll_transmit(), &mut |b| {
        client.handle_frame(Inbound::Binary(b))
    });
    client.send_command("status").unwrap();
    pump(&mut || client.poll_transmit(), &mut |b| {
        server.handle_frame(T0, Inbound::Binary(b))
    });
    assert!(matches!(
        events(&mut server)[..],
        [Event::Authenticated { .. }, Event::CommandReceived(ref c)] if c == "status"
    ));
    server.push_command_response("all good").unwrap();
    pump(&mut || server.poll_transmit(), &mut |b| {
        client.handle_frame(Inbound::Binary(b))
    });
    let labels: Vec<_> = client_events(&mut client)
        .into_iter()
        .filter_map(|e| match e {
            ClientEvent::Telemetry(r) => Some(r[0].label.clone()),
            ClientEvent::CommandResponse(t) => Some(t),
            ClientEvent::Authenticated => None,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(labels, ["State of Charge", "State of Charge", "all good"]);
}

/// Frames of up to six items whose keys come from a small set (so positions repeat, move
/// and change between frames), each with no label, an empty one or one of a few labels.
fn label_frames(distinct_keys: bool) -> impl Strategy<Value = Vec<Vec<(u8, Option<u8>)>>> {
    let item = (0u8..6, proptest::option::of(0u8..3));
    proptest::collection::vec(proptest::collection::vec(item, 0..6), 1..12).prop_map(
        move |frames| {
            if !distinct_keys {
                return frames;
            }
            frames
                .into_iter()
                .map(|items| {
                    let mut seen = std::collections::BTreeSet::new();
                    items.into_iter().filter(|(k, _)| seen.insert(*k)).collect()
                })
                .collect()
        },
    )
}

fn label_telemetry(items: &[(u8, Option<u8>)]) -> crate::molecule::Telemetry<'static> {
    const LABELS: [&str; 3] = ["", "Voltage", "State of Charge"];
    crate::molecule::Telemetry::new(
        items
            .iter()
            .map(|(key, lbl)| {
                let item = crate::molecule::TelemetryItem::new(format!("k{key}"), "1");
                match lbl.and_then(|l| LABELS.get(usize::from(l))) {
                    Some(l) => item.with_label(*l),
                    None => item,
                }
            })
            .collect(),
    )
}

proptest! {
    /// The positional fast path of `resolve` gives the labels of the document's loop
    /// (`apply`) whenever a frame does not repeat a key, and leaves the same cache.
    #[test]
    fn resolve_matches_the_sequential_label_loop(frames in label_frames(true)) {
        let mut owning = crate::molecule::LabelCache::new();
        let mut borrowing = crate::molecule::LabelCache::new();
        for items in &frames {
            let telemetry = label_telemetry(items);
            let expected: Vec<(String, String)> = owning
                .apply(&telemetry)
                .into_iter()
                .map(|r| (r.label, r.key))
                .collect();
            let resolved: Vec<(String, String)> = borrowing
                .resolve(&telemetry)
                .map(|(label, item)| (label.to_owned(), item.key.to_string()))
                .collect();
            prop_assert_eq!(resolved, expected);
            prop_assert_eq!(&borrowing, &owning);
        }
    }

    /// With repeated keys, an item with its own label still resolves to it, an item whose
    /// key had no label yet to its key, every other item to its key's label once the frame
    /// was seen; the cache ends as the sequential loop leaves it.
    #[test]
    fn resolve_with_repeated_keys_keeps_own_labels(frames in label_frames(false)) {
        let mut owning = crate::molecule::LabelCache::new();
        let mut borrowing = crate::molecule::LabelCache::new();
        for items in &frames {
            let telemetry = label_telemetry(items);
            let mut labelled_when_reached = Vec::new();
            for item in &telemetry.items {
                owning.observe(item);
                labelled_when_reached.push(owning.get(&item.key).is_some());
            }
            let resolved: Vec<String> = borrowing
                .resolve(&telemetry)
                .map(|(label, _)| label.to_owned())
                .collect();
            prop_assert_eq!(&borrowing, &owning);
            for ((item, label), labelled) in
                telemetry.items.iter().zip(&resolved).zip(labelled_when_reached)
            {
                let expected = match item.lbl.as_deref().filter(|l| !l.is_empty()) {
                    Some(own) => own,
                    None if labelled => owning.label_for(&item.key),
                    None => &item.key,
                };
                prop_assert_eq!(label.as_str(), expected);
            }
        }
    }
}

#[test]
fn each_fault_breaks_only_its_rule() {
    let faults = |f: fn(&mut SessionFaults)| {
        let mut config = SessionConfig::default();
        f(&mut config.faults);
        config
    };
    let good = hs("demo-gateway", "good");
    let unsentineled = good.get(..good.len() - 2).unwrap().to_vec();

    // accept_missing_sentinel: a handshake without 01 04 is accepted; others still parse.
    let config = faults(|f| f.accept_missing_sentinel = true);
    let mut s = session(config.clone());
    s.handle_frame(T0, Inbound::Binary(&unsentineled));
    assert_eq!(sent(&mut s), [binary(&STATUS_1)]);
    let mut wrong_sentinel = unsentineled.clone();
    wrong_sentinel.extend_from_slice(&[0x01, 0x05]);
    let mut s = session(config.clone());
    s.handle_frame(T0, Inbound::Binary(&wrong_sentinel));
    assert_eq!(sent(&mut s).first(), Some(&binary(&STATUS_0)));
    authenticated(config);
    let mut s = session(SessionConfig::default());
    s.handle_frame(T0, Inbound::Binary(&unsentineled));
    assert_eq!(sent(&mut s).first(), Some(&binary(&STATUS_0)));

    // long_auth_response: 02 01 04 00.
    let mut s = session(faults(|f| f.long_auth_response = true));
    s.handle_frame(T0, Inbound::Binary(&good));
    assert_eq!(sent(&mut s), [binary(&[2, 1, 4, 0])]);

    // too_large_close_1008: the oversized handshake's close code, nothing else.
    let config = SessionConfig {
        max_frame_len: 16,
        ..faults(|f| f.too_large_close_1008 = true)
    };
    let mut s = session(config);
    s.handle_frame(T0, Inbound::Binary(&good));
    assert_eq!(
        sent(&mut s),
        [close(CloseCode::POLICY_VIOLATION, "handshake too large")]
    );
    authenticated(faults(|f| f.too_large_close_1008 = true));
}
