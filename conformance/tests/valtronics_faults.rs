//! A Valtronics simulator with one deliberate deviation fails exactly the rules that check it.

use telewire_conformance::Options;
use telewire_conformance::Outcome;
use telewire_conformance::Suite;
use telewire_conformance::Target;
use telewire_conformance::TargetSpec;
use telewire_conformance::target::in_process_valtronics;
use telewire_simulator::serve;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::ServeOptions;
use telewire_simulator::valtronics::Scenario;

/// Runs the Valtronics suite against a simulator whose scenario `configure` changed; the
/// rule ids of the failed scenarios, in order, without repeats.
async fn failed_rules(configure: impl FnOnce(&mut Scenario)) -> Vec<String> {
    let mut opts = ServeOptions::ephemeral();
    in_process_valtronics(&mut opts.scenario.valtronics);
    configure(&mut opts.scenario.valtronics);
    let running = serve::start(&[Api::Valtronics], opts).await.unwrap();
    let target = Target {
        url: format!("ws://{}", running.addr(Api::Valtronics).unwrap()),
        token: Some(running.apis[0].info.token.clone()),
        expect_data: true,
        ..Target::default()
    };
    let report = telewire_conformance::run(
        Suite::Valtronics,
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
    assert!(passed > 40, "{}", report.text());
    let mut failed: Vec<String> = report
        .scenarios
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Failed { .. }))
        .map(|s| s.rule_id.clone())
        .collect();
    failed.dedup();
    failed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_the_1_kib_cap_fails_only_the_message_size_rule() {
    let failed = failed_rules(|scenario| scenario.limits.max_message_bytes = 2048).await;
    assert_eq!(failed, ["valtronics.limits.message_size"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_acknowledgements_fails_only_the_acknowledgement_rules() {
    let failed = failed_rules(|scenario| scenario.acknowledge_subscriptions = false).await;
    assert_eq!(
        failed,
        [
            "valtronics.channels.subscribed_ack",
            "valtronics.channels.unsubscribed_ack"
        ]
    );
}
