//! Round trips: `decode(encode(x)) == x` for every Valtronics message, both directions and
//! the HTTP bodies, and every wire code value.

use std::time::Duration;

use proptest::collection::btree_map;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use serde_json::Map;
use serde_json::Number;
use serde_json::Value;
use telewire_protocols::valtronics::http::LoginError;
use telewire_protocols::valtronics::http::LoginRequest;
use telewire_protocols::valtronics::http::LoginResponse;
use telewire_protocols::valtronics::*;

// --- Leaves --------------------------------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 _.:-]{0,16}",
        any::<String>().prop_map(|s| s.chars().take(12).collect()),
    ]
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(text(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn object() -> impl Strategy<Value = Map<String, Value>> {
    btree_map(text(), json_value(), 0..4).prop_map(|m| m.into_iter().collect())
}

/// Undocumented fields a server may add: named apart from every documented field.
fn extra() -> impl Strategy<Value = Extra> {
    prop_oneof![
        3 => Just(Extra::new()),
        1 => btree_map("x_[a-z]{1,8}", json_value(), 1..3).prop_map(|m| m.into_iter().collect()),
    ]
}

fn one_or_many<T: Clone + std::fmt::Debug + 'static>(
    item: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = OneOrMany<T>> {
    let item = item.boxed();
    prop_oneof![
        item.clone().prop_map(OneOrMany::One),
        vec(item, 0..4).prop_map(OneOrMany::Many),
    ]
}

// --- Wire codes ----------------------------------------------------------------------------

fn code<T: Clone + std::fmt::Debug + From<String> + 'static>(
    known: &'static [T],
) -> impl Strategy<Value = T> {
    prop_oneof![
        proptest::sample::select(known),
        "[a-z_<>-]{0,12}".prop_map(T::from),
    ]
}

fn channel() -> impl Strategy<Value = Channel> {
    code(Channel::KNOWN)
}

fn severity() -> impl Strategy<Value = Severity> {
    code(Severity::KNOWN)
}

fn device_status() -> impl Strategy<Value = DeviceStatus> {
    code(DeviceStatus::KNOWN)
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    code(ErrorCode::KNOWN)
}

fn frequency() -> impl Strategy<Value = Frequency> {
    prop_oneof![
        code(Frequency::KNOWN),
        (
            0u64..100_000,
            prop_oneof![Just("ms"), Just("s"), Just("m"), Just("h")]
        )
            .prop_map(|(n, unit)| Frequency::new(format!("{n}{unit}"))),
    ]
}

fn device_id() -> impl Strategy<Value = DeviceId> {
    any::<u64>().prop_map(DeviceId)
}

prop_compose! {
    fn filters()(
        device_id in option::of(one_or_many(device_id())),
        metrics in option::of(one_or_many(text())),
        frequency in option::of(frequency()),
        severity in option::of(one_or_many(severity())),
        alert_type in option::of(one_or_many(text())),
        status_types in option::of(one_or_many(device_status())),
    ) -> Filters {
        Filters { device_id, metrics, frequency, severity, alert_type, status_types }
    }
}

// --- Client messages -----------------------------------------------------------------------

/// Where one filter goes: the top level, under `filters`, or both with the same value.
#[derive(Debug, Clone, Copy)]
enum Place {
    Spread,
    Nested,
    Both,
}

fn place<T: Clone>(value: Option<T>, place: Place) -> (Option<T>, Option<T>) {
    match place {
        Place::Spread => (value, None),
        Place::Nested => (None, value),
        Place::Both => (value.clone(), value),
    }
}

prop_compose! {
    fn subscribe()(
        channel in channel(),
        f in filters(),
        places in proptest::array::uniform6(
            prop_oneof![Just(Place::Spread), Just(Place::Nested), Just(Place::Both)]
        ),
        with_filters_object in any::<bool>(),
    ) -> Subscribe {
        let [p0, p1, p2, p3, p4, p5] = places;
        let mut spread = Filters::none();
        let mut nested = Filters::none();
        (spread.device_id, nested.device_id) = place(f.device_id, p0);
        (spread.metrics, nested.metrics) = place(f.metrics, p1);
        (spread.frequency, nested.frequency) = place(f.frequency, p2);
        (spread.severity, nested.severity) = place(f.severity, p3);
        (spread.alert_type, nested.alert_type) = place(f.alert_type, p4);
        (spread.status_types, nested.status_types) = place(f.status_types, p5);
        let nested = (with_filters_object || !nested.is_empty()).then_some(nested);
        Subscribe { channel, spread, nested }
    }
}

fn single_client_message() -> impl Strategy<Value = ClientMessage> {
    prop_oneof![
        text().prop_map(|token| Auth { token }.into()),
        subscribe().prop_map(ClientMessage::from),
        (channel(), option::of(one_or_many(device_id())))
            .prop_map(|(channel, device_id)| Unsubscribe { channel, device_id }.into()),
        option::of(text()).prop_map(|timestamp| Ping { timestamp }.into()),
    ]
}

fn client_message() -> impl Strategy<Value = ClientMessage> {
    prop_oneof![
        4 => single_client_message(),
        1 => vec(single_client_message(), 0..6).prop_map(|messages| Batch { messages }.into()),
    ]
}

// --- Server messages -----------------------------------------------------------------------

prop_compose! {
    fn reading()(value in number(), unit in text(), timestamp in text(), extra in extra()) -> Reading {
        Reading { value, unit, timestamp, extra }
    }
}

prop_compose! {
    fn alert()(
        channel in channel(), alert_id in any::<u64>(), device_id in device_id(),
        severity in severity(), title in text(), message in text(), timestamp in text(),
        alert_type in option::of(text()), metadata in option::of(object()), extra in extra(),
    ) -> Alert {
        Alert {
            channel, alert_id, device_id, severity, title, message, timestamp, alert_type,
            metadata, extra,
        }
    }
}

prop_compose! {
    fn device_status_update()(
        channel in channel(), device_id in device_id(), old_status in device_status(),
        new_status in device_status(), timestamp in text(), reason in option::of(text()),
        metadata in option::of(object()), extra in extra(),
    ) -> DeviceStatusUpdate {
        DeviceStatusUpdate {
            channel, device_id, old_status, new_status, timestamp, reason, metadata, extra,
        }
    }
}

fn server_message() -> impl Strategy<Value = ServerMessage> {
    prop_oneof![
        (
            any::<bool>(),
            option::of(error_code()),
            option::of(text()),
            extra()
        )
            .prop_map(|(success, error, message, extra)| AuthResponse {
                success,
                error,
                message,
                extra
            }
            .into()),
        (
            channel(),
            device_id(),
            btree_map(text(), reading(), 0..4),
            extra()
        )
            .prop_map(|(channel, device_id, telemetry, extra)| TelemetryUpdate {
                channel,
                device_id,
                telemetry,
                extra
            }
            .into()),
        alert().prop_map(ServerMessage::from),
        device_status_update().prop_map(ServerMessage::from),
        (
            channel(),
            btree_map(text(), number(), 0..5),
            text(),
            extra()
        )
            .prop_map(|(channel, metrics, timestamp, extra)| SystemStatusUpdate {
                channel,
                metrics,
                timestamp,
                extra
            }
            .into()),
        (option::of(text()), option::of(text()), extra()).prop_map(
            |(timestamp, server_time, extra)| Pong {
                timestamp,
                server_time,
                extra
            }
            .into()
        ),
        (error_code(), text(), extra()).prop_map(|(error, message, extra)| ErrorReply {
            error,
            message,
            extra
        }
        .into()),
        (channel(), filters(), extra()).prop_map(|(channel, filters, extra)| Subscribed {
            channel,
            filters,
            extra
        }
        .into()),
        (channel(), option::of(one_or_many(device_id())), extra()).prop_map(
            |(channel, device_id, extra)| Unsubscribed {
                channel,
                device_id,
                extra
            }
            .into()
        ),
    ]
}

// --- Properties ----------------------------------------------------------------------------

proptest! {
    #[test]
    fn client_messages_round_trip(message in client_message()) {
        let mut out = Vec::new();
        message.encode(&mut out);
        let text = String::from_utf8(out).unwrap();
        prop_assert_eq!(&text, &message.to_text());
        prop_assert_eq!(ClientMessage::decode(&text), Ok(message));
    }

    #[test]
    fn server_messages_round_trip(message in server_message()) {
        let mut out = Vec::new();
        message.encode(&mut out);
        let text = String::from_utf8(out).unwrap();
        prop_assert_eq!(&text, &message.to_text());
        prop_assert_eq!(ServerMessage::decode(&text), Ok(message));
    }

    #[test]
    fn login_bodies_round_trip(
        username in text(), password in text(), token in text(), token_type in text(),
        detail in text(),
    ) {
        let request = LoginRequest { username, password };
        prop_assert_eq!(LoginRequest::decode(&request.to_text()), Ok(request));
        let response = LoginResponse { access_token: token, token_type };
        prop_assert_eq!(LoginResponse::decode(&response.to_text()), Ok(response));
        let error = LoginError { detail };
        let mut out = Vec::new();
        error.encode(&mut out);
        prop_assert_eq!(LoginError::decode(std::str::from_utf8(&out).unwrap()), Ok(error));
    }

    #[test]
    fn both_filter_styles_decode_to_the_same_filters(channel in channel(), f in filters()) {
        let spread = Subscribe::new(channel.clone(), f.clone(), FilterStyle::Spread);
        let nested = Subscribe::new(channel, f.clone(), FilterStyle::Nested);
        for message in [spread, nested] {
            let decoded = ClientMessage::decode(&ClientMessage::from(message).to_text());
            let Ok(ClientMessage::Subscribe(decoded)) = decoded else {
                return Err(TestCaseError::fail(format!("{decoded:?}")));
            };
            prop_assert_eq!(decoded.filters(), Ok(f.clone()));
        }
    }

    #[test]
    fn wire_codes_round_trip(
        c in channel(), s in severity(), d in device_status(), e in error_code(),
        f in frequency(), id in device_id(),
    ) {
        prop_assert_eq!(again(&c).unwrap(), c.clone());
        prop_assert_eq!(again(&s).unwrap(), s.clone());
        prop_assert_eq!(again(&d).unwrap(), d.clone());
        prop_assert_eq!(again(&e).unwrap(), e.clone());
        prop_assert_eq!(again(&f).unwrap(), f.clone());
        prop_assert_eq!(again(&id).unwrap(), id);
        prop_assert_eq!(c.is_known(), Channel::KNOWN.contains(&c));
    }

    #[test]
    fn frequencies_spelled_from_a_duration_parse_back(ms in 0u64..10_000_000_000) {
        let interval = Duration::from_millis(ms);
        prop_assert_eq!(Frequency::every(interval).interval(), Ok(Some(interval)));
    }

    #[test]
    fn arbitrary_text_never_panics_the_decoders(text in any::<String>()) {
        let _ = ClientMessage::decode(&text);
        let _ = ServerMessage::decode(&text);
    }
}

/// Encodes and decodes `value` through JSON text.
fn again<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> serde_json::Result<T> {
    serde_json::from_str(&serde_json::to_string(value)?)
}

fn known_values_round_trip<T>(known: &[T]) -> serde_json::Result<()>
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    assert!(!known.is_empty());
    for value in known {
        assert_eq!(&again(value)?, value);
    }
    Ok(())
}

#[test]
fn every_documented_code_round_trips() -> serde_json::Result<()> {
    known_values_round_trip(Channel::KNOWN)?;
    known_values_round_trip(Severity::KNOWN)?;
    known_values_round_trip(DeviceStatus::KNOWN)?;
    known_values_round_trip(ErrorCode::KNOWN)?;
    known_values_round_trip(Frequency::KNOWN)?;
    for endpoint in Endpoint::ALL {
        assert_eq!(Endpoint::from_path(endpoint.path()), Some(endpoint));
    }
    Ok(())
}
