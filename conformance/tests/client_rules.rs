//! `@client` scenarios judge a client: they run in the in-process suites (each starts its
//! own judged simulator) and are skipped, with the reason, against a remote server.

use telewire_conformance::Options;
use telewire_conformance::Outcome;
use telewire_conformance::Suite;
use telewire_conformance::Target;
use telewire_conformance::TargetSpec;
use telewire_simulator::serve;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::ServeOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_rules_are_skipped_against_a_remote_server() {
    let running = serve::start(&[Api::Robot], ServeOptions::ephemeral())
        .await
        .unwrap();
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
    let client: Vec<_> = report
        .scenarios
        .iter()
        .filter(|s| s.role == "client")
        .collect();
    assert_eq!(client.len(), 3, "{}", report.text());
    for scenario in client {
        match &scenario.outcome {
            Outcome::Skipped { reason } => assert!(reason.contains("--judge"), "{reason}"),
            other => panic!("{}: expected a skip, got {other:?}", scenario.rule_id),
        }
    }
    assert!(
        report
            .scenarios
            .iter()
            .filter(|s| s.role == "server")
            .all(|s| s.outcome == Outcome::Passed || matches!(s.outcome, Outcome::Skipped { .. })),
        "{}",
        report.text()
    );
}

/// One scenario per rule the judge applies, with the same id and level, and no other.
#[test]
fn each_judged_rule_has_one_client_scenario_of_the_same_level() {
    for suite in Suite::ALL {
        let api: Api = suite.name().parse().unwrap();
        let scenarios: Vec<(String, String)> = suite
            .rules()
            .unwrap()
            .into_iter()
            .filter(|r| r.role == "client")
            .map(|r| (r.id, r.level.as_str().to_owned()))
            .collect();
        let judged: Vec<(String, String)> = telewire_simulator::judge::rules::of(api)
            .iter()
            .map(|r| (r.id.to_owned(), r.level.name().to_owned()))
            .collect();
        assert_eq!(scenarios, judged, "{}", suite.name());
    }
}
