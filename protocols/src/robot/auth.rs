//! robot.txt "Connecting to the WebSocket": the JWT in `?token=`, checked before or after the upgrade.

use crate::auth::Principal;
use crate::auth::TokenRejection;
use crate::auth::TokenVerifier;
use crate::frame::Close;
use crate::frame::CloseCode;
use crate::limits::CapExceeded;
use crate::time::Timestamp;

use super::error::Violation;
use super::http::ErrorBody;
use super::http::STATUS_UNAUTHORIZED;
use super::http::STATUS_UNAVAILABLE;
use super::http::TOKEN_PARAM;

/// Why a connection is refused at connect time.
///
/// The specs README lets a server refuse a bad token either way (MUST: one of them):
/// before the upgrade with [`Rejection::status`] and [`Rejection::body`], or after it with
/// [`Rejection::close`] (what [`super::RobotSession::refused`] transmits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The token is missing, invalid, expired or revoked: 401, or close 1008 (MUST).
    #[error("{0}")]
    Token(TokenRejection),
    /// The server is full: 503, or close 1013 (MAY).
    #[error("{0}")]
    Capacity(CapExceeded),
}

impl Rejection {
    /// The HTTP status for a refusal before the upgrade.
    pub fn status(&self) -> u16 {
        match self {
            Self::Token(_) => STATUS_UNAUTHORIZED,
            Self::Capacity(_) => STATUS_UNAVAILABLE,
        }
    }

    /// The HTTP body for a refusal before the upgrade.
    pub fn body(&self) -> ErrorBody {
        ErrorBody::new(self.to_string())
    }

    /// The violation this refusal is.
    pub fn violation(&self) -> Violation {
        match *self {
            Self::Token(r) => Violation::Token(r),
            Self::Capacity(c) => Violation::Capacity(c),
        }
    }

    /// The close frame for a refusal after the upgrade: 1008 for a token, 1013 for
    /// capacity, with the reason in words.
    pub fn close(&self) -> Close {
        let code = match self {
            Self::Token(_) => CloseCode::POLICY_VIOLATION,
            Self::Capacity(_) => CloseCode::TRY_AGAIN_LATER,
        };
        Close::new(code, self.to_string())
    }
}

impl From<TokenRejection> for Rejection {
    fn from(r: TokenRejection) -> Self {
        Self::Token(r)
    }
}

impl From<CapExceeded> for Rejection {
    fn from(c: CapExceeded) -> Self {
        Self::Capacity(c)
    }
}

/// The `token` parameter of a request's query string (without the leading `?`),
/// percent-decoded; `None` when absent. The first `token` wins.
pub fn token_from_query(query: &str) -> Option<String> {
    crate::urlencoded::query_values(query, TOKEN_PARAM).next()
}

/// Checks the token a client presented at connect, before the upgrade: the principal it
/// speaks for, or the refusal to answer with (HTTP 401 and [`Rejection::body`]).
///
/// A missing or empty token is [`TokenRejection::Missing`].
pub fn authorize(
    token: Option<&str>,
    verifier: &dyn TokenVerifier,
    now: Timestamp,
) -> Result<Principal, Rejection> {
    match token {
        None | Some("") => Err(Rejection::Token(TokenRejection::Missing)),
        Some(token) => verifier.verify(token, now).map_err(Rejection::Token),
    }
}

#[cfg(test)]
mod tests {
    use crate::auth::TokenTable;

    use super::*;

    #[test]
    fn query_token_is_found_and_decoded() {
        assert_eq!(token_from_query("token=abc.def"), Some("abc.def".into()));
        assert_eq!(
            token_from_query("x=1&token=a%2Bb+c&token=second"),
            Some("a+b c".into())
        );
        assert_eq!(token_from_query("tok%65n=v"), Some("v".into()));
        assert_eq!(token_from_query("token"), Some(String::new()));
        assert_eq!(token_from_query("tokens=1&x=token"), None);
        assert_eq!(token_from_query(""), None);
    }

    #[test]
    fn authorize_refuses_missing_and_invalid_tokens_with_401() {
        let table = TokenTable::new().with("good", "demo", Timestamp::from_unix_secs(100));
        let now = Timestamp::from_unix_secs(10);
        assert_eq!(
            authorize(Some("good"), &table, now).map(|p| p.subject),
            Ok("demo".into())
        );
        for (token, why) in [
            (None, TokenRejection::Missing),
            (Some(""), TokenRejection::Missing),
            (Some("bad"), TokenRejection::Invalid),
        ] {
            let rejection = authorize(token, &table, now).unwrap_err();
            assert_eq!(rejection, Rejection::Token(why));
            assert_eq!(rejection.status(), 401);
            assert_eq!(rejection.body(), ErrorBody::new(why.to_string()));
            assert_eq!(
                rejection.close(),
                Close::new(CloseCode::POLICY_VIOLATION, why.to_string())
            );
        }
        let late = authorize(Some("good"), &table, Timestamp::from_unix_secs(100));
        assert_eq!(late, Err(Rejection::Token(TokenRejection::Expired)));
    }

    #[test]
    fn capacity_refusal_is_503_or_1013() {
        let rejection = Rejection::from(CapExceeded::Total(5));
        assert_eq!(rejection.status(), 503);
        assert_eq!(rejection.close().code, CloseCode::TRY_AGAIN_LATER);
        assert_eq!(
            super::super::Response::Close(rejection.close()),
            rejection.violation().response(),
            "the session and the pre-upgrade path agree"
        );
        assert_eq!(
            rejection.body().detail,
            "maximum of 5 concurrent connections reached"
        );
    }
}
