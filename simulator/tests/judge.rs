//! Judge mode end to end: real clients of this crate against a judged simulator, the
//! verdicts document and the shutdown summary.

use std::time::Duration;

use futures_util::SinkExt;
use futures_util::StreamExt;
use serde_json::Value;
use telewire_simulator::judge::JudgeSettings;
use telewire_simulator::judge::VERDICTS_PATH;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::ServeOptions;
use telewire_simulator::serve::start;
use telewire_simulator::shutdown;
use telewire_simulator::webmacs::controller::ControllerOptions;
use telewire_simulator::webmacs::controller::run_controller;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(10);

fn judged(api: Api) -> ServeOptions {
    let mut opts = ServeOptions::ephemeral();
    opts.ports = vec![(api, 0)];
    opts.judge = Some(JudgeSettings::default());
    opts.scenario.webmacs.rate = 0.0;
    opts
}

/// `GET /_telewire/verdicts` over a plain TCP socket; the parsed body.
async fn verdicts(addr: std::net::SocketAddr) -> Value {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request =
        format!("GET {VERDICTS_PATH} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    timeout(WAIT, tcp.read_to_string(&mut raw))
        .await
        .unwrap()
        .unwrap();
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    let body = raw.split("\r\n\r\n").nth(1).unwrap();
    serde_json::from_str(body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webmacs_controller_device_passes_every_rule_it_meets() {
    let running = start(&[Api::Webmacs], judged(Api::Webmacs)).await.unwrap();
    let api = running.apis[0].clone();
    let (_trigger, signal) = shutdown::channel();
    let opts = ControllerOptions {
        url: format!("ws://{}", api.addr),
        token: api.info.token.clone(),
        events: vec!["judge-a".into(), "judge-b".into()],
        rate: 20_000.0,
        seed: 1,
        // More than one batch may hold: the controller must chunk.
        limit: Some(1_200),
        ca_cert: None,
    };
    let stats = timeout(WAIT, run_controller(opts, signal))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stats.sent, 1_200);
    let judge = running.judge(Api::Webmacs).unwrap();
    assert!(judge.wait_for_reports(1, WAIT).await);
    let json = verdicts(api.addr).await;
    let client = &json["clients"][0];
    let outcomes: Vec<(String, String)> = client["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["rule"].as_str().unwrap().to_owned(),
                v["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        outcomes
            .iter()
            .any(|(r, o)| r == "webmacs.client.batch-limit" && o == "pass"),
        "{client}"
    );
    assert!(
        outcomes
            .iter()
            .any(|(r, o)| r == "webmacs.client.token-query" && o == "pass"),
        "{client}"
    );
    assert!(outcomes.iter().all(|(_, o)| o == "pass"), "{client}");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts_name_the_rule_level_spec_expected_and_observed_and_the_summary_counts_them() {
    let running = start(&[Api::Robot], judged(Api::Robot)).await.unwrap();
    let addr = running.addr(Api::Robot).unwrap();
    let token = running.apis[0].info.token.clone();
    // A good client: documented messages, then a normal close.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/wss?token={token}"))
        .await
        .unwrap();
    ws.send(Message::text(r#"{"action":"subscribe","topic":"arm"}"#))
        .await
        .unwrap();
    ws.close(None).await.unwrap();
    while let Ok(Some(Ok(_))) = timeout(WAIT, ws.next()).await {}
    // A bad one: an undocumented action.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/wss?token={token}"))
        .await
        .unwrap();
    ws.send(Message::text(r#"{"action":"shout","topic":"arm"}"#))
        .await
        .unwrap();
    ws.close(None).await.unwrap();
    while let Ok(Some(Ok(_))) = timeout(WAIT, ws.next()).await {}

    let judge = running.judge(Api::Robot).unwrap();
    assert!(judge.wait_for_reports(2, WAIT).await);
    let json = verdicts(addr).await;
    assert_eq!(json["api"], "robot");
    assert_eq!(json["rules"].as_array().unwrap().len(), 3);
    let format_of = |id: u64| {
        json["clients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .and_then(|c| {
                c["verdicts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|v| v["rule"] == "robot.client.message-format")
                    .cloned()
            })
            .unwrap()
    };
    let good = format_of(0);
    let bad = format_of(1);
    assert_eq!(good["outcome"], "pass", "{good}");
    assert_eq!(bad["outcome"], "fail", "{bad}");
    assert_eq!(bad["level"], "MUST");
    assert!(bad["spec"].as_str().unwrap().contains("subscribe"));
    assert!(!bad["expected"].as_str().unwrap().is_empty());
    assert!(bad["observed"].as_str().unwrap().contains("shout"), "{bad}");

    let summary = judge.summary();
    assert!(summary.contains("robot.client.message-format"), "{summary}");
    assert!(summary.contains("1 passed, 1 failed"), "{summary}");
    assert!(summary.contains("client #1"), "{summary}");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_judge_mode_there_is_no_verdicts_route() {
    let mut opts = judged(Api::Robot);
    opts.judge = None;
    let running = start(&[Api::Robot], opts).await.unwrap();
    let addr = running.addr(Api::Robot).unwrap();
    assert!(running.judge(Api::Robot).is_none());
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request =
        format!("GET {VERDICTS_PATH} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    timeout(WAIT, tcp.read_to_string(&mut raw))
        .await
        .unwrap()
        .unwrap();
    assert!(raw.starts_with("HTTP/1.1 404"), "{raw}");
    running.shutdown().await;
}
