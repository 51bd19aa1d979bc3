//! `telewire record <api>`: record a real session into a JSON Lines file.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use telewire_simulator::context::Credentials;
use telewire_simulator::replay::record;
use telewire_simulator::replay::record::RecordOptions;
use telewire_simulator::replay::record::Stopped;
use telewire_simulator::serve::Api;

/// How often the progress line on stderr is rewritten, at most.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// `telewire record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Which API the server speaks: molecule, valtronics, webmacs, mosaic, robot.
    #[arg(value_name = "API")]
    api: Api,
    /// The server's WebSocket URL: ws[s]://host:port (the API's dashboard endpoint is
    /// added) or the full endpoint URL.
    #[arg(long)]
    url: String,
    /// The file to write (JSON Lines; overwritten).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Stop after this long (e.g. 30s, 500ms, 5m; default: until Ctrl-C or the server
    /// closes).
    #[arg(long, value_parser = parse_duration, value_name = "D")]
    duration: Option<Duration>,
    /// Stop after this many data frames from the server.
    #[arg(long, value_name = "N")]
    frames: Option<u64>,
    /// Channels or topics to subscribe to, comma-separated (default: every one the API
    /// offers; robot: server_logs and the built-in robot's topics).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    subscribe: Vec<String>,
    /// A token the server accepts (otherwise one is obtained by logging in).
    #[arg(long, env = "TELEWIRE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Login user name (Molecule, Valtronics, Mosaic).
    #[arg(long, default_value = "demo")]
    username: String,
    /// Login password.
    #[arg(long, default_value = "demo")]
    password: String,
    /// Login e-mail (WebMACS).
    #[arg(long, default_value = "demo@example.com")]
    email: String,
    /// Molecule gateway id.
    #[arg(long, default_value = "demo-gateway")]
    gateway_id: String,
    /// Robot API key (`X-API-Key` of GET /api/v1/auth/).
    #[arg(long, default_value = "demo")]
    api_key: String,
    /// Base URL of the login endpoints (default: derived from --url, ws→http, wss→https).
    #[arg(long, value_name = "URL")]
    http_url: Option<String>,
    /// Extra CA certificate (PEM) to trust for wss:// and https://, e.g. the one
    /// `serve --tls` uses.
    #[arg(long, value_name = "PEM")]
    ca_cert: Option<PathBuf>,
}

/// `250ms`, `2s`, `5m`, `1h`, or a number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration: write 30s, 500ms, 5m or 1h"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{text}': use ms, s, m or h"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("'{text}': {e}"))
}

/// Records until Ctrl-C, a limit, or the server's close.
pub async fn run(args: RecordArgs) -> Result<(), String> {
    let ca_cert = args
        .ca_cert
        .as_ref()
        .map(|p| {
            std::fs::read(p)
                .map_err(|e| format!("cannot read the CA certificate {}: {e}", p.display()))
        })
        .transpose()?;
    let opts = RecordOptions {
        api: args.api,
        url: args.url,
        http_url: args.http_url,
        token: args.token,
        credentials: Credentials {
            username: args.username,
            password: args.password,
            email: args.email,
            gateway_id: args.gateway_id,
            api_key: args.api_key,
        },
        subscribe: args.subscribe,
        ca_cert,
        duration: args.duration,
        frames: args.frames,
    };
    let file = std::fs::File::create(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let out = std::io::BufWriter::new(file);
    let stop = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let mut last = None::<std::time::Instant>;
    let progress = |p: record::Progress| {
        if last.is_none_or(|t| t.elapsed() >= PROGRESS_EVERY) {
            last = Some(std::time::Instant::now());
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\rrecorded {} frames ({} data frames)",
                p.frames, p.data_frames
            );
            let _ = err.flush();
        }
    };
    let result = record::record(opts, out, stop, progress).await;
    eprintln!();
    match result {
        Ok(summary) => {
            let why = match summary.stopped {
                Stopped::Interrupted => "stopped by Ctrl-C".to_owned(),
                Stopped::Duration => "--duration reached".to_owned(),
                Stopped::Frames => "--frames reached".to_owned(),
                Stopped::ServerClosed(Some(code)) => format!("the server closed with {code}"),
                Stopped::ServerClosed(None) => "the server closed".to_owned(),
            };
            eprintln!(
                "wrote {} frames ({} data frames) to {}: {why}",
                summary.frames,
                summary.data_frames,
                args.out.display()
            );
            Ok(())
        }
        Err(message) => {
            // Nothing recorded (no connection): leave no empty file behind.
            if std::fs::metadata(&args.out).is_ok_and(|m| m.len() == 0) {
                let _ = std::fs::remove_file(&args.out);
            }
            Err(message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1.5m"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }
}
