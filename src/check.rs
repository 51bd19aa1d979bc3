//! `telewire check`: runs a conformance suite against a server and reports the verdicts.

use std::path::PathBuf;
use std::process::ExitCode;

use telewire_conformance::Options;
use telewire_conformance::Suite;
use telewire_conformance::Target;
use telewire_conformance::TargetSpec;

/// Check a server against the documented rules of its API.
///
/// Exit status: 0 when every MUST scenario passed (with --strict, every SHOULD one too),
/// 1 when one failed, 2 for usage or configuration errors. MAY scenarios are
/// informational and never fail the run. Missing options are read from the
/// `TELEWIRE_<API>_*` environment variables (see the conformance README).
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The API: molecule, webmacs, valtronics, mosaic or robot.
    #[arg(value_name = "API")]
    pub api: String,
    /// The server: Molecule `wss://host/ws`; WebMACS and Valtronics the base
    /// `ws://host:port`; Mosaic `ws://controller/query`; robot `wss://host/wss`.
    #[arg(long)]
    pub url: Option<String>,
    /// A token the server accepts (otherwise one is obtained by logging in).
    #[arg(long)]
    pub token: Option<String>,
    /// Login user name (Molecule, Valtronics, Mosaic).
    #[arg(long)]
    pub username: Option<String>,
    /// Login password.
    #[arg(long)]
    pub password: Option<String>,
    /// Login e-mail (WebMACS).
    #[arg(long)]
    pub email: Option<String>,
    /// Base URL of the HTTP login endpoints (default: derived from --url).
    #[arg(long, value_name = "URL")]
    pub http_url: Option<String>,
    /// Molecule gateway id.
    #[arg(long)]
    pub gateway_id: Option<String>,
    /// Molecule: the gateway streams data while a client is connected; Valtronics: devices
    /// push telemetry; Mosaic: the show changes while a client is subscribed.
    #[arg(long)]
    pub expect_data: bool,
    /// WebMACS: two or more enabled event public ids, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub events: Vec<String>,
    /// WebMACS: a token of a user deleted after it was issued.
    #[arg(long)]
    pub deleted_user_token: Option<String>,
    /// Robot: an API key that `GET /api/v1/auth/` (X-API-Key) exchanges for a token.
    #[arg(long)]
    pub api_key: Option<String>,
    /// A correctly signed token that has expired.
    #[arg(long)]
    pub expired_token: Option<String>,
    /// Mosaic: a token of a user with the Status access level.
    #[arg(long)]
    pub status_token: Option<String>,
    /// Mosaic: controller security is disabled (no token needed).
    #[arg(long)]
    pub no_security: bool,
    /// Mosaic: the controller's connection cap (8 or 16), when no other client is connected.
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// PEM file of CA certificates to trust for wss:// (besides the web PKI roots).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// Only scenarios matching this tag expression (e.g. "@must and not @needs.login").
    #[arg(long, value_name = "EXPR")]
    pub tags: Option<String>,
    /// Fail on SHOULD scenarios too.
    #[arg(long)]
    pub strict: bool,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a JSON report here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Print the rules (id, level, title) without running them.
    #[arg(long)]
    pub list: bool,
}

/// Runs `telewire check`.
pub async fn run(args: CheckArgs) -> ExitCode {
    let Some(suite) = Suite::from_name(&args.api) else {
        eprintln!(
            "error: no conformance suite for '{}': expected molecule, webmacs, valtronics, mosaic or robot",
            args.api
        );
        return ExitCode::from(2);
    };
    if args.list {
        return list(suite);
    }
    let mut target = Target::from_env(suite).unwrap_or_default();
    let overrides = [
        (&mut target.token, args.token),
        (&mut target.username, args.username),
        (&mut target.password, args.password),
        (&mut target.email, args.email),
        (&mut target.http_base, args.http_url),
        (&mut target.gateway_id, args.gateway_id),
        (&mut target.deleted_user_token, args.deleted_user_token),
        (&mut target.expired_token, args.expired_token),
        (&mut target.api_key, args.api_key),
        (&mut target.status_token, args.status_token),
    ];
    if args.ca_file.is_some() {
        target.ca_file = args.ca_file;
    }
    for (field, value) in overrides {
        if value.is_some() {
            *field = value;
        }
    }
    if let Some(url) = args.url {
        target.url = url;
    }
    if target.url.is_empty() {
        eprintln!(
            "error: --url is required (or TELEWIRE_{}_URL)",
            suite.name().to_ascii_uppercase()
        );
        return ExitCode::from(2);
    }
    target.expect_data |= args.expect_data;
    target.security_off |= args.no_security;
    if args.max_connections.is_some() {
        target.max_connections = args.max_connections;
    }
    if !args.events.is_empty() {
        target.events = args.events;
    }
    let options = Options {
        tags: args.tags,
        name_filter: None,
        progress: Some(Box::new(|result| println!("{}", result.line()))),
    };
    let report =
        match telewire_conformance::run(suite, TargetSpec::Remote(Box::new(target)), options).await
        {
            Ok(report) => report,
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::from(2);
            }
        };
    print!("{}", report.details());
    for (path, text) in [(&args.junit, report.junit()), (&args.json, report.json())] {
        if let Some(path) = path
            && let Err(err) = std::fs::write(path, text)
        {
            eprintln!("error: cannot write {}: {err}", path.display());
            return ExitCode::from(2);
        }
    }
    if report.failed(args.strict) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn list(suite: Suite) -> ExitCode {
    match suite.rules() {
        Ok(rules) => {
            for rule in rules {
                println!("{:<44} {:<6} {}", rule.id, rule.level.as_str(), rule.title);
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}
