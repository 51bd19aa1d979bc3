//! Round trips of every Molecule message, `decode(encode(x)) == x`, in both directions and
//! for the HTTP bodies; length fields at and beyond their bounds; decoders fed arbitrary
//! bytes never panic, and whatever they accept re-encodes to the same bytes.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test helpers fail the test on bad input"
)]

use proptest::prelude::*;

use telewire_protocols::molecule::AuthResponse;
use telewire_protocols::molecule::AuthStatus;
use telewire_protocols::molecule::ClientMessage;
use telewire_protocols::molecule::Command;
use telewire_protocols::molecule::DataFrame;
use telewire_protocols::molecule::ErrorCode;
use telewire_protocols::molecule::Field;
use telewire_protocols::molecule::FieldTooLong;
use telewire_protocols::molecule::Handshake;
use telewire_protocols::molecule::MessageType;
use telewire_protocols::molecule::OAuthError;
use telewire_protocols::molecule::ServerMessage;
use telewire_protocols::molecule::Telemetry;
use telewire_protocols::molecule::TelemetryItem;
use telewire_protocols::molecule::TokenRequest;
use telewire_protocols::molecule::TokenResponse;
use telewire_protocols::molecule::build_handshake;
use telewire_protocols::molecule::form::decode_form;
use telewire_protocols::molecule::form::encode_form;

fn encoded(encode: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    encode(&mut out);
    out
}

// ---- strategies ----

/// A length for a u16-prefixed field: the bounds 0, 1 and 65 535, or something small.
fn field_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        1 => Just(0usize),
        1 => Just(1usize),
        1 => Just(65_535usize),
        1 => 65_500usize..=65_535,
        4 => 0usize..300,
    ]
}

prop_compose! {
    /// A UTF-8 string of exactly `len` bytes: an arbitrary prefix, padded with one ASCII byte.
    fn text_of_len(len: usize)(
        prefix in proptest::collection::vec(any::<char>(), 0..24),
        pad in proptest::char::range('!', '~'),
    ) -> String {
        let mut s = String::with_capacity(len);
        for c in prefix {
            if s.len() + c.len_utf8() > len {
                break;
            }
            s.push(c);
        }
        while s.len() < len {
            s.push(pad);
        }
        s
    }
}

fn bounded_text() -> impl Strategy<Value = String> {
    field_len().prop_flat_map(text_of_len)
}

prop_compose! {
    fn frame_parts()(
        message_type in any::<u8>(),
        reserved in any::<u8>(),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
        trailing_null in any::<bool>(),
    ) -> (u8, u8, Vec<u8>, bool) {
        (message_type, reserved, payload, trailing_null)
    }
}

fn frame_of(parts: &(u8, u8, Vec<u8>, bool)) -> DataFrame<'_> {
    let (message_type, reserved, payload, trailing_null) = parts;
    DataFrame::new(MessageType(*message_type), payload)
        .with_reserved(*reserved)
        .with_trailing_null(*trailing_null)
}

prop_compose! {
    fn telemetry_item()(
        key in any::<String>(),
        lbl in proptest::option::of(any::<String>()),
        val in any::<String>(),
    ) -> TelemetryItem<'static> {
        TelemetryItem { key: key.into(), lbl: lbl.map(Into::into), val: val.into() }
    }
}

prop_compose! {
    fn token_request()(
        username in any::<String>(),
        password in any::<String>(),
        client_id in prop_oneof![Just("molecule-api".to_owned()), any::<String>()],
        grant_type in prop_oneof![Just("password".to_owned()), any::<String>()],
        scope in proptest::option::of(any::<String>()),
    ) -> TokenRequest {
        TokenRequest { username, password, client_id, grant_type, scope }
    }
}

prop_compose! {
    fn token_response()(
        access_token in any::<String>(),
        expires_in in any::<u64>(),
        token_type in prop_oneof![Just("Bearer".to_owned()), any::<String>()],
        refresh_token in proptest::option::of(any::<String>()),
        scope in proptest::option::of(any::<String>()),
    ) -> TokenResponse {
        TokenResponse { access_token, expires_in, token_type, refresh_token, scope }
    }
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    prop_oneof![
        Just(ErrorCode::INVALID_REQUEST),
        Just(ErrorCode::INVALID_CLIENT),
        Just(ErrorCode::INVALID_GRANT),
        Just(ErrorCode::UNAUTHORIZED_CLIENT),
        Just(ErrorCode::UNSUPPORTED_GRANT_TYPE),
        Just(ErrorCode::INVALID_SCOPE),
        any::<String>().prop_map(|s| ErrorCode(s.into())),
    ]
}

prop_compose! {
    fn oauth_error()(
        error in error_code(),
        error_description in proptest::option::of(any::<String>()),
        error_uri in proptest::option::of(any::<String>()),
    ) -> OAuthError {
        OAuthError { error, error_description, error_uri }
    }
}

// ---- client to server ----

proptest! {
    #[test]
    fn handshake_round_trips_at_the_length_bounds(
        gateway_id in bounded_text(),
        token in bounded_text(),
    ) {
        let hs = Handshake::new(&gateway_id, &token).unwrap();
        let bytes = hs.to_bytes();
        prop_assert_eq!(bytes.len(), 8 + gateway_id.len() + token.len());
        let id_len = u16::try_from(gateway_id.len()).unwrap().to_be_bytes();
        prop_assert_eq!(&bytes[2..4], &id_len);
        prop_assert_eq!(Handshake::decode(&bytes), Ok(hs));
        prop_assert_eq!(ClientMessage::decode(&bytes), Ok(ClientMessage::Handshake(hs)));
        prop_assert_eq!(build_handshake(&gateway_id, &token), Ok(bytes));
    }

    #[test]
    fn handshake_fields_beyond_65535_bytes_are_typed_errors(
        extra in prop_oneof![Just(1usize), 1usize..64],
        short in text_of_len(3),
        long_is_token in any::<bool>(),
    ) {
        // 65 535 + extra bytes, with a multi-byte character straddling the 65 535 mark.
        let long = "é".repeat(32_768) + &"x".repeat(extra - 1);
        prop_assert_eq!(long.len(), 65_535 + extra);
        let (id, token, field) = if long_is_token {
            (short.as_str(), long.as_str(), Field::Token)
        } else {
            (long.as_str(), short.as_str(), Field::GatewayId)
        };
        let expected = FieldTooLong { field, len: long.len() };
        prop_assert_eq!(Handshake::new(id, token), Err(expected));
        prop_assert_eq!(build_handshake(id, token), Err(expected));
    }

    #[test]
    fn command_round_trips(text in any::<String>(), trailing_null in any::<bool>()) {
        let cmd = Command::new(&text).with_trailing_null(trailing_null);
        let bytes = encoded(|out| cmd.encode(out));
        prop_assert_eq!(&bytes[..2], &[1, 0]);
        prop_assert_eq!(Command::decode(&bytes), Ok(cmd));
        let msg = ClientMessage::Command(cmd);
        let bytes = encoded(|out| msg.encode(out));
        prop_assert_eq!(ClientMessage::decode(&bytes), Ok(msg));
    }

    #[test]
    fn other_client_frames_round_trip(parts in frame_parts().prop_filter(
        "type 1 with reserved 0 or 2 is a command or a handshake",
        |(t, r, _, _)| !(*t == 1 && (*r == 0 || *r == 2)),
    )) {
        let msg = ClientMessage::Other(frame_of(&parts));
        let bytes = encoded(|out| msg.encode(out));
        prop_assert_eq!(ClientMessage::decode(&bytes), Ok(msg));
    }
}

// ---- server to client ----

proptest! {
    #[test]
    fn auth_response_round_trips_every_status(status in any::<u8>()) {
        let resp = AuthResponse::new(AuthStatus(status));
        let bytes = resp.to_bytes();
        prop_assert_eq!(bytes, [2, status, 4]);
        prop_assert_eq!(AuthResponse::decode(&bytes), Ok(resp));
        let msg = ServerMessage::AuthResponse(resp);
        let bytes = encoded(|out| msg.encode(out));
        prop_assert_eq!(ServerMessage::decode(&bytes), Ok(msg));
    }

    #[test]
    fn data_frames_round_trip(parts in frame_parts()) {
        let frame = frame_of(&parts);
        let bytes = frame.to_bytes();
        prop_assert_eq!(bytes.len(), frame.encoded_len());
        prop_assert_eq!(DataFrame::decode(&bytes), Ok(frame));
        if !frame.is_ambiguous() {
            let msg = ServerMessage::Data(frame);
            prop_assert_eq!(ServerMessage::decode(&bytes), Ok(msg));
        }
    }

    #[test]
    fn text_frames_round_trip_through_text(
        message_type in any::<u8>(),
        text in any::<String>(),
        trailing_null in any::<bool>(),
    ) {
        let frame = DataFrame::from_text(MessageType(message_type), &text)
            .with_trailing_null(trailing_null);
        let bytes = frame.to_bytes();
        prop_assert_eq!(DataFrame::decode(&bytes).and_then(|f| f.text()), Ok(text.as_str()));
    }

    #[test]
    fn telemetry_round_trips(
        items in proptest::collection::vec(telemetry_item(), 0..8),
        trailing_null in any::<bool>(),
    ) {
        let telemetry = Telemetry::new(items);
        let text = telemetry.to_text();
        prop_assert_eq!(Telemetry::decode(&text), Ok(telemetry.clone()));
        let frame = DataFrame::from_text(MessageType::TELEMETRY, &text)
            .with_trailing_null(trailing_null);
        let bytes = frame.to_bytes();
        let decoded = DataFrame::decode(&bytes).unwrap();
        prop_assert_eq!(
            decoded.content(),
            Ok(telewire_protocols::molecule::Content::Telemetry(telemetry))
        );
    }
}

// ---- HTTP bodies and the form codec ----

proptest! {
    #[test]
    fn token_request_round_trips_as_form_and_json(req in token_request()) {
        let body = encoded(|out| req.encode(out));
        prop_assert!(body.iter().all(u8::is_ascii_graphic));
        prop_assert_eq!(TokenRequest::decode(std::str::from_utf8(&body).unwrap()), Ok(req.clone()));
        let json = serde_json::to_string(&req).unwrap();
        prop_assert_eq!(serde_json::from_str::<TokenRequest>(&json).unwrap(), req);
    }

    #[test]
    fn token_response_round_trips(resp in token_response()) {
        prop_assert_eq!(TokenResponse::decode(&resp.to_text()), Ok(resp));
    }

    #[test]
    fn oauth_error_round_trips(err in oauth_error()) {
        prop_assert_eq!(OAuthError::decode(&err.to_text()), Ok(err));
    }

    #[test]
    fn form_pairs_round_trip(pairs in proptest::collection::vec((any::<String>(), any::<String>()), 0..6)) {
        let body = encoded(|out| encode_form(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())), out));
        prop_assert_eq!(decode_form(std::str::from_utf8(&body).unwrap()), Ok(pairs));
    }
}

#[test]
fn every_message_type_and_auth_status_round_trips() {
    for value in u8::MIN..=u8::MAX {
        let frame = [value, 0, b'x'];
        let decoded = DataFrame::decode(&frame).unwrap();
        assert_eq!(decoded.message_type(), MessageType(value));
        assert_eq!(decoded.to_bytes(), frame);
        let resp = AuthResponse::decode(&[2, value, 4]).unwrap();
        assert_eq!(resp.status, AuthStatus(value));
        assert_eq!(resp.to_bytes(), [2, value, 4]);
        let shown = format!("{:?}", MessageType(value));
        assert!(shown.contains(&format!("{value:#04x}")), "{shown}");
    }
}

// ---- arbitrary input never panics; what decodes re-encodes identically ----

fn mutated_handshake() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<String>(),
        any::<String>(),
        any::<prop::sample::Index>(),
        any::<u8>(),
        0usize..4,
    )
        .prop_map(|(id, token, at, byte, how)| {
            let mut bytes = build_handshake(&id, &token).unwrap();
            let i = at.index(bytes.len());
            match how {
                0 => bytes[i] = byte,
                1 => bytes.truncate(i),
                2 => bytes.insert(i, byte),
                _ => bytes.push(byte),
            }
            bytes
        })
}

fn any_frame() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..96),
        mutated_handshake(),
        proptest::collection::vec(any::<u8>(), 0..4).prop_map(|mut v| {
            v.splice(0..0, [2u8]);
            v
        }),
    ]
}

proptest! {
    #[test]
    fn binary_decoders_never_panic_and_accepted_frames_reencode(bytes in any_frame()) {
        if let Ok(hs) = Handshake::decode(&bytes) {
            prop_assert_eq!(hs.to_bytes(), bytes.clone());
        }
        if let Ok(resp) = AuthResponse::decode(&bytes) {
            prop_assert_eq!(resp.to_bytes().to_vec(), bytes.clone());
        }
        if let Ok(frame) = DataFrame::decode(&bytes) {
            prop_assert_eq!(frame.to_bytes(), bytes.clone());
            let _ = frame.text();
            let _ = frame.content();
        }
        if let Ok(cmd) = Command::decode(&bytes) {
            prop_assert_eq!(encoded(|out| cmd.encode(out)), bytes.clone());
        }
        if let Ok(msg) = ClientMessage::decode(&bytes) {
            prop_assert_eq!(encoded(|out| msg.encode(out)), bytes.clone());
        }
        if let Ok(msg) = ServerMessage::decode(&bytes) {
            prop_assert_eq!(encoded(|out| msg.encode(out)), bytes.clone());
        }
    }

    #[test]
    fn text_decoders_never_panic(text in prop_oneof![
        any::<String>(),
        "[\\[\\]{}\",:a-z0-9 %+&=]{0,64}",
    ]) {
        let _ = Telemetry::decode(&text);
        let _ = TokenResponse::decode(&text);
        let _ = OAuthError::decode(&text);
        let _ = decode_form(&text);
        if let Ok(req) = TokenRequest::decode(&text) {
            prop_assert_eq!(TokenRequest::decode(&req.to_text()), Ok(req));
        }
    }
}

/// Telemetry-like text: fragments of the documented shape glued in any order, so both the
/// scanner's accepting paths and its bail-outs are reached.
fn telemetry_like() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just("["),
        Just("]"),
        Just("{"),
        Just("}"),
        Just(","),
        Just(":"),
        Just(" "),
        Just("\n"),
        Just("\"key\""),
        Just("\"lbl\""),
        Just("\"val\""),
        Just("\"SOC\""),
        Just("\"7\\\"4\""),
        Just("null"),
        Just("74.5"),
        Just("\"é\""),
        Just("{\"key\":\"a\",\"val\":\"1\"}"),
    ];
    proptest::collection::vec(fragment, 0..24).prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn the_fast_telemetry_path_agrees_with_the_general_decoder(text in telemetry_like()) {
        prop_assert_eq!(Telemetry::decode(&text), Telemetry::decode_general(&text));
    }

    #[test]
    fn pretty_printed_telemetry_decodes_the_same(
        items in proptest::collection::vec(telemetry_item(), 0..6),
    ) {
        let telemetry = Telemetry::new(items);
        let pretty = serde_json::to_string_pretty(&telemetry).unwrap();
        prop_assert_eq!(Telemetry::decode(&pretty), Ok(telemetry.clone()));
        prop_assert_eq!(Telemetry::decode(&pretty), Telemetry::decode_general(&pretty));
    }
}
