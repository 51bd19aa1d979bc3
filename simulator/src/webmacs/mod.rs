//! The simulated WebMACS backend: login/logout, the two `?token=` sockets, latest values, events.
//!
//! Everything protocol-shaped lives in `telewire_protocols::webmacs`; this module is IO:
//! [`http`] answers the REST endpoints the document's clients use, [`ws`] feeds each
//! socket to a `ControllerSession` or `StreamSession` through the generic driver,
//! [`device`] is the built-in controller feeding the seeded events, and [`controller`] is
//! a simulated controller that pushes into any WebMACS server.
//!
//! One [`IngestHub`] per server holds the events, the active experiment, the 200 ms
//! per-event broadcast throttle and the latest value per event; accepted batches fan out
//! to every stream client, encoded once, through a bounded [`Hub`].

pub mod controller;
pub mod device;
pub mod http;
pub mod scenario;
pub mod ws;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::PoisonError;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use axum::routing::post;
use telewire_protocols::auth::AccessLevel;
use telewire_protocols::time::Timestamp;
use telewire_protocols::webmacs::Datapoint;
use telewire_protocols::webmacs::Endpoint;
use telewire_protocols::webmacs::EventKind;
use telewire_protocols::webmacs::EventPublicId;
use telewire_protocols::webmacs::IngestHub;
use telewire_protocols::webmacs::Reading;
use telewire_protocols::webmacs::WEBHOOK_INTERVAL;
use telewire_protocols::webmacs::http::EVENTS_PATH;
use telewire_protocols::webmacs::http::EventItem;
use telewire_protocols::webmacs::http::LATEST_DATAPOINTS_PATH;
use telewire_protocols::webmacs::http::LOGIN_PATH;
use telewire_protocols::webmacs::http::LOGOUT_PATH;

use crate::clock::Clock;
use crate::context::ApiInfo;
use crate::context::Context;
use crate::context::Credentials;
use crate::context::Started;
use crate::hub::Hub;
use crate::jwt::JwtAuthority;
use crate::shutdown::Shutdown;

pub use controller::ControllerError;
pub use controller::ControllerOptions;
pub use controller::ControllerStats;
pub use controller::run_controller;
pub use device::Lab;
pub use scenario::EventSpec;
pub use scenario::Faults;
pub use scenario::Scenario;

/// The subject of the token minted at start for a user deleted right after: it shows a
/// dashboard the `"User not found"` close.
pub const DELETED_USER: &str = "deleted-user@example.com";

/// Broadcasts one stream client may have queued before the hub starts dropping them.
pub const QUEUE: usize = 256;

/// What every connection and endpoint of one server share.
pub struct Shared {
    credentials: Credentials,
    clock: Clock,
    shutdown: Shutdown,
    jwt: Arc<JwtAuthority>,
    ingest: Mutex<IngestHub>,
    streams: Hub<Arc<str>>,
    last_poll: Mutex<Option<tokio::time::Instant>>,
    faults: Faults,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("jwt", &self.jwt)
            .field("streams", &self.streams.len())
            .finish_non_exhaustive()
    }
}

/// What one ingested batch did, in numbers, for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ingested {
    /// Datapoints persisted.
    pub stored: usize,
    /// Datapoints dropped: unknown event, or no enabled plugin.
    pub dropped: usize,
    /// Persisted datapoints left out of the broadcast by the throttle.
    pub throttled: usize,
    /// Stream clients the broadcast was queued for.
    pub broadcast: usize,
}

impl Shared {
    /// Runs the processing pipeline on `datapoints` received at `now` and broadcasts the
    /// result, encoded once, to every stream client.
    pub fn ingest(&self, now: Timestamp, datapoints: &[Datapoint]) -> Ingested {
        let outcome = self
            .ingest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .ingest(now, datapoints);
        for dp in &outcome.webhooks {
            tracing::debug!(event = %dp.event_public_id, value = %dp.value, "webmacs sensor_reading webhook (simulated)");
        }
        for dp in &outcome.rule_checks {
            tracing::trace!(event = %dp.event_public_id, value = %dp.value, "webmacs rule check");
        }
        let broadcast = match &outcome.broadcast {
            Some(batch) => {
                let text: Arc<str> = batch.message_text().into();
                self.streams.broadcast(&text)
            }
            None => 0,
        };
        Ingested {
            stored: outcome.stored.len(),
            dropped: outcome.dropped,
            throttled: outcome.throttled,
            broadcast,
        }
    }

    /// Whether anyone watches the live data: a stream client, or a recent poll.
    pub fn watched(&self) -> bool {
        if !self.streams.is_empty() {
            return true;
        }
        self.last_poll
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|at| at.elapsed() < device::POLL_KEEPS_ALIVE)
    }

    fn note_poll(&self) {
        *self
            .last_poll
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(tokio::time::Instant::now());
    }
}

/// The `EventItem` a scenario event is listed as.
fn event_item(spec: &EventSpec) -> EventItem {
    EventItem {
        public_id: EventPublicId::from(spec.public_id.as_str()),
        name: spec.name.clone(),
        min_value: finite(spec.min_value),
        max_value: finite(spec.max_value),
        unit: spec.unit.clone(),
        kind: EventKind::SENSOR,
        user_public_id: None,
        enabled: None,
    }
}

/// A scenario bound as a reading (JSON has no `NaN` or infinities: they become 0).
fn finite(v: f64) -> Reading {
    Reading::new(v).unwrap_or_default()
}

/// The server state for `scenario`: events registered, experiment started, no client yet.
/// Returns it with one note line per event.
fn new_shared(ctx: &Context, scenario: &Scenario) -> (Shared, Vec<String>) {
    let mut hub = IngestHub::with_intervals(
        Duration::from_millis(scenario.throttle_ms),
        WEBHOOK_INTERVAL,
    );
    let mut event_notes = Vec::new();
    for spec in &scenario.events {
        if hub
            .event(&EventPublicId::from(spec.public_id.as_str()))
            .is_some()
        {
            tracing::warn!(event = %spec.public_id, "webmacs event listed twice; the last one counts");
        }
        hub.register_event(event_item(spec), spec.enabled);
        event_notes.push(format!(
            "event {} = {} ({}){}",
            spec.public_id,
            spec.name,
            spec.unit,
            if spec.enabled { "" } else { ", disabled" }
        ));
    }
    if let Some(experiment) = &scenario.experiment {
        hub.start_experiment(experiment.as_str());
    }
    let shared = Shared {
        credentials: ctx.credentials.clone(),
        clock: ctx.clock,
        shutdown: ctx.shutdown.clone(),
        jwt: ctx.jwt("webmacs", Duration::from_secs(scenario.token_ttl_secs)),
        ingest: Mutex::new(hub),
        streams: Hub::new(QUEUE).with_overflow(ctx.overflow),
        last_poll: Mutex::new(None),
        faults: scenario.faults.breaks.clone(),
    };
    (shared, event_notes)
}

/// Starts the simulated webmacs server.
pub fn start(ctx: &Context, scenario: &Scenario) -> Started {
    let creds = &ctx.credentials;
    let (shared, event_notes) = new_shared(ctx, scenario);
    let now = ctx.clock.now();
    let token = shared.jwt.issue(&creds.email, AccessLevel::Admin, now);
    let deleted_token = shared.jwt.issue(DELETED_USER, AccessLevel::Admin, now);
    shared.jwt.delete_subject(DELETED_USER);
    let shared = Arc::new(shared);
    let mut tasks = Vec::new();
    if let Some(interval) = device::batch_interval(scenario.rate, scenario.events.len()) {
        let lab = Lab::from_events(ctx.seed, &scenario.events);
        tasks.push(tokio::spawn(device::run(
            lab,
            shared.clone(),
            interval,
            ctx.shutdown.clone(),
        )));
    }
    let router = Router::new()
        // The API's AsyncAPI 3.0 document, naming this server; built once.
        .route(
            telewire_protocols::asyncapi::HTTP_PATH,
            get({
                let document = telewire_protocols::asyncapi::Api::Webmacs.document_for_simulator(
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
        .route(LOGIN_PATH, post(http::login).options(http::preflight))
        .route(LOGOUT_PATH, post(http::logout).options(http::preflight))
        .route(
            LATEST_DATAPOINTS_PATH,
            get(http::latest).options(http::preflight),
        )
        .route(EVENTS_PATH, get(http::events).options(http::preflight))
        .route(
            Endpoint::ControllerTelemetry.path(),
            get(ws::controller_upgrade),
        )
        .route(Endpoint::DatapointStream.path(), get(ws::stream_upgrade))
        .with_state(shared);
    let ws = ctx.ws_base();
    let base = ctx.http_base();
    let mut notes = vec![
        format!(
            "sockets take the token as ?token=<jwt>; e.g. {ws}{}?token=<token>",
            Endpoint::DatapointStream.path()
        ),
        match &scenario.experiment {
            Some(id) => format!("active experiment {id}"),
            None => "no active experiment (experiment_public_id is null)".to_owned(),
        },
        match device::batch_interval(scenario.rate, scenario.events.len()) {
            Some(interval) => format!(
                "built-in controller: one reading of every event each {} ms while a stream client is connected or /latest was polled in the last {} s; broadcasts throttled to one per event per {} ms",
                interval.as_millis(),
                device::POLL_KEEPS_ALIVE.as_secs(),
                scenario.throttle_ms
            ),
            None => format!(
                "built-in controller off (rate 0): push readings to /ws/controller/telemetry; broadcasts throttled to one per event per {} ms",
                scenario.throttle_ms
            ),
        },
    ];
    notes.extend(event_notes);
    notes.push(format!(
        "token of a deleted user (closes with 1008 \"User not found\"): {deleted_token}"
    ));
    let info = ApiInfo {
        ws_urls: Endpoint::ALL
            .iter()
            .map(|e| format!("{ws}{}", e.path()))
            .collect(),
        http: vec![
            format!("POST {base}{LOGIN_PATH}"),
            format!("POST {base}{LOGOUT_PATH}"),
            format!("GET {base}{LATEST_DATAPOINTS_PATH}"),
            format!("GET {base}{EVENTS_PATH}"),
        ],
        credentials: format!(
            "JSON {{\"email\": \"{}\", \"password\": \"{}\"}}; REST calls take Authorization: Bearer <token>",
            creds.email, creds.password
        ),
        token,
        notes,
    };
    Started {
        router,
        tasks,
        info,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        Context {
            clock: Clock::system(),
            shutdown: crate::shutdown::channel().1,
            seed: 1,
            credentials: Credentials::default(),
            jwt_secret: Arc::from(&b"secret"[..]),
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: false,
            hooks: crate::faults::Hooks::new(),
            overflow: crate::hub::Overflow::default(),
        }
    }

    fn reading(id: &str, v: f64) -> Datapoint {
        Datapoint::new(id, Reading::new(v).unwrap_or_default())
    }

    /// "Broadcasts ... (throttled to ≥ 200 ms per event)", at the exact edge, through the
    /// server's own fan-out: 199 ms after a broadcast the event is held back, at 200 ms
    /// it goes out again; the held-back value is stored but never sent.
    #[tokio::test]
    async fn the_broadcast_throttle_holds_an_event_for_200_ms() {
        let scenario = Scenario::default();
        let id = scenario.events[0].public_id.clone();
        let other = scenario.events[1].public_id.clone();
        let (shared, notes) = new_shared(&context(), &scenario);
        assert_eq!(notes.len(), scenario.events.len());
        let (_, mut rx) = shared.streams.register();
        let t0 = Timestamp::from_unix_secs(1_700_000_000);
        let ms = |n| t0.saturating_add(Duration::from_millis(n));
        assert_eq!(shared.ingest(t0, &[reading(&id, 1.0)]).broadcast, 1);
        let held = shared.ingest(ms(199), &[reading(&id, 2.0), reading(&other, 5.0)]);
        assert_eq!((held.stored, held.throttled, held.broadcast), (2, 1, 1));
        assert_eq!(shared.ingest(ms(200), &[reading(&id, 3.0)]).broadcast, 1);
        let mut texts = Vec::new();
        while let Some(text) = rx.try_recv() {
            texts.push(text.to_string());
        }
        assert_eq!(texts.len(), 3, "{texts:?}");
        assert!(texts[0].contains(r#""value":1.0"#), "{}", texts[0]);
        assert!(
            !texts[1].contains(&id) && texts[1].contains(r#""value":5.0"#),
            "{}",
            texts[1]
        );
        assert!(texts[2].contains(r#""value":3.0"#), "{}", texts[2]);
        let latest = shared
            .ingest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .latest();
        assert!(latest.to_text().contains(r#""value":3.0"#));
    }

    #[tokio::test]
    async fn a_recent_poll_counts_as_watching() {
        let (shared, _) = new_shared(&context(), &Scenario::default());
        assert!(!shared.watched());
        shared.note_poll();
        assert!(shared.watched());
    }
}
