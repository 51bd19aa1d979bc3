//! The REST endpoints the document's clients use: login, logout, latest datapoints, events.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::RawQuery;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::IntoResponse;
use axum::response::Response;
use telewire_protocols::auth::AccessLevel;
use telewire_protocols::urlencoded::query_values;
use telewire_protocols::webmacs::http::HttpError;
use telewire_protocols::webmacs::http::HttpFailure;
use telewire_protocols::webmacs::http::LoginRequest;
use telewire_protocols::webmacs::http::LoginResponse;
use telewire_protocols::webmacs::http::StatusResponse;
use telewire_protocols::webmacs::http::authorize_bearer;
use telewire_protocols::webmacs::http::bearer_token;

use super::Shared;

/// Items per page of `GET /api/v1/events` unless `page_size` says otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 25;
/// The largest `page_size` served.
pub const MAX_PAGE_SIZE: u32 = 1_000;

/// `POST /api/v1/auth/login` `{"email", "password"}`: a JWT for the demo user, or 401.
pub async fn login(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request = match std::str::from_utf8(&body)
        .map_err(|_| "body is not UTF-8".to_owned())
        .and_then(|text| LoginRequest::decode(text).map_err(|e| e.to_string()))
    {
        Ok(request) => request,
        Err(err) => {
            tracing::info!(%err, "webmacs login refused: malformed body");
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                HttpError::new(format!("Invalid login request: {err}")),
            );
        }
    };
    let creds = &shared.credentials;
    if request.email != creds.email || request.password != creds.password {
        tracing::info!(email = %request.email, "webmacs login refused: wrong credentials");
        return error(StatusCode::UNAUTHORIZED, HttpError::invalid_credentials());
    }
    let token = shared
        .jwt
        .issue(&request.email, AccessLevel::Admin, shared.clock.now());
    tracing::info!(email = %request.email, "webmacs login");
    let mut response = LoginResponse::bearer(token);
    response.username = Some(creds.username.clone());
    json(StatusCode::OK, response.to_text())
}

/// `POST /api/v1/auth/logout` with `Authorization: Bearer`: revokes the token.
pub async fn logout(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let header = authorization(&headers);
    if let Err(failure) = authorize_bearer(header, shared.jwt.as_ref(), shared.clock.now()) {
        return refused(failure);
    }
    if let Some(token) = header.and_then(bearer_token) {
        shared.jwt.revoke(token);
    }
    tracing::info!("webmacs logout: token revoked");
    json(StatusCode::OK, StatusResponse::logged_out().to_text())
}

/// `GET /api/v1/datapoints/latest` with `Authorization: Bearer`: one item per event.
pub async fn latest(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(failure) = authorize_bearer(
        authorization(&headers),
        shared.jwt.as_ref(),
        shared.clock.now(),
    ) {
        return refused(failure);
    }
    shared.note_poll();
    let body = shared
        .ingest
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .latest()
        .to_text();
    tracing::debug!("webmacs latest datapoints served");
    json(StatusCode::OK, body)
}

/// `GET /api/v1/events?page=&page_size=` with `Authorization: Bearer`: the seeded events.
pub async fn events(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(failure) = authorize_bearer(
        authorization(&headers),
        shared.jwt.as_ref(),
        shared.clock.now(),
    ) {
        return refused(failure);
    }
    let query = query.unwrap_or_default();
    let page = match number(&query, "page", 1) {
        Ok(n) => n.max(1),
        Err(err) => return error(StatusCode::UNPROCESSABLE_ENTITY, err),
    };
    let page_size = match number(&query, "page_size", DEFAULT_PAGE_SIZE) {
        Ok(n) => n.clamp(1, MAX_PAGE_SIZE),
        Err(err) => return error(StatusCode::UNPROCESSABLE_ENTITY, err),
    };
    let body = shared
        .ingest
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .events_page(page, page_size)
        .to_text();
    tracing::debug!(page, page_size, "webmacs events served");
    json(StatusCode::OK, body)
}

/// The CORS preflight a dashboard on another origin sends before a bearer request.
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
                HeaderValue::from_static("GET, POST, OPTIONS"),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Authorization, Content-Type"),
            ),
            (
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            ),
        ],
    )
        .into_response()
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

/// The query parameter `name` as a positive number, `default` when absent.
fn number(query: &str, name: &str, default: u32) -> Result<u32, HttpError> {
    match query_values(query, name).last() {
        None => Ok(default),
        Some(text) => text.trim().parse::<u32>().map_err(|_| {
            HttpError::new(format!("Query parameter {name} must be a positive integer"))
        }),
    }
}

fn refused(failure: HttpFailure) -> Response {
    tracing::info!(detail = %failure.error.detail, "webmacs request refused");
    let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::UNAUTHORIZED);
    let mut response = error(status, failure.error);
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn error(status: StatusCode, err: HttpError) -> Response {
    json(status, err.to_text())
}

/// A JSON response a dashboard served from another origin may read.
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
