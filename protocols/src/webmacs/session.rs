//! The "Endpoints" and "Authentication" sections: the `?token=` check both endpoints share.
//!
//! Both sessions follow the same life cycle, in the manner of quinn-proto's `Connection`:
//!
//! 1. The driver completes the WebSocket upgrade on [`Endpoint::from_path`], reads the token
//!    with [`token_from_query`] (the `Authorization` header is never consulted), and
//!    constructs the session with that token, the server's verifier (a
//!    [`SharedVerifier`] derefs to one) and `now`. Tokens are checked at connect only, as
//!    the backend does: a token revoked later does not end an open connection.
//! 2. It drains `poll_transmit` at once: on a refused token the only frame is the 1008
//!    close with its documented reason, and `is_closed` is already true; on the stream the
//!    first frame is the `connected` confirmation.
//! 3. For every text or binary message received it calls `handle_frame`, then drains
//!    `poll_transmit` (replies, in order) and `poll_event` (what the application must do).
//! 4. Application inputs (a broadcast for the stream, a shutdown) are inherent methods that
//!    queue frames the same way; drain `poll_transmit` after each.
//! 5. Neither endpoint documents a timer: `poll_timeout` is always `None`.
//!
//! [`SharedVerifier`]: crate::auth::SharedVerifier

use std::collections::VecDeque;

use crate::auth::Principal;
use crate::auth::TokenVerifier;
use crate::frame::Close;
use crate::frame::Outbound;
use crate::time::Timestamp;

use super::error::Violation;
use super::messages::ServerMessage;

/// The two WebSocket endpoints, both under the `/ws/` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `/ws/controller/telemetry`: the controller pushes sensor readings in batches.
    ControllerTelemetry,
    /// `/ws/datapoints/stream`: live dashboard updates.
    DatapointStream,
}

impl Endpoint {
    /// Both endpoints.
    pub const ALL: [Self; 2] = [Endpoint::ControllerTelemetry, Endpoint::DatapointStream];

    /// The request path.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::ControllerTelemetry => "/ws/controller/telemetry",
            Endpoint::DatapointStream => "/ws/datapoints/stream",
        }
    }

    /// The endpoint a request path (without its query) names.
    pub fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.path() == path)
    }

    /// The connection-manager group its clients join (`"controller"` or `"frontend"`).
    pub fn group(self) -> &'static str {
        match self {
            Endpoint::ControllerTelemetry => "controller",
            Endpoint::DatapointStream => "frontend",
        }
    }
}

/// The `token` query parameter of a request's query string (without the `?`),
/// form-decoded. When it appears more than once the last one counts, as in the backend's
/// framework; `token=` yields `Some("")`, which authenticates as "no token".
pub fn token_from_query(query: &str) -> Option<String> {
    crate::urlencoded::query_values(query, "token").last()
}

/// The connect-time check both endpoints make: no token (absent or empty) is
/// "Authentication required"; otherwise the verifier decides and its rejection maps to
/// the documented reason.
pub fn authenticate(
    token: Option<&str>,
    verifier: &dyn TokenVerifier,
    now: Timestamp,
) -> Result<Principal, Violation> {
    match token {
        None | Some("") => Err(Violation::AuthenticationRequired),
        Some(token) => verifier.verify(token, now).map_err(Violation::from),
    }
}

/// What both sessions share: the authenticated principal, the outbound queue and the
/// closed flag.
pub(crate) struct Link {
    principal: Option<Principal>,
    transmits: VecDeque<Outbound>,
    closed: bool,
}

impl Link {
    /// Authenticates at `now`; on failure the close is already queued.
    pub(crate) fn connect(
        token: Option<&str>,
        verifier: &dyn TokenVerifier,
        now: Timestamp,
    ) -> (Self, Result<Principal, Violation>) {
        let outcome = authenticate(token, verifier, now);
        let mut link = Self {
            principal: outcome.as_ref().ok().cloned(),
            transmits: VecDeque::new(),
            closed: false,
        };
        if let Err(violation) = &outcome {
            link.respond(violation);
        }
        (link, outcome)
    }

    pub(crate) fn principal(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }

    /// Queues `message` unless closed; returns whether it was queued.
    pub(crate) fn send(&mut self, message: &ServerMessage) -> bool {
        self.send_text(&message.to_text())
    }

    /// Queues an encoded text message unless closed; returns whether it was queued.
    pub(crate) fn send_text(&mut self, text: &str) -> bool {
        if self.closed {
            return false;
        }
        self.transmits.push_back(Outbound::Text(text.to_owned()));
        true
    }

    /// Queues what the documentation prescribes for `violation`.
    pub(crate) fn respond(&mut self, violation: &Violation) {
        match Outbound::from(violation) {
            Outbound::Close(close) => self.close(close),
            frame => {
                if !self.closed {
                    self.transmits.push_back(frame);
                }
            }
        }
    }

    /// Queues `close` as the last frame; later closes are ignored.
    pub(crate) fn close(&mut self, close: Close) {
        if !self.closed {
            self.transmits.push_back(Outbound::Close(close));
            self.closed = true;
        }
    }

    pub(crate) fn poll_transmit(&mut self) -> Option<Outbound> {
        self.transmits.pop_front()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }
}

/// The token is checked when the socket opens: no principal means it was refused.
pub(crate) fn auth_view(principal: Option<&Principal>) -> crate::session::AuthView {
    match principal {
        Some(p) => crate::session::AuthView::Authenticated(p.subject.clone()),
        None => crate::session::AuthView::Refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_endpoints() {
        for e in Endpoint::ALL {
            assert_eq!(Endpoint::from_path(e.path()), Some(e));
        }
        assert_eq!(Endpoint::from_path("/ws/"), None);
        assert_eq!(Endpoint::DatapointStream.group(), "frontend");
        assert_eq!(Endpoint::ControllerTelemetry.group(), "controller");
    }

    #[test]
    fn query_token_is_form_decoded_and_last_wins() {
        assert_eq!(token_from_query("token=abc"), Some("abc".into()));
        assert_eq!(
            token_from_query("a=1&token=x%2Ey+z&b"),
            Some("x.y z".into())
        );
        assert_eq!(token_from_query("token=1&token=2"), Some("2".into()));
        assert_eq!(token_from_query("token"), Some(String::new()));
        assert_eq!(token_from_query("tok%65n=%zz%4"), Some("%zz%4".into()));
        assert_eq!(token_from_query("tokens=1"), None);
        assert_eq!(token_from_query(""), None);
    }
}
