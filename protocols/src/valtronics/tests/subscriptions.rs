//! "Subscribe to Channels" and "Specialized Endpoints": subscribe, unsubscribe, filters, acknowledgements.

use super::*;

#[test]
fn an_unknown_channel_is_refused() {
    let mut s = authed(Endpoint::Primary);
    send(
        &mut s,
        at_ms(1),
        json!({"type": "subscribe", "channel": "weather"}),
    );
    assert_eq!(error_code(&mut s), "unknown_channel");
    send(
        &mut s,
        at_ms(1),
        json!({"type": "unsubscribe", "channel": "channel-name"}),
    );
    assert_eq!(error_code(&mut s), "unknown_channel");
    assert_eq!(
        events(&mut s),
        vec![
            Event::Violation(Violation::UnknownChannel(Channel::from("weather"))),
            Event::Violation(Violation::UnknownChannel(Channel::from("channel-name"))),
        ]
    );
}

#[test]
fn filters_a_channel_does_not_take_are_refused() {
    let mut s = authed(Endpoint::Primary);
    for (message, filter) in [
        (
            json!({"type": "subscribe", "channel": "telemetry", "severity": ["critical"]}),
            "severity",
        ),
        (
            json!({"type": "subscribe", "channel": "system", "filters": {"device_id": 1}}),
            "device_id",
        ),
        (
            json!({"type": "subscribe", "channel": "alerts", "filters": {"frequency": "1s"}}),
            "frequency",
        ),
        (
            json!({"type": "subscribe", "channel": "devices", "metrics": ["t"]}),
            "metrics",
        ),
    ] {
        send(&mut s, at_ms(1), message);
        assert_eq!(error_code(&mut s), "invalid_filter");
        assert!(matches!(
            &events(&mut s)[..],
            [Event::Violation(Violation::InvalidFilter(FilterError::NotApplicable { filter: f, .. }))]
                if *f == filter
        ));
    }
    send(
        &mut s,
        at_ms(1),
        json!({"type": "subscribe", "channel": "system", "filters": {"metrics": []}}),
    );
    assert_eq!(error_code(&mut s), "invalid_filter");
    send(
        &mut s,
        at_ms(1),
        json!({"type": "subscribe", "channel": "system", "frequency": "often"}),
    );
    assert_eq!(error_code(&mut s), "invalid_filter");
    assert_eq!(s.subscriptions().count(), 0);
}

#[test]
fn spread_and_nested_filters_subscribe_alike() {
    let spread = json!({"type": "subscribe", "channel": "alerts",
                        "severity": ["critical", "warning"], "device_id": 1});
    let nested = json!({"type": "subscribe", "channel": "alerts",
                        "filters": {"severity": ["critical", "warning"], "device_id": 1}});
    let mixed = json!({"type": "subscribe", "channel": "alerts", "device_id": 1,
                       "filters": {"severity": ["critical", "warning"]}});
    let expected_filters = Filters::none()
        .with_device(DeviceId(1))
        .with_severity([Severity::CRITICAL, Severity::WARNING]);
    for message in [spread, nested, mixed] {
        let mut s = authed(Endpoint::Primary);
        send(&mut s, at_ms(1), message);
        assert_eq!(
            wire(&mut s),
            vec![json!({"type": "subscribed", "channel": "alerts",
                        "filters": {"severity": ["critical", "warning"], "device_id": 1}})]
        );
        assert_eq!(
            events(&mut s),
            vec![Event::Subscribed {
                channel: Channel::ALERTS,
                filters: expected_filters.clone()
            }]
        );
    }
}

#[test]
fn subscribing_again_replaces_the_channels_filters() {
    let mut s = authed(Endpoint::Primary);
    subscribe(
        &mut s,
        at_ms(1),
        json!({"type": "subscribe", "channel": "telemetry", "device_id": 1}),
    );
    subscribe(
        &mut s,
        at_ms(2),
        json!({"type": "subscribe", "channel": "telemetry", "device_id": 2}),
    );
    assert_eq!(
        s.offer(at_ms(3), &telemetry(1, &[("t", 1.0)])),
        Offer::Filtered
    );
    assert_eq!(s.offer(at_ms(3), &telemetry(2, &[("t", 1.0)])), Offer::Sent);
    assert_eq!(s.subscriptions().count(), 1);
}

#[test]
fn unsubscribe_removes_a_held_subscription_and_refuses_others() {
    let mut s = authed(Endpoint::Primary);
    send(
        &mut s,
        at_ms(1),
        json!({"type": "unsubscribe", "channel": "telemetry"}),
    );
    assert_eq!(error_code(&mut s), "not_subscribed");
    subscribe(
        &mut s,
        at_ms(1),
        json!({"type": "subscribe", "channel": "devices",
                                       "filters": {"device_id": [1, 2, 3]}}),
    );
    send(
        &mut s,
        at_ms(2),
        json!({"type": "unsubscribe", "channel": "devices", "device_id": 1}),
    );
    assert_eq!(
        error_code(&mut s),
        "not_subscribed",
        "device 1 alone is not what was subscribed"
    );
    assert!(matches!(
        &events(&mut s)[..],
        [Event::Violation(Violation::NotSubscribed {
            device_id: Some(_),
            ..
        })]
    ));
    send(
        &mut s,
        at_ms(3),
        json!({"type": "unsubscribe", "channel": "devices", "device_id": [3, 2, 1]}),
    );
    assert_eq!(
        wire(&mut s),
        vec![json!({"type": "unsubscribed", "channel": "devices", "device_id": [3, 2, 1]})]
    );
    assert_eq!(
        events(&mut s),
        vec![Event::Unsubscribed {
            channel: Channel::DEVICES
        }]
    );
    assert_eq!(
        s.offer(at_ms(4), &device_status(1, DeviceStatus::OFFLINE)),
        Offer::NotSubscribed
    );
    subscribe(
        &mut s,
        at_ms(5),
        json!({"type": "subscribe", "channel": "system"}),
    );
    send(
        &mut s,
        at_ms(6),
        json!({"type": "unsubscribe", "channel": "system"}),
    );
    assert_eq!(
        wire(&mut s),
        vec![json!({"type": "unsubscribed", "channel": "system"})]
    );
}

#[test]
fn acknowledgements_can_be_turned_off() {
    let config = SessionConfig {
        acknowledge_subscriptions: false,
        ..SessionConfig::default()
    };
    let registry = ConnectionRegistry::unlimited();
    let mut s =
        ValtronicsSession::with_config(at_ms(0), Endpoint::Primary, verifier(), &registry, config);
    send(&mut s, at_ms(0), json!({"type": "auth", "token": "good"}));
    send(
        &mut s,
        at_ms(1),
        json!({"type": "subscribe", "channel": "system"}),
    );
    send(
        &mut s,
        at_ms(2),
        json!({"type": "unsubscribe", "channel": "system"}),
    );
    assert_eq!(
        wire(&mut s),
        vec![json!({"type": "auth_response", "success": true})]
    );
    assert_eq!(
        events(&mut s).len(),
        3,
        "authenticated, subscribed, unsubscribed"
    );
}

#[test]
fn a_specialised_endpoint_is_subscribed_to_its_channel_once_authenticated() {
    let mut s = open(Endpoint::Alerts);
    let push = alert(1, Severity::CRITICAL, None);
    assert_eq!(s.offer(at_ms(0), &push), Offer::NotAuthenticated);
    send(&mut s, at_ms(1), json!({"type": "auth", "token": "good"}));
    assert_eq!(
        wire(&mut s),
        vec![json!({"type": "auth_response", "success": true})],
        "no acknowledgement for the implicit subscription"
    );
    let evs = events(&mut s);
    assert_eq!(
        evs.get(1),
        Some(&Event::Subscribed {
            channel: Channel::ALERTS,
            filters: Filters::none()
        })
    );
    assert_eq!(s.offer(at_ms(2), &push), Offer::Sent);
    assert_eq!(wire(&mut s), vec![serde_json::to_value(&push).unwrap()]);
    assert_eq!(
        s.offer(at_ms(2), &telemetry(1, &[("t", 1.0)])),
        Offer::NotSubscribed
    );
    for (endpoint, channel) in [
        (Endpoint::Telemetry, Channel::TELEMETRY),
        (Endpoint::System, Channel::SYSTEM),
        (Endpoint::Devices, Channel::DEVICES),
    ] {
        let s = authed(endpoint);
        assert_eq!(
            s.subscriptions()
                .map(|x| x.channel().clone())
                .collect::<Vec<_>>(),
            [channel]
        );
    }
    assert_eq!(authed(Endpoint::Primary).subscriptions().count(), 0);
}
