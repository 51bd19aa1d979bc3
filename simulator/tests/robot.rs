//! The simulated robot pub/sub server over real loopback sockets: robot.txt's clients and every refusal.

mod support;

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::SinkExt;
use futures_util::StreamExt;
use serde_json::Value;
use serde_json::json;
use telewire_protocols::auth::AccessLevel;
use telewire_protocols::auth::TokenVerifier;
use telewire_protocols::time::Timestamp;
use telewire_simulator::jwt::JwtAuthority;
use telewire_simulator::robot;
use telewire_simulator::robot::PublisherError;
use telewire_simulator::robot::PublisherOptions;
use telewire_simulator::serve;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::Running;
use telewire_simulator::serve::ServeOptions;
use telewire_simulator::shutdown;
use tokio::net::TcpStream;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::Message;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(10);
const SECRET: &[u8] = b"telewire-test-secret";
/// Bound on frames read while looking for one.
const MAX_FRAMES: usize = 2_000;

/// Options with no periodic status lines, so `server_logs` carries only what a test causes.
fn quiet_options() -> ServeOptions {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.robot.status_interval_ms = 0;
    opts
}

async fn start(opts: ServeOptions) -> (Running, SocketAddr) {
    let running = serve::start(&[Api::Robot], opts).await.unwrap();
    let addr = running.addr(Api::Robot).unwrap();
    (running, addr)
}

/// A tiny HTTP/1.1 client: one request, `Connection: close`; status, lower-cased head, body.
async fn http(addr: SocketAddr, method: &str, path: &str, headers: &str) -> (u16, String, String) {
    support::http(addr, method, path, headers, "").await
}

/// The official client's token request: `GET /api/v1/auth/` with `X-API-Key`.
async fn token(addr: SocketAddr) -> String {
    let (status, head, body) = http(addr, "GET", "/api/v1/auth/", "X-API-Key: demo\r\n").await;
    assert_eq!(status, 200, "{body}");
    assert!(head.contains("content-type: application/json"), "{head}");
    let data: Value = serde_json::from_str(&body).unwrap();
    data["token"].as_str().unwrap().to_owned()
}

async fn connect(addr: SocketAddr, target: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}{target}"))
        .await
        .unwrap();
    ws
}

/// A connection on `/wss` with a fresh token.
async fn client(addr: SocketAddr) -> Ws {
    let token = token(addr).await;
    connect(addr, &format!("/wss?token={token}")).await
}

async fn send(ws: &mut Ws, text: &str) {
    ws.send(Message::Text(text.into())).await.unwrap();
}

async fn next(ws: &mut Ws) -> Message {
    tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("a frame in time")
        .expect("the stream is open")
        .expect("a valid frame")
}

/// The next text frame, parsed.
async fn next_json(ws: &mut Ws) -> Value {
    for _ in 0..MAX_FRAMES {
        match next(ws).await {
            Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
    panic!("no text frame");
}

/// Reads until a message matching `pred` arrives; returns it.
async fn wait_for(ws: &mut Ws, pred: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..MAX_FRAMES {
        let msg = next_json(ws).await;
        if pred(&msg) {
            return msg;
        }
    }
    panic!("no matching message in {MAX_FRAMES} frames");
}

/// A `server_logs` line whose text contains `needle`.
async fn wait_for_log(ws: &mut Ws, needle: &str) -> Value {
    wait_for(ws, |m| {
        m["name"] == "server_logs" && m["data"].as_str().is_some_and(|d| d.contains(needle))
    })
    .await
}

/// Reads until the close frame; returns its code and reason.
async fn close_of(ws: &mut Ws) -> (u16, String) {
    for _ in 0..MAX_FRAMES {
        match next(ws).await {
            Message::Close(Some(frame)) => return (frame.code.into(), frame.reason.to_string()),
            Message::Close(None) => panic!("close without a code"),
            _ => {}
        }
    }
    panic!("no close frame");
}

fn publish(topic: &str, name: &str, data: Value) -> String {
    json!({"action": "publish", "topic": topic, "data": {"name": name, "type": "json", "data": data}})
        .to_string()
}

fn subscribe(topic: &str) -> String {
    json!({"action": "subscribe", "topic": topic}).to_string()
}

/// Subscribes `ws` to `topic` and waits until the server has handled it: messages of one
/// connection are handled in order, so once a marker published on a topic of its own comes
/// back, the subscription before it is in place.
async fn subscribe_synced(ws: &mut Ws, topic: &str) {
    send(ws, &subscribe(topic)).await;
    sync(ws).await;
}

/// Waits until the server has handled everything `ws` sent before (see [`subscribe_synced`]).
async fn sync(ws: &mut Ws) {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let private = format!("sync-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    send(ws, &subscribe(&private)).await;
    send(ws, &publish(&private, &private, json!(null))).await;
    wait_for(ws, |m| m["name"] == private.as_str()).await;
}

#[tokio::test]
async fn auth_endpoint_issues_real_jwts_and_refuses_bad_keys() {
    let (running, addr) = start(quiet_options()).await;
    let token = token(addr).await;
    let jwt = JwtAuthority::new("telewire-robot", SECRET, Duration::from_secs(3600));
    let claims = jwt
        .claims(&token)
        .expect("an HS256 JWT of the run's secret");
    assert_eq!(claims.sub, "demo");
    assert_eq!(claims.exp - claims.iat, 3600);
    let (status, head, body) = http(addr, "GET", "/api/v1/auth/", "").await;
    assert_eq!(status, 401);
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(body, r#"{"detail":"missing X-API-Key header"}"#);
    let (status, _, body) = http(addr, "GET", "/api/v1/auth/", "X-API-Key: wrong\r\n").await;
    assert_eq!(status, 401);
    assert_eq!(body, r#"{"detail":"invalid API key"}"#);
    let (status, _, body) = http(addr, "GET", "/api/v1/auth", "X-API-Key: demo\r\n").await;
    assert_eq!(status, 200, "without the trailing slash too: {body}");
    let (status, head, _) = http(
        addr,
        "OPTIONS",
        "/api/v1/auth/",
        "Origin: http://localhost:3000\r\nAccess-Control-Request-Method: GET\r\n\
         Access-Control-Request-Headers: x-api-key\r\n",
    )
    .await;
    assert_eq!(status, 204, "a browser's preflight is answered");
    assert!(
        head.contains("access-control-allow-headers: x-api-key"),
        "{head}"
    );
    let info = &running.apis[0].info;
    assert!(!info.ws_urls.is_empty() && !info.http.is_empty() && !info.credentials.is_empty());
    assert!(
        jwt.verify(&info.token, Timestamp::from_unix_secs(claims.iat))
            .is_ok(),
        "the printed token works"
    );
    running.shutdown().await;
}

/// robot.txt's Python example, message for message: connect to `/wss?token=`, send
/// `json.dumps({"action": "subscribe", "topic": "server_logs"})`, print what arrives.
#[tokio::test]
async fn the_documents_python_client_sequence_works() {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.robot.status_interval_ms = 20;
    let (running, addr) = start(opts).await;
    let jwt_token = token(addr).await;
    let ws_url = format!("ws://{addr}/wss?token={jwt_token}");
    let (mut websocket, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    send(
        &mut websocket,
        r#"{"action": "subscribe", "topic": "server_logs"}"#,
    )
    .await;
    let first = next_json(&mut websocket).await;
    assert_eq!(first["name"], "server_logs");
    assert_eq!(first["type"], "info");
    let line = first["data"].as_str().unwrap();
    assert!(
        line.ends_with("client #1 subscribed to server_logs"),
        "{line}"
    );
    assert_eq!(
        first.as_object().unwrap().len(),
        3,
        "exactly name, type, data"
    );
    let status = wait_for_log(&mut websocket, "robot status: mode ").await;
    let text = status["data"].as_str().unwrap();
    assert!(
        text.contains("battery") && text.contains("pose x="),
        "{text}"
    );
    running.shutdown().await;
}

/// robot.txt's JavaScript example: `JSON.stringify({ action: "subscribe", topic: "server_logs" })`
/// on open; every message is JSON text.
#[tokio::test]
async fn the_documents_javascript_client_sequence_works() {
    // The default scenario: a status line every 5 s, the first as soon as someone listens.
    let (running, addr) = start(ServeOptions::ephemeral()).await;
    let token = token(addr).await;
    let mut ws = connect(addr, &format!("/wss?token={token}")).await;
    send(&mut ws, r#"{"action":"subscribe","topic":"server_logs"}"#).await;
    let msg = wait_for_log(&mut ws, "subscribed to server_logs").await;
    assert_eq!(msg["type"], "info");
    let started = std::time::Instant::now();
    wait_for_log(&mut ws, "robot status: mode ").await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the first status line does not wait for the interval"
    );
    ws.close(None).await.unwrap();
    running.shutdown().await;
}

/// The specs README's official client: `ws://host/?token=` (no `/wss`), publishes with
/// `data` as a JSON string, routes what it receives on `name`.
#[tokio::test]
async fn the_official_clients_root_path_and_string_data_work() {
    let (running, addr) = start(quiet_options()).await;
    let token = token(addr).await;
    let mut ws = connect(addr, &format!("/?token={token}")).await;
    send(&mut ws, r#"{"action":"subscribe","topic":"arm"}"#).await;
    send(
        &mut ws,
        r#"{"action":"publish","topic":"arm","data":"{\"name\": \"joint\", \"type\": \"float\", \"data\": 1.25}"}"#,
    )
    .await;
    let msg = next_json(&mut ws).await;
    assert_eq!(msg, json!({"name": "joint", "type": "float", "data": 1.25}));
    running.shutdown().await;
}

#[tokio::test]
async fn a_publish_reaches_only_the_topics_subscribers() {
    let (running, addr) = start(quiet_options()).await;
    let mut a = client(addr).await;
    let mut b = client(addr).await;
    let mut c = client(addr).await;
    let mut d = client(addr).await;
    subscribe_synced(&mut a, "arm").await;
    subscribe_synced(&mut d, "arm").await;
    subscribe_synced(&mut b, "wheels").await;
    subscribe_synced(&mut c, "c-marker").await;

    // C, not subscribed to "arm", publishes there: A and D receive it.
    send(&mut c, &publish("arm", "joint", json!({"q": 0.5}))).await;
    let expected = json!({"name": "joint", "type": "json", "data": {"q": 0.5}});
    assert_eq!(next_json(&mut a).await, expected);
    assert_eq!(next_json(&mut d).await, expected);
    // Routing is done once A has it: B and C, not subscribed, got nothing before their marker.
    send(&mut b, &publish("wheels", "b-marker", json!(1))).await;
    assert_eq!(next_json(&mut b).await["name"], "b-marker");
    send(&mut c, &publish("c-marker", "c-marker", json!(1))).await;
    assert_eq!(
        next_json(&mut c).await["name"],
        "c-marker",
        "a publisher not subscribed does not hear itself"
    );

    // A subscribed publisher hears itself.
    send(&mut a, &publish("arm", "own", json!(2))).await;
    assert_eq!(next_json(&mut a).await["name"], "own");
    assert_eq!(next_json(&mut d).await["name"], "own");

    // After an unsubscribe, A receives nothing more from "arm".
    send(&mut a, r#"{"action":"unsubscribe","topic":"arm"}"#).await;
    subscribe_synced(&mut a, "a-marker").await;
    send(&mut c, &publish("arm", "after", json!(3))).await;
    assert_eq!(next_json(&mut d).await["name"], "after");
    send(&mut a, &publish("a-marker", "a-marker-2", json!(1))).await;
    assert_eq!(next_json(&mut a).await["name"], "a-marker-2");
    running.shutdown().await;
}

#[tokio::test]
async fn server_logs_carry_connections_subscriptions_and_publishes() {
    let (running, addr) = start(quiet_options()).await;
    let mut logs = client(addr).await;
    send(&mut logs, &subscribe("server_logs")).await;
    wait_for_log(&mut logs, "subscribed to server_logs").await;
    let mut other = client(addr).await;
    let connected = wait_for_log(&mut logs, "connected and authenticated as demo").await;
    assert_eq!(connected["type"], "info");
    let data = connected["data"].as_str().unwrap();
    assert!(
        data.get(..4).is_some_and(|y| y.parse::<u32>().is_ok()) && data.contains("T"),
        "RFC 3339 time first: {data}"
    );
    send(&mut other, &subscribe("x")).await;
    wait_for_log(&mut logs, "subscribed to x").await;
    send(&mut other, &publish("x", "n", json!(1))).await;
    let published = wait_for_log(&mut logs, "published n (json) on x").await;
    assert_eq!(published["type"], "debug");
    send(&mut other, "nonsense").await;
    let refused = wait_for_log(&mut logs, "message refused").await;
    assert_eq!(refused["type"], "warning");
    other.close(None).await.unwrap();
    wait_for_log(&mut logs, "disconnected").await;
    let _ = connect(addr, "/wss").await;
    wait_for_log(&mut logs, "connection refused: no token provided").await;
    running.shutdown().await;
}

/// "server_logs": the simulator's own log lines (every API's, through the log tap the CLI
/// installs) reach `server_logs` subscribers with their level.
#[tokio::test]
async fn the_simulators_own_log_lines_reach_server_logs() {
    use tracing_subscriber::layer::SubscriberExt as _;
    // The test runtime is single-threaded, so a thread-local subscriber sees every task.
    let _tap = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(telewire_simulator::logtap::LogTap),
    );
    let (running, addr) = start(quiet_options()).await;
    let mut logs = client(addr).await;
    send(&mut logs, &subscribe("server_logs")).await;
    wait_for_log(&mut logs, "subscribed to server_logs").await;
    tracing::warn!(target: "telewire_simulator::webmacs", event = "e-1", "a controller went quiet");
    let line = wait_for_log(&mut logs, "a controller went quiet").await;
    assert_eq!(line["type"], "warning");
    let data = line["data"].as_str().unwrap();
    assert!(data.contains("telewire_simulator::webmacs"), "{data}");
    assert!(data.contains("event=e-1"), "{data}");
    running.shutdown().await;
}

#[tokio::test]
async fn status_lines_report_battery_pose_and_mode_changes() {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.robot.status_interval_ms = 5;
    opts.scenario.robot.status.mode_hold = 1;
    let (running, addr) = start(opts).await;
    let mut ws = client(addr).await;
    send(&mut ws, &subscribe("server_logs")).await;
    let status = wait_for_log(&mut ws, "robot status: mode ").await;
    assert!(matches!(status["type"].as_str(), Some("info" | "warning")));
    let change = wait_for_log(&mut ws, "robot mode changed: ").await;
    assert!(change["data"].as_str().unwrap().contains(" -> "));
    running.shutdown().await;
}

#[tokio::test]
async fn the_robot_publishes_its_topics_while_subscribed() {
    let mut opts = quiet_options();
    for topic in &mut opts.scenario.robot.topics {
        topic.interval_ms = 5;
    }
    let (running, addr) = start(opts).await;
    let mut ws = client(addr).await;
    send(&mut ws, &subscribe("odom")).await;
    send(&mut ws, &subscribe("motor_temperature")).await;
    let pose = wait_for(&mut ws, |m| m["name"] == "pose").await;
    assert_eq!(pose["type"], "json");
    for key in ["x", "y", "theta"] {
        assert!(pose["data"][key].is_number(), "{pose}");
    }
    let temp = wait_for(&mut ws, |m| m["name"] == "motor_temperature").await;
    assert!(temp["data"].is_number(), "{temp}");
    running.shutdown().await;
}

#[tokio::test]
async fn bad_input_gets_error_replies_and_the_connection_stays_open() {
    let mut opts = quiet_options();
    opts.scenario.robot.max_message_bytes = 1024;
    opts.scenario.robot.max_topics_per_connection = 2;
    let (running, addr) = start(opts).await;
    let mut ws = client(addr).await;
    let long_topic = "t".repeat(129);
    let cases: Vec<(String, &str)> = vec![
        ("{".into(), "invalid_json"),
        ("[]".into(), "invalid_message"),
        (r#"{"topic":"t"}"#.into(), "unknown_action"),
        (r#"{"action":"dance","topic":"t"}"#.into(), "unknown_action"),
        (r#"{"action":"subscribe"}"#.into(), "missing_topic"),
        (
            r#"{"action":"subscribe","topic":7}"#.into(),
            "invalid_topic",
        ),
        (
            r#"{"action":"subscribe","topic":""}"#.into(),
            "invalid_topic",
        ),
        (subscribe(&long_topic), "topic_too_long"),
        (r#"{"action":"publish","topic":"t"}"#.into(), "invalid_data"),
        (
            r#"{"action":"publish","topic":"t","data":"nope"}"#.into(),
            "invalid_data",
        ),
        (
            r#"{"action":"publish","topic":"t","data":{"name":"n","type":"k"}}"#.into(),
            "invalid_data",
        ),
        (
            r#"{"action":"subscribe","topic":"t","extra":1}"#.into(),
            "invalid_message",
        ),
        (publish("server_logs", "fake", json!(1)), "reserved_topic"),
        (
            publish("t", "big", json!("x".repeat(2_000))),
            "message_too_large",
        ),
    ];
    for (text, code) in &cases {
        send(&mut ws, text).await;
        let reply = next_json(&mut ws).await;
        assert_eq!(reply["action"], "error", "{text}");
        assert_eq!(reply["error"], *code, "{text}: {reply}");
        assert!(reply["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(reply.get("name").is_none() && reply.get("type").is_none());
    }
    ws.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["error"], "unsupported_frame");
    send(&mut ws, &subscribe("one")).await;
    send(&mut ws, &subscribe("two")).await;
    send(&mut ws, &subscribe("three")).await;
    assert_eq!(next_json(&mut ws).await["error"], "too_many_topics");
    send(&mut ws, &publish("two", "still-open", json!(true))).await;
    assert_eq!(next_json(&mut ws).await["name"], "still-open");
    running.shutdown().await;
}

#[tokio::test]
async fn a_flood_is_rate_limited_then_closed_with_1008() {
    let mut opts = quiet_options();
    opts.scenario.robot.max_messages_per_second = 5;
    let (running, addr) = start(opts).await;
    let mut ws = client(addr).await;
    // Five subscriptions (no replies), then one too many, all within the second.
    for _ in 0..6 {
        send(&mut ws, &subscribe("t")).await;
    }
    let reply = next_json(&mut ws).await;
    assert_eq!(reply["error"], "rate_limited", "{reply}");
    for _ in 0..19 {
        send(&mut ws, &subscribe("t")).await;
    }
    let (code, reason) = close_of(&mut ws).await;
    assert_eq!(code, 1008);
    assert_eq!(reason, "rate limit exceeded 20 times in a row");
    running.shutdown().await;
}

#[tokio::test]
async fn missing_tampered_foreign_and_expired_tokens_are_closed_with_1008() {
    let (running, addr) = start(quiet_options()).await;
    let good = token(addr).await;
    let mut tampered = good.clone();
    tampered.pop();
    tampered.push(if good.ends_with('A') { 'B' } else { 'A' });
    let foreign = JwtAuthority::new("telewire-robot", b"other", Duration::from_secs(60)).issue(
        "demo",
        AccessLevel::Admin,
        Timestamp::from_unix_secs(4_000_000_000),
    );
    let expired = JwtAuthority::new("telewire-robot", SECRET, Duration::from_secs(60)).issue_for(
        "demo",
        AccessLevel::Admin,
        Timestamp::from_unix_secs(1_000_000),
        Duration::from_secs(60),
    );
    let cases = [
        ("/wss".to_owned(), "no token provided"),
        ("/wss?token=".to_owned(), "no token provided"),
        (
            format!("/wss?token={tampered}"),
            "token is malformed or its signature is invalid",
        ),
        (
            format!("/?token={foreign}"),
            "token is malformed or its signature is invalid",
        ),
        (format!("/wss?token={expired}"), "token has expired"),
    ];
    for (target, reason) in cases {
        let mut ws = connect(addr, &target).await;
        assert_eq!(
            close_of(&mut ws).await,
            (1008, reason.to_owned()),
            "{target}"
        );
    }
    running.shutdown().await;
}

#[tokio::test]
async fn a_token_that_expires_closes_its_connection_with_1008() {
    let (running, addr) = start(quiet_options()).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    // Valid now, expired within two seconds.
    let short = JwtAuthority::new("telewire-robot", SECRET, Duration::from_secs(2)).issue(
        "demo",
        AccessLevel::Admin,
        Timestamp::from_unix_secs(now.as_secs()),
    );
    let mut ws = connect(addr, &format!("/wss?token={short}")).await;
    assert_eq!(close_of(&mut ws).await, (1008, "token has expired".into()));
    running.shutdown().await;
}

#[tokio::test]
async fn refusing_before_the_upgrade_answers_401_and_503() {
    let mut opts = quiet_options();
    opts.scenario.robot.refuse_before_upgrade = true;
    opts.scenario.robot.max_connections = 1;
    let (running, addr) = start(opts).await;
    for target in ["/wss", "/wss?token=not.a.jwt"] {
        let err = tokio_tungstenite::connect_async(format!("ws://{addr}{target}"))
            .await
            .unwrap_err();
        let tungstenite::Error::Http(response) = err else {
            panic!("an HTTP refusal: {err:?}");
        };
        assert_eq!(response.status().as_u16(), 401);
        let body: Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
        assert!(body["detail"].is_string(), "{body}");
    }
    let mut first = client(addr).await;
    subscribe_synced(&mut first, "t").await;
    let token = token(addr).await;
    let err = tokio_tungstenite::connect_async(format!("ws://{addr}/wss?token={token}"))
        .await
        .unwrap_err();
    let tungstenite::Error::Http(response) = err else {
        panic!("an HTTP refusal: {err:?}");
    };
    assert_eq!(response.status().as_u16(), 503);
    running.shutdown().await;
}

#[tokio::test]
async fn a_full_server_closes_new_connections_with_1013() {
    let mut opts = quiet_options();
    opts.scenario.robot.max_connections = 1;
    let (running, addr) = start(opts).await;
    let mut first = client(addr).await;
    subscribe_synced(&mut first, "t").await;
    let mut second = client(addr).await;
    let (code, reason) = close_of(&mut second).await;
    assert_eq!(code, 1013);
    assert_eq!(reason, "maximum of 1 concurrent connections reached");
    running.shutdown().await;
}

#[tokio::test]
async fn acknowledgements_when_the_scenario_asks_for_them() {
    let mut opts = quiet_options();
    opts.scenario.robot.acks = true;
    let (running, addr) = start(opts).await;
    let mut ws = client(addr).await;
    send(&mut ws, &subscribe("t")).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"action": "subscribed", "topic": "t"})
    );
    send(&mut ws, r#"{"action":"unsubscribe","topic":"t"}"#).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"action": "unsubscribed", "topic": "t"})
    );
    running.shutdown().await;
}

/// The first `n` messages a fresh subscriber of `topic` receives.
async fn first_messages(addr: SocketAddr, topic: &str, n: usize) -> Vec<Value> {
    let mut ws = client(addr).await;
    send(&mut ws, &subscribe(topic)).await;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        out.push(next_json(&mut ws).await);
    }
    out
}

#[tokio::test]
async fn the_same_seed_serves_the_same_first_100_values() {
    let fast = || {
        let mut opts = quiet_options();
        for topic in &mut opts.scenario.robot.topics {
            topic.interval_ms = 2;
        }
        opts
    };
    let (one, addr_one) = start(fast()).await;
    let (two, addr_two) = start(fast()).await;
    let a = first_messages(addr_one, "odom", 100).await;
    let b = first_messages(addr_two, "odom", 100).await;
    assert_eq!(a, b);
    let expected: Vec<Value> = robot::first_payloads(1, &fast().scenario.robot, "odom", 100)
        .iter()
        .map(|p| serde_json::from_str(&p.to_text()).unwrap())
        .collect();
    assert_eq!(a, expected, "the generator the server runs");
    let mut other_seed = fast();
    other_seed.seed = Some(2);
    let (three, addr_three) = start(other_seed).await;
    assert_ne!(first_messages(addr_three, "odom", 100).await, a);
    one.shutdown().await;
    two.shutdown().await;
    three.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_clients_with_1001() {
    let (running, addr) = start(quiet_options()).await;
    let mut ws = client(addr).await;
    subscribe_synced(&mut ws, "t").await;
    let closing = tokio::spawn(running.shutdown());
    assert_eq!(close_of(&mut ws).await.0, 1001);
    drop(ws);
    tokio::time::timeout(WAIT, closing).await.unwrap().unwrap();
}

fn publisher_options(
    addr: SocketAddr,
    token: Option<String>,
    limit: Option<u64>,
) -> PublisherOptions {
    PublisherOptions {
        url: format!("ws://{addr}/wss"),
        token,
        topic: "sensor".into(),
        rate: 200.0,
        seed: 7,
        limit,
        ca_cert: None,
    }
}

#[tokio::test]
async fn run_publisher_publishes_into_the_server_for_its_subscribers() {
    let (running, addr) = start(quiet_options()).await;
    let mut sub = client(addr).await;
    subscribe_synced(&mut sub, "sensor").await;
    let (_trigger, signal) = shutdown::channel();
    let opts = publisher_options(addr, Some(token(addr).await), Some(5));
    let stats = tokio::time::timeout(WAIT, robot::run_publisher(opts, signal))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stats.sent, 5);
    assert_eq!(stats.reconnects, 0);
    for seq in 1..=5 {
        let msg = next_json(&mut sub).await;
        assert_eq!(msg["name"], "sensor");
        assert_eq!(msg["type"], "json");
        assert_eq!(msg["data"]["seq"], seq);
        assert!(msg["data"]["value"].is_number());
    }
    running.shutdown().await;
}

#[tokio::test]
async fn run_publisher_reports_refusals_and_bad_options() {
    let (running, addr) = start(quiet_options()).await;
    let (_trigger, signal) = shutdown::channel();
    let refused = robot::run_publisher(
        publisher_options(addr, Some("not.a.jwt".into()), Some(1)),
        signal.clone(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(refused, PublisherError::Refused { .. }),
        "{refused}"
    );
    let mut opts = publisher_options(addr, None, Some(1));
    opts.url = format!("http://{addr}/wss");
    let err = robot::run_publisher(opts, signal.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, PublisherError::InvalidUrl { .. }), "{err}");
    // wss:// to a server without TLS: a connection error that names TLS.
    let mut opts = publisher_options(addr, None, Some(1));
    opts.url = format!("wss://{addr}/wss");
    let err = robot::run_publisher(opts, signal.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PublisherError::Connect { reason, .. } if reason.contains("TLS")),
        "{err}"
    );
    let mut opts = publisher_options(addr, None, Some(1));
    opts.rate = 0.0;
    assert!(matches!(
        robot::run_publisher(opts, signal.clone()).await,
        Err(PublisherError::InvalidRate(_))
    ));
    let mut opts = publisher_options(addr, None, Some(1));
    opts.topic = "server_logs".into();
    assert!(matches!(
        robot::run_publisher(opts, signal.clone()).await,
        Err(PublisherError::InvalidTopic { .. })
    ));
    running.shutdown().await;

    // A rate the server refuses for long enough ends in a policy close.
    let mut opts = quiet_options();
    opts.scenario.robot.max_messages_per_second = 1;
    let (limited, limited_addr) = start(opts).await;
    let mut fast = publisher_options(limited_addr, Some(token(limited_addr).await), None);
    fast.rate = 1_000.0;
    let err = tokio::time::timeout(WAIT, robot::run_publisher(fast, signal.clone()))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(&err, PublisherError::PolicyClose { reason } if reason.contains("rate limit")),
        "{err}"
    );
    limited.shutdown().await;
    // Nothing listens there any more.
    let err = robot::run_publisher(publisher_options(addr, None, Some(1)), signal)
        .await
        .unwrap_err();
    assert!(matches!(err, PublisherError::Connect { .. }), "{err}");

    let mut opts = quiet_options();
    opts.scenario.robot.refuse_before_upgrade = true;
    let (running, addr) = start(opts).await;
    let (_trigger, signal) = shutdown::channel();
    let err = robot::run_publisher(publisher_options(addr, None, Some(1)), signal)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PublisherError::Unauthorized { status: 401, .. }),
        "{err}"
    );
    running.shutdown().await;
}

#[tokio::test]
async fn run_publisher_reconnects_when_the_server_comes_back() {
    let (running, addr) = start(quiet_options()).await;
    let token = token(addr).await;
    let (trigger, signal) = shutdown::channel();
    let publisher = tokio::spawn(robot::run_publisher(
        publisher_options(addr, Some(token.clone()), None),
        signal,
    ));
    let mut sub = client(addr).await;
    send(&mut sub, &subscribe("sensor")).await;
    wait_for(&mut sub, |m| m["name"] == "sensor").await;
    running.shutdown().await;
    // The same port, the same secret: the publisher's token is still good.
    let mut opts = quiet_options();
    opts.ports = vec![(Api::Robot, addr.port())];
    let (again, addr_again) = start(opts).await;
    assert_eq!(addr_again, addr);
    let mut sub = client(addr).await;
    send(&mut sub, &subscribe("sensor")).await;
    wait_for(&mut sub, |m| m["name"] == "sensor").await;
    trigger.trigger();
    let stats = tokio::time::timeout(WAIT, publisher)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(stats.reconnects >= 1, "{stats:?}");
    assert!(stats.sent >= 2, "{stats:?}");
    again.shutdown().await;
}

#[tokio::test]
async fn the_operator_table_names_urls_credentials_token_and_topics() {
    let (running, addr) = start(ServeOptions::ephemeral()).await;
    let info = &running.apis[0].info;
    assert_eq!(
        info.ws_urls,
        [format!("ws://{addr}/wss"), format!("ws://{addr}/")]
    );
    assert_eq!(info.http, [format!("GET http://{addr}/api/v1/auth/")]);
    assert!(info.credentials.contains("X-API-Key: demo"));
    let table = running.table();
    assert!(
        table.contains(&format!("ws://{addr}/wss?token={}", info.token)),
        "{table}"
    );
    for topic in [
        "battery",
        "odom",
        "motor_temperature",
        "lidar",
        "server_logs",
    ] {
        assert!(table.contains(topic), "{topic}: {table}");
    }
    running.shutdown().await;
}

#[tokio::test]
async fn a_message_beyond_the_transport_limit_ends_only_its_connection() {
    let mut opts = quiet_options();
    opts.scenario.robot.max_message_bytes = 1024;
    let (running, addr) = start(opts).await;
    let mut ws = client(addr).await;
    send(&mut ws, &"x".repeat(100_000)).await;
    assert_eq!(next_json(&mut ws).await["error"], "message_too_large");
    let _ = ws
        .send(Message::Text("x".repeat(2 * 1024 * 1024).into()))
        .await;
    let ended = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
    assert!(!matches!(ended, Some(Ok(Message::Text(_)))), "{ended:?}");
    let mut other = client(addr).await;
    subscribe_synced(&mut other, "still-serving").await;
    running.shutdown().await;
}

#[tokio::test]
async fn the_connection_list_shows_auth_and_subscriptions() {
    let (running, addr) = start(quiet_options()).await;
    let mut ws = client(addr).await;
    subscribe_synced(&mut ws, "arm").await;
    let listed = running.links.list(Some(Api::Robot));
    assert_eq!(listed.len(), 1, "{listed:?}");
    let link = &listed[0];
    assert!(link.auth.starts_with("authenticated as "), "{link:?}");
    assert!(link.subscriptions.iter().any(|t| t == "arm"), "{link:?}");
    assert!(link.frames_in >= 3 && link.frames_out >= 1, "{link:?}");
    drop(ws);
    running.shutdown().await;
}

/// Messages published at a subscriber that never reads: far more bytes than the socket
/// buffers of both ends hold, so its queue of 8 must overflow.
const FLOOD: usize = 600;
/// Bytes of each flood message's data.
const FLOOD_BYTES: usize = 48 * 1024;

/// Starts a robot server with `policy`, subscribes a client to "flood" and, without that
/// client reading, publishes [`FLOOD`] messages from a second client (each acknowledged,
/// so every one has been offered to the subscriber's queue). Returns the server and the
/// stalled subscriber.
async fn flood_a_stalled_subscriber(
    policy: telewire_simulator::hub::Overflow,
) -> (Running, Ws, Ws) {
    let mut opts = quiet_options();
    opts.scenario.robot.acks = true;
    opts.scenario.robot.queue = 8;
    opts.scenario.robot.max_messages_per_second = 1_000_000;
    opts.scenario.robot.max_message_bytes = 64 * 1024;
    opts.slow_consumer = Some(policy);
    let (running, addr) = start(opts).await;
    assert_eq!(running.overflow, policy);
    let mut stalled = client(addr).await;
    send(&mut stalled, &subscribe("flood")).await;
    assert_eq!(next_json(&mut stalled).await["action"], "subscribed");
    let mut publisher = client(addr).await;
    let filler = "x".repeat(FLOOD_BYTES);
    for i in 0..FLOOD {
        send(
            &mut publisher,
            &publish("flood", &format!("m{i}"), json!(filler)),
        )
        .await;
        assert_eq!(next_json(&mut publisher).await["action"], "published");
    }
    (running, stalled, publisher)
}

/// What the stalled subscriber reads once it resumes: the message names, and how the
/// connection ended (`None` while it stays open after the newest message).
async fn drain(ws: &mut Ws, stop_at: &str) -> (Vec<String>, Option<Option<u16>>) {
    let mut names = Vec::new();
    for _ in 0..FLOOD + 10 {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame in time")
        {
            Some(Ok(Message::Text(text))) => {
                let msg: Value = serde_json::from_str(text.as_str()).unwrap();
                let name = msg["name"].as_str().unwrap_or_default().to_owned();
                let done = name == stop_at;
                names.push(name);
                if done {
                    return (names, None);
                }
            }
            Some(Ok(Message::Close(frame))) => {
                // Reading on sends our close reply and waits for the server to let go.
                let code = frame.map(|f| u16::from(f.code));
                while let Ok(Some(Ok(_))) = tokio::time::timeout(WAIT, ws.next()).await {}
                return (names, Some(code));
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return (names, Some(None)),
        }
    }
    panic!("the stalled subscriber read more frames than were published");
}

#[tokio::test]
async fn a_stalled_subscriber_loses_its_oldest_messages_and_keeps_the_newest() {
    let (running, mut stalled, _publisher) =
        flood_a_stalled_subscriber(telewire_simulator::hub::Overflow::DropOldest).await;
    let listed = running.links.list(Some(Api::Robot));
    let dropped: u64 = listed.iter().map(|l| l.dropped).sum();
    assert!(dropped > 0, "the full queue counted its drops: {listed:?}");
    let newest = format!("m{}", FLOOD - 1);
    let (names, ended) = drain(&mut stalled, &newest).await;
    assert_eq!(ended, None, "the connection stays open");
    assert_eq!(names.last(), Some(&newest), "the newest message arrives");
    assert!(
        names.len() + usize::try_from(dropped).unwrap() >= FLOOD,
        "every message was either delivered or counted as dropped: {} + {dropped}",
        names.len()
    );
    assert!(names.len() < FLOOD, "some were dropped");
    running.shutdown().await;
}

#[tokio::test]
async fn a_stalled_subscriber_is_closed_when_the_policy_says_so() {
    use telewire_simulator::hub::Overflow;
    for (policy, code) in [(Overflow::Close1008, 1008), (Overflow::Close1011, 1011)] {
        let (running, mut stalled, _publisher) = flood_a_stalled_subscriber(policy).await;
        let (names, ended) = drain(&mut stalled, "never").await;
        assert!(
            names.len() < FLOOD,
            "{policy}: closed before the end of the flood"
        );
        match ended {
            // The close frame fits when the socket buffers had room left for it.
            Some(Some(got)) => assert_eq!(got, code, "{policy}"),
            // Otherwise the connection is dropped once the close cannot be written.
            Some(None) => {}
            None => panic!("{policy}: the connection stayed open"),
        }
        // The server lets go of a connection only after taking it off the list.
        assert_eq!(
            running.links.list(Some(Api::Robot)).len(),
            1,
            "{policy}: only the publisher is left"
        );
        running.shutdown().await;
    }
}
