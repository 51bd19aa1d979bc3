//! `telewire device <api>`: simulated devices that push data into any server of that API.

use std::path::PathBuf;

use clap::Args;
use clap::Subcommand;
use telewire_simulator::robot::PublisherOptions;
use telewire_simulator::shutdown;
use telewire_simulator::webmacs::ControllerOptions;

/// Which device to run.
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// A WebMACS controller: pushes seeded readings for the given events into
    /// `/ws/controller/telemetry`, in batches of at most 500, reconnecting with backoff.
    ///
    /// Example: telewire device webmacs --url ws://127.0.0.1:9103 --token "$TOKEN"
    /// --events temp-001,press-001 --rate 50
    Webmacs(WebmacsDevice),
    /// A robot client: publishes seeded messages on one topic, reconnecting with backoff.
    ///
    /// Example: telewire device robot --url ws://127.0.0.1:9105/wss --token "$TOKEN"
    /// --topic sensor --rate 10
    Robot(RobotDevice),
}

/// `telewire device webmacs`.
#[derive(Debug, Args)]
pub struct WebmacsDevice {
    /// Server URL: ws[s]://host:port (the controller path is added) or the full endpoint URL.
    #[arg(long)]
    url: String,
    /// JWT from POST /api/v1/auth/login, sent as the `token` query parameter.
    #[arg(long, env = "TELEWIRE_WEBMACS_TOKEN", hide_env_values = true)]
    token: String,
    /// Public ids of the events to send readings for (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', required = true)]
    events: Vec<String>,
    /// Datapoints per second, in total.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Data seed: the same seed sends the same readings.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop after this many datapoints (default: run until Ctrl-C).
    #[arg(long)]
    count: Option<u64>,
    /// Extra CA certificate (PEM) to trust for wss://, e.g. the one `serve --tls` uses.
    #[arg(long, value_name = "PEM")]
    ca_cert: Option<PathBuf>,
}

/// `telewire device robot`.
#[derive(Debug, Args)]
pub struct RobotDevice {
    /// Server WebSocket URL, e.g. ws://127.0.0.1:9105/wss.
    #[arg(long)]
    url: String,
    /// Token from GET /api/v1/auth/ (header X-API-Key), appended as `?token=`; omit it
    /// when the URL already carries one.
    #[arg(long, env = "TELEWIRE_ROBOT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Topic to publish on.
    #[arg(long)]
    topic: String,
    /// Messages per second.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Data seed: the same seed sends the same messages.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop after this many messages (default: run until Ctrl-C).
    #[arg(long)]
    count: Option<u64>,
    /// Extra CA certificate (PEM) to trust for wss://, e.g. the one `serve --tls` uses.
    #[arg(long, value_name = "PEM")]
    ca_cert: Option<PathBuf>,
}

fn read_ca(path: Option<PathBuf>) -> Result<Option<Vec<u8>>, String> {
    path.map(|p| {
        std::fs::read(&p)
            .map_err(|e| format!("cannot read the CA certificate {}: {e}", p.display()))
    })
    .transpose()
}

/// Runs the device until its count is reached, Ctrl-C, or a fatal refusal.
pub async fn run(command: DeviceCommand) -> Result<(), String> {
    let (trigger, signal) = shutdown::channel();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("stopping: closing the connection");
            trigger.trigger();
        }
    });
    match command {
        DeviceCommand::Webmacs(args) => {
            let opts = ControllerOptions {
                url: args.url,
                token: args.token,
                events: args.events,
                rate: args.rate,
                seed: args.seed,
                limit: args.count,
                ca_cert: read_ca(args.ca_cert)?,
            };
            let stats = telewire_simulator::webmacs::run_controller(opts, signal)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "sent {} datapoints in {} batches ({} reconnects)",
                stats.sent, stats.batches, stats.reconnects
            );
        }
        DeviceCommand::Robot(args) => {
            let opts = PublisherOptions {
                url: args.url,
                token: args.token,
                topic: args.topic,
                rate: args.rate,
                seed: args.seed,
                limit: args.count,
                ca_cert: read_ca(args.ca_cert)?,
            };
            let stats = telewire_simulator::robot::run_publisher(opts, signal)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "published {} messages ({} reconnects)",
                stats.sent, stats.reconnects
            );
        }
    }
    Ok(())
}
