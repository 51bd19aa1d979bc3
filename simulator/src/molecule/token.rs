//! Step 1, the identity server: `POST /connect/token` (OAuth2 password grant, RFC 6749 §4.3, §5).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::IntoResponse;
use axum::response::Response;
use telewire_protocols::auth::AccessLevel;
use telewire_protocols::molecule::ErrorCode;
use telewire_protocols::molecule::OAuthError;
use telewire_protocols::molecule::TokenRequest;
use telewire_protocols::molecule::TokenResponse;
use telewire_protocols::molecule::http::FORM_CONTENT_TYPE;

use super::Shared;

/// Answers a token request: a bearer token for the demo user, or an RFC 6749 error body.
pub async fn connect_token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match grant(&shared, &headers, &body) {
        Ok(resp) => {
            tracing::info!(user = %shared.credentials.username, "molecule token issued");
            json(StatusCode::OK, resp.to_text())
        }
        Err(err) => {
            tracing::info!(error = %err, "molecule token refused");
            let status = StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            json(status, err.to_text())
        }
    }
}

/// The grant decision, without IO.
fn grant(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<TokenResponse, OAuthError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let is_form = content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(FORM_CONTENT_TYPE));
    if !is_form {
        return Err(OAuthError::new(ErrorCode::INVALID_REQUEST)
            .with_description(format!("content type must be {FORM_CONTENT_TYPE}")));
    }
    let text = std::str::from_utf8(body).map_err(|_| {
        OAuthError::new(ErrorCode::INVALID_REQUEST).with_description("body is not UTF-8")
    })?;
    let request = TokenRequest::decode(text).map_err(|err| OAuthError::from(&err))?;
    request.validate()?;
    let creds = &shared.credentials;
    if request.username != creds.username || request.password != creds.password {
        return Err(OAuthError::new(ErrorCode::INVALID_GRANT)
            .with_description("invalid username or password"));
    }
    let token = shared
        .jwt
        .issue(&request.username, AccessLevel::Admin, shared.clock.now());
    Ok(TokenResponse::bearer(token, shared.jwt.ttl().as_secs()))
}

/// A JSON response that caches nothing (RFC 6749 §5.1) and that a dashboard served from
/// another origin may read: the form POST is a CORS "simple request", so allowing every
/// origin is all a browser needs.
fn json(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        body,
    )
        .into_response()
}
