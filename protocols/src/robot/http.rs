//! The robot's HTTP side (specs README, Robot): `GET /api/v1/auth/` with `X-API-Key` → `{"token"}`.

use std::collections::HashMap;

use serde::Deserialize;
use serde::Serialize;

use super::error::DecodeError;

/// The token endpoint: `GET` with the [`API_KEY_HEADER`] header (SHOULD: the official
/// client's; the path is a simulator setting).
pub const AUTH_PATH: &str = "/api/v1/auth/";

/// The header carrying the API key.
pub const API_KEY_HEADER: &str = "X-API-Key";

/// The WebSocket paths: `/wss` as robot.txt prints it (MUST), and `/`, where the official
/// client connects (SHOULD).
pub const WS_PATHS: [&str; 2] = ["/wss", "/"];

/// The query parameter carrying the JWT (MUST).
pub const TOKEN_PARAM: &str = "token";

/// HTTP 401 Unauthorized: the status of every refused credential (MUST for the token).
pub const STATUS_UNAUTHORIZED: u16 = 401;

/// HTTP 503 Service Unavailable: the server holds all the connections it accepts (MAY).
pub const STATUS_UNAVAILABLE: u16 = 503;

/// The token endpoint's success body: `{"token": "<JWT>"}` (SHOULD).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TokenResponse {
    /// The JWT to pass as `?token=`.
    pub token: String,
}

impl TokenResponse {
    /// Decodes the body.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        Ok(crate::codec::decode_json(text)?)
    }

    /// Appends the compact JSON encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        crate::codec::encode_json(self, out);
    }

    /// The compact JSON encoding as text.
    pub fn to_text(&self) -> String {
        crate::codec::encode_json_string(self)
    }
}

/// The body of a 401 (or 503): `{"detail": "<why>"}` (MAY: the shape FastAPI gives its
/// `HTTPException`s; the document shows none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// Why the request was refused.
    pub detail: String,
}

impl ErrorBody {
    /// A body saying `detail`.
    pub fn new(detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
        }
    }

    /// Decodes the body.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        Ok(crate::codec::decode_json(text)?)
    }

    /// Appends the compact JSON encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        crate::codec::encode_json(self, out);
    }

    /// The compact JSON encoding as text.
    pub fn to_text(&self) -> String {
        crate::codec::encode_json_string(self)
    }
}

/// Why `GET /api/v1/auth/` refused to issue a token: HTTP 401 either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ApiKeyRejection {
    /// No `X-API-Key` header, or an empty one.
    #[error("missing X-API-Key header")]
    Missing,
    /// The key is not one the server knows.
    #[error("invalid API key")]
    Invalid,
}

impl ApiKeyRejection {
    /// The HTTP status: 401.
    pub fn status(self) -> u16 {
        STATUS_UNAUTHORIZED
    }

    /// The response body.
    pub fn body(self) -> ErrorBody {
        ErrorBody::new(self.to_string())
    }
}

/// The API keys a server accepts, each naming the subject its tokens speak for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiKeys {
    keys: HashMap<String, String>,
}

impl ApiKeys {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key` for `subject`.
    pub fn with(mut self, key: &str, subject: &str) -> Self {
        self.insert(key, subject);
        self
    }

    /// Adds `key` for `subject`.
    pub fn insert(&mut self, key: &str, subject: &str) {
        self.keys.insert(key.to_owned(), subject.to_owned());
    }

    /// Removes `key`; returns whether it was known.
    pub fn remove(&mut self, key: &str) -> bool {
        self.keys.remove(key).is_some()
    }

    /// Checks the presented `X-API-Key` value: the subject to issue a token for, or why not.
    /// The application signs the token and answers [`TokenResponse`].
    pub fn check(&self, presented: Option<&str>) -> Result<&str, ApiKeyRejection> {
        let key = presented
            .filter(|k| !k.is_empty())
            .ok_or(ApiKeyRejection::Missing)?;
        self.keys
            .get(key)
            .map(String::as_str)
            .ok_or(ApiKeyRejection::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_issue_for_known_keys_only() {
        let keys = ApiKeys::new().with("demo", "robot-operator");
        assert_eq!(keys.check(Some("demo")), Ok("robot-operator"));
        assert_eq!(keys.check(None), Err(ApiKeyRejection::Missing));
        assert_eq!(keys.check(Some("")), Err(ApiKeyRejection::Missing));
        assert_eq!(keys.check(Some("Demo")), Err(ApiKeyRejection::Invalid));
        let rejection = ApiKeyRejection::Invalid;
        assert_eq!(rejection.status(), 401);
        assert_eq!(
            rejection.body().to_text(),
            r#"{"detail":"invalid API key"}"#
        );
        let mut keys = keys;
        assert!(keys.remove("demo"));
        assert_eq!(keys.check(Some("demo")), Err(ApiKeyRejection::Invalid));
    }

    #[test]
    fn bodies_refuse_unknown_fields_and_say_where() {
        assert_eq!(
            TokenResponse::decode(r#"{"token":"abc"}"#),
            Ok(TokenResponse {
                token: "abc".into()
            })
        );
        let err = TokenResponse::decode("{\n\"token\":\"abc\",\"exp\":1}").unwrap_err();
        let DecodeError::Json(json) = &err else {
            panic!("a JSON error: {err:?}");
        };
        assert_eq!(json.line, 2);
        assert!(json.message.contains("unknown field `exp`"), "{err}");
        assert!(ErrorBody::decode(r#"{"detail":5}"#).is_err());
    }
}
