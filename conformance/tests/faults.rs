//! A simulator with one deliberate deviation fails exactly the rule that checks it.

use telewire_conformance::Options;
use telewire_conformance::Outcome;
use telewire_conformance::Suite;
use telewire_conformance::Target;
use telewire_conformance::TargetSpec;
use telewire_simulator::serve;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::ServeOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_without_connected_fails_only_the_connected_rule() {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.webmacs.rate = 0.0;
    opts.scenario.webmacs.faults.no_connected = true;
    let events = opts
        .scenario
        .webmacs
        .events
        .iter()
        .filter(|e| e.enabled)
        .map(|e| e.public_id.clone())
        .collect();
    let running = serve::start(&[Api::Webmacs], opts).await.unwrap();
    let target = Target {
        url: format!("ws://{}", running.addr(Api::Webmacs).unwrap()),
        token: Some(running.apis[0].info.token.clone()),
        events,
        ..Target::default()
    };
    let report = telewire_conformance::run(
        Suite::Webmacs,
        TargetSpec::Remote(Box::new(target)),
        Options::default(),
    )
    .await
    .unwrap();
    running.shutdown().await;
    let failed: Vec<&str> = report
        .scenarios
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Failed { .. }))
        .map(|s| s.rule_id.as_str())
        .collect();
    assert_eq!(failed, ["webmacs.stream.connected"], "{}", report.text());
    assert!(report.failed(false));
    let passed = report
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::Passed)
        .count();
    assert!(passed > 20, "{}", report.text());
}
