//! Token endpoint (specs README and "Authentication"): `POST /api/v1/auth/login` bodies.

use serde::Deserialize;
use serde::Serialize;

use super::error::DecodeError;
use crate::codec::decode_json;
use crate::codec::encode_json;
use crate::codec::encode_json_string;

/// The login path.
pub const LOGIN_PATH: &str = "/api/v1/auth/login";

/// Implements `decode` / `encode` / `to_text` for an HTTP body.
macro_rules! json_body {
    ($($ty:ident),* $(,)?) => {
        $(impl $ty {
            /// Decodes the JSON body.
            pub fn decode(text: &str) -> Result<Self, DecodeError> {
                Ok(decode_json(text)?)
            }

            /// Appends the compact JSON encoding to `out`.
            pub fn encode(&self, out: &mut Vec<u8>) {
                encode_json(self, out);
            }

            /// The compact JSON encoding.
            pub fn to_text(&self) -> String {
                encode_json_string(self)
            }
        })*
    };
}

/// `POST /api/v1/auth/login` request body: `{"username": ..., "password": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
}

/// Success (HTTP 200): `{"access_token": "<JWT>", "token_type": "bearer"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LoginResponse {
    /// The JWT to send in `{"type":"auth","token":...}`.
    pub access_token: String,
    /// `bearer`.
    pub token_type: String,
}

impl LoginResponse {
    /// The HTTP status of a successful login.
    pub const STATUS: u16 = 200;

    /// A bearer token response.
    pub fn bearer(access_token: impl Into<String>) -> Self {
        Self {
            access_token: access_token.into(),
            token_type: "bearer".to_owned(),
        }
    }
}

/// Failure body: `{"detail": "Incorrect username or password"}` (the framework-default
/// error body; the document prints none, MAY).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LoginError {
    /// What went wrong.
    pub detail: String,
}

impl LoginError {
    /// The HTTP status for bad credentials.
    pub const UNAUTHORIZED: u16 = 401;
    /// The HTTP status for a body that does not decode as a [`LoginRequest`].
    pub const UNPROCESSABLE: u16 = 422;

    /// The body for a wrong user name or password (HTTP 401).
    pub fn invalid_credentials() -> Self {
        Self {
            detail: "Incorrect username or password".to_owned(),
        }
    }

    /// The body for a request that does not decode (HTTP 422), naming the fault.
    pub fn malformed(error: &DecodeError) -> Self {
        Self {
            detail: format!("invalid login request: {error}"),
        }
    }
}

json_body!(LoginRequest, LoginResponse, LoginError);
