//! Step 1, "Authenticate": `POST /connect/token` (OAuth2 password grant) and its replies.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::Serialize;

use crate::codec::decode_json;
use crate::codec::encode_json;
use crate::codec::encode_json_string;
use crate::time::Timestamp;

use super::error::DecodeError;
use super::form::FormError;
use super::form::decode_form;
use super::form::encode_form;

/// The identity server's token path.
pub const TOKEN_PATH: &str = "/connect/token";
/// The request's content type.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// The documented `client_id`.
pub const CLIENT_ID: &str = "molecule-api";
/// The documented `grant_type`.
pub const GRANT_TYPE_PASSWORD: &str = "password";
/// The documented `token_type`.
pub const TOKEN_TYPE_BEARER: &str = "Bearer";

/// The token request: `username`, `password`, `client_id=molecule-api`,
/// `grant_type=password`, and RFC 6749 §4.3.2's optional `scope`.
///
/// [`TokenRequest::decode`] and [`TokenRequest::encode`] use the form-urlencoded body; the
/// serde derives give the same fields as JSON. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TokenRequest {
    /// The account's user name (an e-mail address in the document's example).
    pub username: String,
    /// The account's password.
    pub password: String,
    /// Must be `molecule-api`.
    pub client_id: String,
    /// Must be `password`.
    pub grant_type: String,
    /// Optional space-separated scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl TokenRequest {
    /// The document's request: the password grant for `molecule-api`.
    pub fn password_grant(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
            client_id: CLIENT_ID.to_owned(),
            grant_type: GRANT_TYPE_PASSWORD.to_owned(),
            scope: None,
        }
    }

    /// Decodes a form-urlencoded body. Unknown parameters are ignored ("The authorization
    /// server MUST ignore unrecognized request parameters", RFC 6749 §3.1); a missing or
    /// repeated one is an error.
    pub fn decode(body: &str) -> Result<Self, DecodeError> {
        let mut username = None;
        let mut password = None;
        let mut client_id = None;
        let mut grant_type = None;
        let mut scope = None;
        for (name, value) in decode_form(body)? {
            let slot = match name.as_str() {
                "username" => &mut username,
                "password" => &mut password,
                "client_id" => &mut client_id,
                "grant_type" => &mut grant_type,
                "scope" => &mut scope,
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(FormError::DuplicateField(name).into());
            }
        }
        let required = |v: Option<String>, name| v.ok_or(FormError::MissingField(name));
        Ok(Self {
            username: required(username, "username")?,
            password: required(password, "password")?,
            client_id: required(client_id, "client_id")?,
            grant_type: required(grant_type, "grant_type")?,
            scope,
        })
    }

    /// Appends the form-urlencoded body to `out`, fields in the document's order.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let fixed = [
            ("username", self.username.as_str()),
            ("password", self.password.as_str()),
            ("client_id", self.client_id.as_str()),
            ("grant_type", self.grant_type.as_str()),
        ];
        let scope = self.scope.as_deref().map(|s| ("scope", s));
        encode_form(fixed.into_iter().chain(scope), out);
    }

    /// The form-urlencoded body.
    pub fn to_text(&self) -> String {
        let mut out = Vec::new();
        self.encode(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Checks the client and the grant type; the credentials are the application's to
    /// check (a wrong password is [`ErrorCode::INVALID_GRANT`]).
    pub fn validate(&self) -> Result<(), OAuthError> {
        if self.client_id != CLIENT_ID {
            return Err(OAuthError::new(ErrorCode::INVALID_CLIENT)
                .with_description(format!("unknown client {:?}", self.client_id)));
        }
        if self.grant_type != GRANT_TYPE_PASSWORD {
            return Err(OAuthError::new(ErrorCode::UNSUPPORTED_GRANT_TYPE)
                .with_description(format!("grant type {:?}", self.grant_type)));
        }
        Ok(())
    }
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("username", &self.username)
            .field("password", &format_args!("<{} bytes>", self.password.len()))
            .field("client_id", &self.client_id)
            .field("grant_type", &self.grant_type)
            .field("scope", &self.scope)
            .finish()
    }
}

/// The success body: `{"access_token", "expires_in", "token_type": "Bearer"}`, plus RFC
/// 6749 §5.1's optional `refresh_token` and `scope`. `Debug` hides the tokens.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TokenResponse {
    /// The JWT to put in the handshake.
    pub access_token: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
    /// `Bearer`.
    pub token_type: String,
    /// A refresh token, when issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The granted scopes, when they differ from those requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl TokenResponse {
    /// A bearer token living `expires_in` seconds.
    pub fn bearer(access_token: impl Into<String>, expires_in: u64) -> Self {
        Self {
            access_token: access_token.into(),
            expires_in,
            token_type: TOKEN_TYPE_BEARER.to_owned(),
            refresh_token: None,
            scope: None,
        }
    }

    /// "expiresAt: Date.now() + data.expires_in * 1000", for a response received at `now`.
    pub fn expires_at(&self, now: Timestamp) -> Timestamp {
        now + Duration::from_secs(self.expires_in)
    }

    /// Decodes the JSON body.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        Ok(decode_json(text)?)
    }

    /// Appends the compact JSON body to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_json(self, out);
    }

    /// The compact JSON body.
    pub fn to_text(&self) -> String {
        encode_json_string(self)
    }
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |s: &str| format!("<{} bytes>", s.len());
        f.debug_struct("TokenResponse")
            .field(
                "access_token",
                &format_args!("{}", hidden(&self.access_token)),
            )
            .field("expires_in", &self.expires_in)
            .field("token_type", &self.token_type)
            .field("refresh_token", &self.refresh_token.as_deref().map(hidden))
            .field("scope", &self.scope)
            .finish()
    }
}

/// An OAuth2 error code (RFC 6749 §5.2). An open set: unknown codes are kept.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct ErrorCode(pub Cow<'static, str>);

impl ErrorCode {
    /// A parameter is missing, repeated or malformed (HTTP 400).
    pub const INVALID_REQUEST: Self = Self(Cow::Borrowed("invalid_request"));
    /// Client authentication failed, for example an unknown `client_id` (HTTP 401).
    pub const INVALID_CLIENT: Self = Self(Cow::Borrowed("invalid_client"));
    /// The credentials are wrong (HTTP 400).
    pub const INVALID_GRANT: Self = Self(Cow::Borrowed("invalid_grant"));
    /// The client may not use this grant type (HTTP 400).
    pub const UNAUTHORIZED_CLIENT: Self = Self(Cow::Borrowed("unauthorized_client"));
    /// The grant type is not `password` (HTTP 400).
    pub const UNSUPPORTED_GRANT_TYPE: Self = Self(Cow::Borrowed("unsupported_grant_type"));
    /// The requested scope is invalid (HTTP 400).
    pub const INVALID_SCOPE: Self = Self(Cow::Borrowed("invalid_scope"));

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The failure body (RFC 6749 §5.2): `{"error": "...", "error_description"?, "error_uri"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[error("{error}{}", .error_description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
pub struct OAuthError {
    /// The error code.
    pub error: ErrorCode,
    /// Human-readable detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// A page describing the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_uri: Option<String>,
}

impl OAuthError {
    /// An error body with only `error`.
    pub fn new(error: ErrorCode) -> Self {
        Self {
            error,
            error_description: None,
            error_uri: None,
        }
    }

    /// The same body with an `error_description`.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.error_description = Some(description.into());
        self
    }

    /// The HTTP status: 401 for `invalid_client`, 400 otherwise (RFC 6749 §5.2).
    pub fn http_status(&self) -> u16 {
        if self.error == ErrorCode::INVALID_CLIENT {
            401
        } else {
            400
        }
    }

    /// Decodes the JSON body.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        Ok(decode_json(text)?)
    }

    /// Appends the compact JSON body to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_json(self, out);
    }

    /// The compact JSON body.
    pub fn to_text(&self) -> String {
        encode_json_string(self)
    }
}

impl From<&DecodeError> for OAuthError {
    /// A request body that does not decode is `invalid_request`, naming the fault.
    fn from(err: &DecodeError) -> Self {
        OAuthError::new(ErrorCode::INVALID_REQUEST).with_description(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_encodes_as_the_document_sends_it() {
        let req = TokenRequest::password_grant("user@example.com", "password");
        assert_eq!(
            req.to_text(),
            "username=user%40example.com&password=password&client_id=molecule-api&grant_type=password"
        );
        assert_eq!(TokenRequest::decode(&req.to_text()), Ok(req));
    }

    #[test]
    fn request_fields_missing_repeated_or_unknown() {
        assert_eq!(
            TokenRequest::decode("username=a&password=b&grant_type=password"),
            Err(DecodeError::Form(FormError::MissingField("client_id")))
        );
        assert_eq!(
            TokenRequest::decode("username=a&username=b"),
            Err(DecodeError::Form(FormError::DuplicateField(
                "username".into()
            )))
        );
        let req = TokenRequest::decode(
            "extra=1&username=a&password=&client_id=molecule-api&grant_type=password&scope=x+y",
        )
        .unwrap();
        assert_eq!(req.password, "");
        assert_eq!(req.scope.as_deref(), Some("x y"));
    }

    #[test]
    fn validation_maps_to_rfc6749_errors() {
        let mut req = TokenRequest::password_grant("a", "b");
        assert_eq!(req.validate(), Ok(()));
        req.grant_type = "client_credentials".into();
        let err = req.validate().unwrap_err();
        assert_eq!(err.error, ErrorCode::UNSUPPORTED_GRANT_TYPE);
        assert_eq!(err.http_status(), 400);
        req.client_id = "other".into();
        let err = req.validate().unwrap_err();
        assert_eq!(err.error, ErrorCode::INVALID_CLIENT);
        assert_eq!(err.http_status(), 401);
        let bad = TokenRequest::decode("username=%").unwrap_err();
        let err = OAuthError::from(&bad);
        assert_eq!(err.error, ErrorCode::INVALID_REQUEST);
        assert!(
            err.to_string()
                .starts_with("invalid_request: invalid form body")
        );
    }

    #[test]
    fn responses_and_secrets() {
        let resp = TokenResponse::bearer("eyJ.secret.sig", 3600);
        assert_eq!(
            resp.to_text(),
            r#"{"access_token":"eyJ.secret.sig","expires_in":3600,"token_type":"Bearer"}"#
        );
        assert_eq!(
            resp.expires_at(Timestamp::from_unix_secs(10)),
            Timestamp::from_unix_secs(3610)
        );
        assert!(!format!("{resp:?}").contains("secret"));
        let req = TokenRequest::password_grant("u", "hunter2");
        assert!(!format!("{req:?}").contains("hunter2"));
    }

    #[test]
    fn error_bodies_keep_unknown_codes() {
        let err = OAuthError::decode(r#"{"error":"temporarily_unavailable"}"#).unwrap();
        assert_eq!(err.error.as_str(), "temporarily_unavailable");
        assert_eq!(err.to_text(), r#"{"error":"temporarily_unavailable"}"#);
        assert!(OAuthError::decode(r#"{"error_description":"x"}"#).is_err());
    }
}
