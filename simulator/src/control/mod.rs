//! The control page of `telewire serve` (`http://127.0.0.1:9100/`): every simulator, its live
//! clients, a preview of its data and a button for every fault, updated over a WebSocket.
//!
//! Routes, answered to loopback peers only:
//! - `GET /` (with `/app.js`, `/style.css`): the page, embedded in the binary;
//! - `GET /api/state`: the state as JSON ([`state::Snapshot`]);
//! - `GET /ws`: the same JSON on connect, then every [`PUSH_EVERY`] and after each fault;
//! - `POST /api/faults` `{"api","fault","client"}`: forwarded to that simulator's admin API
//!   (`POST /_telewire/faults`), whose answer is returned as it is;
//! - `DELETE /api/faults` `{"api"}`: clears that simulator's lasting faults.

pub mod forward;
pub mod preview;
pub mod state;

use std::net::IpAddr;
use std::net::Ipv4Addr;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::Request;
use axum::extract::State;
use axum::extract::ws::CloseFrame;
use axum::extract::ws::Message;
use axum::extract::ws::WebSocket;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::HeaderValue;
use axum::http::Method;
use axum::http::StatusCode;
use axum::http::header;
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::link::Links;
use crate::serve::Api;
use crate::serve::RunningApi;
use crate::shutdown::Shutdown;

/// The default port of the control page.
pub const DEFAULT_PORT: u16 = 9100;

/// How often the live WebSocket pushes the state.
pub const PUSH_EVERY: Duration = Duration::from_millis(500);

const INDEX_HTML: &str = include_str!("page/index.html");
const APP_JS: &str = include_str!("page/app.js");
const STYLE_CSS: &str = include_str!("page/style.css");

/// What the control page shows and acts on: one per `telewire serve`.
#[derive(Debug)]
pub struct Control {
    apis: Vec<RunningApi>,
    seed: u64,
    breaks: Vec<(Api, String)>,
    links: Arc<Links>,
    policy: Option<String>,
    faults: Vec<Arc<crate::faults::FaultControl>>,
    forward: forward::Forwarder,
    rates: state::Rates,
    changed: Notify,
    shutdown: Shutdown,
}

/// Everything [`Control::new`] needs from `telewire serve`.
#[derive(Debug)]
pub struct ControlSetup {
    /// The running simulators.
    pub apis: Vec<RunningApi>,
    /// The data seed.
    pub seed: u64,
    /// Broken profiles in effect, as `(API, "name (breaks rule)")`.
    pub breaks: Vec<(Api, String)>,
    /// The live connections.
    pub links: Arc<Links>,
    /// The slow-consumer policy in words, when one is configured.
    pub policy: Option<String>,
    /// The fault control of each API (its catalog and the lasting faults in effect).
    pub faults: Vec<Arc<crate::faults::FaultControl>>,
    /// How to reach the simulators' admin API (plain HTTP, or HTTPS trusting these roots).
    pub forward: forward::Forwarder,
    /// Ends the live WebSockets.
    pub shutdown: Shutdown,
}

impl Control {
    /// The control state of one `telewire serve`.
    pub fn new(setup: ControlSetup) -> Arc<Self> {
        Arc::new(Self {
            apis: setup.apis,
            seed: setup.seed,
            breaks: setup.breaks,
            links: setup.links,
            policy: setup.policy,
            faults: setup.faults,
            forward: setup.forward,
            rates: state::Rates::default(),
            changed: Notify::new(),
            shutdown: setup.shutdown,
        })
    }

    /// The simulator of `api`, if it runs.
    fn api(&self, api: Api) -> Option<&RunningApi> {
        self.apis.iter().find(|r| r.api == api)
    }
}

/// Binds the control page on loopback port `port` (0: an ephemeral one).
pub async fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)).await
}

/// Serves the control page on `listener` until shutdown.
pub fn spawn(listener: TcpListener, control: Arc<Control>) -> JoinHandle<()> {
    let shutdown = control.shutdown.clone();
    crate::tls::spawn_server(listener, router(control), None, shutdown)
}

/// Every route of the control page.
pub fn router(control: Arc<Control>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/app.js", get(app_js))
        .route("/style.css", get(style_css))
        .route("/api/state", get(state_json))
        .route("/api/faults", axum::routing::post(apply).delete(clear))
        .route("/ws", get(live))
        .with_state(control)
        .layer(axum::middleware::from_fn(guard))
}

/// Why a request to the control page is refused, if it is.
///
/// The peer must be this host, and the `Host` header (when present) must name it too, so
/// that a web page elsewhere cannot reach the page through a rebound DNS name. A request a
/// browser sends on behalf of a page (`Origin`) must come from a page of this host too: a
/// page elsewhere could otherwise open the live WebSocket, which no CORS rule guards.
pub fn refusal(peer: IpAddr, host: Option<&str>, origin: Option<&str>) -> Option<&'static str> {
    if let Some(origin) = origin {
        let authority = origin
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or_default());
        if !authority.is_some_and(is_local_host) {
            return Some(
                "the control page answers only its own pages: open it at http://127.0.0.1:<port>/\n",
            );
        }
    }
    if !is_loopback(peer) {
        return Some(
            "the control page answers loopback clients only: open it on the host that runs telewire serve\n",
        );
    }
    match host {
        Some(host) if !is_local_host(host) => Some(
            "the control page answers only to Host 127.0.0.1, localhost or [::1]: open it by one of those names\n",
        ),
        _ => None,
    }
}

/// Whether `ip` is this host (IPv4-mapped IPv6 included).
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Whether a `Host` header value (`name[:port]`) names this host.
fn is_local_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok_and(is_loopback)
}

async fn guard(request: Request, next: Next) -> Response {
    let peer = crate::link::peer_of(&request);
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    if let Some(reason) = refusal(peer.ip(), host, origin) {
        return (StatusCode::FORBIDDEN, reason).into_response();
    }
    next.run(request).await
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; connect-src 'self'"),
    );
    response
}

async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

async fn style_css() -> Response {
    asset("text/css; charset=utf-8", STYLE_CSS)
}

async fn state_json(State(control): State<Arc<Control>>) -> Response {
    Json(control.snapshot()).into_response()
}

/// `POST /api/faults`.
#[derive(Debug, Deserialize)]
struct FaultRequest {
    api: String,
    fault: String,
    #[serde(default)]
    client: Option<u64>,
}

/// `DELETE /api/faults`.
#[derive(Debug, Deserialize)]
struct ClearRequest {
    api: String,
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

async fn apply(
    State(control): State<Arc<Control>>,
    body: Result<Json<FaultRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "{rejection}: send JSON {{\"api\": \"robot\", \"fault\": \"close=4000:bye\", \"client\": 3}} (client optional)"
                ),
            );
        }
    };
    let running = match target(&control, &request.api) {
        Ok(running) => running,
        Err((status, message)) => return error(status, message),
    };
    let mut admin = json!({ "fault": request.fault });
    if let Some(client) = request.client {
        admin["client"] = json!(client);
    }
    let answer = control
        .forward
        .send(running, Method::POST, Some(admin.to_string()))
        .await;
    control.changed.notify_waiters();
    answer
}

async fn clear(
    State(control): State<Arc<Control>>,
    body: Result<Json<ClearRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("{rejection}: send JSON {{\"api\": \"robot\"}}"),
            );
        }
    };
    let running = match target(&control, &request.api) {
        Ok(running) => running,
        Err((status, message)) => return error(status, message),
    };
    let answer = control.forward.send(running, Method::DELETE, None).await;
    control.changed.notify_waiters();
    answer
}

/// The running simulator named `api`, or the error response.
fn target<'a>(control: &'a Control, api: &str) -> Result<&'a RunningApi, (StatusCode, String)> {
    let api: Api = api
        .parse()
        .map_err(|message: String| (StatusCode::BAD_REQUEST, message))?;
    control.api(api).ok_or_else(|| {
        (
            StatusCode::NOT_FOUND,
            format!("the {api} simulator is not running in this telewire serve"),
        )
    })
}

async fn live(State(control): State<Arc<Control>>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| push_state(control, socket))
}

/// Sends the state on connect, then every [`PUSH_EVERY`] and after each fault, until the
/// page goes away or the server shuts down.
async fn push_state(control: Arc<Control>, mut socket: WebSocket) {
    let mut shutdown = control.shutdown.clone();
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + PUSH_EVERY, PUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let text = match serde_json::to_string(&control.snapshot()) {
            Ok(text) => text,
            Err(err) => {
                tracing::warn!(%err, "cannot encode the control state");
                return;
            }
        };
        if socket.send(Message::Text(text.into())).await.is_err() {
            return;
        }
        tokio::select! {
            _ = tick.tick() => {}
            () = control.changed.notified() => {}
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            () = shutdown.wait() => {
                let close = CloseFrame { code: 1001, reason: "server shutting down".into() };
                let _ = tokio::time::timeout(
                    Duration::from_millis(500),
                    socket.send(Message::Close(Some(close))),
                )
                .await;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_host_is_answered() {
        for ip in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(
                refusal(ip.parse().unwrap(), Some("127.0.0.1:9100"), None),
                None,
                "{ip}"
            );
        }
        for ip in [
            "0.0.0.0",
            "10.0.0.1",
            "192.168.1.2",
            "::ffff:10.0.0.1",
            "fe80::1",
        ] {
            let reason = refusal(ip.parse().unwrap(), Some("127.0.0.1:9100"), None);
            assert!(reason.is_some_and(|r| r.contains("loopback")), "{ip}");
        }
    }

    #[test]
    fn a_host_header_naming_another_host_is_refused() {
        let me: IpAddr = "127.0.0.1".parse().unwrap();
        for host in [
            "localhost:9100",
            "LOCALHOST",
            "127.0.0.1",
            "[::1]:9100",
            "127.0.0.1:1",
        ] {
            assert_eq!(refusal(me, Some(host), None), None, "{host}");
        }
        assert_eq!(refusal(me, None, None), None);
        for host in [
            "evil.example:9100",
            "10.0.0.1:9100",
            "[fe80::1]:9100",
            "localhost.evil",
        ] {
            let reason = refusal(me, Some(host), None);
            assert!(reason.is_some_and(|r| r.contains("Host")), "{host}");
        }
    }

    #[test]
    fn a_page_of_another_origin_is_refused() {
        let me: IpAddr = "127.0.0.1".parse().unwrap();
        let host = Some("127.0.0.1:9100");
        for origin in [
            "http://127.0.0.1:9100",
            "http://localhost:5173",
            "https://[::1]:8443",
        ] {
            assert_eq!(refusal(me, host, Some(origin)), None, "{origin}");
        }
        for origin in [
            "https://evil.example",
            "null",
            "http://10.0.0.1:9100",
            "127.0.0.1",
        ] {
            let reason = refusal(me, host, Some(origin));
            assert!(reason.is_some_and(|r| r.contains("own pages")), "{origin}");
        }
    }
}
