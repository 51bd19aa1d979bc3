//! A simulator with one deliberate deviation fails exactly the rule that checks it.

use telewire_conformance::Options;
use telewire_conformance::Outcome;
use telewire_conformance::Suite;
use telewire_conformance::Target;
use telewire_conformance::TargetSpec;
use telewire_simulator::serve;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::ServeOptions;

/// Runs the WebMACS suite against a simulator configured by `configure`; the rule ids
/// of the failed scenarios, in order.
async fn failed_rules(configure: impl FnOnce(&mut ServeOptions)) -> Vec<String> {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.webmacs.rate = 0.0;
    configure(&mut opts);
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
    let passed = report
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::Passed)
        .count();
    assert!(passed > 20, "{}", report.text());
    report
        .scenarios
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Failed { .. }))
        .map(|s| s.rule_id.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_without_connected_fails_only_the_connected_rule() {
    let failed = failed_rules(|opts| opts.scenario.webmacs.faults.no_connected = true).await;
    assert_eq!(failed, ["webmacs.stream.connected"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_the_broadcast_throttle_fails_only_the_throttle_rule() {
    let failed = failed_rules(|opts| opts.scenario.webmacs.throttle_ms = 0).await;
    assert_eq!(failed, ["webmacs.stream.throttle"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robot_server_without_server_logs_fails_only_the_server_logs_rule() {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.robot.faults.no_server_logs = true;
    let running = serve::start(&[Api::Robot], opts).await.unwrap();
    let target = Target {
        url: format!("ws://{}/wss", running.addr(Api::Robot).unwrap()),
        token: Some(running.apis[0].info.token.clone()),
        ..Target::default()
    };
    let report = telewire_conformance::run(
        Suite::Robot,
        TargetSpec::Remote(Box::new(target)),
        Options::default(),
    )
    .await
    .unwrap();
    running.shutdown().await;
    let passed = report
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::Passed)
        .count();
    assert!(passed > 20, "{}", report.text());
    let failed: Vec<&str> = report
        .scenarios
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Failed { .. }))
        .map(|s| s.rule_id.as_str())
        .collect();
    assert_eq!(failed, ["robot.messages.server_logs"]);
}
