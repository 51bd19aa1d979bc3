//! An unsecured Mosaic controller passes every scenario that does not need security (the
//! broken profiles are checked in `breaks.rs`).

use telewire_conformance::Options;
use telewire_conformance::Outcome;
use telewire_conformance::Report;
use telewire_conformance::Suite;
use telewire_conformance::Target;
use telewire_conformance::TargetSpec;
use telewire_simulator::context::Credentials;
use telewire_simulator::serve;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::ServeOptions;

/// Runs the Mosaic suite against a simulator configured by `configure`.
async fn report(configure: impl FnOnce(&mut ServeOptions)) -> Report {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.mosaic.rates.event_ms = opts.scenario.mosaic.rates.tick_ms;
    configure(&mut opts);
    let security = opts.scenario.mosaic.security;
    let max = opts
        .scenario
        .mosaic
        .model
        .controller_model()
        .max_connections();
    let running = serve::start(&[Api::Mosaic], opts).await.unwrap();
    let credentials = Credentials::default();
    let target = Target {
        url: running.apis[0].info.ws_urls[0].clone(),
        token: security.then(|| running.apis[0].info.token.clone()),
        username: Some(credentials.username),
        password: Some(credentials.password),
        expect_data: true,
        security_off: !security,
        max_connections: Some(max),
        ..Target::default()
    };
    let report = telewire_conformance::run(
        Suite::Mosaic,
        TargetSpec::Remote(Box::new(target)),
        Options::default(),
    )
    .await
    .unwrap();
    running.shutdown().await;
    report
}

fn rules(report: &Report, outcome: fn(&Outcome) -> bool) -> Vec<String> {
    report
        .scenarios
        .iter()
        .filter(|s| outcome(&s.outcome))
        .map(|s| s.rule_id.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsecured_controller_passes_every_scenario_that_does_not_need_security() {
    let report = report(|opts| opts.scenario.mosaic.security = false).await;
    assert!(
        rules(&report, |o| matches!(o, Outcome::Failed { .. })).is_empty(),
        "{}",
        report.text()
    );
    let passed = rules(&report, |o| *o == Outcome::Passed);
    for rule in [
        "mosaic.auth.no_security",
        "mosaic.keepalive.empty_object",
        "mosaic.keepalive.empty_frame_open",
    ] {
        assert!(
            passed.iter().any(|r| r == rule),
            "{rule}: {}",
            report.text()
        );
    }
    let skipped = rules(&report, |o| matches!(o, Outcome::Skipped { .. }));
    assert!(
        skipped.iter().any(|r| r == "mosaic.keepalive.session_key"),
        "{}",
        report.text()
    );
}
