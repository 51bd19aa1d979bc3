//! The simulated Molecule gateway relay: `POST /connect/token` and the binary `/ws` relay.
//!
//! Everything protocol-shaped lives in `telewire_protocols::molecule`; this module is IO:
//! [`token`] answers the password grant, [`relay`] feeds each WebSocket to a
//! `MoleculeSession` through the generic driver, and [`device`] runs one seeded gateway per
//! scenario entry, fanned out to its authenticated clients through one hub per gateway.

pub mod device;
pub mod relay;
pub mod scenario;
pub mod token;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use axum::routing::post;
use telewire_protocols::auth::AccessLevel;
use telewire_protocols::auth::SharedVerifier;
use telewire_protocols::molecule::GatewayTable;
use telewire_protocols::molecule::SessionConfig;
use telewire_protocols::molecule::SharedGateways;
use telewire_protocols::molecule::http::TOKEN_PATH;

use crate::clock::Clock;
use crate::context::ApiInfo;
use crate::context::Context;
use crate::context::Credentials;
use crate::context::Started;
use crate::hub::Hub;
use crate::jwt::JwtAuthority;
use crate::shutdown::Shutdown;

pub use device::Push;
pub use device::first_frames;
pub use scenario::Scenario;

/// The WebSocket path.
pub const WS_PATH: &str = "/ws";

/// What every connection and the token endpoint share.
pub struct Shared {
    credentials: Credentials,
    clock: Clock,
    shutdown: Shutdown,
    jwt: Arc<JwtAuthority>,
    verifier: SharedVerifier,
    gateways: SharedGateways,
    session: SessionConfig,
    hubs: HashMap<String, Arc<Hub<Push>>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("jwt", &self.jwt)
            .field("session", &self.session)
            .field("gateways", &self.hubs.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The session settings `scenario` asks for.
pub fn session_config(scenario: &Scenario) -> SessionConfig {
    SessionConfig {
        label_every: NonZeroU32::new(scenario.label_every),
        trailing_null: scenario.trailing_null,
        faults: telewire_protocols::molecule::SessionFaults {
            accept_missing_sentinel: scenario.faults.accept_missing_sentinel,
            long_auth_response: scenario.faults.long_auth_response,
            too_large_close_1008: scenario.faults.too_large_close_1008,
        },
        ..SessionConfig::default()
    }
}

/// Starts the simulated molecule server.
pub fn start(ctx: &Context, scenario: &Scenario) -> Started {
    let creds = &ctx.credentials;
    let jwt = ctx.jwt("molecule", Duration::from_secs(scenario.token_ttl_secs));
    let devices = device::devices(ctx.seed, scenario, &creds.gateway_id);
    let mut table = GatewayTable::new();
    let mut hubs = HashMap::new();
    let mut tasks = Vec::new();
    let interval = Duration::from_millis(scenario.interval_ms);
    for device in devices {
        let id = device.id().to_owned();
        if hubs.contains_key(&id) {
            tracing::warn!(gateway = %id, "molecule gateway listed twice; the first one is served");
            continue;
        }
        table.grant(&id, &creds.username);
        let hub = Arc::new(Hub::new(relay::QUEUE).with_overflow(ctx.overflow));
        hubs.insert(id, hub.clone());
        tasks.push(tokio::spawn(device::run(
            device,
            hub,
            interval,
            ctx.shutdown.clone(),
        )));
    }
    let mut gateway_ids: Vec<String> = hubs.keys().cloned().collect();
    gateway_ids.sort();
    let shared = Arc::new(Shared {
        credentials: creds.clone(),
        clock: ctx.clock,
        shutdown: ctx.shutdown.clone(),
        jwt: jwt.clone(),
        verifier: jwt.clone(),
        gateways: Arc::new(table),
        session: session_config(scenario),
        hubs,
    });
    let router = Router::new()
        // The API's AsyncAPI 3.0 document, naming this server; built once.
        .route(
            telewire_protocols::asyncapi::HTTP_PATH,
            get({
                let document = telewire_protocols::asyncapi::Api::Molecule.document_for_simulator(
                    if ctx.tls { "wss" } else { "ws" },
                    &ctx.addr.to_string(),
                );
                let document =
                    axum::body::Bytes::from(telewire_protocols::asyncapi::to_yaml(&document));
                move || async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            telewire_protocols::asyncapi::YAML_CONTENT_TYPE,
                        )],
                        document,
                    )
                }
            }),
        )
        .route(TOKEN_PATH, post(token::connect_token))
        .route(WS_PATH, get(relay::upgrade))
        .with_state(shared);
    let info = ApiInfo {
        ws_urls: vec![format!("{}{WS_PATH}", ctx.ws_base())],
        http: vec![format!("POST {}{TOKEN_PATH}", ctx.http_base())],
        credentials: format!(
            "username {} / password {} (form: client_id=molecule-api, grant_type=password); gateway id {}",
            creds.username, creds.password, creds.gateway_id
        ),
        token: jwt.issue(&creds.username, AccessLevel::Admin, ctx.clock.now()),
        notes: vec![
            format!("gateways: {}", gateway_ids.join(", ")),
            format!(
                "telemetry every {} ms while a client is connected; lbl every {} frames; token ttl {} s",
                scenario.interval_ms, scenario.label_every, scenario.token_ttl_secs
            ),
        ],
    };
    Started {
        router,
        tasks,
        info,
    }
}
