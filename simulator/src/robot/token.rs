//! The robot's token endpoint (specs README, Robot): `GET /api/v1/auth/` with `X-API-Key` → `{"token"}`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::IntoResponse;
use axum::response::Response;
use telewire_protocols::auth::AccessLevel;
use telewire_protocols::robot::API_KEY_HEADER;
use telewire_protocols::robot::ApiKeyRejection;
use telewire_protocols::robot::LogLevel;
use telewire_protocols::robot::TokenResponse;

use super::Shared;

/// Answers a token request: `{"token": "<JWT>"}` for a known API key, 401 `{"detail"}`
/// otherwise.
pub async fn issue(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    match grant(&shared, &headers) {
        Ok(resp) => json(StatusCode::OK, resp.to_text()),
        Err(rejection) => {
            shared
                .exchange
                .log(LogLevel::Warning, &format!("token refused: {rejection}"));
            let status =
                StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::UNAUTHORIZED);
            json(status, rejection.body().to_text())
        }
    }
}

/// The grant decision, without IO.
fn grant(shared: &Shared, headers: &HeaderMap) -> Result<TokenResponse, ApiKeyRejection> {
    // A header that is not visible ASCII cannot be a known key.
    let presented = match headers.get(API_KEY_HEADER).map(HeaderValue::to_str) {
        None => None,
        Some(Ok(key)) => Some(key),
        Some(Err(_)) => return Err(ApiKeyRejection::Invalid),
    };
    let subject = shared.keys.check(presented)?;
    let token = shared
        .jwt
        .issue(subject, AccessLevel::Admin, shared.clock.now());
    shared.exchange.log(
        LogLevel::Info,
        &format!(
            "token issued for {subject} (valid {} s)",
            shared.jwt.ttl().as_secs()
        ),
    );
    Ok(TokenResponse { token })
}

/// The CORS preflight a browser sends before a `GET` with a custom `X-API-Key` header.
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
                HeaderValue::from_static("GET, OPTIONS"),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("X-API-Key"),
            ),
            (
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            ),
        ],
    )
        .into_response()
}

/// A JSON response that caches nothing and that a dashboard on another origin may read.
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
