//! `fanout`: the fan-out load tool: a simulated server, N loopback subscribers, messages/s, latency, server RSS.
//!
//! Each N runs against a fresh server in a child process of this binary (`fanout
//! --serve-only`), so that the server's resident memory (`VmRSS`, `VmHWM` of the child)
//! is its own, not shared with the clients, and the two sides each get their own
//! open-file limit (10 000 clients need 10 000 descriptors on each side).
//!
//! ```text
//! cargo run --release -p telewire-benches --bin fanout -- --clients 100,1000,10000 --seconds 10
//! cargo run --release -p telewire-benches --bin fanout -- --clients 1000,10000 --rate 150,15
//! ```
//!
//! `--rate` is publishes per second, so the offered load is `rate x clients` deliveries per
//! second. Each publish reaches the subscribers as one burst; p50 is about the time the
//! server and the clients need to work through a burst, p99 adds scheduling delays, which
//! on a shared machine include other processes' work (the table shows the load average).

use std::io::BufRead as _;
use std::io::Read as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::Child;
use std::process::ChildStdin;
use std::process::Command;
use std::process::Stdio;
use std::time::Duration;

use clap::Parser;
use telewire_benches::fanout::Fleet;
use telewire_benches::fanout::LOAD_SCENARIO;
use telewire_benches::fanout::LoadConfig;
use telewire_benches::fanout::LoadReport;
use telewire_benches::fanout::proc;
use telewire_simulator::scenario::Scenario;
use telewire_simulator::serve;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::ServeOptions;

/// Descriptors kept free beside the client sockets (runtime, stdio, the publisher).
const FD_HEADROOM: u64 = 64;

#[derive(Debug, Parser)]
#[command(
    about = "Fan-out load: one publisher, N subscribers; delivered messages/s, end-to-end latency and the server's peak RSS"
)]
struct Cli {
    /// Subscriber counts to run, one run each.
    #[arg(long, value_delimiter = ',', default_value = "100,1000,10000")]
    clients: Vec<usize>,
    /// Seconds to publish in each run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The API to load: robot pub/sub (a client-published message fanned out to every
    /// subscriber, which is what the publisher's timestamp needs).
    #[arg(long, default_value = "robot")]
    api: String,
    /// Messages published per second (each goes to every subscriber); one value for all
    /// runs or one per `--clients` entry.
    #[arg(long, value_delimiter = ',', default_value = "150")]
    rate: Vec<u32>,
    /// A robot scenario file instead of the built-in load scenario.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Subscribers that stop reading once subscribed (stalled clients), beside the others:
    /// the server's RSS is sampled every second of the run to show it does not grow.
    #[arg(long, default_value_t = 0)]
    stalled: usize,
    /// Filler bytes in every published message (realistic payloads fill a stalled
    /// client's socket buffers, and then its queue, sooner).
    #[arg(long, default_value_t = 0)]
    payload_bytes: usize,
    /// Seconds of the run before the stalled-client figures start (the stalled client's
    /// socket buffers and queue fill first); `--seconds` includes them.
    #[arg(long, default_value_t = 0)]
    warmup: u64,
    /// The server's slow-consumer policy: drop-oldest, close-1008 or close-1011.
    #[arg(long, default_value = "drop-oldest")]
    slow_consumer: telewire_simulator::hub::Overflow,
    /// Run only the server: print `ready <url>` and serve until stdin closes (`--clients`
    /// then sizes its open-file limit).
    #[arg(long)]
    serve_only: bool,
}

fn scenario_text(path: Option<&PathBuf>) -> Result<String, String> {
    match path {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        None => Ok(LOAD_SCENARIO.to_owned()),
    }
}

/// The child: the robot server alone, until the parent closes our stdin.
async fn serve_only(cli: &Cli) -> Result<(), String> {
    let wanted = cli.clients.iter().max().copied().unwrap_or(0) as u64 + FD_HEADROOM;
    match proc::raise_fd_limit(wanted) {
        Some(limit) if limit < wanted => eprintln!(
            "fanout --serve-only: the open-file limit is {limit} (hard limit reached): the server \
             cannot hold more than about {} connections",
            limit.saturating_sub(FD_HEADROOM)
        ),
        _ => {}
    }
    let text = scenario_text(cli.scenario.as_ref())?;
    let scenario = Scenario::parse(&text, "load scenario").map_err(|e| e.to_string())?;
    let opts = ServeOptions {
        ports: vec![(Api::Robot, 0)],
        seed: Some(1),
        scenario,
        slow_consumer: Some(cli.slow_consumer),
        ..ServeOptions::default()
    };
    let running = serve::start(&[Api::Robot], opts)
        .await
        .map_err(|e| e.to_string())?;
    let api = running
        .apis
        .first()
        .ok_or("the robot server did not start")?;
    println!("ready ws://{}/wss?token={}", api.addr, api.info.token);
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    let _ = tokio::task::spawn_blocking(|| {
        let mut buf = [0u8; 64];
        while std::io::stdin().read(&mut buf).is_ok_and(|n| n > 0) {}
    })
    .await;
    // Exit without the closing handshakes of thousands of connections.
    std::process::exit(0);
}

/// A server child and the pipe that keeps it alive.
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    url: String,
}

impl Server {
    fn spawn(cli: &Cli, clients: usize) -> Result<Server, String> {
        let exe = std::env::current_exe().map_err(|e| format!("own path: {e}"))?;
        let mut cmd = Command::new(exe);
        cmd.arg("--serve-only")
            .arg("--clients")
            .arg(clients.to_string())
            .arg("--slow-consumer")
            .arg(cli.slow_consumer.name());
        if let Some(path) = &cli.scenario {
            cmd.arg("--scenario").arg(path);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the server: {e}"))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("no server stdout")?;
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| format!("server: {e}"))?;
        let url = line
            .trim()
            .strip_prefix("ready ")
            .ok_or_else(|| format!("the server did not start: {line:?}"))?
            .to_owned();
        Ok(Server { child, stdin, url })
    }

    fn rss(&self) -> proc::Rss {
        proc::rss(Some(self.child.id())).unwrap_or_default()
    }

    /// Samples the server's RSS every second until `stop` fires; returns the samples (KiB).
    fn sample_rss(
        &self,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<Vec<u64>> {
        let pid = self.child.id();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        if let Some(rss) = proc::rss(Some(pid)) {
                            samples.push(rss.now_kib);
                        }
                    }
                    _ = stop.changed() => return samples,
                }
            }
        })
    }

    fn cpu(&self) -> Option<Duration> {
        proc::cpu_time(Some(self.child.id()))
    }

    fn stop(mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One line of the table.
struct Row {
    requested: usize,
    rate: u32,
    report: Option<LoadReport>,
    idle: proc::Rss,
    peak: proc::Rss,
    base: proc::Rss,
    /// CPU used during the publishing run: server, clients (this process).
    cpu: Option<(Duration, Duration)>,
    /// The 1-minute load average when the run started (others' work on a shared machine).
    load: Option<String>,
    notes: Vec<String>,
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn ms(nanos: Option<u64>) -> String {
    nanos.map_or("-".into(), |n| format!("{:.2}", n as f64 / 1e6))
}

fn print_table(rows: &[Row]) {
    println!(
        "\n{:>7} {:>7} {:>6} {:>9} {:>11} {:>8} {:>11} {:>8} {:>8} {:>9} {:>9} {:>9}",
        "clients",
        "subscr",
        "pub/s",
        "published",
        "delivered",
        "lost",
        "msgs/s",
        "p50 ms",
        "p99 ms",
        "rss0 MiB",
        "idle MiB",
        "peak MiB"
    );
    for row in rows {
        let (connected, published, delivered, lost, rate, p50, p99) = match &row.report {
            Some(r) => (
                r.connected.to_string(),
                r.published.to_string(),
                r.delivered.to_string(),
                r.expected().saturating_sub(r.delivered).to_string(),
                format!("{:.0}", r.delivered_per_sec()),
                ms(r.latency.quantile(0.5)),
                ms(r.latency.quantile(0.99)),
            ),
            None => Default::default(),
        };
        println!(
            "{:>7} {connected:>7} {:>6} {published:>9} {delivered:>11} {lost:>8} {rate:>11} {p50:>8} {p99:>8} {:>9} {:>9} {:>9}",
            row.requested,
            row.rate,
            mib(row.base.now_kib),
            mib(row.idle.now_kib),
            mib(row.peak.peak_kib),
        );
        if let (Some((server, clients)), Some(r)) = (row.cpu, &row.report) {
            let secs = r.window.as_secs_f64().max(1e-9);
            println!(
                "        cpu: server {:.0} %, clients and publisher {:.0} % of one core over the run; \
                 load average {} at the start",
                server.as_secs_f64() / secs * 100.0,
                clients.as_secs_f64() / secs * 100.0,
                row.load.as_deref().unwrap_or("?")
            );
        }
        for note in &row.notes {
            println!("        note: {note}");
        }
    }
    println!(
        "\nmsgs/s: deliveries over first publish to last delivery; latency: publisher stamp to \
         subscriber receipt, one clock; rss0: the server before any client; idle: after every \
         subscriber joined; peak: the server's VmHWM at the end."
    );
}

async fn run_one(cli: &Cli, requested: usize, rate: u32) -> Row {
    let mut row = Row {
        requested,
        rate,
        report: None,
        idle: proc::Rss::default(),
        peak: proc::Rss::default(),
        base: proc::Rss::default(),
        cpu: None,
        load: std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next().map(str::to_owned)),
        notes: Vec::new(),
    };
    let mut clients = requested;
    let wanted = requested as u64 + FD_HEADROOM;
    match proc::raise_fd_limit(wanted) {
        Some(limit) if limit < wanted => {
            clients = limit.saturating_sub(FD_HEADROOM) as usize;
            row.notes.push(format!(
                "{requested} clients cannot be reached: the open-file limit is {limit} (hard limit \
                 reached), so only {clients} run; raise the hard limit (ulimit -Hn) to go further"
            ));
        }
        Some(_) => {}
        None => row
            .notes
            .push("open-file limit unknown; clients may fail to connect".into()),
    }
    let server = match Server::spawn(cli, clients) {
        Ok(server) => server,
        Err(e) => {
            row.notes.push(e);
            return row;
        }
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    row.base = server.rss();
    let mut config = LoadConfig::new(server.url.clone(), clients);
    config.rate = rate;
    config.duration = Duration::from_secs(cli.seconds);
    config.progress = true;
    config.padding = cli.payload_bytes;
    eprintln!(
        "fanout: {clients} subscribers, {rate} publishes/s for {} s",
        cli.seconds
    );
    let fleet = Fleet::connect(&config).await;
    eprintln!(
        "  {} subscribed in {:.1} s{}",
        fleet.connected,
        fleet.connect_time.as_secs_f64(),
        match &fleet.first_error {
            Some(e) => format!(", {} failed (first: {e})", fleet.failed),
            None => String::new(),
        }
    );
    if let Some(e) = &fleet.first_error {
        row.notes.push(format!(
            "{} of {clients} clients failed to connect or subscribe; first error: {e}",
            fleet.failed
        ));
    }
    let mut stalled = Vec::with_capacity(cli.stalled);
    for _ in 0..cli.stalled {
        match telewire_benches::fanout::stalled_subscriber(&server.url).await {
            Ok(ws) => stalled.push(ws),
            Err(e) => row
                .notes
                .push(format!("a stalled subscriber could not join: {e}")),
        }
    }
    // Let the server settle (connect-time buffers freed) before reading its idle memory.
    tokio::time::sleep(Duration::from_millis(500)).await;
    row.idle = server.rss();
    let cpu_before = (server.cpu(), proc::cpu_time(None));
    let (stop_sampling, sampling) = tokio::sync::watch::channel(false);
    let sampler = server.sample_rss(sampling);
    match fleet.run(&config).await {
        Ok(report) => row.report = Some(report),
        Err(e) => row.notes.push(e),
    }
    row.peak = server.rss();
    let _ = stop_sampling.send(true);
    let samples = sampler.await.unwrap_or_default();
    if !stalled.is_empty() || cli.payload_bytes > 0 {
        row.notes.push(stall_note(
            stalled.len(),
            row.idle.now_kib,
            cli.warmup,
            &samples,
        ));
    }
    drop(stalled);
    if let ((Some(s0), Some(c0)), Some(s1), Some(c1)) =
        (cpu_before, server.cpu(), proc::cpu_time(None))
    {
        row.cpu = Some((s1.saturating_sub(s0), c1.saturating_sub(c0)));
    }
    server.stop();
    if let Some(r) = &row.report {
        let lost = r.expected().saturating_sub(r.delivered);
        if lost > 0 {
            row.notes.push(format!(
                "{lost} deliveries lost: the server drops a delivery when a subscriber's queue is full"
            ));
        }
    }
    row
}

/// The stalled-client line: the server's RSS before the run, at the end of the warm-up
/// (`warmup` seconds in: the stalled client's socket buffers and queue full), its range
/// over the measured window after it, every ten seconds, and at the end.
fn stall_note(stalled: usize, idle_kib: u64, warmup: u64, samples: &[u64]) -> String {
    let end = samples.last().copied().unwrap_or(idle_kib);
    let at = usize::try_from(warmup).unwrap_or(usize::MAX);
    let start = samples.get(at).copied().unwrap_or(idle_kib);
    let window = samples.get(at..).unwrap_or_default();
    let high = window.iter().copied().max().unwrap_or(start);
    let low = window.iter().copied().min().unwrap_or(start);
    let change = |from: u64, to: u64| (to as f64 - from as f64) / (from.max(1) as f64) * 100.0;
    let series: Vec<String> = samples.iter().step_by(10).map(|k| mib(*k)).collect();
    format!(
        "{stalled} stalled subscriber(s): server RSS {} MiB before the run; {} MiB at {warmup} s \
         (the start of the measured window), {} MiB at the end: {:+.1} % (range {:+.1} % to \
         {:+.1} % over {} one-second samples); {:+.1} % from before the run; every 10 s from \
         the first publish: {} MiB",
        mib(idle_kib),
        mib(start),
        mib(end),
        change(start, end),
        change(start, low),
        change(start, high),
        window.len(),
        change(idle_kib, end),
        series.join(", ")
    )
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if !cli.api.eq_ignore_ascii_case("robot") {
        eprintln!(
            "fanout: --api {} is not supported: the load needs a client-published message fanned \
             out to every subscriber so the publisher can stamp it; robot pub/sub is that API",
            cli.api
        );
        return std::process::ExitCode::from(2);
    }
    if cli.serve_only {
        if let Err(e) = serve_only(&cli).await {
            eprintln!("fanout --serve-only: {e}");
            return std::process::ExitCode::FAILURE;
        }
        return std::process::ExitCode::SUCCESS;
    }
    let mut rows = Vec::new();
    for (i, &n) in cli.clients.iter().enumerate() {
        let rate = cli.rate.get(i).or(cli.rate.last()).copied().unwrap_or(150);
        let row = run_one(&cli, n, rate).await;
        print_table(std::slice::from_ref(&row));
        rows.push(row);
    }
    print_table(&rows);
    std::process::ExitCode::SUCCESS
}
