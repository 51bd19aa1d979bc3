//! The `telewire` command line: argument parsing only; the work lives in the library crates.

mod asyncapi;
mod check;
mod device;
mod fault;
mod record;

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use clap::Parser;
use clap::Subcommand;
use telewire_simulator::context::Credentials;
use telewire_simulator::scenario::Scenario;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::ServeOptions;
use telewire_simulator::tls::TlsSettings;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Simulated servers, devices and a conformance harness for five real-time telemetry
/// WebSocket APIs: Molecule, Valtronics, WebMACS, Mosaic and a robot pub/sub API.
#[derive(Debug, Parser)]
#[command(name = "telewire", version, about, long_about = None)]
#[command(
    after_help = "Logs go to stderr, filtered by RUST_LOG (for example RUST_LOG=telewire=debug)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run simulated servers with live, seeded data (all five when no API is named).
    ///
    /// Default ports: molecule 9101, valtronics 9102, webmacs 9103, mosaic 9104, robot 9105.
    /// Prints a table of URLs, demo credentials and a ready-to-paste token, then serves until
    /// Ctrl-C, which closes every client with 1001.
    Serve(ServeArgs),
    /// Run a simulated device that pushes data into any server (real or simulated).
    #[command(subcommand)]
    Device(device::DeviceCommand),
    /// Run the conformance suite of one API against a server and report per rule.
    ///
    /// Exits 0 when every MUST rule holds (with --strict: every SHOULD rule too), 1 when one
    /// fails, 2 on a usage or configuration error.
    Check(check::CheckArgs),
    /// Record a real session of one API into a JSON Lines file, tokens redacted.
    ///
    /// Connects as a dashboard would (logs in, subscribes to every channel or topic), and
    /// writes every frame in both directions with its offset in ms. Stops on Ctrl-C,
    /// --duration, --frames or the server's close. Replay it with
    /// `telewire serve <api> --replay FILE`.
    Record(record::RecordArgs),
    /// Print the AsyncAPI 3.0 document of one API (YAML, or JSON with --json).
    ///
    /// The message schemas are generated from the protocol types; each simulator serves the
    /// same document at `GET /asyncapi.yaml`.
    Asyncapi(asyncapi::AsyncApiArgs),
    /// Trigger a fault on a running `telewire serve` (latency, drop, stall, disconnect,
    /// close, malformed frames, token expiry, restart...), list them, or clear them.
    ///
    /// Talks to the admin API on the API's port (loopback only).
    Fault(fault::FaultArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Which APIs to serve: molecule, valtronics, webmacs, mosaic, robot (default: all).
    #[arg(value_name = "API")]
    apis: Vec<Api>,
    /// Port to listen on; with several APIs, the first gets this port and the next ones the
    /// following ports. 0 picks free ports.
    #[arg(long)]
    port: Option<u16>,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Data seed: the same seed serves the same data (default: the scenario's, else 1).
    #[arg(long)]
    seed: Option<u64>,
    /// Scenario file (TOML) with devices, metrics, rates and seeds (default: embedded).
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Secret that signs the HS256 JWTs (default: random per run).
    #[arg(long, env = "TELEWIRE_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// Demo user name (Molecule, Valtronics, Mosaic).
    #[arg(long, default_value = "demo")]
    user: String,
    /// Demo password (every API).
    #[arg(long, default_value = "demo")]
    password: String,
    /// WebMACS login e-mail.
    #[arg(long, default_value = "demo@example.com")]
    email: String,
    /// Molecule gateway id.
    #[arg(long, default_value = "demo-gateway")]
    gateway_id: String,
    /// Robot API key (`X-API-Key`).
    #[arg(long, default_value = "demo")]
    api_key: String,
    /// Serve wss:// and https:// (self-signed certificate unless --cert/--key are given).
    #[arg(long)]
    tls: bool,
    /// PEM certificate chain for --tls.
    #[arg(long, requires = "key", value_name = "PEM")]
    cert: Option<PathBuf>,
    /// PEM private key for --tls.
    #[arg(long, requires = "cert", value_name = "PEM")]
    key: Option<PathBuf>,
    /// Deliberately break one documented rule with a named profile (repeatable), to see a
    /// conformance check fail; `--break list` prints the profiles.
    #[arg(long = "break", value_name = "PROFILE")]
    breaks: Vec<String>,
    /// Print the broken profiles (name, API, rule, description) and exit.
    #[arg(long)]
    list_breaks: bool,
    /// Judge every connected client against its API's client rules: verdicts are printed
    /// when a client disconnects, summarised at shutdown, and served as JSON at
    /// GET /_telewire/verdicts (loopback only).
    #[arg(long)]
    judge: bool,
    /// Port of the control page (http://127.0.0.1:PORT/: clients, live data, fault buttons);
    /// always on loopback. 0 picks a free port. Default 9100, or a free port with --port 0.
    #[arg(long, value_name = "PORT")]
    control_port: Option<u16>,
    /// Do not serve the control page.
    #[arg(long, conflicts_with = "control_port")]
    no_control: bool,
    /// Serve this recording (from `telewire record`) to every client of its API once it
    /// authenticates, instead of live simulated data; serves only that API when no API
    /// is named.
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
    /// Replay speed: offsets are divided by this (2 plays twice as fast).
    #[arg(long, requires = "replay", default_value_t = 1.0)]
    speed: f64,
    /// Start the recording over at its end (default: the connection stays open, quiet).
    #[arg(long = "loop", requires = "replay")]
    looping: bool,
    /// What happens when a client reads too slowly and its outbound queue fills:
    /// drop-oldest (drop the oldest queued message and count it; the default),
    /// close-1008 or close-1011 (close the connection with that code). Overrides the
    /// scenario's `slow_consumer`.
    #[arg(long, value_name = "POLICY")]
    slow_consumer: Option<telewire_simulator::hub::Overflow>,
    /// Give every client of an API a fault as it connects (repeatable), as <api>:<fault>,
    /// for example webmacs:latency=200ms or robot:drop=0.1; `telewire fault` changes them
    /// at runtime.
    #[arg(long = "fault", value_name = "API:FAULT")]
    faults: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Printing a document needs neither logging nor a runtime.
    if let Command::Asyncapi(args) = &cli.command {
        return match asyncapi::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::FAILURE
            }
        };
    }
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
        Command::Device(command) => runtime.block_on(device::run(command)),
        Command::Record(args) => runtime.block_on(record::run(args)),
        // The report decides the exit code: 1 for a failed MUST rule, 2 for bad usage.
        Command::Check(args) => return runtime.block_on(check::run(args)),
        Command::Fault(args) => return runtime.block_on(fault::run(args)),
        Command::Asyncapi(_) => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // stderr, filtered by RUST_LOG; and every line at info or above to the robot
    // simulator's `server_logs` topic.
    let output = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_filter(filter);
    let tap = telewire_simulator::logtap::LogTap
        .with_filter(tracing_subscriber::filter::LevelFilter::INFO);
    tracing_subscriber::registry().with(output).with(tap).init();
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    if args.list_breaks || args.breaks.iter().any(|b| b == "list") {
        print!("{}", telewire_simulator::breaks::list());
        return Ok(());
    }
    let scenario = match &args.scenario {
        Some(path) => Scenario::from_file(path).map_err(|e| e.to_string())?,
        None => Scenario::embedded_default(),
    };
    let replay = match &args.replay {
        Some(path) => Some(load_replay(path, &args)?),
        None => None,
    };
    let apis: Vec<Api> = match (&replay, args.apis.is_empty()) {
        (Some(replay), true) => vec![replay.api],
        (_, true) => Api::ALL.to_vec(),
        (_, false) => args.apis.clone(),
    };
    let ports = match args.port {
        Some(first) => apis
            .iter()
            .enumerate()
            .map(|(i, api)| {
                let offset = u16::try_from(i).unwrap_or(u16::MAX);
                (
                    *api,
                    if first == 0 {
                        0
                    } else {
                        first.saturating_add(offset)
                    },
                )
            })
            .collect(),
        None => Vec::new(),
    };
    let mut opts = ServeOptions {
        bind: args.bind,
        ports,
        seed: args.seed,
        jwt_secret: args.jwt_secret,
        credentials: Credentials {
            username: args.user,
            password: args.password,
            email: args.email,
            gateway_id: args.gateway_id,
            api_key: args.api_key,
        },
        scenario,
        tls: args.tls.then_some(TlsSettings {
            cert: args.cert,
            key: args.key,
            pem: None,
        }),
        judge: args
            .judge
            .then(|| telewire_simulator::judge::JudgeSettings {
                print: true,
                ..Default::default()
            }),
        control: (!args.no_control).then(|| {
            args.control_port.unwrap_or(match args.port {
                Some(0) => 0,
                _ => telewire_simulator::control::DEFAULT_PORT,
            })
        }),
        replay,
        slow_consumer: args.slow_consumer,
        faults: Vec::new(),
    };
    for text in &args.faults {
        let (api, fault) = telewire_simulator::faults::parse_targeted(text)?;
        if !apis.contains(&api) {
            return Err(format!(
                "--fault {text} is for the {api} server, which is not being served: add {api} to the APIs"
            ));
        }
        opts.faults.push((api, fault));
    }
    for name in &args.breaks {
        let profile = telewire_simulator::breaks::find(name)?;
        if !apis.contains(&profile.api) {
            return Err(format!(
                "--break {name} breaks the {api} server, which is not being served: add {api} to the APIs",
                api = profile.api
            ));
        }
        opts.apply_break(profile);
    }
    let running = telewire_simulator::serve::start(&apis, opts)
        .await
        .map_err(|e| e.to_string())?;
    // A closed stdout (piped into `head`, a test that stopped reading) must not stop the
    // servers: the table is a convenience, the logs still go to stderr.
    {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        if let Err(err) = writeln!(out, "{}", running.table()).and_then(|()| out.flush()) {
            eprintln!("warning: cannot print the table to stdout: {err}");
        }
    }
    if let Err(err) = tokio::signal::ctrl_c().await {
        return Err(format!("cannot listen for Ctrl-C: {err}"));
    }
    eprintln!("shutting down: closing every connection with 1001");
    let judges = running.judges.clone();
    running.shutdown().await;
    for judge in judges {
        println!("{}", judge.summary());
    }
    Ok(())
}

/// Reads `--replay FILE` and checks it against the named APIs.
fn load_replay(
    path: &std::path::Path,
    args: &ServeArgs,
) -> Result<telewire_simulator::replay::Replay, String> {
    use telewire_simulator::replay::Recording;
    let settings = telewire_simulator::replay::ReplaySettings::new(args.speed, args.looping)?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the recording {}: {e}", path.display()))?;
    let recording =
        Recording::parse(&text).map_err(|e| format!("recording {}: {e}", path.display()))?;
    let found = recording.header.api.clone();
    let api = match (recording.api(), args.apis.as_slice()) {
        (Some(api), []) => api,
        (Some(api), named) if named.contains(&api) => api,
        (_, named) => {
            let named: Vec<&str> = named.iter().map(|a| a.name()).collect();
            return Err(format!(
                "recording {}: it is a recording of the {found} API, not {}: replay it with `telewire serve {found} --replay {}`",
                path.display(),
                named.join(", "),
                path.display()
            ));
        }
    };
    telewire_simulator::replay::Replay::new(api, recording, settings)
        .map_err(|e| format!("recording {}: {e}", path.display()))
}
