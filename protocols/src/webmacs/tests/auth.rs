//! "Authentication": the 1008 close and its four reasons, on both endpoints.

use super::*;

fn assert_refused<S: ServerSession>(mut s: S, reason: &str, refused: impl Fn(S::Event) -> bool) {
    assert!(s.is_closed());
    assert_eq!(
        s.poll_transmit(),
        Some(Outbound::Close(Close::new(
            CloseCode::POLICY_VIOLATION,
            reason
        )))
    );
    assert_eq!(s.poll_transmit(), None, "the close is the only frame");
    assert!(refused(s.poll_event().unwrap()));
    s.handle_frame(at(1), Inbound::Text(r#"{"type":"ping"}"#));
    assert_eq!(
        s.poll_transmit(),
        None,
        "input after the close is discarded"
    );
    assert!(s.poll_event().is_none());
}

fn check_both_endpoints(token: Option<&str>, now: Timestamp, reason: &str) {
    let v = verifier();
    assert_refused(
        ControllerSession::connect(token, &*v, now),
        reason,
        |e| matches!(e, ControllerEvent::Refused(v) if v.close_reason() == Some(reason)),
    );
    assert_refused(
        StreamSession::connect(token, &*v, now),
        reason,
        |e| matches!(e, StreamEvent::Refused(v) if v.close_reason() == Some(reason)),
    );
}

#[test]
fn missing_token_closes_with_authentication_required() {
    check_both_endpoints(None, at(0), "Authentication required");
    check_both_endpoints(Some(""), at(0), "Authentication required");
}

#[test]
fn undecodable_token_closes_with_invalid_or_expired() {
    check_both_endpoints(Some("not-a-jwt"), at(0), "Invalid or expired token");
}

#[test]
fn expired_token_closes_with_invalid_or_expired() {
    let v = verifier();
    assert!(!StreamSession::connect(Some("short-jwt"), &*v, at(999)).is_closed());
    check_both_endpoints(Some("short-jwt"), at(1_000), "Invalid or expired token");
}

#[test]
fn revoked_token_closes_with_token_has_been_revoked() {
    check_both_endpoints(Some("logged-out-jwt"), at(0), "Token has been revoked");
}

#[test]
fn deleted_user_closes_with_user_not_found() {
    check_both_endpoints(Some("orphan-jwt"), at(0), "User not found");
}

#[test]
fn close_reasons_are_recognised_by_clients() {
    for violation in [
        Violation::AuthenticationRequired,
        Violation::InvalidOrExpiredToken,
        Violation::TokenRevoked,
        Violation::UserNotFound,
    ] {
        let Response::Close(close) = violation.response() else {
            panic!("auth failures close")
        };
        assert_eq!(close.code, CloseCode::POLICY_VIOLATION);
        assert_eq!(Violation::from_close(&close), Some(violation.clone()));
        assert!(!violation.keeps_open());
    }
    let wrong_code = Close::new(CloseCode::NORMAL, "User not found");
    assert_eq!(Violation::from_close(&wrong_code), None);
    let wrong_reason = Close::new(CloseCode::POLICY_VIOLATION, "user not found");
    assert_eq!(Violation::from_close(&wrong_reason), None);
}

#[test]
fn accepted_token_names_the_principal() {
    let s = controller();
    assert_eq!(s.principal().unwrap().subject, "controller@lab");
    assert!(!s.is_closed());
    assert_eq!(s.poll_timeout(), None, "no documented timer");
}
