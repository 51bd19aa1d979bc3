//! The token endpoints: `POST /api/v1/auth/login` issues the JWT the `auth` message carries;
//! `POST /api/v1/auth/logout` revokes one (a simulator extension, MAY).

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
use telewire_protocols::valtronics::http::LoginError;
use telewire_protocols::valtronics::http::LoginRequest;
use telewire_protocols::valtronics::http::LoginResponse;

use super::Shared;

/// The logout path.
pub const LOGOUT_PATH: &str = "/api/v1/auth/logout";

/// Answers a login: `{access_token, token_type}` for the demo user, 401 for wrong
/// credentials, 400 for a body that is not JSON, 422 for JSON of the wrong shape.
pub async fn login(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let text = match std::str::from_utf8(&body) {
        Ok(text) => text,
        Err(_) => return refuse(StatusCode::BAD_REQUEST, "request body is not UTF-8"),
    };
    if serde_json::from_str::<serde_json::Value>(text).is_err() {
        return refuse(StatusCode::BAD_REQUEST, "request body is not JSON");
    }
    let request = match LoginRequest::decode(text) {
        Ok(request) => request,
        Err(err) => {
            tracing::info!(error = %err, "valtronics login refused: malformed body");
            return json(
                StatusCode::UNPROCESSABLE_ENTITY,
                LoginError::malformed(&err).to_text(),
            );
        }
    };
    let creds = &shared.credentials;
    if request.username != creds.username || request.password != creds.password {
        tracing::info!(user = %request.username, "valtronics login refused: bad credentials");
        return json(
            StatusCode::UNAUTHORIZED,
            LoginError::invalid_credentials().to_text(),
        );
    }
    let token = shared
        .jwt
        .issue(&request.username, AccessLevel::Admin, shared.clock.now());
    tracing::info!(user = %request.username, "valtronics token issued");
    json(StatusCode::OK, LoginResponse::bearer(token).to_text())
}

/// Revokes the bearer token of the request: connections can no longer authenticate with it.
pub async fn logout(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .unwrap_or_default();
    if token.is_empty() {
        return refuse(StatusCode::UNAUTHORIZED, "missing bearer token");
    }
    if !shared.jwt.revoke(token) {
        return refuse(StatusCode::UNAUTHORIZED, "invalid token");
    }
    tracing::info!("valtronics token revoked");
    json(
        StatusCode::OK,
        serde_json::json!({ "detail": "Successfully logged out" }).to_string(),
    )
}

/// Answers a CORS preflight, so a dashboard served from another origin may post JSON.
pub async fn preflight() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("POST, OPTIONS"),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("content-type, authorization"),
            ),
        ],
    )
        .into_response()
}

fn refuse(status: StatusCode, detail: &str) -> Response {
    tracing::info!(%status, detail, "valtronics auth endpoint refused a request");
    json(status, serde_json::json!({ "detail": detail }).to_string())
}

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
