//! HTTP Authentication: `POST /authenticate` and its bodies.
//!
//! The request body is JSON `{"username","password"}` or the same fields
//! `application/x-www-form-urlencoded`; success is `{"token":"<JWT>"}`; bad credentials get
//! HTTP 401. The failure body is not documented (level MAY): this module defines
//! `{"error": code, "message": text}`.

use serde::Deserialize;
use serde::Serialize;

use crate::codec::decode_json;
use crate::codec::decode_json_bytes;
use crate::codec::encode_json;
use crate::codec::encode_json_string;

use super::error::DecodeError;

/// The endpoint that issues tokens.
pub const AUTHENTICATE_PATH: &str = "/authenticate";

/// The form content type.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// `POST /authenticate` body. Members other than these two are ignored, as HTTP form
/// handlers do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuthenticateRequest {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
}

impl AuthenticateRequest {
    /// Decodes a JSON body.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        Ok(decode_json(text)?)
    }

    /// Decodes a body by its `Content-Type`: form-urlencoded when it says so, JSON
    /// otherwise (including when absent).
    pub fn decode_body(content_type: Option<&str>, body: &[u8]) -> Result<Self, DecodeError> {
        let is_form = content_type.is_some_and(|ct| {
            ct.split(';')
                .next()
                .is_some_and(|mime| mime.trim().eq_ignore_ascii_case(FORM_CONTENT_TYPE))
        });
        if is_form {
            let text = std::str::from_utf8(body).map_err(|_| DecodeError::Form {
                field: String::new(),
                problem: "body is not UTF-8",
            })?;
            Self::decode_form(text)
        } else {
            Ok(decode_json_bytes(body)?)
        }
    }

    /// Decodes an `application/x-www-form-urlencoded` body.
    pub fn decode_form(text: &str) -> Result<Self, DecodeError> {
        let mut username = None;
        let mut password = None;
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = form_decode(name, pair)?;
            let slot = match name.as_str() {
                "username" => &mut username,
                "password" => &mut password,
                _ => continue,
            };
            if slot.replace(form_decode(value, &name)?).is_some() {
                return Err(DecodeError::Form {
                    field: name,
                    problem: "field given twice",
                });
            }
        }
        let missing = |field: &str| DecodeError::Form {
            field: field.to_owned(),
            problem: "field missing",
        };
        Ok(Self {
            username: username.ok_or_else(|| missing("username"))?,
            password: password.ok_or_else(|| missing("password"))?,
        })
    }

    /// Appends the JSON body to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_json(self, out);
    }

    /// Appends the form-urlencoded body to `out`.
    pub fn encode_form(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"username=");
        form_encode(&self.username, out);
        out.extend_from_slice(b"&password=");
        form_encode(&self.password, out);
    }

    /// The JSON body.
    pub fn to_text(&self) -> String {
        encode_json_string(self)
    }
}

/// `{"token": "<JWT>"}`: the bearer token to put in every WebSocket message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuthenticateResponse {
    /// The bearer token.
    pub token: String,
}

impl AuthenticateResponse {
    /// HTTP status of a successful authentication.
    pub const STATUS: u16 = 200;

    /// Decodes the body.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        Ok(decode_json(text)?)
    }

    /// Appends the body to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_json(self, out);
    }

    /// The body.
    pub fn to_text(&self) -> String {
        encode_json_string(self)
    }
}

/// A refused authentication (level MAY): `{"error": code, "message": text}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuthenticateFailure {
    /// `invalid_credentials` (HTTP 401) or `invalid_request` (HTTP 400).
    pub error: String,
    /// For people.
    pub message: String,
}

impl AuthenticateFailure {
    /// The code for a wrong user name or password.
    pub const INVALID_CREDENTIALS: &'static str = "invalid_credentials";
    /// The code for a body that does not decode.
    pub const INVALID_REQUEST: &'static str = "invalid_request";

    /// Wrong user name or password: HTTP 401.
    pub fn invalid_credentials() -> Self {
        Self {
            error: Self::INVALID_CREDENTIALS.to_owned(),
            message: "invalid username or password".to_owned(),
        }
    }

    /// A body that does not decode: HTTP 400.
    pub fn invalid_request(err: &DecodeError) -> Self {
        Self {
            error: Self::INVALID_REQUEST.to_owned(),
            message: err.to_string(),
        }
    }

    /// The HTTP status that goes with the body: 401 for bad credentials ("401 on bad
    /// credentials"), 400 for anything else.
    pub fn status(&self) -> u16 {
        if self.error == Self::INVALID_CREDENTIALS {
            401
        } else {
            400
        }
    }

    /// Decodes the body.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        Ok(decode_json(text)?)
    }

    /// Appends the body to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_json(self, out);
    }

    /// The body.
    pub fn to_text(&self) -> String {
        encode_json_string(self)
    }
}

/// Decodes one form component strictly; `field` names it in errors.
fn form_decode(raw: &str, field: &str) -> Result<String, DecodeError> {
    crate::urlencoded::decode_component(raw, 0).map_err(|e| DecodeError::Form {
        field: field.to_owned(),
        problem: match e {
            crate::urlencoded::FormError::InvalidUtf8 { .. } => "not UTF-8 after percent-decoding",
            _ => "invalid percent-encoding",
        },
    })
}

use crate::urlencoded::encode_component as form_encode;

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> AuthenticateRequest {
        AuthenticateRequest {
            username: "demo".into(),
            password: "demo".into(),
        }
    }

    #[test]
    fn json_and_form_bodies_decode_alike() {
        assert_eq!(
            AuthenticateRequest::decode_body(None, br#"{"username":"demo","password":"demo"}"#),
            Ok(demo())
        );
        assert_eq!(
            AuthenticateRequest::decode_body(
                Some("application/x-www-form-urlencoded; charset=UTF-8"),
                b"username=demo&password=demo"
            ),
            Ok(demo())
        );
    }

    #[test]
    fn form_escapes_round_trip() {
        let req = AuthenticateRequest {
            username: "a b&c=d".into(),
            password: "p%ä+".into(),
        };
        let mut out = Vec::new();
        req.encode_form(&mut out);
        assert_eq!(out, b"username=a+b%26c%3Dd&password=p%25%C3%A4%2B");
        let text = String::from_utf8(out).unwrap();
        assert_eq!(AuthenticateRequest::decode_form(&text), Ok(req));
    }

    #[test]
    fn bad_forms_name_the_field() {
        assert_eq!(
            AuthenticateRequest::decode_form("username=demo"),
            Err(DecodeError::Form {
                field: "password".into(),
                problem: "field missing"
            })
        );
        assert_eq!(
            AuthenticateRequest::decode_form("username=a&username=b&password=c"),
            Err(DecodeError::Form {
                field: "username".into(),
                problem: "field given twice"
            })
        );
        assert_eq!(
            AuthenticateRequest::decode_form("username=%zz&password=c"),
            Err(DecodeError::Form {
                field: "username".into(),
                problem: "invalid percent-encoding"
            })
        );
        assert_eq!(
            AuthenticateRequest::decode_form("username=%ff&password=c"),
            Err(DecodeError::Form {
                field: "username".into(),
                problem: "not UTF-8 after percent-decoding"
            })
        );
    }

    #[test]
    fn failures_carry_their_status() {
        assert_eq!(AuthenticateFailure::invalid_credentials().status(), 401);
        let err = AuthenticateRequest::decode("{}").unwrap_err();
        let failure = AuthenticateFailure::invalid_request(&err);
        assert_eq!(failure.status(), 400);
        assert!(failure.message.contains("username"), "{}", failure.message);
    }
}
