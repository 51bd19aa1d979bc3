//! What every simulated API receives from `telewire serve`: clock, shutdown, seed, credentials.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::jwt::JwtAuthority;
use crate::shutdown::Shutdown;

/// The demo credentials (README and ARCHITECTURE.md), overridable from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User name (Molecule, Valtronics, Mosaic).
    pub username: String,
    /// Password (every API).
    pub password: String,
    /// WebMACS logs in by e-mail.
    pub email: String,
    /// Molecule gateway id.
    pub gateway_id: String,
    /// Robot API key (`X-API-Key`).
    pub api_key: String,
}

impl Default for Credentials {
    fn default() -> Self {
        Self {
            username: "demo".into(),
            password: "demo".into(),
            email: "demo@example.com".into(),
            gateway_id: "demo-gateway".into(),
            api_key: "demo".into(),
        }
    }
}

/// Shared inputs of one simulated API.
#[derive(Debug, Clone)]
pub struct Context {
    /// The wall clock the sessions see.
    pub clock: Clock,
    /// Fires once on Ctrl-C (every connection closes with 1001).
    pub shutdown: Shutdown,
    /// The data seed: the same seed gives the same data.
    pub seed: u64,
    /// Accepted credentials.
    pub credentials: Credentials,
    /// The HS256 secret tokens are signed with.
    pub jwt_secret: Arc<[u8]>,
    /// The address the API's listener is bound to.
    pub addr: SocketAddr,
    /// Whether the listener serves TLS (`wss://`, `https://`).
    pub tls: bool,
    /// Where the API leaves what its faults act on (token authority, controller restart).
    pub hooks: Arc<crate::faults::Hooks>,
    /// What a connection's full outbound queue does (`--slow-consumer`).
    pub overflow: crate::hub::Overflow,
}

impl Context {
    /// A JWT authority for `api` signing with this run's secret; the token faults
    /// (`token-expiry`, `revoke-token`) act on it.
    pub fn jwt(&self, api: &str, ttl: Duration) -> Arc<JwtAuthority> {
        let jwt = Arc::new(JwtAuthority::new(
            &format!("telewire-{api}"),
            &self.jwt_secret,
            ttl,
        ));
        self.hooks.set_tokens(jwt.clone());
        jwt
    }

    /// `ws://addr` or `wss://addr`.
    pub fn ws_base(&self) -> String {
        format!("{}://{}", if self.tls { "wss" } else { "ws" }, self.addr)
    }

    /// `http://addr` or `https://addr`.
    pub fn http_base(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.addr
        )
    }
}

/// What one simulated API tells the operator, for the table `telewire serve` prints.
#[derive(Debug, Clone, Default)]
pub struct ApiInfo {
    /// WebSocket URLs.
    pub ws_urls: Vec<String>,
    /// HTTP endpoints, as `METHOD URL`.
    pub http: Vec<String>,
    /// Credentials, in words.
    pub credentials: String,
    /// A ready-to-paste token (or handshake data) for the demo user.
    pub token: String,
    /// Anything else worth a line (seeded ids, settings).
    pub notes: Vec<String>,
}

/// A started simulated API: its HTTP/WebSocket routes and its background device tasks.
#[derive(Debug)]
pub struct Started {
    /// Every route of the API, served on its port.
    pub router: Router,
    /// Device and timer tasks; aborted at shutdown.
    pub tasks: Vec<JoinHandle<()>>,
    /// What to print.
    pub info: ApiInfo,
}
