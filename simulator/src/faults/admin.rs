//! The admin API on every simulator port (loopback peers only): `GET /_telewire/clients`,
//! `GET|POST|DELETE /_telewire/faults`, and [`FaultControl`], which applies a fault to one
//! connection or to every connection of an API.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::OnceLock;
use std::sync::PoisonError;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use telewire_protocols::frame::Close;
use telewire_protocols::frame::CloseCode;
use tokio::sync::mpsc;

use super::Fault;
use crate::jwt::JwtAuthority;
use crate::link::Command;
use crate::link::LinkId;
use crate::link::Links;
use crate::link::SessionFault;
use crate::serve::Api;

/// `GET`: the live connections of this port's API.
pub const CLIENTS_PATH: &str = "/_telewire/clients";
/// `GET` the catalog and active faults, `POST` a fault, `DELETE` the lasting ones.
pub const FAULTS_PATH: &str = "/_telewire/faults";

/// The largest admin request body read.
const BODY_LIMIT: usize = 16 * 1024;

type RestartController = Box<dyn Fn() -> [u8; 16] + Send + Sync>;

/// What an API hands the fault machinery at start: its token authority and, for Mosaic,
/// how to restart its controller.
#[derive(Default)]
pub struct Hooks {
    tokens: OnceLock<Arc<JwtAuthority>>,
    controller_restart: OnceLock<RestartController>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("tokens", &self.tokens.get().is_some())
            .field(
                "controller_restart",
                &self.controller_restart.get().is_some(),
            )
            .finish()
    }
}

impl Hooks {
    /// No hook yet.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The authority that issues and checks the API's tokens (`token-expiry`, `revoke-token`).
    pub fn set_tokens(&self, jwt: Arc<JwtAuthority>) {
        let _ = self.tokens.set(jwt);
    }

    /// Restarts the controller and returns its new session key (`controller-restart`).
    pub fn set_controller_restart(&self, restart: RestartController) {
        let _ = self.controller_restart.set(restart);
    }
}

/// Why a fault was not applied: the HTTP status and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refused {
    /// 400 for a bad or unavailable fault, 404 for an unknown connection.
    pub status: u16,
    /// What was wrong and what to do.
    pub message: String,
}

impl Refused {
    fn bad(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            message: message.into(),
        }
    }
}

/// What a fault reached.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Applied {
    /// The fault, as a spec.
    pub applied: String,
    /// The connections it was applied to.
    pub clients: Vec<LinkId>,
}

#[derive(Debug, Default)]
struct Board {
    /// Startup one-shot faults: every new connection gets them.
    startup: Vec<Command>,
    /// The same, as faults (for the table).
    startup_faults: Vec<Fault>,
    /// Lasting faults in effect: the fault and its connection (`None`: every client).
    active: Vec<(Fault, Option<LinkId>)>,
}

/// Applies faults to the connections of one API and remembers the lasting ones.
pub struct FaultControl {
    api: Api,
    links: Arc<Links>,
    hooks: Arc<Hooks>,
    restart: mpsc::Sender<Duration>,
    board: Mutex<Board>,
}

impl std::fmt::Debug for FaultControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultControl")
            .field("api", &self.api)
            .field("hooks", &self.hooks)
            .finish_non_exhaustive()
    }
}

impl FaultControl {
    /// The control of `api`: `restart` asks the server to close its port for a while.
    /// `startup` faults (per-connection ones only) apply to every client as it connects.
    pub fn new(
        api: Api,
        links: Arc<Links>,
        hooks: Arc<Hooks>,
        restart: mpsc::Sender<Duration>,
        startup: &[Fault],
    ) -> Result<Arc<Self>, String> {
        let mut board = Board::default();
        for fault in startup {
            fault.check(api)?;
            if fault.is_server_wide() {
                return Err(format!(
                    "{api}: {fault} acts once on the running server and cannot apply at start; trigger it with `telewire fault {api} {fault}`"
                ));
            }
            if fault.is_lasting() {
                board.active.push((fault.clone(), None));
            } else if let Some(command) = one_shot(api, fault) {
                board.startup.push(command);
                board.startup_faults.push(fault.clone());
            }
        }
        let control = Arc::new(Self {
            api,
            links,
            hooks,
            restart,
            board: Mutex::new(board),
        });
        control.publish_joining();
        Ok(control)
    }

    /// The API it controls.
    pub fn api(&self) -> Api {
        self.api
    }

    fn board(&self) -> std::sync::MutexGuard<'_, Board> {
        self.board.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What every new connection starts with: startup one-shots, then the lasting faults
    /// applied to every client.
    fn publish_joining(&self) {
        let board = self.board();
        let mut commands = board.startup.clone();
        commands.extend(
            board
                .active
                .iter()
                .filter(|(_, client)| client.is_none())
                .filter_map(|(fault, _)| fault.shape_change().map(Command::Shape)),
        );
        drop(board);
        self.links.set_joining(self.api, commands);
    }

    /// The one-shot faults every client gets as it connects (`--fault`, scenario).
    pub fn on_connect(&self) -> Vec<Fault> {
        self.board().startup_faults.clone()
    }

    /// The lasting faults in effect, on connections that still live.
    pub fn active(&self) -> Vec<(Fault, Option<LinkId>)> {
        let live = self.links.ids(Some(self.api));
        self.board()
            .active
            .iter()
            .filter(|(_, client)| client.is_none_or(|id| live.contains(&id)))
            .cloned()
            .collect()
    }

    /// Applies `fault` to connection `client`, or to every connection of the API.
    pub fn apply(&self, fault: &Fault, client: Option<LinkId>) -> Result<Applied, Refused> {
        fault.check(self.api).map_err(Refused::bad)?;
        if client.is_some() && fault.is_server_wide() {
            return Err(Refused::bad(format!(
                "{} acts on the whole {} server: leave out the client",
                fault.name(),
                self.api
            )));
        }
        let live = self.links.ids(Some(self.api));
        let targets = match client {
            Some(id) if live.contains(&id) => vec![id],
            Some(id) => {
                return Err(Refused {
                    status: 404,
                    message: format!(
                        "no {} connection {id}: list them with GET {CLIENTS_PATH}",
                        self.api
                    ),
                });
            }
            None => live,
        };
        let applied = Applied {
            applied: fault.to_string(),
            clients: targets.clone(),
        };
        match fault {
            Fault::TokenExpiry => {
                let jwt = self.tokens()?;
                jwt.expire_issued();
                // Robot sessions re-check their token and close with 1008 once it has
                // expired: do it now rather than at the client's next message.
                if self.api == Api::Robot {
                    self.send(&targets, &Command::Close(robot_expired_close()));
                }
            }
            Fault::RevokeToken => {
                let jwt = self.tokens()?;
                jwt.revoke_issued();
                let close = Close::new(
                    CloseCode::POLICY_VIOLATION,
                    telewire_protocols::webmacs::REASON_TOKEN_REVOKED,
                );
                self.send(&targets, &Command::Close(close));
            }
            Fault::ControllerRestart => {
                let restart = self.hooks.controller_restart.get().ok_or_else(|| {
                    Refused::bad(format!("{} has no controller to restart", self.api))
                })?;
                let key = restart();
                self.send(&targets, &Command::Session(SessionFault::SessionKey(key)));
            }
            Fault::SessionTimeout => {
                self.send(&targets, &Command::Session(SessionFault::TimeOut));
            }
            Fault::Restart(delay) => {
                self.restart.try_send(*delay).map_err(|_| {
                    Refused::bad(format!(
                        "a restart of {} is already under way: wait until its port accepts again",
                        self.api
                    ))
                })?;
                self.send(&targets, &Command::Abort);
            }
            lasting if lasting.is_lasting() => {
                if let Some(change) = lasting.shape_change() {
                    self.send(&targets, &Command::Shape(change));
                }
                let live = self.links.ids(Some(self.api));
                let mut board = self.board();
                // A newer setting of the same kind for the same target replaces the older;
                // settings of connections that have ended go.
                board.active.retain(|(f, c)| {
                    !(f.name() == lasting.name() && *c == client)
                        && c.is_none_or(|id| live.contains(&id))
                });
                board.active.push((lasting.clone(), client));
                drop(board);
                if client.is_none() {
                    self.publish_joining();
                }
            }
            other => {
                if let Some(command) = one_shot(self.api, other) {
                    self.send(&targets, &command);
                }
            }
        }
        tracing::info!(api = self.api.name(), fault = %fault, clients = ?targets, "fault applied");
        Ok(applied)
    }

    /// Clears every lasting fault of the API (on every connection, and for new ones);
    /// returns how many were in effect.
    pub fn clear(&self) -> usize {
        let cleared = self.active().len();
        self.board().active.clear();
        self.publish_joining();
        let targets = self.links.ids(Some(self.api));
        self.send(&targets, &Command::Shape(super::ShapeChange::Clear));
        cleared
    }

    fn tokens(&self) -> Result<&Arc<JwtAuthority>, Refused> {
        self.hooks
            .tokens
            .get()
            .ok_or_else(|| Refused::bad(format!("{} issues no tokens", self.api)))
    }

    fn send(&self, targets: &[LinkId], command: &Command) {
        for id in targets {
            if let Err(err) = self.links.send(*id, command.clone()) {
                tracing::debug!(%err, "fault not delivered");
            }
        }
    }

    /// The body of `GET /_telewire/faults`.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "api": self.api.name(),
            "faults": super::catalog(self.api),
            "active": self
                .active()
                .iter()
                .map(|(fault, client)| json!({"fault": fault.to_string(), "client": client}))
                .collect::<Vec<_>>(),
        })
    }
}

/// The command of a one-shot, per-connection fault.
fn one_shot(api: Api, fault: &Fault) -> Option<Command> {
    match fault {
        Fault::Disconnect => Some(Command::Abort),
        Fault::Close { code, reason } => {
            Some(Command::Close(Close::new(CloseCode(*code), reason.clone())))
        }
        Fault::Malformed(kind) => super::malformed::frame(api, *kind).map(Command::Send),
        Fault::SessionTimeout => Some(Command::Session(SessionFault::TimeOut)),
        _ => None,
    }
}

/// The close a robot session sends when its token has expired.
fn robot_expired_close() -> Close {
    use telewire_protocols::auth::TokenRejection;
    use telewire_protocols::robot::Response;
    use telewire_protocols::robot::Violation;
    match Violation::Token(TokenRejection::Expired).response() {
        Response::Close(close) => close,
        Response::Reply(_) => Close::new(CloseCode::POLICY_VIOLATION, "token expired"),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRequest {
    fault: String,
    #[serde(default)]
    client: Option<LinkId>,
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

/// A 403 for anyone but this host.
fn refuse_remote(request: &Request) -> Option<Response> {
    let peer = crate::link::peer_of(request);
    if crate::judge::is_loopback(peer.ip()) {
        None
    } else {
        Some(error(
            StatusCode::FORBIDDEN,
            "the admin API answers loopback clients only: call it from the host running telewire serve",
        ))
    }
}

async fn clients(State(control): State<Arc<FaultControl>>, request: Request) -> Response {
    if let Some(refused) = refuse_remote(&request) {
        return refused;
    }
    axum::Json(json!({
        "api": control.api.name(),
        "clients": control.links.list(Some(control.api)),
    }))
    .into_response()
}

async fn list(State(control): State<Arc<FaultControl>>, request: Request) -> Response {
    if let Some(refused) = refuse_remote(&request) {
        return refused;
    }
    axum::Json(control.to_json()).into_response()
}

async fn post(State(control): State<Arc<FaultControl>>, request: Request) -> Response {
    if let Some(refused) = refuse_remote(&request) {
        return refused;
    }
    let body = match axum::body::to_bytes(request.into_body(), BODY_LIMIT).await {
        Ok(body) => body,
        Err(err) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("cannot read the body: {err}"),
            );
        }
    };
    let ask: FaultRequest = match serde_json::from_slice(&body) {
        Ok(ask) => ask,
        Err(err) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "the body must be JSON like {{\"fault\":\"latency=200ms\",\"client\":3}} (client optional): {err}"
                ),
            );
        }
    };
    let fault: Fault = match ask.fault.parse() {
        Ok(fault) => fault,
        Err(err) => return error(StatusCode::BAD_REQUEST, format!("{err}")),
    };
    match control.apply(&fault, ask.client) {
        Ok(applied) => axum::Json(applied).into_response(),
        Err(refused) => error(
            StatusCode::from_u16(refused.status).unwrap_or(StatusCode::BAD_REQUEST),
            refused.message,
        ),
    }
}

async fn clear(State(control): State<Arc<FaultControl>>, request: Request) -> Response {
    if let Some(refused) = refuse_remote(&request) {
        return refused;
    }
    axum::Json(json!({ "cleared": control.clear() })).into_response()
}

/// Adds the admin routes of `control`'s API to its router.
pub fn wrap(router: Router, control: Arc<FaultControl>) -> Router {
    router
        .route(
            CLIENTS_PATH,
            axum::routing::get(clients).with_state(control.clone()),
        )
        .route(
            FAULTS_PATH,
            axum::routing::get(list)
                .post(post)
                .delete(clear)
                .with_state(control),
        )
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::extract::ConnectInfo;

    use super::*;

    fn control() -> Arc<FaultControl> {
        let (tx, _rx) = mpsc::channel(1);
        FaultControl::new(Api::Robot, Links::new(), Hooks::new(), tx, &[]).unwrap()
    }

    fn from(ip: [u8; 4], method: &str, body: &str) -> Request {
        let mut request = Request::builder()
            .method(method)
            .uri(FAULTS_PATH)
            .body(axum::body::Body::from(body.to_owned()))
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((ip, 5000))));
        request
    }

    #[tokio::test]
    async fn only_this_host_may_list_apply_or_clear() {
        let control = control();
        let remote = [10, 1, 2, 3];
        for response in [
            clients(State(control.clone()), from(remote, "GET", "")).await,
            list(State(control.clone()), from(remote, "GET", "")).await,
            post(
                State(control.clone()),
                from(remote, "POST", r#"{"fault":"stall"}"#),
            )
            .await,
            clear(State(control.clone()), from(remote, "DELETE", "")).await,
        ] {
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
        }
        assert!(control.active().is_empty(), "nothing applied from afar");
        let local = [127, 0, 0, 1];
        let response = post(
            State(control.clone()),
            from(local, "POST", r#"{"fault":"stall"}"#),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(control.active(), vec![(Fault::Stall(None), None)]);
        assert_eq!(control.clear(), 1);
    }

    #[test]
    fn startup_faults_are_per_connection_only() {
        let (tx, _rx) = mpsc::channel(1);
        let err = FaultControl::new(
            Api::Webmacs,
            Links::new(),
            Hooks::new(),
            tx,
            &[Fault::RevokeToken],
        )
        .unwrap_err();
        assert!(err.contains("telewire fault webmacs revoke-token"), "{err}");
        let (tx, _rx) = mpsc::channel(1);
        let err = FaultControl::new(
            Api::Robot,
            Links::new(),
            Hooks::new(),
            tx,
            &[Fault::SessionTimeout],
        )
        .unwrap_err();
        assert!(err.contains("Mosaic"), "{err}");
    }
}
