//! Endpoint caution: "MSC Controllers support a maximum of 8 simultaneous HTTP connections.
//! MSC X and Atlas controllers support a maximum of 16 connections."
//!
//! Every HTTP request holds a permit while it is served; a WebSocket keeps its permit for
//! as long as it is open. Above the cap the request is refused with 503 before anything
//! else happens, so a WebSocket upgrade is refused too.

use std::sync::Arc;

use axum::extract::Request;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header;
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;
use telewire_protocols::mosaic::ConnectionPermit;
use telewire_protocols::mosaic::ErrorCode;

use super::Shared;

/// One admitted connection; released when the last clone is dropped.
#[derive(Debug)]
pub struct PermitGuard {
    shared: Arc<Shared>,
    permit: Option<ConnectionPermit>,
}

impl Drop for PermitGuard {
    fn drop(&mut self) {
        if let (Some(permit), Ok(mut controller)) =
            (self.permit.take(), self.shared.controller.lock())
        {
            controller.release(permit);
            tracing::debug!(
                active = controller.active_connections(),
                "mosaic connection released"
            );
        }
    }
}

/// A permit shared between the request and the WebSocket it upgrades to.
pub type Permit = Arc<PermitGuard>;

/// Admits the request under the controller's cap, or refuses it with 503.
pub async fn admit(
    State(shared): State<Arc<Shared>>,
    mut request: Request,
    next: Next,
) -> Response {
    if shared.faults.no_connection_cap {
        return next.run(request).await;
    }
    let admitted = match shared.controller.lock() {
        Ok(mut controller) => controller.admit(shared.clock.now()),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    match admitted {
        Ok(permit) => {
            let guard: Permit = Arc::new(PermitGuard {
                shared: shared.clone(),
                permit: Some(permit),
            });
            request.extensions_mut().insert(guard.clone());
            let response = next.run(request).await;
            drop(guard);
            response
        }
        Err(exceeded) => {
            tracing::info!(%exceeded, "mosaic connection refused: controller at its cap");
            let body = serde_json::json!({
                "error": ErrorCode::TOO_MANY_CONNECTIONS.as_str(),
                "message": exceeded.to_string(),
            });
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    ),
                    (header::RETRY_AFTER, HeaderValue::from_static("10")),
                ],
                body.to_string(),
            )
                .into_response()
        }
    }
}
