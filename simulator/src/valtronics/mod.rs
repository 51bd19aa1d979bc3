//! The simulated Valtronics IoT platform: `POST /api/v1/auth/login` and the JSON channels of
//! `/ws`, `/ws/telemetry`, `/ws/alerts`, `/ws/system` and `/ws/devices`.
//!
//! Everything protocol-shaped lives in `telewire_protocols::valtronics`; this module is IO:
//! [`login`] issues and revokes tokens, [`conn`] feeds each WebSocket to a
//! `ValtronicsSession` through the generic driver, [`device`] ticks the seeded devices
//! (telemetry, threshold alerts, online/offline flaps) and [`system`] samples the process's
//! own figures; both fan out through one hub to every connection holding a subscription,
//! whose session filters each push.

pub mod conn;
pub mod device;
pub mod login;
pub mod scenario;
pub mod system;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use axum::routing::post;
use telewire_protocols::auth::AccessLevel;
use telewire_protocols::auth::SharedVerifier;
use telewire_protocols::limits::CapConfig;
use telewire_protocols::valtronics::ConnectionRegistry;
use telewire_protocols::valtronics::Endpoint;
use telewire_protocols::valtronics::SessionConfig;
use telewire_protocols::valtronics::http::LOGIN_PATH;

use crate::clock::Clock;
use crate::context::ApiInfo;
use crate::context::Context;
use crate::context::Credentials;
use crate::context::Started;
use crate::hub::Hub;
use crate::jwt::JwtAuthority;
use crate::shutdown::Shutdown;

pub use device::ALERT_TYPE_CONNECTIVITY;
pub use device::ALERT_TYPE_THRESHOLD;
pub use device::Push;
pub use device::first_telemetry;
pub use login::LOGOUT_PATH;
pub use scenario::Scenario;

/// What every connection and the token endpoints share.
pub struct Shared {
    credentials: Credentials,
    clock: Clock,
    shutdown: Shutdown,
    jwt: Arc<JwtAuthority>,
    verifier: SharedVerifier,
    registry: ConnectionRegistry,
    session: SessionConfig,
    hub: Arc<Hub<Push>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("jwt", &self.jwt)
            .field("session", &self.session)
            .field("registry", &self.registry)
            .finish_non_exhaustive()
    }
}

/// The session settings `scenario` asks for.
pub fn session_config(scenario: &Scenario) -> SessionConfig {
    let limits = &scenario.limits;
    SessionConfig {
        max_message_bytes: limits.max_message_bytes,
        max_messages_per_second: limits.messages_per_second,
        rate_refusals_before_close: limits.rate_refusals_before_close,
        max_batch_items: limits.max_batch_items,
        acknowledge_subscriptions: scenario.acknowledge_subscriptions,
        faults: telewire_protocols::valtronics::SessionFaults {
            oversize_close_1008: scenario.faults.oversize_close_1008,
        },
    }
}

/// The connection caps `scenario` asks for.
pub fn registry(scenario: &Scenario) -> ConnectionRegistry {
    let limits = &scenario.limits;
    ConnectionRegistry::new(CapConfig {
        total: Some(limits.max_connections),
        per_user: Some(limits.max_connections_per_user),
        rate: Some((limits.new_connections_per_minute, Duration::from_secs(60))),
    })
}

/// Starts the simulated valtronics server.
pub fn start(ctx: &Context, scenario: &Scenario) -> Started {
    let creds = &ctx.credentials;
    let jwt = ctx.jwt("valtronics", Duration::from_secs(scenario.token_ttl_secs));
    let fleet = device::Fleet::new(ctx.seed, scenario);
    let described = fleet.describe();
    let hub = Arc::new(Hub::new(conn::QUEUE).with_overflow(ctx.overflow));
    let registry = registry(scenario);
    let tasks = vec![
        tokio::spawn(device::run(
            fleet,
            hub.clone(),
            Duration::from_millis(scenario.interval_ms),
            ctx.clock,
            ctx.shutdown.clone(),
        )),
        tokio::spawn(system::run(
            hub.clone(),
            registry.clone(),
            Duration::from_millis(scenario.system_interval_ms),
            ctx.clock,
            ctx.shutdown.clone(),
        )),
    ];
    let shared = Arc::new(Shared {
        credentials: creds.clone(),
        clock: ctx.clock,
        shutdown: ctx.shutdown.clone(),
        jwt: jwt.clone(),
        verifier: jwt.clone(),
        registry,
        session: session_config(scenario),
        hub,
    });
    let router = Router::new()
        // The API's AsyncAPI 3.0 document, naming this server; built once.
        .route(
            telewire_protocols::asyncapi::HTTP_PATH,
            get({
                let document = telewire_protocols::asyncapi::Api::Valtronics
                    .document_for_simulator(
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
        .route(LOGIN_PATH, post(login::login).options(login::preflight))
        .route(LOGOUT_PATH, post(login::logout).options(login::preflight))
        .route(Endpoint::Primary.path(), get(conn::primary))
        .route(Endpoint::Telemetry.path(), get(conn::telemetry))
        .route(Endpoint::Alerts.path(), get(conn::alerts))
        .route(Endpoint::System.path(), get(conn::system))
        .route(Endpoint::Devices.path(), get(conn::devices))
        .with_state(shared);
    let ws_base = ctx.ws_base();
    let http_base = ctx.http_base();
    let mut notes = vec![
        "first message on every socket: {\"type\":\"auth\",\"token\":\"<token>\"}; ping works before auth"
            .to_owned(),
        "/ws/<channel> endpoints are /ws already subscribed to that channel once authenticated"
            .to_owned(),
    ];
    for (id, name, metrics) in &described {
        notes.push(format!("device_id {id}: {name} ({})", metrics.join(", ")));
    }
    notes.push(format!(
        "alerts: alert_type \"{ALERT_TYPE_THRESHOLD}\" (severity warning or critical, metadata threshold_value / actual_value) or \"{ALERT_TYPE_CONNECTIVITY}\"; device statuses online, offline, warning"
    ));
    let limits = &scenario.limits;
    notes.push(format!(
        "telemetry every {} ms, system status every {} ms (while subscribed); token ttl {} s",
        scenario.interval_ms, scenario.system_interval_ms, scenario.token_ttl_secs
    ));
    notes.push(format!(
        "limits: {} connections, {} per user, {} new per user per minute, {} messages/s, {} bytes per message (close 1009), batch of {}",
        limits.max_connections,
        limits.max_connections_per_user,
        limits.new_connections_per_minute,
        limits.messages_per_second,
        limits.max_message_bytes,
        limits.max_batch_items
    ));
    let info = ApiInfo {
        ws_urls: Endpoint::ALL
            .iter()
            .map(|e| format!("{ws_base}{}", e.path()))
            .collect(),
        http: vec![
            format!("POST {http_base}{LOGIN_PATH}"),
            format!("POST {http_base}{LOGOUT_PATH}"),
        ],
        credentials: format!(
            "username {} / password {} (JSON body {{\"username\",\"password\"}}; logout with Authorization: Bearer)",
            creds.username, creds.password
        ),
        token: jwt.issue(&creds.username, AccessLevel::Admin, ctx.clock.now()),
        notes,
    };
    Started {
        router,
        tasks,
        info,
    }
}
