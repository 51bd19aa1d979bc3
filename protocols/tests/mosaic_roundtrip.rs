//! `decode(encode(x)) == x` for every Mosaic message type, both directions and the HTTP
//! bodies, with every wire enum and open newtype value.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed expectation panics

use proptest::collection::btree_map;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Map;
use serde_json::Number;
use serde_json::Value;

use telewire_protocols::mosaic::http::AuthenticateFailure;
use telewire_protocols::mosaic::http::AuthenticateRequest;
use telewire_protocols::mosaic::http::AuthenticateResponse;
use telewire_protocols::mosaic::*;

// --- Vocabulary ------------------------------------------------------------------------

fn known_channel() -> impl Strategy<Value = Channel> {
    prop_oneof![
        select(ChannelKind::ALL).prop_map(Channel::from),
        Just(Channel::REMOTE_DEVICE_HYPHEN),
    ]
}

fn any_channel() -> impl Strategy<Value = Channel> {
    prop_oneof![
        3 => known_channel(),
        1 => "[a-z][a-z_-]{0,15}".prop_map(Channel::new),
        1 => ".{0,12}".prop_map(Channel::new),
    ]
}

fn finite_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        -1.0e6..1.0e6f64,
    ]
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<u64>().prop_map(Number::from),
        any::<i64>().prop_map(Number::from),
        finite_f64().prop_filter_map("finite", Number::from_f64),
    ]
}

fn request_id() -> impl Strategy<Value = RequestId> {
    number().prop_map(RequestId)
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{1,20}\\.[A-Za-z0-9_-]{1,30}\\.[A-Za-z0-9_-]{1,20}",
        ".{0,16}"
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        ".{0,10}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(".{0,6}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Undocumented members: names that cannot collide with documented ones.
fn extra() -> impl Strategy<Value = Map<String, Value>> {
    btree_map("x_[a-z]{1,6}", json_value(), 0..3).prop_map(|m| m.into_iter().collect())
}

fn text() -> impl Strategy<Value = String> {
    ".{0,16}"
}

fn level() -> impl Strategy<Value = Level> {
    (0u8..=100).prop_filter_map("in range", Level::new)
}

// --- Data payloads ---------------------------------------------------------------------

prop_compose! {
    fn system_info()(
        strings in vec(text(), 13),
        channel_capacity in any::<u64>(),
        extra in extra(),
    ) -> SystemInfo {
        let mut s = strings.into_iter();
        let mut next = move || s.next().unwrap_or_default();
        SystemInfo {
            hardware_type: next(),
            channel_capacity,
            serial_number: next(),
            memory_total: next(),
            memory_used: next(),
            memory_available: next(),
            storage_size: next(),
            bootloader_version: next(),
            firmware_version: next(),
            reset_reason: next(),
            last_boot_time: next(),
            ip_address: next(),
            subnet_mask: next(),
            default_gateway: next(),
            extra,
        }
    }
}

prop_compose! {
    fn current_time()(datetime in text(), local_time in any::<u64>(), uptime in any::<u64>(), extra in extra()) -> CurrentTime {
        CurrentTime { datetime, local_time, uptime, extra }
    }
}

prop_compose! {
    fn network_adapter()(
        name in text(), ip_address in text(), subnet_mask in text(), default_gateway in text(),
        connected in any::<bool>(), capturing in any::<bool>(), extra in extra(),
    ) -> NetworkAdapter {
        NetworkAdapter { name, ip_address, subnet_mask, default_gateway, connected, capturing, extra }
    }
}

prop_compose! {
    fn network_adapters()(adapters in vec(network_adapter(), 0..3), extra in extra()) -> NetworkAdapters {
        NetworkAdapters { adapters, extra }
    }
}

fn timeline_state() -> impl Strategy<Value = TimelineState> {
    select(
        &[
            TimelineState::None,
            TimelineState::Running,
            TimelineState::Paused,
            TimelineState::HoldingAtEnd,
            TimelineState::Released,
        ][..],
    )
}

fn scene_state() -> impl Strategy<Value = SceneState> {
    select(&[SceneState::None, SceneState::Started, SceneState::Released][..])
}

prop_compose! {
    fn timeline_status()(num in any::<u32>(), state in timeline_state(), onstage in any::<bool>(), position in any::<u64>(), extra in extra()) -> TimelineStatus {
        TimelineStatus { num, state, onstage, position, extra }
    }
}

prop_compose! {
    fn scene_status()(num in any::<u32>(), state in scene_state(), onstage in any::<bool>(), extra in extra()) -> SceneStatus {
        SceneStatus { num, state, onstage, extra }
    }
}

prop_compose! {
    fn group_status()(num in any::<u32>(), name in text(), level in level(), extra in extra()) -> GroupStatus {
        GroupStatus { num, name, level, extra }
    }
}

prop_compose! {
    fn content_targets()(targets in vec((text(), level(), extra()), 0..3), extra in extra()) -> ContentTargets {
        ContentTargets {
            content_targets: targets.into_iter().map(|(name, level, extra)| ContentTarget { name, level, extra }).collect(),
            extra,
        }
    }
}

fn serial() -> impl Strategy<Value = Serial> {
    prop_oneof![
        text().prop_map(Serial::One),
        vec(text(), 0..3).prop_map(Serial::Many)
    ]
}

prop_compose! {
    fn remote_device()(num in any::<u32>(), name in text(), device_type in text(), online in any::<bool>(), serial in serial(), extra in extra()) -> RemoteDevice {
        RemoteDevice { num, name, device_type, online, serial, extra }
    }
}

prop_compose! {
    fn remote_devices()(remote_devices in vec(remote_device(), 0..3), extra in extra()) -> RemoteDevices {
        RemoteDevices { remote_devices, extra }
    }
}

prop_compose! {
    fn beacon()(on in any::<bool>(), extra in extra()) -> Beacon {
        Beacon { on, extra }
    }
}

prop_compose! {
    fn log()(log in ".{0,40}", extra in extra()) -> Log {
        Log { log, extra }
    }
}

prop_compose! {
    fn lua()(vars in btree_map(".{0,8}", json_value(), 0..4)) -> LuaVariables {
        LuaVariables(vars.into_iter().collect())
    }
}

prop_compose! {
    fn io_status()(key in text(), label in text(), value in json_value(), extra in extra()) -> IoStatus {
        IoStatus { key, label, value, extra }
    }
}

prop_compose! {
    fn io_modules()(
        modules in vec((any::<u32>(), text(), extra()), 0..3),
        instances in vec((any::<u32>(), any::<u32>(), text(), vec(io_status(), 0..3), extra()), 0..3),
        extra in extra(),
    ) -> IoModules {
        IoModules {
            modules: modules.into_iter().map(|(id, name, extra)| IoModule { id, name, extra }).collect(),
            instances: instances
                .into_iter()
                .map(|(id, module_id, name, status, extra)| IoInstance { id, module_id, name, status, extra })
                .collect(),
            extra,
        }
    }
}

/// A channel and reply data that fits it.
fn reply_payload() -> impl Strategy<Value = (Channel, ReplyData)> {
    let hyphen_or_not = prop_oneof![
        Just(Channel::REMOTE_DEVICE),
        Just(Channel::REMOTE_DEVICE_HYPHEN)
    ];
    prop_oneof![
        network_adapters().prop_map(|d| (Channel::NETWORK_ADAPTERS, ReplyData::NetworkAdapters(d))),
        content_targets().prop_map(|d| (Channel::CONTENT_TARGET, ReplyData::ContentTargets(d))),
        (hyphen_or_not, remote_devices()).prop_map(|(c, d)| (c, ReplyData::RemoteDevices(d))),
        log().prop_map(|d| (Channel::LOG, ReplyData::Log(d))),
        system_info().prop_map(|d| (Channel::SYSTEM, ReplyData::System(Box::new(d)))),
        current_time().prop_map(|d| (Channel::CURRENT_TIME, ReplyData::CurrentTime(d))),
        (any_channel(), json_value())
            .prop_map(|(c, v)| (c, ReplyData::Endpoint(v)))
            .prop_filter("untyped channel", |(c, d)| d.fits(c)),
    ]
}

/// A channel and broadcast data that fits it.
fn broadcast_payload() -> impl Strategy<Value = (Channel, BroadcastData)> {
    let hyphen_or_not = prop_oneof![
        Just(Channel::REMOTE_DEVICE),
        Just(Channel::REMOTE_DEVICE_HYPHEN)
    ];
    prop_oneof![
        timeline_status().prop_map(|d| (Channel::TIMELINE, BroadcastData::Timeline(d))),
        scene_status().prop_map(|d| (Channel::SCENE, BroadcastData::Scene(d))),
        group_status().prop_map(|d| (Channel::GROUP, BroadcastData::Group(d))),
        content_targets().prop_map(|d| (Channel::CONTENT_TARGET, BroadcastData::ContentTargets(d))),
        (hyphen_or_not, remote_devices()).prop_map(|(c, d)| (c, BroadcastData::RemoteDevices(d))),
        beacon().prop_map(|d| (Channel::BEACON, BroadcastData::Beacon(d))),
        log().prop_map(|d| (Channel::LOG, BroadcastData::Log(d))),
        lua().prop_map(|d| (Channel::LUA, BroadcastData::Lua(d))),
        io_modules().prop_map(|d| (Channel::IO_MODULE, BroadcastData::IoModule(d))),
        (any_channel(), json_value())
            .prop_map(|(c, v)| (c, BroadcastData::Other(v)))
            .prop_filter("untyped channel", |(c, d)| d.fits(c)),
    ]
}

// --- Messages ---------------------------------------------------------------------------

/// Request parameters: any names but the envelope's own.
fn params() -> impl Strategy<Value = Map<String, Value>> {
    btree_map("[a-z_]{1,8}", json_value(), 0..4).prop_map(|m| {
        m.into_iter()
            .filter(|(k, _)| !["request", "id", "token", "subscribe"].contains(&k.as_str()))
            .collect()
    })
}

prop_compose! {
    fn request()(channel in any_channel(), id in proptest::option::of(request_id()), token in proptest::option::of(token()), params in params()) -> Request {
        Request { channel, id, token, params }
    }
}

prop_compose! {
    fn subscribe()(channel in any_channel(), token in proptest::option::of(token()), extra in extra()) -> Subscribe {
        Subscribe { channel, token, extra }
    }
}

fn client_message() -> impl Strategy<Value = ClientMessage> {
    prop_oneof![
        request().prop_map(ClientMessage::Request),
        subscribe().prop_map(ClientMessage::Subscribe),
        proptest::option::of(token())
            .prop_map(|token| ClientMessage::Keepalive(Keepalive { token })),
        Just(ClientMessage::EmptyFrame),
    ]
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    prop_oneof![
        select(
            &[
                ErrorCode::MALFORMED,
                ErrorCode::UNSUPPORTED_DATA,
                ErrorCode::UNKNOWN_CHANNEL,
                ErrorCode::NOT_REQUESTABLE,
                ErrorCode::NOT_SUBSCRIBABLE,
                ErrorCode::TOKEN_MISSING,
                ErrorCode::TOKEN_INVALID,
                ErrorCode::TOKEN_EXPIRED,
                ErrorCode::TOKEN_REVOKED,
                ErrorCode::UNKNOWN_USER,
                ErrorCode::ACCESS_DENIED,
                ErrorCode::SESSION_TIMED_OUT,
                ErrorCode::UNAVAILABLE,
                ErrorCode::TOO_MANY_CONNECTIONS,
            ][..]
        ),
        text().prop_map(ErrorCode::new),
    ]
}

prop_compose! {
    fn reply()((channel, data) in reply_payload(), id in proptest::option::of(request_id()), extra in extra()) -> Reply {
        Reply { channel, id, data, extra }
    }
}

prop_compose! {
    fn broadcast()((channel, data) in broadcast_payload(), extra in extra()) -> Broadcast {
        Broadcast { channel, data, extra }
    }
}

prop_compose! {
    fn error_reply()(
        request in proptest::option::of(any_channel()),
        subscribe in proptest::option::of(any_channel()),
        id in proptest::option::of(request_id()),
        error in error_code(),
        message in proptest::option::of(text()),
        extra in extra(),
    ) -> ErrorReply {
        ErrorReply { request, subscribe, id, error, message, extra }
    }
}

fn server_message() -> impl Strategy<Value = ServerMessage> {
    prop_oneof![
        reply().prop_map(ServerMessage::Reply),
        broadcast().prop_map(ServerMessage::Broadcast),
        error_reply().prop_map(ServerMessage::Error),
        Just(ServerMessage::KeepaliveAck),
    ]
}

fn keepalive_reply() -> impl Strategy<Value = KeepaliveReply> {
    prop_oneof![
        Just(KeepaliveReply::TimedOut),
        any::<[u8; 16]>().prop_filter_map("non-zero", |b| SessionKey::new(b)
            .map(KeepaliveReply::SessionKey)),
        any::<u64>().prop_map(|seed| KeepaliveReply::SessionKey(SessionKey::from_seed(seed))),
    ]
}

// --- Properties -------------------------------------------------------------------------

fn utf8(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("encoders write UTF-8")
}

proptest! {
    #[test]
    fn client_messages_round_trip(msg in client_message()) {
        let mut out = Vec::new();
        msg.encode(&mut out);
        let text = utf8(out);
        prop_assert_eq!(&text, &msg.to_text());
        prop_assert_eq!(ClientMessage::decode(&text), Ok(msg));
    }

    #[test]
    fn server_messages_round_trip(msg in server_message()) {
        let mut out = Vec::new();
        msg.encode(&mut out);
        let text = utf8(out);
        prop_assert_eq!(&text, &msg.to_text());
        prop_assert_eq!(ServerMessage::decode(&text), Ok(msg.clone()));
        let frame = ServerFrame::Message(msg);
        let telewire_protocols::frame::Outbound::Text(t) = frame.to_outbound() else {
            return Err(TestCaseError::fail("text message as a binary frame"));
        };
        prop_assert_eq!(ServerFrame::decode(telewire_protocols::frame::Inbound::Text(&t)), Ok(frame));
    }

    #[test]
    fn keepalive_replies_round_trip(reply in keepalive_reply()) {
        let mut out = Vec::new();
        reply.encode(&mut out);
        prop_assert_eq!(out.len(), 16);
        prop_assert_eq!(KeepaliveReply::decode(&out), Ok(reply));
        prop_assert_eq!(
            ServerFrame::decode(telewire_protocols::frame::Inbound::Binary(&out)),
            Ok(ServerFrame::Keepalive(reply))
        );
    }

    #[test]
    fn other_keepalive_lengths_are_refused(bytes in vec(any::<u8>(), 0..40).prop_filter("not 16", |b| b.len() != 16)) {
        let is_binary_error = matches!(KeepaliveReply::decode(&bytes), Err(DecodeError::Binary { .. }));
        prop_assert!(is_binary_error);
    }

    #[test]
    fn authenticate_requests_round_trip_as_json_and_form(username in ".{0,16}", password in ".{0,16}") {
        let req = AuthenticateRequest { username, password };
        let mut json = Vec::new();
        req.encode(&mut json);
        prop_assert_eq!(AuthenticateRequest::decode(&utf8(json.clone())), Ok(req.clone()));
        prop_assert_eq!(AuthenticateRequest::decode_body(Some("application/json"), &json), Ok(req.clone()));
        let mut form = Vec::new();
        req.encode_form(&mut form);
        prop_assert_eq!(AuthenticateRequest::decode_form(&utf8(form.clone())), Ok(req.clone()));
        prop_assert_eq!(
            AuthenticateRequest::decode_body(Some("application/x-www-form-urlencoded"), &form),
            Ok(req)
        );
    }

    #[test]
    fn authenticate_responses_round_trip(token in token()) {
        let resp = AuthenticateResponse { token };
        let mut out = Vec::new();
        resp.encode(&mut out);
        prop_assert_eq!(AuthenticateResponse::decode(&utf8(out)), Ok(resp));
    }

    #[test]
    fn authenticate_failures_round_trip(error in text(), message in text()) {
        let failure = AuthenticateFailure { error, message };
        let mut out = Vec::new();
        failure.encode(&mut out);
        prop_assert_eq!(AuthenticateFailure::decode(&utf8(out)), Ok(failure));
    }

    #[test]
    fn levels_out_of_range_are_refused(n in 101u64..) {
        let text = n.to_string();
        prop_assert!(serde_json::from_str::<Level>(&text).is_err());
    }
}

#[test]
fn every_channel_name_round_trips_and_keeps_its_kind() {
    for kind in ChannelKind::ALL {
        let channel = Channel::from(*kind);
        let text = serde_json::to_string(&channel).unwrap();
        let back: Channel = serde_json::from_str(&text).unwrap();
        assert_eq!(back, channel);
        assert_eq!(back.kind(), Some(*kind));
    }
}

#[test]
fn every_state_value_round_trips() {
    for (state, name) in [
        (TimelineState::None, "none"),
        (TimelineState::Running, "running"),
        (TimelineState::Paused, "paused"),
        (TimelineState::HoldingAtEnd, "holding_at_end"),
        (TimelineState::Released, "released"),
    ] {
        assert_eq!(serde_json::to_value(state).unwrap(), Value::from(name));
        assert_eq!(
            serde_json::from_value::<TimelineState>(Value::from(name)).unwrap(),
            state
        );
    }
    for (state, name) in [
        (SceneState::None, "none"),
        (SceneState::Started, "started"),
        (SceneState::Released, "released"),
    ] {
        assert_eq!(serde_json::to_value(state).unwrap(), Value::from(name));
        assert_eq!(
            serde_json::from_value::<SceneState>(Value::from(name)).unwrap(),
            state
        );
    }
}
