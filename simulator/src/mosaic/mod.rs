//! The simulated Mosaic (Pharos) lighting controller: `POST /authenticate` and `/query`.
//!
//! Everything protocol-shaped lives in `telewire_protocols::mosaic`; this module is IO:
//! [`token`] answers the authentication endpoint, [`cap`] holds the controller's connection
//! cap over every HTTP request and WebSocket, [`query`] feeds each WebSocket to a
//! `MosaicSession` through the generic driver, [`show`] runs the seeded show whose changes
//! are broadcast to subscribers, and [`endpoints`] answers requests.

pub mod cap;
pub mod endpoints;
pub mod query;
pub mod scenario;
pub mod show;
pub mod token;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use axum::routing::post;
use telewire_protocols::auth::AccessLevel;
use telewire_protocols::auth::SharedVerifier;
use telewire_protocols::mosaic::Controller;
use telewire_protocols::mosaic::PreparedBroadcast;
use telewire_protocols::mosaic::QUERY_PATH;
use telewire_protocols::mosaic::SessionConfig;
use telewire_protocols::mosaic::http::AUTHENTICATE_PATH;
use tokio::time::MissedTickBehavior;

use crate::clock::Clock;
use crate::context::ApiInfo;
use crate::context::Context;
use crate::context::Credentials;
use crate::context::Started;
use crate::hub::Hub;
use crate::jwt::JwtAuthority;
use crate::prng::Prng;
use crate::shutdown::Shutdown;

pub use scenario::Scenario;
pub use show::Show;
pub use show::first_group_levels;

/// What one tick of the show hands to every connection: its broadcasts, each encoded once.
pub type Push = Arc<[PreparedBroadcast]>;

/// Ticks one connection may have queued before the hub starts dropping them.
pub const QUEUE: usize = 256;

/// Lifetime of the token printed at start, so it can be pasted into a front end all day.
pub const PRINTED_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// What every connection and the token endpoint share.
pub struct Shared {
    credentials: Credentials,
    clock: Clock,
    shutdown: Shutdown,
    jwt: Arc<JwtAuthority>,
    verifier: SharedVerifier,
    session: SessionConfig,
    controller: Mutex<Controller>,
    show: Mutex<Show>,
    identity: endpoints::Identity,
    hub: Hub<Push>,
    /// Connections that subscribed to at least one channel: the show runs while any do.
    subscribed: AtomicUsize,
    /// Deliberate deviations (all off by default).
    faults: scenario::Faults,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("jwt", &self.jwt)
            .field("session", &self.session)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// The session settings `scenario` asks for.
pub fn session_config(scenario: &Scenario) -> SessionConfig {
    SessionConfig {
        security: scenario.security,
        session_lifetime: Duration::from_millis(scenario.session_timeout_ms),
        faults: telewire_protocols::mosaic::SessionFaults {
            drop_later_reply_ids: scenario.faults.drop_later_reply_ids,
            short_session_key: scenario.faults.short_session_key,
        },
        ..SessionConfig::secured()
    }
}

/// Starts the simulated mosaic server.
pub fn start(ctx: &Context, scenario: &Scenario) -> Started {
    let creds = &ctx.credentials;
    let jwt = ctx.jwt("mosaic", Duration::from_secs(scenario.token_ttl_secs));
    let model = scenario.model;
    let controller = Controller::new(model.controller_model(), ctx.seed);
    let serial = format!(
        "{:06}",
        Prng::derive(ctx.seed, "mosaic/controller").below(1_000_000)
    );
    let identity = endpoints::Identity {
        model,
        serial,
        boot: ctx.clock.now(),
        ip_address: ctx.addr.ip().to_string(),
        project: "Atrium Lighting".to_owned(),
    };
    let shared = Arc::new(Shared {
        credentials: creds.clone(),
        clock: ctx.clock,
        shutdown: ctx.shutdown.clone(),
        jwt: jwt.clone(),
        verifier: jwt.clone(),
        session: session_config(scenario),
        controller: Mutex::new(controller),
        show: Mutex::new(Show::new(ctx.seed, scenario)),
        identity,
        hub: Hub::new(QUEUE).with_overflow(ctx.overflow),
        subscribed: AtomicUsize::new(0),
        faults: *scenario.faults,
    });
    ctx.hooks.set_controller_restart(Box::new({
        let shared = shared.clone();
        move || {
            let mut controller = shared
                .controller
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *controller.rekey().as_bytes()
        }
    }));
    let tick = Duration::from_millis(scenario.rates.tick_ms.max(1));
    let tasks = vec![tokio::spawn(run_show(
        shared.clone(),
        tick,
        ctx.shutdown.clone(),
    ))];
    let router = Router::new()
        // The API's AsyncAPI 3.0 document, naming this server; built once.
        .route(
            telewire_protocols::asyncapi::HTTP_PATH,
            get({
                let document = telewire_protocols::asyncapi::Api::Mosaic.document_for_simulator(
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
        .route(AUTHENTICATE_PATH, post(token::authenticate))
        .route(QUERY_PATH, get(query::upgrade))
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            cap::admit,
        ))
        .layer(axum::middleware::from_fn(crate::cors::allow_any_origin))
        .with_state(shared);
    let max = model.controller_model().max_connections();
    let info = ApiInfo {
        ws_urls: vec![format!("{}{QUERY_PATH}", ctx.ws_base())],
        http: vec![format!("POST {}{AUTHENTICATE_PATH}", ctx.http_base())],
        credentials: format!(
            "username {} / password {} (JSON or form body); put the token in every message as \"token\"",
            creds.username, creds.password
        ),
        token: jwt.issue_for(
            &creds.username,
            AccessLevel::Admin,
            ctx.clock.now(),
            PRINTED_TOKEN_TTL,
        ),
        notes: vec![
            format!(
                "controller {} ({max} connections at most, HTTP included; the next gets 503); security {}",
                model.name(),
                if scenario.security {
                    "on: keepalive {\"token\":...} is answered with a 16-byte session key"
                } else {
                    "off: no token needed, keepalive {} is answered with {}"
                }
            ),
            format!(
                "the token above lives 24 h; tokens from /authenticate live {} s; a session times out {} ms after its last refreshing keepalive",
                scenario.token_ttl_secs, scenario.session_timeout_ms
            ),
            format!(
                "show: timelines {}, scenes {}, groups {}; ticks every {} ms while a client is subscribed",
                nums(scenario.timelines.iter().map(|t| t.num)),
                nums(scenario.scenes.iter().map(|s| s.num)),
                nums(scenario.groups.iter().map(|g| g.num)),
                scenario.rates.tick_ms
            ),
            "subscribe: timeline scene group content_target remote_device beacon log lua io_module; request any channel but beacon, lua, io_module".to_owned(),
        ],
    };
    Started {
        router,
        tasks,
        info,
    }
}

fn nums(list: impl Iterator<Item = u32>) -> String {
    list.map(|n| n.to_string()).collect::<Vec<_>>().join(",")
}

/// Runs the show until shutdown: one tick every `interval` while any client is subscribed,
/// so the first subscriber of a run always sees the first pushes of the seed.
async fn run_show(shared: Arc<Shared>, interval: Duration, mut shutdown: Shutdown) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if shared.subscribed.load(Ordering::Acquire) == 0 {
                    continue;
                }
                let pushes = match shared.show.lock() {
                    Ok(mut show) => show.tick(),
                    Err(_) => break,
                };
                let mut prepared = Vec::with_capacity(pushes.len());
                for broadcast in pushes {
                    match PreparedBroadcast::new(broadcast) {
                        Ok(p) => prepared.push(p),
                        Err(err) => tracing::warn!(%err, "mosaic broadcast not sent"),
                    }
                }
                if !prepared.is_empty() {
                    let count = prepared.len();
                    let queued = shared.hub.broadcast(&Push::from(prepared));
                    tracing::debug!(count, queued, "mosaic show tick broadcast");
                }
            }
            () = shutdown.wait() => break,
        }
    }
}
