//! "Connection Limits", and a client and a server session talking in memory.

use super::*;

#[test]
fn over_the_total_cap_the_session_starts_closed_with_1013() {
    let registry = ConnectionRegistry::new(CapConfig {
        total: Some(1),
        per_user: None,
        rate: None,
    });
    let first = ValtronicsSession::new(at_ms(0), Endpoint::Primary, verifier(), &registry);
    let mut second = ValtronicsSession::new(at_ms(0), Endpoint::Primary, verifier(), &registry);
    assert!(!first.is_closed());
    assert!(second.is_closed());
    let frames = wire(&mut second);
    assert_eq!(frames[0]["error"], "connection_limit");
    assert_eq!(
        frames[1],
        json!({"close": 1013, "reason": "connection limit reached"})
    );
    assert_eq!(
        events(&mut second),
        vec![Event::Violation(Violation::ConnectionLimit(
            CapExceeded::Total(1)
        ))]
    );
    drop(first);
    assert_eq!(registry.active(), 0);
}

#[test]
fn over_a_users_cap_auth_is_refused_and_the_connection_closed_with_1008() {
    let registry = ConnectionRegistry::new(CapConfig {
        total: None,
        per_user: Some(1),
        rate: None,
    });
    let mut first = ValtronicsSession::new(at_ms(0), Endpoint::Primary, verifier(), &registry);
    send(
        &mut first,
        at_ms(0),
        json!({"type": "auth", "token": "good"}),
    );
    let mut second = ValtronicsSession::new(at_ms(0), Endpoint::Primary, verifier(), &registry);
    send(
        &mut second,
        at_ms(1),
        json!({"type": "auth", "token": "good"}),
    );
    assert_eq!(
        wire(&mut second),
        vec![
            json!({"type": "auth_response", "success": false, "error": "connection_limit",
                   "message": "maximum of 1 concurrent connections per user reached"}),
            json!({"close": 1008, "reason": "connection limit reached"}),
        ]
    );
    assert!(second.is_closed() && second.principal().is_none());
    let mut other_user = ValtronicsSession::new(at_ms(0), Endpoint::Primary, verifier(), &registry);
    send(
        &mut other_user,
        at_ms(1),
        json!({"type": "auth", "token": "alice-token"}),
    );
    assert_eq!(wire(&mut other_user)[0]["success"], true);
    assert_eq!(
        registry.active(),
        2,
        "the refused connection released its place on close"
    );
}

#[test]
fn the_eleventh_new_connection_of_a_user_within_a_minute_is_refused() {
    let registry = ConnectionRegistry::documented();
    for i in 0..10 {
        let mut s = ValtronicsSession::new(at_s(i), Endpoint::Primary, verifier(), &registry);
        send(&mut s, at_s(i), json!({"type": "auth", "token": "good"}));
        assert_eq!(wire(&mut s)[0]["success"], true);
    }
    let mut s = ValtronicsSession::new(at_s(30), Endpoint::Primary, verifier(), &registry);
    send(&mut s, at_s(30), json!({"type": "auth", "token": "good"}));
    let frames = wire(&mut s);
    assert_eq!(frames[0]["error"], "connection_limit");
    assert_eq!(frames[1]["close"], 1008);
    let mut later = ValtronicsSession::new(at_s(60), Endpoint::Primary, verifier(), &registry);
    send(
        &mut later,
        at_s(60),
        json!({"type": "auth", "token": "good"}),
    );
    assert_eq!(wire(&mut later)[0]["success"], true);
}

#[test]
fn closing_or_dropping_a_session_releases_its_place() {
    let registry = ConnectionRegistry::documented();
    let mut s = ValtronicsSession::new(at_ms(0), Endpoint::Primary, verifier(), &registry);
    send(&mut s, at_ms(0), json!({"type": "auth", "token": "good"}));
    assert_eq!((registry.active(), registry.active_for("demo")), (1, 1));
    s.handle_frame(at_ms(1), Inbound::Binary(&[0]));
    assert_eq!((registry.active(), registry.active_for("demo")), (0, 0));
    let t = ValtronicsSession::new(at_ms(2), Endpoint::Primary, verifier(), &registry);
    assert_eq!(registry.active(), 1);
    drop(t);
    assert_eq!(registry.active(), 0);
}

#[test]
fn sessions_are_send_and_never_set_a_timer() {
    fn assert_send<T: Send>() {}
    assert_send::<ValtronicsSession>();
    assert_send::<ValtronicsClient>();
    let mut s = authed(Endpoint::Primary);
    assert_eq!(s.poll_timeout(), None);
    s.handle_timeout(at_s(100));
    assert_eq!(wire(&mut s), Vec::<Value>::new());
}

#[test]
fn a_client_and_a_server_session_talk_in_memory() {
    let mut server = open(Endpoint::Primary);
    let mut client = ValtronicsClient::new("good", FilterStyle::Nested);
    client.subscribe(
        Channel::TELEMETRY,
        Filters::none()
            .with_device(DeviceId(1))
            .with_frequency(Frequency::every(Duration::from_secs(30))),
    );
    let pump = |client: &mut ValtronicsClient, server: &mut ValtronicsSession, now| {
        for _ in 0..3 {
            while let Some(Outbound::Text(text)) = client.poll_transmit() {
                server.handle_frame(now, Inbound::Text(&text));
            }
            while let Some(Outbound::Text(text)) = server.poll_transmit() {
                client.handle_frame(now, Inbound::Text(&text));
            }
        }
    };
    pump(&mut client, &mut server, at_ms(0));
    assert_eq!(client.auth_state(), AuthState::Authenticated);
    assert_eq!(client.poll_event(), Some(ClientEvent::Authenticated));
    assert!(matches!(
        client.poll_event(),
        Some(ClientEvent::Message(ServerMessage::Subscribed(_)))
    ));
    let update = telemetry(1, &[("temperature", 23.5)]);
    assert_eq!(server.offer(at_ms(1), &update), Offer::Sent);
    assert_eq!(
        server.offer(at_s(2), &update),
        Offer::Filtered,
        "30s frequency"
    );
    pump(&mut client, &mut server, at_ms(1));
    assert_eq!(client.poll_event(), Some(ClientEvent::Message(update)));
    assert_eq!(client.poll_event(), None);
}
