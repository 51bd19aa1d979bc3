//! HTTP Authentication: `POST /authenticate` `{username, password}` -> `{token}`, 401 on bad
//! credentials.

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
use telewire_protocols::mosaic::http::AuthenticateFailure;
use telewire_protocols::mosaic::http::AuthenticateRequest;
use telewire_protocols::mosaic::http::AuthenticateResponse;

use super::Shared;

/// Answers an authentication request with a bearer token, or a failure body.
pub async fn authenticate(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match decide(&shared, &headers, &body) {
        Ok(resp) => {
            tracing::info!(user = %shared.credentials.username, "mosaic token issued");
            json(StatusCode::OK, resp.to_text())
        }
        Err(failure) => {
            tracing::info!(error = %failure.error, "mosaic authentication refused");
            let status = StatusCode::from_u16(failure.status()).unwrap_or(StatusCode::BAD_REQUEST);
            json(status, failure.to_text())
        }
    }
}

/// The decision, without IO.
fn decide(
    shared: &Shared,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<AuthenticateResponse, AuthenticateFailure> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let request = AuthenticateRequest::decode_body(content_type, body)
        .map_err(|err| AuthenticateFailure::invalid_request(&err))?;
    let creds = &shared.credentials;
    if request.username != creds.username || request.password != creds.password {
        return Err(AuthenticateFailure::invalid_credentials());
    }
    let token = shared
        .jwt
        .issue(&request.username, AccessLevel::Admin, shared.clock.now());
    Ok(AuthenticateResponse { token })
}

/// A JSON response that caches nothing and that a page from another origin may read.
fn json(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        body,
    )
        .into_response()
}
