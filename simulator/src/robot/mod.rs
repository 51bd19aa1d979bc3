//! The simulated robot pub/sub server (robot.txt): `GET /api/v1/auth/`, and `/wss` (and `/`) with `?token=`.
//!
//! Everything protocol-shaped lives in `telewire_protocols::robot`; this module is IO:
//! [`token`] issues JWTs for an API key, [`wss`] feeds each WebSocket to a `RobotSession`
//! through the generic driver, [`exchange`] routes publishes to the subscribers of their
//! topic and the server's own log lines to `server_logs`, and [`device`] is the simulated
//! robot publishing seeded data on its topics and status lines on `server_logs`.
//! [`publisher`] is the other side: a device that publishes into any robot server.

pub mod device;
pub mod exchange;
pub mod publisher;
pub mod scenario;
pub mod token;
pub mod wss;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use telewire_protocols::auth::AccessLevel;
use telewire_protocols::auth::SharedVerifier;
use telewire_protocols::limits::CapConfig;
use telewire_protocols::robot::AUTH_PATH;
use telewire_protocols::robot::ApiKeys;
use telewire_protocols::robot::BrokerConfig;
use telewire_protocols::robot::Limits;
use telewire_protocols::robot::LogLevel;
use telewire_protocols::robot::SessionConfig;
use telewire_protocols::robot::Topic;
use telewire_protocols::robot::WS_PATHS;

use crate::clock::Clock;
use crate::context::ApiInfo;
use crate::context::Context;
use crate::context::Started;
use crate::jwt::JwtAuthority;
use crate::shutdown::Shutdown;

pub use device::first_payloads;
pub use exchange::Exchange;
pub use publisher::PublisherError;
pub use publisher::PublisherOptions;
pub use publisher::PublisherStats;
pub use publisher::run_publisher;
pub use scenario::Scenario;

/// What every connection and the token endpoint share.
pub struct Shared {
    clock: Clock,
    shutdown: Shutdown,
    jwt: Arc<JwtAuthority>,
    verifier: SharedVerifier,
    keys: ApiKeys,
    session: SessionConfig,
    refuse_before_upgrade: bool,
    max_connections: usize,
    exchange: Arc<Exchange>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("jwt", &self.jwt)
            .field("session", &self.session)
            .field("refuse_before_upgrade", &self.refuse_before_upgrade)
            .field("exchange", &self.exchange)
            .finish_non_exhaustive()
    }
}

/// The session settings `scenario` asks for.
pub fn session_config(scenario: &Scenario) -> SessionConfig {
    SessionConfig {
        limits: Limits {
            max_message_bytes: scenario.max_message_bytes.max(64),
            max_topics_per_connection: scenario.max_topics_per_connection.max(1),
            max_messages: scenario.max_messages_per_second.max(1),
            window: Duration::from_secs(1),
            ..Limits::DEFAULT
        },
        acks: scenario.acks,
        enforce_token_expiry: true,
    }
}

/// Forwards the simulator's own log lines (every API's, through [`crate::logtap`]) to the
/// subscribers of `server_logs`, for as long as the server runs.
async fn forward_process_logs(exchange: Arc<Exchange>) {
    let mut lines = crate::logtap::subscribe();
    loop {
        match lines.recv().await {
            Ok(line) => {
                let level = match line.level {
                    tracing::Level::ERROR => LogLevel::Error,
                    tracing::Level::WARN => LogLevel::Warning,
                    tracing::Level::INFO => LogLevel::Info,
                    _ => LogLevel::Debug,
                };
                if exchange.has_subscribers(&Topic::SERVER_LOGS) {
                    exchange.log(level, &format!("{}: {}", line.target, line.text));
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Starts the simulated robot server.
pub fn start(ctx: &Context, scenario: &Scenario) -> Started {
    let creds = &ctx.credentials;
    let jwt = ctx.jwt("robot", Duration::from_secs(scenario.token_ttl_secs.max(1)));
    let max_connections = scenario.max_connections.max(1);
    let mut exchange = Exchange::new(
        BrokerConfig {
            caps: CapConfig {
                total: Some(max_connections),
                per_user: None,
                rate: None,
            },
        },
        scenario.queue,
        ctx.clock,
    )
    .with_overflow(ctx.overflow);
    if scenario.faults.no_server_logs {
        exchange = exchange.without_server_logs();
    }
    if scenario.faults.leak_publishes {
        exchange = exchange.leaking_publishes();
    }
    let exchange = Arc::new(exchange);
    let mut tasks = vec![tokio::spawn(forward_process_logs(exchange.clone()))];
    let mut topics = Vec::new();
    let mut described = Vec::new();
    for spec in &scenario.topics {
        if topics.contains(&spec.topic) {
            tracing::warn!(topic = %spec.topic, "robot topic listed twice; the first one is served");
            continue;
        }
        if spec.topic.is_empty() || spec.topic == Topic::SERVER_LOGS.as_str() {
            tracing::warn!(topic = %spec.topic, "robot topic name not usable for data; skipped");
            continue;
        }
        topics.push(spec.topic.clone());
        described.push(format!(
            "{} ({} every {} ms)",
            spec.topic, spec.name, spec.interval_ms
        ));
        tasks.push(tokio::spawn(device::run_topic(
            device::TopicDevice::new(ctx.seed, spec),
            exchange.clone(),
            Duration::from_millis(spec.interval_ms),
            ctx.shutdown.clone(),
        )));
    }
    if scenario.status_interval_ms > 0 && !scenario.faults.no_server_logs {
        tasks.push(tokio::spawn(device::run_status(
            device::StatusDevice::new(ctx.seed, &scenario.status),
            exchange.clone(),
            Duration::from_millis(scenario.status_interval_ms),
            ctx.shutdown.clone(),
        )));
    }
    let shared = Arc::new(Shared {
        clock: ctx.clock,
        shutdown: ctx.shutdown.clone(),
        jwt: jwt.clone(),
        verifier: if scenario.faults.accept_expired_tokens {
            Arc::new(crate::jwt::AcceptExpired(jwt.clone()))
        } else {
            jwt.clone()
        },
        keys: ApiKeys::new().with(&creds.api_key, &creds.username),
        session: session_config(scenario),
        refuse_before_upgrade: scenario.refuse_before_upgrade,
        max_connections,
        exchange,
    });
    let mut router = Router::new()
        // The API's AsyncAPI 3.0 document, naming this server; built once.
        .route(
            telewire_protocols::asyncapi::HTTP_PATH,
            get({
                let document = telewire_protocols::asyncapi::Api::Robot.document_for_simulator(
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
        .route(AUTH_PATH, get(token::issue).options(token::preflight))
        .route(
            AUTH_PATH.trim_end_matches('/'),
            get(token::issue).options(token::preflight),
        );
    for path in WS_PATHS {
        router = router.route(path, get(wss::upgrade));
    }
    let token = jwt.issue(&creds.username, AccessLevel::Admin, ctx.clock.now());
    let topic_list = described.join(", ");
    let ws_urls: Vec<String> = WS_PATHS
        .iter()
        .map(|p| format!("{}{p}", ctx.ws_base()))
        .collect();
    let info = ApiInfo {
        http: vec![format!("GET {}{AUTH_PATH}", ctx.http_base())],
        credentials: format!(
            "header X-API-Key: {} on GET {AUTH_PATH} returns {{\"token\"}}; pass it as ?token= on the WebSocket URL",
            creds.api_key
        ),
        notes: vec![
            format!(
                "ready to paste: {}?token={token}",
                ws_urls.first().cloned().unwrap_or_default()
            ),
            format!("robot topics: {topic_list}; data flows while someone is subscribed"),
            format!(
                "server_logs: the server's own log lines, and a robot status line (battery, pose, mode) every {} ms",
                scenario.status_interval_ms
            ),
            "send {\"action\":\"subscribe\"|\"unsubscribe\",\"topic\":t} or {\"action\":\"publish\",\"topic\":t,\"data\":{name,type,data}} (data may be a JSON string); subscribers get {name,type,data}".into(),
            format!(
                "bad token: {}; tokens live {} s and a connection closes with 1008 when its token expires; errors: {{\"action\":\"error\",\"error\",\"message\"}}",
                if scenario.refuse_before_upgrade {
                    "HTTP 401 before the upgrade"
                } else {
                    "close 1008 after the upgrade"
                },
                scenario.token_ttl_secs
            ),
        ],
        ws_urls,
        token,
    };
    Started {
        router: router.with_state(shared),
        tasks,
        info,
    }
}
