//! "Processing Pipeline": filtering, persistence, throttled broadcasts, latest values.

use super::*;

/// A controller batch at `now` through the hub to every stream, as a driver would.
fn deliver(
    hub: &mut IngestHub,
    controller: &mut ControllerSession,
    streams: &mut [StreamSession],
    now: Timestamp,
    text: &str,
) -> IngestOutcome {
    let datapoints = accepted(controller, now, text);
    let outcome = hub.ingest(now, &datapoints);
    if let Some(batch) = &outcome.broadcast {
        let encoded = batch.message_text();
        for s in streams.iter_mut() {
            assert!(s.push_encoded(&encoded));
        }
    }
    outcome
}

#[test]
fn one_batch_is_one_broadcast_to_every_stream_with_one_timestamp() {
    let mut hub = hub();
    hub.start_experiment("exp-001");
    let mut c = controller();
    let mut streams = [stream(), stream()];
    let outcome = deliver(
        &mut hub,
        &mut c,
        &mut streams,
        at(0),
        &batch_json(&[("abc-123", 23.5), ("def-456", 1013.2)]),
    );
    assert_eq!(outcome.stored.len(), 2);
    let expected = concat!(
        r#"{"type":"datapoints_batch","datapoints":["#,
        r#"{"value":23.5,"event_public_id":"abc-123","timestamp":"2025-01-15T14:30:00.123456+00:00","experiment_public_id":"exp-001"},"#,
        r#"{"value":1013.2,"event_public_id":"def-456","timestamp":"2025-01-15T14:30:00.123456+00:00","experiment_public_id":"exp-001"}"#,
        "]}"
    );
    for s in &mut streams {
        assert_eq!(texts(s), [expected]);
    }
}

#[test]
fn without_an_experiment_the_id_is_null() {
    let mut hub = hub();
    hub.start_experiment("exp-001");
    assert_eq!(hub.stop_experiment(), Some("exp-001".into()));
    let outcome = hub.ingest(
        at(0),
        &[Datapoint::new("abc-123", Reading::new(1.0).unwrap())],
    );
    let text = outcome.broadcast.unwrap().message_text();
    assert!(text.contains(r#""experiment_public_id":null"#), "{text}");
    assert_eq!(outcome.stored[0].experiment_public_id, None);
}

#[test]
fn unknown_events_are_dropped_silently() {
    let mut hub = hub();
    let mut c = controller();
    let mut streams = [stream()];
    let outcome = deliver(
        &mut hub,
        &mut c,
        &mut streams,
        at(0),
        &batch_json(&[("nobody-knows", 1.0), ("abc-123", 2.0)]),
    );
    assert_eq!((outcome.stored.len(), outcome.dropped), (1, 1));
    let only_unknown = deliver(
        &mut hub,
        &mut c,
        &mut streams,
        at(500),
        &batch_json(&[("nobody-knows", 1.0)]),
    );
    assert_eq!((only_unknown.stored.len(), only_unknown.dropped), (0, 1));
    assert_eq!(only_unknown.broadcast, None, "nothing stored, nothing sent");
    assert_eq!(
        texts(&mut streams[0]).len(),
        1,
        "only the first batch was broadcast"
    );
}

#[test]
fn events_without_an_enabled_plugin_are_dropped_until_enabled() {
    let mut hub = hub();
    let id = EventPublicId::from("abc-123");
    assert!(hub.set_enabled(&id, false));
    let dp = [Datapoint::new("abc-123", Reading::new(1.0).unwrap())];
    assert_eq!(hub.ingest(at(0), &dp).dropped, 1);
    assert!(hub.set_enabled(&id, true));
    assert_eq!(hub.ingest(at(1), &dp).stored.len(), 1);
    assert!(!hub.set_enabled(&"other".into(), true));
    assert!(hub.remove_event(&id).is_some());
    assert_eq!(hub.ingest(at(2), &dp).dropped, 1);
}

#[test]
fn broadcast_is_throttled_to_one_per_event_per_200_ms_across_controllers() {
    let mut hub = hub();
    let (mut c1, mut c2) = (controller(), controller());
    let mut streams = [stream()];
    let one = |e: &str, v: f64| batch_json(&[(e, v)]);

    let first = deliver(&mut hub, &mut c1, &mut streams, at(0), &one("abc-123", 1.0));
    assert!(first.broadcast.is_some());
    // Another controller, 199 ms later: stored, not broadcast.
    let second = deliver(
        &mut hub,
        &mut c2,
        &mut streams,
        at(199),
        &one("abc-123", 2.0),
    );
    assert_eq!((second.stored.len(), second.throttled), (1, 1));
    assert_eq!(second.broadcast, None);
    // Another event is not held back by the first one's throttle.
    let other = deliver(
        &mut hub,
        &mut c2,
        &mut streams,
        at(199),
        &one("def-456", 3.0),
    );
    assert!(other.broadcast.is_some());
    // 200 ms after the last broadcast of abc-123: sent, and only the new value.
    let third = deliver(
        &mut hub,
        &mut c1,
        &mut streams,
        at(200),
        &one("abc-123", 4.0),
    );
    let sent = third.broadcast.unwrap();
    assert_eq!(sent.datapoints.len(), 1);
    assert_eq!(sent.datapoints[0].value.get(), 4.0);

    let values: Vec<f64> = texts(&mut streams[0])
        .iter()
        .flat_map(|t| match ServerMessage::decode(t).unwrap() {
            ServerMessage::DatapointsBatch(b) => b.datapoints,
            other => panic!("{other:?}"),
        })
        .map(|d| d.value.get())
        .collect();
    assert_eq!(values, [1.0, 3.0, 4.0], "the throttled 2.0 is never sent");
    assert_eq!(hub.stored_count(), 4, "throttled values are stored");
}

#[test]
fn throttle_is_decided_per_event_per_batch() {
    let mut hub = hub();
    hub.ingest(
        at(0),
        &[Datapoint::new("abc-123", Reading::new(0.0).unwrap())],
    );
    let batch: Vec<Datapoint> = [
        ("abc-123", 1.0),
        ("def-456", 2.0),
        ("abc-123", 3.0),
        ("def-456", 4.0),
    ]
    .iter()
    .map(|(e, v)| Datapoint::new(*e, Reading::new(*v).unwrap()))
    .collect();
    let outcome = hub.ingest(at(100), &batch);
    let sent = outcome.broadcast.unwrap();
    assert_eq!(
        sent.datapoints
            .iter()
            .map(|d| d.value.get())
            .collect::<Vec<_>>(),
        [2.0, 4.0],
        "every reading of a passing event, none of a throttled one"
    );
    assert_eq!(outcome.throttled, 2);
    assert!(
        outcome
            .stored
            .iter()
            .all(|r| r.timestamp.as_str() == "2025-01-15T14:30:00.223456+00:00")
    );
}

#[test]
fn latest_holds_the_last_stored_value_per_event() {
    let mut hub = hub();
    let dp = |e: &str, v: f64| Datapoint::new(e, Reading::new(v).unwrap());
    hub.ingest(
        at(0),
        &[dp("abc-123", 1.0), dp("abc-123", 2.0), dp("def-456", 3.0)],
    );
    hub.ingest(at(50), &[dp("abc-123", 5.0)]);
    let latest = hub.latest();
    let summary: Vec<(&str, f64, &str)> = latest
        .0
        .iter()
        .map(|r| {
            (
                r.event_public_id.as_str(),
                r.value.get(),
                r.timestamp.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("abc-123", 5.0, "2025-01-15T14:30:00.173456+00:00"),
            ("def-456", 3.0, "2025-01-15T14:30:00.123456+00:00"),
        ],
        "a throttled value still updates the latest"
    );
    let ids: std::collections::HashSet<&str> =
        latest.0.iter().map(|r| r.public_id.as_str()).collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(
        latest.0[0].public_id,
        "00000000-0000-4000-8000-000000000004"
    );
}

#[test]
fn webhooks_are_throttled_per_sensor_and_rules_see_the_last_value() {
    let mut hub = hub();
    let dp = |e: &str, v: f64| Datapoint::new(e, Reading::new(v).unwrap());
    let first = hub.ingest(
        at(0),
        &[dp("abc-123", 1.0), dp("def-456", 2.0), dp("abc-123", 3.0)],
    );
    assert_eq!(first.webhooks, [dp("abc-123", 1.0), dp("def-456", 2.0)]);
    assert_eq!(first.rule_checks, [dp("abc-123", 3.0), dp("def-456", 2.0)]);
    assert!(
        hub.ingest(at(4_999), &[dp("abc-123", 4.0)])
            .webhooks
            .is_empty()
    );
    assert_eq!(
        hub.ingest(at(5_000), &[dp("abc-123", 5.0)]).webhooks.len(),
        1
    );
}

#[test]
fn events_are_listed_in_pages() {
    let hub = hub();
    let page = hub.events_page(1, 2);
    assert_eq!((page.page, page.page_size, page.total), (1, 2, 3));
    assert_eq!(
        page.data
            .iter()
            .map(|e| e.public_id.as_str())
            .collect::<Vec<_>>(),
        ["abc-123", "def-456"]
    );
    assert_eq!(page.data[0].enabled, Some(true));
    assert_eq!(hub.events_page(2, 2).data.len(), 1);
    assert!(hub.events_page(3, 2).data.is_empty());
    assert_eq!(hub.events_page(0, 0).page_size, 1);
    assert_eq!(hub.events().count(), 3);
}

#[test]
fn hub_intervals_are_configurable() {
    let mut hub = IngestHub::with_intervals(Duration::from_secs(1), Duration::ZERO);
    hub.register_event(event("abc-123"), true);
    let dp = [Datapoint::new("abc-123", Reading::new(1.0).unwrap())];
    assert!(hub.ingest(at(0), &dp).broadcast.is_some());
    assert!(hub.ingest(at(999), &dp).broadcast.is_none());
    assert_eq!(hub.ingest(at(999), &dp).webhooks.len(), 1);
    assert!(hub.ingest(at(1_000), &dp).broadcast.is_some());
}

#[test]
fn sessions_are_send() {
    fn send<T: Send>() {}
    send::<ControllerSession>();
    send::<StreamSession>();
    send::<IngestHub>();
}
