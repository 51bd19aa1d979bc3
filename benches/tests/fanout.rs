//! The fan-out load tool's core against an in-process robot server: every publish reaches every subscriber.

use std::time::Duration;

use telewire_benches::fanout::Fleet;
use telewire_benches::fanout::LOAD_SCENARIO;
use telewire_benches::fanout::LoadConfig;
use telewire_simulator::scenario::Scenario;
use telewire_simulator::serve;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::ServeOptions;

const CLIENTS: usize = 10;
const MESSAGES: u64 = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_subscribers_each_receive_every_publish() {
    let opts = ServeOptions {
        ports: vec![(Api::Robot, 0)],
        seed: Some(1),
        jwt_secret: Some("telewire-test-secret".into()),
        scenario: Scenario::parse(LOAD_SCENARIO, "load").unwrap(),
        ..ServeOptions::default()
    };
    let running = serve::start(&[Api::Robot], opts).await.unwrap();
    let api = running.apis.first().unwrap().clone();
    let mut config = LoadConfig::new(
        format!("ws://{}/wss?token={}", api.addr, api.info.token),
        CLIENTS,
    );
    config.rate = 400;
    config.max_messages = Some(MESSAGES);
    config.duration = Duration::from_secs(60);
    // Generous: the check is on counts, never on time.
    config.drain_idle = Duration::from_secs(10);

    let fleet = Fleet::connect(&config).await;
    assert_eq!(fleet.connected, CLIENTS, "{:?}", fleet.first_error);
    let report = fleet.run(&config).await.unwrap();

    assert_eq!(report.published, MESSAGES);
    assert_eq!(report.expected(), MESSAGES * CLIENTS as u64);
    assert_eq!(report.delivered, report.expected());
    assert_eq!(report.per_client, vec![MESSAGES; CLIENTS]);
    assert_eq!(report.latency.count(), report.delivered);
    assert!(report.latency.quantile(0.5) <= report.latency.quantile(0.99));
    running.shutdown().await;
}
