//! `telewire serve`: bind each simulated API on its port, run it, print the table, shut down.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::net::Ipv4Addr;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::context::ApiInfo;
use crate::context::Context;
use crate::context::Credentials;
use crate::context::Started;
use crate::prng;
use crate::scenario::Scenario;
use crate::shutdown;
use crate::shutdown::ShutdownTrigger;

/// How long shutdown waits for connections to finish their closing handshake.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(5);

/// The five simulated APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Api {
    /// Molecule gateway relay (binary frames).
    Molecule,
    /// Valtronics IoT platform (JSON channels).
    Valtronics,
    /// WebMACS controller ingest and dashboard stream.
    Webmacs,
    /// Mosaic lighting controller `/query`.
    Mosaic,
    /// Robot pub/sub.
    Robot,
}

impl Api {
    /// All five, in port order.
    pub const ALL: [Api; 5] = [
        Api::Molecule,
        Api::Valtronics,
        Api::Webmacs,
        Api::Mosaic,
        Api::Robot,
    ];

    /// The lowercase name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Api::Molecule => "molecule",
            Api::Valtronics => "valtronics",
            Api::Webmacs => "webmacs",
            Api::Mosaic => "mosaic",
            Api::Robot => "robot",
        }
    }

    /// The default port of `telewire serve`.
    pub fn default_port(self) -> u16 {
        match self {
            Api::Molecule => 9101,
            Api::Valtronics => 9102,
            Api::Webmacs => 9103,
            Api::Mosaic => 9104,
            Api::Robot => 9105,
        }
    }
}

impl std::fmt::Display for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Api {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Api::ALL
            .into_iter()
            .find(|api| api.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown API '{s}': expected one of molecule, valtronics, webmacs, mosaic, robot"))
    }
}

/// Everything `telewire serve` can be told.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to bind (default 127.0.0.1).
    pub bind: IpAddr,
    /// Port for each API; `None` uses the default port, `Some(0)` an ephemeral one.
    pub ports: Vec<(Api, u16)>,
    /// The data seed (default: the scenario's, else 1).
    pub seed: Option<u64>,
    /// The JWT secret (default: random per run).
    pub jwt_secret: Option<String>,
    /// Accepted credentials.
    pub credentials: Credentials,
    /// Devices, metrics and rates.
    pub scenario: Scenario,
    /// Serve TLS with this certificate.
    pub tls: Option<crate::tls::TlsSettings>,
    /// Judge mode: check every client against its API's client rules (`--judge`).
    pub judge: Option<crate::judge::JudgeSettings>,
    /// Serve the control page on this loopback port (`Some(0)`: an ephemeral one; `None`:
    /// no control page). `telewire serve` uses 9100 unless `--no-control`.
    pub control: Option<u16>,
    /// Replay mode (`--replay`): this recording replaces its API's live data.
    pub replay: Option<crate::replay::Replay>,
    /// What a connection's full outbound queue does (`--slow-consumer`); `None` takes the
    /// scenario's, else drop-oldest.
    pub slow_consumer: Option<crate::hub::Overflow>,
    /// Faults every client of an API gets as it connects (`--fault <api>:<spec>`), beside
    /// the scenario's `faults` lists.
    pub faults: Vec<(Api, crate::faults::Fault)>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ports: Vec::new(),
            seed: None,
            jwt_secret: None,
            credentials: Credentials::default(),
            scenario: Scenario::embedded_default(),
            tls: None,
            judge: None,
            control: None,
            replay: None,
            slow_consumer: None,
            faults: Vec::new(),
        }
    }
}

impl ServeOptions {
    /// Options for tests: every API and the control page on an ephemeral loopback port, a
    /// fixed secret and seed.
    pub fn ephemeral() -> Self {
        Self {
            ports: Api::ALL.iter().map(|api| (*api, 0)).collect(),
            control: Some(0),
            seed: Some(1),
            jwt_secret: Some("telewire-test-secret".into()),
            ..Self::default()
        }
    }

    /// Applies the broken profile `profile` to the scenario (the table names it).
    pub fn apply_break(&mut self, profile: &crate::breaks::Break) {
        profile.apply(&mut self.scenario);
    }

    fn port_for(&self, api: Api) -> u16 {
        self.ports
            .iter()
            .find(|(a, _)| *a == api)
            .map(|(_, p)| *p)
            .unwrap_or_else(|| api.default_port())
    }
}

/// Why `telewire serve` could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The port is taken or the address is not ours.
    #[error(
        "cannot listen on {addr} for {api}: {source}; pass --port to choose another port or stop what is using it"
    )]
    Bind {
        /// Which API.
        api: Api,
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The control page's port is taken.
    #[error(
        "cannot listen on {addr} for the control page: {source}; pass --control-port to choose another port, or --no-control"
    )]
    ControlBind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be loaded or generated.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// The recording to replay is of an API that is not being served.
    #[error(
        "the recording is of the {0} API, which is not being served: serve it with `telewire serve {0} --replay FILE`"
    )]
    ReplayNotServed(Api),
    /// A startup fault (`--fault`, a scenario's `faults` list) does not apply.
    #[error("fault refused: {0}")]
    Fault(String),
}

/// One running API.
#[derive(Debug, Clone)]
pub struct RunningApi {
    /// Which API.
    pub api: Api,
    /// The bound address.
    pub addr: SocketAddr,
    /// URLs, credentials and token.
    pub info: ApiInfo,
}

/// The running simulators.
#[derive(Debug)]
pub struct Running {
    /// Each API, with its address and info.
    pub apis: Vec<RunningApi>,
    /// The seed in use.
    pub seed: u64,
    /// The broken profiles in effect on the running APIs, whether applied with
    /// [`ServeOptions::apply_break`] or set in the scenario file.
    pub breaks: Vec<&'static crate::breaks::Break>,
    /// Judge mode: the judge of each API.
    pub judges: Vec<Arc<crate::judge::Judge>>,
    /// Every live WebSocket connection of every API, with its command queue.
    pub links: Arc<crate::link::Links>,
    /// The control page's address, when it is served.
    pub control: Option<SocketAddr>,
    /// What a connection's full outbound queue does.
    pub overflow: crate::hub::Overflow,
    /// The fault control of each API (what its admin routes act through).
    pub faults: Vec<Arc<crate::faults::FaultControl>>,
    trigger: ShutdownTrigger,
    servers: Vec<JoinHandle<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Judge mode: the judge of `api`, if it runs judged.
    pub fn judge(&self, api: Api) -> Option<Arc<crate::judge::Judge>> {
        self.judges.iter().find(|j| j.api() == api).cloned()
    }

    /// The fault control of `api`, if it runs.
    pub fn fault_control(&self, api: Api) -> Option<Arc<crate::faults::FaultControl>> {
        self.faults.iter().find(|c| c.api() == api).cloned()
    }

    /// The bound address of `api`, if it runs.
    pub fn addr(&self, api: Api) -> Option<SocketAddr> {
        self.apis.iter().find(|r| r.api == api).map(|r| r.addr)
    }

    /// The operator's table: API, URLs, credentials, token.
    pub fn table(&self) -> String {
        let mut out = String::new();
        if !self.breaks.is_empty() {
            out.push_str(
                "!!! DELIBERATELY BROKEN: this server violates the documented rules below.\n",
            );
            out.push_str(
                "!!! Use it only to see that a conformance check fails; never as a reference.\n",
            );
            for b in &self.breaks {
                let _ = writeln!(
                    out,
                    "!!! BROKEN {} ({}): breaks {}: {}",
                    b.name,
                    b.api.name(),
                    b.rule,
                    b.description
                );
            }
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "telewire serve: {} simulated API(s), seed {}",
            self.apis.len(),
            self.seed
        );
        let _ = writeln!(
            out,
            "slow consumers: {} ({})",
            self.overflow.name(),
            self.overflow.describe()
        );
        for r in &self.apis {
            let _ = writeln!(out, "\n{:<11} {}", r.api.name(), r.addr);
            for url in &r.info.ws_urls {
                let _ = writeln!(out, "  ws     {url}");
            }
            for http in &r.info.http {
                let _ = writeln!(out, "  http   {http}");
            }
            let _ = writeln!(out, "  login  {}", r.info.credentials);
            let _ = writeln!(out, "  token  {}", r.info.token);
            for note in &r.info.notes {
                let _ = writeln!(out, "  note   {note}");
            }
            let scheme = if r.info.ws_urls.iter().any(|u| u.starts_with("wss")) {
                "https"
            } else {
                "http"
            };
            let _ = writeln!(
                out,
                "  admin  {scheme}://{}{} (loopback only; `telewire fault {}` from another terminal)",
                r.addr,
                crate::faults::admin::FAULTS_PATH,
                r.api.name()
            );
            if let Some(control) = self.fault_control(r.api) {
                for fault in control.on_connect() {
                    let _ = writeln!(out, "  fault  {fault} (each client as it connects)");
                }
                for (fault, _) in control.active() {
                    let _ = writeln!(
                        out,
                        "  fault  {fault} (every client as it connects, until cleared)"
                    );
                }
            }
            for b in self.breaks.iter().filter(|b| b.api == r.api) {
                let _ = writeln!(out, "  BROKEN {} (breaks {})", b.name, b.rule);
            }
            if self.judge(r.api).is_some() {
                let _ = writeln!(
                    out,
                    "  judge  GET {}://{}{}",
                    if r.info.ws_urls.iter().any(|u| u.starts_with("wss")) {
                        "https"
                    } else {
                        "http"
                    },
                    r.addr,
                    crate::judge::VERDICTS_PATH
                );
            }
        }
        if let Some(control) = self.control {
            let _ = writeln!(
                out,
                "\n{:<11} http://{control}/  (clients, live data, fault buttons)",
                "control"
            );
        }
        out.push_str("\nCtrl-C stops every server (clients get close 1001).\n");
        out
    }

    /// Signals shutdown (close 1001 to every client) and waits for every server to stop.
    pub async fn shutdown(self) {
        self.trigger.trigger();
        for server in self.servers {
            let _ = server.await;
        }
        for task in self.tasks {
            task.abort();
        }
        // Every connection sends its 1001 close and waits (bounded) for the reply.
        if !self.trigger.drained(DRAIN).await {
            tracing::warn!("some connections did not close within {DRAIN:?}");
        }
    }
}

/// Starts `apis` (all five when empty) with `opts`.
pub async fn start(apis: &[Api], opts: ServeOptions) -> Result<Running, ServeError> {
    let apis: Vec<Api> = if apis.is_empty() {
        Api::ALL.to_vec()
    } else {
        apis.to_vec()
    };
    let seed = opts.seed.or(opts.scenario.seed).unwrap_or(1);
    let secret: Arc<[u8]> = match &opts.jwt_secret {
        Some(secret) => Arc::from(secret.as_bytes()),
        None => Arc::from(
            format!("{:016x}{:016x}", prng::random_seed(), prng::random_seed()).as_bytes(),
        ),
    };
    if let Some(replay) = &opts.replay
        && !apis.contains(&replay.api)
    {
        return Err(ServeError::ReplayNotServed(replay.api));
    }
    let overflow = opts
        .slow_consumer
        .or(opts.scenario.slow_consumer)
        .unwrap_or_default();
    let (trigger, signal) = shutdown::channel();
    let clock = Clock::system();
    let tls_settings = match &opts.tls {
        Some(settings) => Some(crate::tls::resolve(settings).map_err(ServeError::Tls)?),
        None => None,
    };
    let tls = match &tls_settings {
        Some(settings) => Some(crate::tls::acceptor(settings).map_err(ServeError::Tls)?),
        None => None,
    };
    let mut listeners = Vec::new();
    for api in &apis {
        let addr = SocketAddr::new(opts.bind, opts.port_for(*api));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind {
                api: *api,
                addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            api: *api,
            addr,
            source,
        })?;
        listeners.push((*api, addr, listener));
    }
    let control_listener =
        match opts.control {
            Some(port) => Some(crate::control::bind(port).await.map_err(|source| {
                ServeError::ControlBind {
                    addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
                    source,
                }
            })?),
            None => None,
        };
    let mut running = Running {
        apis: Vec::new(),
        seed,
        breaks: crate::breaks::in_effect(&opts.scenario)
            .into_iter()
            .filter(|b| apis.contains(&b.api))
            .collect(),
        judges: Vec::new(),
        links: crate::link::Links::new(),
        control: None,
        overflow,
        faults: Vec::new(),
        trigger,
        servers: Vec::new(),
        tasks: Vec::new(),
    };
    for (api, addr, listener) in listeners {
        let ctx = Context {
            clock,
            shutdown: signal.clone(),
            seed,
            credentials: opts.credentials.clone(),
            jwt_secret: secret.clone(),
            addr,
            tls: tls.is_some(),
            overflow,
            hooks: crate::faults::Hooks::new(),
        };
        let started = start_api(api, &ctx, &opts.scenario);
        match opts.replay.as_ref().filter(|r| r.api == api) {
            // Replay mode: the recording replaces the simulated devices' data.
            Some(replay) => {
                for task in started.tasks {
                    task.abort();
                }
                running
                    .tasks
                    .push(crate::replay::serve::spawn(running.links.clone(), replay));
                tracing::info!(
                    api = api.name(),
                    frames = replay.recording.entries.len(),
                    "replaying a recording instead of live data"
                );
            }
            None => running.tasks.extend(started.tasks),
        }
        let startup: Vec<crate::faults::Fault> = on_connect(api, &opts.scenario)
            .iter()
            .cloned()
            .chain(
                opts.faults
                    .iter()
                    .filter(|(a, _)| *a == api)
                    .map(|(_, f)| f.clone()),
            )
            .collect();
        let (restart_tx, restart_rx) = tokio::sync::mpsc::channel(1);
        let control = crate::faults::FaultControl::new(
            api,
            running.links.clone(),
            ctx.hooks.clone(),
            restart_tx,
            &startup,
        )
        .map_err(ServeError::Fault)?;
        running.faults.push(control.clone());
        let router = crate::link::wrap(started.router, running.links.clone(), api);
        let router = match &opts.judge {
            Some(settings) => {
                let judge = Arc::new(crate::judge::Judge::new(api, clock, settings.clone()));
                running.judges.push(judge.clone());
                crate::judge::wrap(router, judge)
            }
            None => router,
        };
        // Admin routes last: outside the API's own layers (Mosaic's connection cap).
        let router = crate::faults::admin::wrap(router, control);
        running.servers.push(tokio::spawn(serve_restartable(
            api,
            listener,
            router,
            tls.clone(),
            signal.clone(),
            restart_rx,
        )));
        let mut info = started.info;
        if let Some(replay) = opts.replay.as_ref().filter(|r| r.api == api) {
            info.notes.push(replay.describe());
        }
        running.apis.push(RunningApi { api, addr, info });
        tracing::info!(api = api.name(), %addr, "simulator listening");
    }
    if let Some(listener) = control_listener {
        let forward = match &tls_settings {
            Some(settings) => crate::control::forward::Forwarder::tls(
                crate::tls::chain(settings).map_err(ServeError::Tls)?,
            )
            .map_err(ServeError::Tls)?,
            None => crate::control::forward::Forwarder::plain(),
        };
        let control = crate::control::Control::new(crate::control::ControlSetup {
            apis: running.apis.clone(),
            seed,
            breaks: running
                .breaks
                .iter()
                .map(|b| (b.api, format!("{} (breaks {})", b.name, b.rule)))
                .collect(),
            links: running.links.clone(),
            faults: running.faults.clone(),
            policy: Some(format!("{}: {}", overflow.name(), overflow.describe())),
            forward,
            shutdown: signal.clone(),
        });
        let addr = listener
            .local_addr()
            .map_err(|source| ServeError::ControlBind {
                addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
                source,
            })?;
        running
            .servers
            .push(crate::control::spawn(listener, control));
        running.control = Some(addr);
        tracing::info!(%addr, "control page listening");
    }
    Ok(running)
}

/// The faults `api`'s scenario section gives every client as it connects.
fn on_connect(api: Api, scenario: &Scenario) -> &[crate::faults::Fault] {
    match api {
        Api::Molecule => &scenario.molecule.faults.on_connect,
        Api::Valtronics => &scenario.valtronics.faults.on_connect,
        Api::Webmacs => &scenario.webmacs.faults.on_connect,
        Api::Mosaic => &scenario.mosaic.faults.on_connect,
        Api::Robot => &scenario.robot.faults.on_connect,
    }
}

/// How long a restarted port waits between two attempts to bind again.
const REBIND_RETRY: std::time::Duration = std::time::Duration::from_millis(100);
/// Attempts to bind a restarted port again before giving up.
const REBIND_ATTEMPTS: u32 = 50;

/// Serves `api` until shutdown; a `restart` fault (a delay on `restarts`) closes the
/// listener, waits, and binds the same address again.
async fn serve_restartable(
    api: Api,
    listener: TcpListener,
    router: axum::Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut shutdown: shutdown::Shutdown,
    mut restarts: tokio::sync::mpsc::Receiver<std::time::Duration>,
) {
    let mut listener = Some(listener);
    loop {
        let Some(bound) = listener.take() else {
            return;
        };
        let addr = bound.local_addr().ok();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let mut global = shutdown.clone();
        let server = tokio::spawn(crate::tls::serve_until(
            bound,
            router.clone(),
            tls.clone(),
            async move {
                tokio::select! {
                    () = global.wait() => {}
                    _ = stop_rx => {}
                }
            },
        ));
        let delay = tokio::select! {
            delay = restarts.recv() => delay,
            () = shutdown.wait() => None,
        };
        let Some(delay) = delay else {
            let _ = server.await;
            return;
        };
        let _ = stop_tx.send(());
        let _ = server.await;
        let Some(addr) = addr else {
            tracing::error!(api = api.name(), "restart: the listener had no address");
            return;
        };
        tracing::info!(api = api.name(), %addr, ?delay, "restart: port closed");
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shutdown.wait() => return,
        }
        for attempt in 1..=REBIND_ATTEMPTS {
            match TcpListener::bind(addr).await {
                Ok(again) => {
                    listener = Some(again);
                    break;
                }
                Err(err) if attempt == REBIND_ATTEMPTS => {
                    tracing::error!(api = api.name(), %addr, %err, "restart: cannot bind the port again");
                }
                Err(_) => tokio::time::sleep(REBIND_RETRY).await,
            }
        }
        // Restarts asked for while the port was closed are done by this one.
        while restarts.try_recv().is_ok() {}
        tracing::info!(api = api.name(), %addr, "restart: port accepting again");
    }
}

fn start_api(api: Api, ctx: &Context, scenario: &Scenario) -> Started {
    match api {
        Api::Molecule => crate::molecule::start(ctx, &scenario.molecule),
        Api::Valtronics => crate::valtronics::start(ctx, &scenario.valtronics),
        Api::Webmacs => crate::webmacs::start(ctx, &scenario.webmacs),
        Api::Mosaic => crate::mosaic::start(ctx, &scenario.mosaic),
        Api::Robot => crate::robot::start(ctx, &scenario.robot),
    }
}
