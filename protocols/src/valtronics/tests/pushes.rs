//! "Available Channels": which pushes each subscription's filters let through, with explicit time.

use super::*;

#[test]
fn telemetry_pushes_keep_only_listed_metrics_of_listed_devices() {
    let mut s = authed(Endpoint::Primary);
    subscribe(
        &mut s,
        at_ms(1),
        json!({"type": "subscribe", "channel": "telemetry", "device_id": 1,
                                       "filters": {"metrics": ["temperature", "humidity"]}}),
    );
    let update = telemetry(
        1,
        &[
            ("temperature", 23.5),
            ("humidity", 45.2),
            ("pressure", 1013.0),
        ],
    );
    assert_eq!(s.offer(at_ms(2), &update), Offer::Sent);
    let pushed = wire(&mut s);
    assert_eq!(pushed[0]["type"], "telemetry_update");
    assert_eq!(pushed[0]["channel"], "telemetry");
    assert_eq!(
        pushed[0]["telemetry"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["humidity", "temperature"]
    );
    assert_eq!(pushed[0]["telemetry"]["temperature"]["value"], 23.5);
    assert_eq!(
        s.offer(at_ms(3), &telemetry(2, &[("temperature", 1.0)])),
        Offer::Filtered
    );
    assert_eq!(
        s.offer(at_ms(3), &telemetry(1, &[("pressure", 1.0)])),
        Offer::Filtered
    );
    assert_eq!(wire(&mut s), Vec::<Value>::new());
}

#[test]
fn alert_pushes_pass_severity_device_and_alert_type_filters() {
    let mut s = authed(Endpoint::Primary);
    subscribe(
        &mut s,
        at_ms(1),
        json!({"type": "subscribe", "channel": "alerts",
        "filters": {"severity": ["critical", "warning"], "device_id": 1}}),
    );
    assert_eq!(
        s.offer(at_ms(2), &alert(1, Severity::CRITICAL, None)),
        Offer::Sent
    );
    assert_eq!(
        s.offer(at_ms(2), &alert(1, Severity::from("info"), None)),
        Offer::Filtered
    );
    assert_eq!(
        s.offer(at_ms(2), &alert(2, Severity::WARNING, None)),
        Offer::Filtered
    );
    assert_eq!(wire(&mut s).len(), 1);
    subscribe(
        &mut s,
        at_ms(3),
        json!({"type": "subscribe", "channel": "alerts",
                                       "alert_type": "threshold"}),
    );
    assert_eq!(
        s.offer(at_ms(4), &alert(9, Severity::CRITICAL, Some("threshold"))),
        Offer::Sent
    );
    assert_eq!(
        s.offer(at_ms(4), &alert(9, Severity::CRITICAL, Some("offline"))),
        Offer::Filtered
    );
    assert_eq!(
        s.offer(at_ms(4), &alert(9, Severity::CRITICAL, None)),
        Offer::Filtered
    );
    assert_eq!(wire(&mut s)[0]["alert_type"], "threshold");
}

#[test]
fn device_status_pushes_pass_status_types_and_device_lists() {
    let mut s = authed(Endpoint::Primary);
    subscribe(
        &mut s,
        at_ms(1),
        json!({"type": "subscribe", "channel": "devices",
        "filters": {"device_id": [1, 2, 3], "status_types": ["online", "offline", "warning"]}}),
    );
    assert_eq!(
        s.offer(at_ms(2), &device_status(3, DeviceStatus::OFFLINE)),
        Offer::Sent
    );
    assert_eq!(
        s.offer(at_ms(2), &device_status(4, DeviceStatus::OFFLINE)),
        Offer::Filtered
    );
    assert_eq!(
        s.offer(
            at_ms(2),
            &device_status(1, DeviceStatus::from("maintenance"))
        ),
        Offer::Filtered
    );
    assert_eq!(wire(&mut s)[0]["new_status"], "offline");
}

#[test]
fn system_pushes_keep_only_listed_metrics() {
    let mut s = authed(Endpoint::Primary);
    subscribe(
        &mut s,
        at_ms(1),
        json!({"type": "subscribe", "channel": "system",
        "filters": {"metrics": ["cpu_usage", "active_connections"]}}),
    );
    let update = system(&[
        ("cpu_usage", 45),
        ("memory_usage", 67),
        ("active_connections", 15),
    ]);
    assert_eq!(s.offer(at_ms(2), &update), Offer::Sent);
    assert_eq!(
        wire(&mut s)[0]["metrics"],
        json!({"cpu_usage": 45, "active_connections": 15})
    );
    assert_eq!(
        s.offer(at_ms(3), &system(&[("disk_usage", 23)])),
        Offer::Filtered
    );
}

#[test]
fn frequency_sends_each_metric_at_most_once_per_interval() {
    let mut s = authed(Endpoint::Primary);
    subscribe(
        &mut s,
        at_s(0),
        json!({"type": "subscribe", "channel": "system",
        "filters": {"metrics": ["cpu_usage", "memory_usage"], "frequency": "30s"}}),
    );
    assert_eq!(s.offer(at_s(0), &system(&[("cpu_usage", 1)])), Offer::Sent);
    assert_eq!(
        s.offer(at_s(10), &system(&[("cpu_usage", 2)])),
        Offer::Filtered
    );
    let both = system(&[("cpu_usage", 3), ("memory_usage", 4)]);
    assert_eq!(
        s.offer(at_s(20), &both),
        Offer::Sent,
        "memory_usage was never sent"
    );
    assert_eq!(s.offer(at_ms(29_999), &both), Offer::Filtered);
    assert_eq!(
        s.offer(at_s(30), &both),
        Offer::Sent,
        "cpu_usage's interval has passed"
    );
    let frames = wire(&mut s);
    assert_eq!(frames.len(), 3);
    assert_eq!(frames[1]["metrics"], json!({"memory_usage": 4}));
    assert_eq!(frames[2]["metrics"], json!({"cpu_usage": 3}));

    let mut t = authed(Endpoint::Primary);
    subscribe(
        &mut t,
        at_s(0),
        json!({"type": "subscribe", "channel": "telemetry",
                                       "frequency": "1m"}),
    );
    assert_eq!(t.offer(at_s(0), &telemetry(1, &[("t", 1.0)])), Offer::Sent);
    assert_eq!(
        t.offer(at_s(1), &telemetry(2, &[("t", 1.0)])),
        Offer::Sent,
        "per device"
    );
    assert_eq!(
        t.offer(at_s(59), &telemetry(1, &[("t", 2.0)])),
        Offer::Filtered
    );
    assert_eq!(t.offer(at_s(60), &telemetry(1, &[("t", 3.0)])), Offer::Sent);
}

#[test]
fn real_time_frequency_sends_every_update() {
    let mut s = authed(Endpoint::Primary);
    subscribe(
        &mut s,
        at_s(0),
        json!({"type": "subscribe", "channel": "telemetry", "device_id": 1,
        "filters": {"metrics": ["temperature", "humidity"], "frequency": "real-time"}}),
    );
    for i in 0..5 {
        assert_eq!(
            s.offer(at_ms(i), &telemetry(1, &[("temperature", 20.0)])),
            Offer::Sent
        );
    }
}

#[test]
fn only_data_pushes_can_be_offered() {
    let mut s = authed(Endpoint::Telemetry);
    let reply: ServerMessage = ErrorReply::new(ErrorCode::INVALID_MESSAGE, "x").into();
    assert_eq!(s.offer(at_ms(1), &reply), Offer::NotAPush);
    assert_eq!(
        s.offer(at_ms(1), &alert(1, Severity::CRITICAL, None)),
        Offer::NotSubscribed
    );
    s.close(Close::new(CloseCode::GOING_AWAY, "shutdown"));
    assert_eq!(
        wire(&mut s),
        vec![json!({"close": 1001, "reason": "shutdown"})]
    );
    assert_eq!(
        s.offer(at_ms(2), &telemetry(1, &[("t", 1.0)])),
        Offer::Closed
    );
}
