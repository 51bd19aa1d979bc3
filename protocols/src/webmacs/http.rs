//! HTTP bodies behind "Authentication" and "Frontend Fallback Strategy": login, logout, latest datapoints, events, errors.
//!
//! The document names the REST endpoints its WebSocket clients depend on; the shapes here
//! follow the specs README and the backend's schemas. Every type has the codec's
//! `decode` / `encode` / `to_text`.

use serde::Deserialize;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth::Principal;
use crate::auth::TokenRejection;
use crate::auth::TokenVerifier;
use crate::codec::encode_json;
use crate::codec::encode_json_string;
use crate::time::Timestamp;

use super::error::DecodeError;
use super::timestamp::IsoTimestamp;
use super::values::EventKind;
use super::values::EventPublicId;
use super::values::ExperimentPublicId;
use super::values::Reading;
use super::wire::decode_object;
use super::wire::object_list;

/// `POST`: exchanges e-mail and password for a JWT.
pub const LOGIN_PATH: &str = "/api/v1/auth/login";
/// `POST` with `Authorization: Bearer`: revokes the presented token.
pub const LOGOUT_PATH: &str = "/api/v1/auth/logout";
/// `GET` with `Authorization: Bearer`: one latest datapoint per event.
pub const LATEST_DATAPOINTS_PATH: &str = "/api/v1/datapoints/latest";
/// `GET` with `Authorization: Bearer`: the event list, paginated.
pub const EVENTS_PATH: &str = "/api/v1/events";

/// 401: the bearer token is missing or refused, or the credentials are wrong.
pub const STATUS_UNAUTHORIZED: u16 = 401;

macro_rules! json_body {
    ($name:ident $(<$t:ident>)?) => {
        impl$(<$t: Serialize + DeserializeOwned>)? $name$(<$t>)? {
            /// Decodes a JSON body.
            pub fn decode(text: &str) -> Result<Self, DecodeError> {
                decode_object(text)
            }

            /// Appends the compact JSON encoding to `out`.
            pub fn encode(&self, out: &mut Vec<u8>) {
                encode_json(self, out);
            }

            /// The compact JSON encoding.
            pub fn to_text(&self) -> String {
                encode_json_string(self)
            }
        }
    };
}

/// `POST /api/v1/auth/login` request: `{"email": "...", "password": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LoginRequest {
    /// The user's e-mail address.
    pub email: String,
    /// The password.
    pub password: String,
}

json_body!(LoginRequest);

/// `POST /api/v1/auth/login` success: `{"access_token": "...", "token_type": "bearer", ...}`.
///
/// Only `access_token` is required. This server sends `token_type`, `status` and
/// `message`; the backend's own `public_id` and `username` are accepted and kept. Absent
/// optional fields are not written (`refresh_token` does not exist).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LoginResponse {
    /// The JWT for `?token=` and `Authorization: Bearer`.
    pub access_token: String,
    /// `"bearer"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// `"success"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `"Successfully logged in."`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The user's public id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_id: Option<String>,
    /// The user's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

json_body!(LoginResponse);

impl LoginResponse {
    /// What this server answers: the token, `token_type: "bearer"`, `status: "success"`
    /// and `message: "Successfully logged in."`.
    pub fn bearer(access_token: impl Into<String>) -> Self {
        Self {
            access_token: access_token.into(),
            token_type: Some("bearer".to_owned()),
            status: Some("success".to_owned()),
            message: Some("Successfully logged in.".to_owned()),
            public_id: None,
            username: None,
        }
    }
}

/// `{"status": "success", "message": "..."}`: the logout response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StatusResponse {
    /// `"success"`.
    pub status: String,
    /// What was done.
    pub message: String,
}

json_body!(StatusResponse);

impl StatusResponse {
    /// `POST /api/v1/auth/logout` success: the token is revoked from now on.
    pub fn logged_out() -> Self {
        Self {
            status: "success".to_owned(),
            message: "Successfully logged out.".to_owned(),
        }
    }
}

/// One persisted datapoint: an item of `GET /api/v1/datapoints/latest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DatapointRecord {
    /// The datapoint's own public id.
    pub public_id: String,
    /// The reading.
    pub value: Reading,
    /// When it was persisted.
    pub timestamp: IsoTimestamp,
    /// Its Event.
    pub event_public_id: EventPublicId,
    /// The experiment active when it was persisted, or `null`.
    pub experiment_public_id: Option<ExperimentPublicId>,
}

json_body!(DatapointRecord);

/// `GET /api/v1/datapoints/latest` response: a JSON array, one record per event.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct LatestDatapoints(#[serde(deserialize_with = "object_list")] pub Vec<DatapointRecord>);

impl LatestDatapoints {
    /// Decodes the JSON array.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        crate::codec::decode_json(text).map_err(DecodeError::from)
    }

    /// Appends the compact JSON encoding to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_json(self, out);
    }

    /// The compact JSON encoding.
    pub fn to_text(&self) -> String {
        encode_json_string(self)
    }
}

/// An item of `GET /api/v1/events`: the backend's event fields, plus `enabled`.
///
/// `enabled` (MAY, this server's addition) says whether the event has an active plugin
/// linkage, which decides whether the ingest socket accepts its readings; it is omitted
/// when unknown, as the backend omits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EventItem {
    /// The id readings carry in `event_public_id`.
    pub public_id: EventPublicId,
    /// Display name.
    pub name: String,
    /// Lower bound of the expected range.
    pub min_value: Reading,
    /// Upper bound of the expected range.
    pub max_value: Reading,
    /// Unit of the readings (`"°C"`, `"hPa"`, ...).
    pub unit: String,
    /// Sensor, actuator, ...
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// The owner's public id, or `null`.
    pub user_public_id: Option<String>,
    /// Whether readings for this event are accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

json_body!(EventItem);

/// A page of a list endpoint: `{"page", "page_size", "total", "data": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "{T}Page"))]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
pub struct Page<T> {
    /// 1-based page number.
    pub page: u32,
    /// Items per page.
    pub page_size: u32,
    /// Items in the whole list.
    pub total: u64,
    /// This page's items.
    #[serde(deserialize_with = "object_list")]
    pub data: Vec<T>,
}

json_body!(Page<T>);

/// `GET /api/v1/events` response.
pub type EventPage = Page<EventItem>;

/// An HTTP error body, FastAPI style: `{"detail": "..."}`.
///
/// Request-validation failures (422), whose `detail` is a list, are not modelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HttpError {
    /// What went wrong.
    pub detail: String,
}

json_body!(HttpError);

impl HttpError {
    /// An error with `detail`.
    pub fn new(detail: impl Into<String>) -> Self {
        Self {
            detail: detail.into(),
        }
    }

    /// 401 on `POST /api/v1/auth/login`: unknown e-mail or wrong password.
    pub fn invalid_credentials() -> Self {
        Self::new("Invalid email or password")
    }
}

impl From<TokenRejection> for HttpError {
    /// The backend's 401 details for a bearer token (they end with a full stop, unlike
    /// the WebSocket close reasons).
    fn from(rejection: TokenRejection) -> Self {
        Self::new(match rejection {
            TokenRejection::Missing => "Authentication required.",
            TokenRejection::Invalid | TokenRejection::Expired => "Invalid or expired token.",
            TokenRejection::Revoked => "Token has been revoked.",
            TokenRejection::UnknownSubject => "User not found.",
        })
    }
}

/// An HTTP error response: status code and body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("HTTP {status}: {}", error.detail)]
pub struct HttpFailure {
    /// The status code.
    pub status: u16,
    /// The body.
    pub error: HttpError,
}

/// The token of an `Authorization` header value: scheme `Bearer` (any case), one space,
/// a non-empty token. Anything else counts as no credentials.
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The check behind every `Authorization: Bearer` endpoint (logout, latest, events):
/// the principal, or the 401 with the backend's detail.
pub fn authorize_bearer(
    header: Option<&str>,
    verifier: &dyn TokenVerifier,
    now: Timestamp,
) -> Result<Principal, HttpFailure> {
    let outcome = match header.and_then(bearer_token) {
        None => Err(TokenRejection::Missing),
        Some(token) => verifier.verify(token, now),
    };
    outcome.map_err(|rejection| HttpFailure {
        status: STATUS_UNAUTHORIZED,
        error: HttpError::from(rejection),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::TokenTable;

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearer"), None);
    }

    #[test]
    fn bearer_failures_are_401_with_backend_details() {
        let exp = Timestamp::from_unix_secs(100);
        let mut table = TokenTable::new()
            .with("good", "u", exp)
            .with("old", "u", exp);
        table.revoke("old");
        let now = Timestamp::from_unix_secs(1);
        assert_eq!(
            authorize_bearer(Some("Bearer good"), &table, now).map(|p| p.subject),
            Ok("u".to_owned())
        );
        for (header, detail) in [
            (None, "Authentication required."),
            (Some("Token good"), "Authentication required."),
            (Some("Bearer nope"), "Invalid or expired token."),
            (Some("Bearer old"), "Token has been revoked."),
        ] {
            let failure = authorize_bearer(header, &table, now).unwrap_err();
            assert_eq!(failure.status, 401);
            assert_eq!(failure.error.detail, detail);
        }
    }

    #[test]
    fn list_bodies_refuse_arrays_as_items() {
        assert!(LatestDatapoints::decode("[]").unwrap().0.is_empty());
        assert!(LatestDatapoints::decode(r#"[["x", 1.0]]"#).is_err());
        assert!(LatestDatapoints::decode("{}").is_err());
    }
}
