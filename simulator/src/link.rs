//! Every live connection of the simulated APIs: its id, peer, state and counters, and a
//! command queue through which the admin API, the control page and replay act on it.
//!
//! [`wrap`] puts a [`LinkTicket`] on every WebSocket upgrade request of an API; the
//! handler's [`crate::judge::Watch`] carries it to [`crate::driver::drive_watched`], which
//! registers the connection in [`Links`] for as long as it is driven and serves its
//! [`Command`]s between frames.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::OnceLock;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::time::SystemTime;
use std::time::UNIX_EPOCH;

use axum::extract::ConnectInfo;
use axum::extract::Request;
use axum::extract::State;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;
use telewire_protocols::frame::Close;
use telewire_protocols::frame::Outbound;
use telewire_protocols::session::AuthView;
use telewire_protocols::session::SessionView;
use tokio::sync::Notify;
use tokio::sync::broadcast;
use tokio::sync::mpsc;

use crate::control::preview::Preview;
use crate::control::preview::Previews;
use crate::serve::Api;

/// A connection's id, unique across every API of one `telewire serve`.
pub type LinkId = u64;

/// Commands a connection's queue holds before the driver acts on them.
pub const COMMAND_CAPACITY: usize = 256;

/// What the driver of a connection is told to do, between two frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Write this frame as it is, past the session (injected and replayed frames).
    Send(Outbound),
    /// Close with this code and reason; the session is not consulted.
    Close(Close),
    /// Drop the connection without a close frame.
    Abort,
    /// Change the connection's lasting faults (latency, drop, duplicate, stall).
    Shape(crate::faults::ShapeChange),
    /// Hand an API-level fault to the connection's session.
    Session(SessionFault),
}

/// A fault that only the API's session can act on (see `driver::Application::on_fault`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFault {
    /// Mosaic: the session times out now (the next keepalive reply is all zeros).
    TimeOut,
    /// Mosaic: the controller restarted; keepalive replies carry this new session key.
    SessionKey([u8; 16]),
}

/// Why a command did not reach a connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// No such connection (it never was, or it has ended).
    #[error("no connection {0}: list them with GET /_telewire/clients")]
    Unknown(LinkId),
    /// Its command queue is full: the connection is not keeping up.
    #[error("connection {0} is not taking commands (its queue of {COMMAND_CAPACITY} is full)")]
    Full(LinkId),
}

/// Authentication notices a slow reader of [`Links::authenticated`] may fall behind by.
const AUTH_NOTICES: usize = 1024;

/// The live connections of every API of one `telewire serve`.
#[derive(Debug)]
pub struct Links {
    next_id: AtomicU64,
    links: Mutex<BTreeMap<LinkId, Registered>>,
    previews: Previews,
    auth: broadcast::Sender<LinkId>,
    joining: Mutex<BTreeMap<Api, Vec<Command>>>,
}

impl Default for Links {
    fn default() -> Self {
        Self {
            next_id: AtomicU64::new(1),
            links: Mutex::new(BTreeMap::new()),
            previews: Previews::default(),
            auth: broadcast::channel(AUTH_NOTICES).0,
            joining: Mutex::new(BTreeMap::new()),
        }
    }
}

#[derive(Debug)]
struct Registered {
    api: Api,
    state: Arc<LinkState>,
    commands: mpsc::Sender<Command>,
}

/// What a connection's driver updates and every reader sees.
#[derive(Debug)]
pub struct LinkState {
    id: LinkId,
    api: Api,
    path: String,
    peer: SocketAddr,
    connected_unix_ms: u64,
    frames_in: AtomicU64,
    frames_out: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    dropped: AtomicU64,
    view: Mutex<SessionView>,
    preview: Arc<Preview>,
    auth: broadcast::Sender<LinkId>,
    announced: std::sync::atomic::AtomicBool,
    /// A close the connection must make at once, even while a write is blocked (a
    /// slow-consumer policy that closes).
    urgent: OnceLock<Close>,
    urgent_set: Notify,
}

/// One connection as the admin API and the control page show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkInfo {
    /// The connection id (`--client ID`).
    pub id: LinkId,
    /// The API it is connected to.
    pub api: &'static str,
    /// The endpoint path it upgraded on.
    pub path: String,
    /// The client's address.
    pub peer: String,
    /// When it connected, in Unix milliseconds.
    pub connected_unix_ms: u64,
    /// Where its authentication stands.
    pub auth: String,
    /// Its channels, topics or subscriptions.
    pub subscriptions: Vec<String>,
    /// Data frames received from the client.
    pub frames_in: u64,
    /// Frames written to the client.
    pub frames_out: u64,
    /// Bytes received from the client.
    pub bytes_in: u64,
    /// Bytes written to the client.
    pub bytes_out: u64,
    /// Frames meant for the client and dropped (slow consumer, faults).
    pub dropped: u64,
}

impl Links {
    /// An empty registry.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The id of every connection whose session becomes authenticated (or open, for an
    /// API without authentication), as it does; replay starts serving it then.
    pub fn authenticated(&self) -> broadcast::Receiver<LinkId> {
        self.auth.subscribe()
    }

    /// The command queue of connection `id`, while it lives: [`mpsc::Sender::send`] waits
    /// for room, so a producer that must keep every frame in order (replay) is held back
    /// by a slow consumer instead of losing frames.
    pub fn sender(&self, id: LinkId) -> Option<mpsc::Sender<Command>> {
        let links = self.links.lock().ok()?;
        links.get(&id).map(|r| r.commands.clone())
    }

    /// The sampled outbound data frames of every API (the control page's preview).
    pub fn previews(&self) -> &Previews {
        &self.previews
    }

    /// Every new connection of `api` starts with `commands` queued (startup faults, and
    /// lasting faults applied to every client).
    pub fn set_joining(&self, api: Api, commands: Vec<Command>) {
        if let Ok(mut joining) = self.joining.lock() {
            joining.insert(api, commands);
        }
    }

    /// Every live connection (of `api`, when given), by id.
    pub fn list(&self, api: Option<Api>) -> Vec<LinkInfo> {
        let Ok(links) = self.links.lock() else {
            return Vec::new();
        };
        links
            .values()
            .filter(|r| api.is_none_or(|api| r.api == api))
            .map(|r| r.state.info())
            .collect()
    }

    /// The ids of every live connection (of `api`, when given).
    pub fn ids(&self, api: Option<Api>) -> Vec<LinkId> {
        let Ok(links) = self.links.lock() else {
            return Vec::new();
        };
        links
            .iter()
            .filter(|(_, r)| api.is_none_or(|api| r.api == api))
            .map(|(id, _)| *id)
            .collect()
    }

    /// The shared state of connection `id`, while it lives.
    pub fn state(&self, id: LinkId) -> Option<Arc<LinkState>> {
        let links = self.links.lock().ok()?;
        links.get(&id).map(|r| r.state.clone())
    }

    /// Queues `command` for connection `id`.
    pub fn send(&self, id: LinkId, command: Command) -> Result<(), SendError> {
        let tx = {
            let links = self.links.lock().map_err(|_| SendError::Unknown(id))?;
            links
                .get(&id)
                .map(|r| r.commands.clone())
                .ok_or(SendError::Unknown(id))?
        };
        tx.try_send(command).map_err(|err| match err {
            mpsc::error::TrySendError::Full(_) => SendError::Full(id),
            mpsc::error::TrySendError::Closed(_) => SendError::Unknown(id),
        })
    }

    /// Queues `command` for every live connection of `api`; returns how many took it.
    pub fn broadcast(&self, api: Api, command: &Command) -> usize {
        let targets: Vec<(LinkId, mpsc::Sender<Command>)> = match self.links.lock() {
            Ok(links) => links
                .iter()
                .filter(|(_, r)| r.api == api)
                .map(|(id, r)| (*id, r.commands.clone()))
                .collect(),
            Err(_) => return 0,
        };
        let mut taken = 0;
        for (id, tx) in targets {
            match tx.try_send(command.clone()) {
                Ok(()) => taken += 1,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    if let Some(state) = self.state(id) {
                        state.count_dropped(1);
                    }
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        taken
    }

    fn register(self: &Arc<Self>, ticket: &LinkTicket) -> Link {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(COMMAND_CAPACITY);
        if let Ok(joining) = self.joining.lock() {
            for command in joining.get(&ticket.api).into_iter().flatten() {
                let _ = tx.try_send(command.clone());
            }
        }
        let state = Arc::new(LinkState {
            id,
            api: ticket.api,
            path: ticket.path.clone(),
            peer: ticket.peer,
            connected_unix_ms: unix_ms(),
            frames_in: AtomicU64::new(0),
            frames_out: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            view: Mutex::new(SessionView::default()),
            preview: self.previews.of(ticket.api).clone(),
            auth: self.auth.clone(),
            announced: std::sync::atomic::AtomicBool::new(false),
            urgent: OnceLock::new(),
            urgent_set: Notify::new(),
        });
        if let Ok(mut links) = self.links.lock() {
            links.insert(
                id,
                Registered {
                    api: ticket.api,
                    state: state.clone(),
                    commands: tx,
                },
            );
        }
        tracing::debug!(id, api = ticket.api.name(), peer = %ticket.peer, "connection registered");
        Link {
            links: self.clone(),
            state,
            commands: rx,
        }
    }

    fn unregister(&self, id: LinkId) {
        if let Ok(mut links) = self.links.lock() {
            links.remove(&id);
        }
    }
}

impl LinkState {
    /// The connection id.
    pub fn id(&self) -> LinkId {
        self.id
    }

    /// The API it is connected to.
    pub fn api(&self) -> Api {
        self.api
    }

    /// A frame of `len` bytes arrived from the client.
    pub fn count_in(&self, len: usize) {
        self.frames_in.fetch_add(1, Ordering::Relaxed);
        self.bytes_in.fetch_add(len as u64, Ordering::Relaxed);
    }

    /// A frame of `len` bytes was written to the client.
    pub fn count_out(&self, len: usize) {
        self.frames_out.fetch_add(1, Ordering::Relaxed);
        self.bytes_out.fetch_add(len as u64, Ordering::Relaxed);
    }

    /// Offers a frame written to the client to its API's preview (one atomic load while
    /// nobody watches the control page).
    pub fn sampled(&self, frame: &Outbound) {
        self.preview.offer(self.id, frame);
    }

    /// `n` frames meant for the client were dropped.
    pub fn count_dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// Asks the driver to close with `close` at once, even while it waits on a blocked
    /// write. The first request wins.
    pub fn request_close(&self, close: Close) {
        if self.urgent.set(close).is_ok() {
            self.urgent_set.notify_one();
        }
    }

    /// The close requested with [`LinkState::request_close`], once there is one.
    pub async fn close_requested(&self) -> Close {
        loop {
            if let Some(close) = self.urgent.get() {
                return close.clone();
            }
            self.urgent_set.notified().await;
        }
    }

    /// The session now looks like `view`.
    pub fn set_view(&self, view: SessionView) {
        if let Ok(mut current) = self.view.lock()
            && *current != view
        {
            let ready =
                |auth: &AuthView| matches!(auth, AuthView::Authenticated(_) | AuthView::Open);
            let becomes_ready = ready(&view.auth);
            *current = view;
            // Announced once: a session that times out and authenticates again (Mosaic)
            // is the same connection.
            if becomes_ready && !self.announced.swap(true, Ordering::Relaxed) {
                // Nobody listening is fine: replay is off.
                let _ = self.auth.send(self.id);
            }
        }
    }

    /// The endpoint path it upgraded on.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// A snapshot for the admin API and the control page.
    pub fn info(&self) -> LinkInfo {
        let view = self.view.lock().map(|v| v.clone()).unwrap_or_default();
        LinkInfo {
            id: self.id,
            api: self.api.name(),
            path: self.path.clone(),
            peer: self.peer.to_string(),
            connected_unix_ms: self.connected_unix_ms,
            auth: view.auth.to_string(),
            subscriptions: view.subscriptions,
            frames_in: self.frames_in.load(Ordering::Relaxed),
            frames_out: self.frames_out.load(Ordering::Relaxed),
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

/// A registered connection, owned by its driver; dropping it unregisters it.
#[derive(Debug)]
pub struct Link {
    links: Arc<Links>,
    state: Arc<LinkState>,
    commands: mpsc::Receiver<Command>,
}

impl Link {
    /// Its shared state (counters, view).
    pub fn state(&self) -> &Arc<LinkState> {
        &self.state
    }

    /// The next command for this connection; pending forever once none can come.
    pub async fn command(&mut self) -> Command {
        match self.commands.recv().await {
            Some(command) => command,
            None => std::future::pending().await,
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.links.unregister(self.state.id);
        tracing::debug!(id = self.state.id, "connection unregistered");
    }
}

/// What the upgrade middleware knows of a connection before it is driven.
#[derive(Debug, Clone)]
pub struct LinkTicket {
    links: Arc<Links>,
    api: Api,
    peer: SocketAddr,
    path: String,
}

impl LinkTicket {
    /// Registers the connection: it is listed, and takes commands, until the [`Link`] drops.
    pub fn register(&self) -> Link {
        self.links.register(self)
    }
}

/// Middleware on every route of an API: WebSocket upgrade requests get a [`LinkTicket`].
pub async fn observe(
    State((links, api)): State<(Arc<Links>, Api)>,
    mut request: Request,
    next: Next,
) -> Response {
    if is_upgrade(&request) {
        let peer = peer_of(&request);
        let ticket = LinkTicket {
            links,
            api,
            peer,
            path: request.uri().path().to_owned(),
        };
        request.extensions_mut().insert(ticket);
    }
    next.run(request).await
}

/// Whether `request` asks for a WebSocket upgrade.
pub fn is_upgrade(request: &Request) -> bool {
    request
        .headers()
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

/// The peer address of `request` (`0.0.0.0:0` when the server did not record it).
pub fn peer_of(request: &Request) -> SocketAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr)
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)))
}

/// Registers every connection of `api`'s router in `links`.
pub fn wrap(router: axum::Router, links: Arc<Links>, api: Api) -> axum::Router {
    router.layer(axum::middleware::from_fn_with_state((links, api), observe))
}

/// The wall clock in Unix milliseconds (0 before 1970).
pub(crate) fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(links: &Arc<Links>, api: Api) -> LinkTicket {
        LinkTicket {
            links: links.clone(),
            api,
            peer: SocketAddr::from(([127, 0, 0, 1], 4000)),
            path: "/ws".into(),
        }
    }

    #[tokio::test]
    async fn a_link_is_listed_while_it_lives_and_takes_commands() {
        let links = Links::new();
        let mut link = ticket(&links, Api::Webmacs).register();
        let _other = ticket(&links, Api::Robot).register();
        let id = link.state().id();
        assert_eq!(links.ids(Some(Api::Webmacs)), vec![id]);
        assert_eq!(links.list(None).len(), 2);
        link.state().count_in(10);
        link.state().count_out(7);
        let info = &links.list(Some(Api::Webmacs))[0];
        assert_eq!((info.frames_in, info.bytes_in, info.frames_out), (1, 10, 1));
        links.send(id, Command::Abort).unwrap();
        assert_eq!(link.command().await, Command::Abort);
        assert_eq!(links.broadcast(Api::Robot, &Command::Abort), 1);
        drop(link);
        assert_eq!(links.send(id, Command::Abort), Err(SendError::Unknown(id)));
        assert_eq!(links.ids(Some(Api::Webmacs)), Vec::<LinkId>::new());
    }

    #[test]
    fn a_full_queue_is_reported_and_counted() {
        let links = Links::new();
        let link = ticket(&links, Api::Mosaic).register();
        let id = link.state().id();
        for _ in 0..COMMAND_CAPACITY {
            links.send(id, Command::Abort).unwrap();
        }
        assert_eq!(links.send(id, Command::Abort), Err(SendError::Full(id)));
        assert_eq!(links.broadcast(Api::Mosaic, &Command::Abort), 0);
        assert_eq!(link.state().info().dropped, 1);
    }

    #[test]
    fn authentication_is_announced_once_per_connection() {
        use telewire_protocols::session::AuthView;
        let links = Links::new();
        let mut notices = links.authenticated();
        let link = ticket(&links, Api::Mosaic).register();
        let view = |auth| SessionView {
            auth,
            subscriptions: Vec::new(),
        };
        link.state().set_view(view(AuthView::Pending));
        assert!(notices.try_recv().is_err());
        link.state()
            .set_view(view(AuthView::Authenticated("demo".into())));
        assert_eq!(notices.try_recv().ok(), Some(link.state().id()));
        link.state().set_view(view(AuthView::Pending));
        link.state()
            .set_view(view(AuthView::Authenticated("demo".into())));
        assert!(
            notices.try_recv().is_err(),
            "a second login is not a new client"
        );
        assert!(links.sender(link.state().id()).is_some());
    }
}
