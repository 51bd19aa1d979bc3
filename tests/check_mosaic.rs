//! `telewire check mosaic` against an in-process `serve mosaic`: a token from
//! `POST /authenticate`, the Mosaic flags, and the exit codes.

#[path = "../src/check.rs"]
mod check;

use std::process::ExitCode;

use clap::Parser;
use telewire_simulator::context::Credentials;
use telewire_simulator::serve;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::ServeOptions;

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    args: check::CheckArgs,
}

async fn check(argv: &[&str]) -> ExitCode {
    let mut full = vec!["check"];
    full.extend_from_slice(argv);
    check::run(Cli::parse_from(full).args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conforming_controller_passes_with_credentials_and_fails_above_a_wrong_cap() {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.mosaic.rates.event_ms = opts.scenario.mosaic.rates.tick_ms;
    let running = serve::start(&[Api::Mosaic], opts).await.unwrap();
    let url = running.apis[0].info.ws_urls[0].clone();
    let creds = Credentials::default();
    let base = [
        "mosaic",
        "--url",
        url.as_str(),
        "--username",
        creds.username.as_str(),
        "--password",
        creds.password.as_str(),
    ];
    let with = |extra: &[&'static str]| {
        let mut argv = base.to_vec();
        argv.extend_from_slice(extra);
        argv
    };
    assert_eq!(
        check(&with(&["--expect-data", "--max-connections", "8"])).await,
        ExitCode::SUCCESS
    );
    // A cap the controller does not have: the ninth connection is served, a MUST fails.
    assert_eq!(
        check(&with(&[
            "--max-connections",
            "7",
            "--tags",
            "@mosaic.limit.connections"
        ]))
        .await,
        ExitCode::from(1)
    );
    running.shutdown().await;
    assert_eq!(check(&["mosaic", "--list"]).await, ExitCode::SUCCESS);
}
