//! "Connection Process" step 2 (authentication) and the auth gate of the specs README.

use super::*;

#[test]
fn a_message_before_auth_is_refused() {
    let mut s = open(Endpoint::Primary);
    send(
        &mut s,
        at_ms(0),
        json!({"type": "subscribe", "channel": "telemetry"}),
    );
    assert_eq!(error_code(&mut s), "not_authenticated");
    send(
        &mut s,
        at_ms(1),
        json!({"type": "unsubscribe", "channel": "telemetry"}),
    );
    assert_eq!(error_code(&mut s), "not_authenticated");
    assert_eq!(
        events(&mut s),
        vec![
            Event::Violation(Violation::NotAuthenticated {
                message_type: "subscribe"
            }),
            Event::Violation(Violation::NotAuthenticated {
                message_type: "unsubscribe"
            }),
        ]
    );
    assert_eq!(s.subscriptions().count(), 0, "nothing was subscribed");
    assert!(!s.is_closed());
    assert_eq!(
        s.offer(at_ms(2), &telemetry(1, &[("t", 1.0)])),
        Offer::NotAuthenticated
    );
}

#[test]
fn ping_is_answered_before_auth_echoing_its_timestamp() {
    let mut s = open(Endpoint::Primary);
    send(
        &mut s,
        at_ms(0),
        json!({"type": "ping", "timestamp": "2024-01-01T12:00:00Z"}),
    );
    send(&mut s, at_ms(1), json!({"type": "ping"}));
    assert_eq!(
        wire(&mut s),
        vec![
            json!({"type": "pong", "timestamp": "2024-01-01T12:00:00Z",
                   "server_time": "2024-01-01T12:00:00Z"}),
            json!({"type": "pong", "server_time": "2024-01-01T12:00:00Z"}),
        ]
    );
}

#[test]
fn a_valid_token_gets_a_successful_auth_response() {
    let mut s = open(Endpoint::Primary);
    send(&mut s, at_ms(0), json!({"type": "auth", "token": "good"}));
    assert_eq!(
        wire(&mut s),
        vec![json!({"type": "auth_response", "success": true})]
    );
    let evs = events(&mut s);
    assert!(matches!(&evs[..], [Event::Authenticated(p)] if p.subject == "demo"));
    assert_eq!(s.principal().map(|p| p.subject.as_str()), Some("demo"));
}

#[test]
fn a_refused_token_gets_invalid_token_and_the_client_may_retry() {
    let mut s = open(Endpoint::Primary);
    for (token, rejection) in [
        ("forged", TokenRejection::Invalid),
        ("old", TokenRejection::Expired),
        ("", TokenRejection::Missing),
    ] {
        send(&mut s, at_ms(0), json!({"type": "auth", "token": token}));
        assert_eq!(
            wire(&mut s),
            vec![
                json!({"type": "auth_response", "success": false, "error": "invalid_token",
                        "message": format!("token refused: {rejection}")})
            ]
        );
        assert_eq!(
            events(&mut s),
            vec![Event::Violation(Violation::InvalidToken(rejection))]
        );
    }
    assert!(!s.is_closed() && s.principal().is_none());
    send(&mut s, at_ms(1), json!({"type": "auth", "token": "good"}));
    assert_eq!(
        wire(&mut s),
        vec![json!({"type": "auth_response", "success": true})]
    );
}

#[test]
fn a_second_auth_is_refused() {
    let mut s = authed(Endpoint::Primary);
    send(
        &mut s,
        at_ms(1),
        json!({"type": "auth", "token": "alice-token"}),
    );
    assert_eq!(error_code(&mut s), "already_authenticated");
    assert_eq!(s.principal().map(|p| p.subject.as_str()), Some("demo"));
}
