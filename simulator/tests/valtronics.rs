//! The simulated Valtronics server over real loopback sockets: login, auth, channels,
//! filters, limits and close codes, and the document's JavaScript and Python clients.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::SinkExt;
use futures_util::StreamExt;
use serde_json::Value;
use serde_json::json;
use telewire_protocols::auth::AccessLevel;
use telewire_protocols::time::Timestamp;
use telewire_simulator::jwt::JwtAuthority;
use telewire_simulator::scenario::Scenario;
use telewire_simulator::serve;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::Running;
use telewire_simulator::serve::ServeOptions;
use telewire_simulator::signals::SignalSpec;
use telewire_simulator::valtronics;
use telewire_simulator::valtronics::scenario::Device;
use telewire_simulator::valtronics::scenario::Metric;
use telewire_simulator::valtronics::scenario::Threshold;
use tokio::net::TcpStream;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(10);
const SECRET: &[u8] = b"telewire-test-secret";
/// Frames read while looking for one kind of message before a test gives up.
const MAX_FRAMES: usize = 5_000;

/// Options whose devices tick every 5 ms and whose system status comes every 20 ms.
fn fast_options() -> ServeOptions {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.valtronics.interval_ms = 5;
    opts.scenario.valtronics.system_interval_ms = 20;
    opts
}

/// A device whose `level` jumps between 10 and 90 at random every tick, with a critical
/// threshold at 50; it drops offline every other tick when `flap` is set.
fn jumpy_device(id: u64, flap: bool) -> Device {
    Device {
        id,
        name: format!("jumpy {id}"),
        flap_every: u32::from(flap),
        offline_ticks: 1,
        metrics: vec![
            Metric {
                name: "level".into(),
                unit: "%".into(),
                decimals: 1,
                signal: SignalSpec::Step {
                    levels: vec![10.0, 90.0],
                    hold: 1,
                },
                thresholds: vec![Threshold {
                    severity: "critical".into(),
                    above: Some(50.0),
                    below: None,
                }],
            },
            Metric {
                name: "temperature".into(),
                unit: "°C".into(),
                decimals: 1,
                signal: SignalSpec::RandomWalk {
                    start: 20.0,
                    step: 0.1,
                    min: 0.0,
                    max: 40.0,
                },
                thresholds: vec![Threshold {
                    severity: "warning".into(),
                    above: None,
                    below: Some(-100.0),
                }],
            },
        ],
    }
}

async fn start(opts: ServeOptions) -> (Running, SocketAddr) {
    let running = serve::start(&[Api::Valtronics], opts).await.unwrap();
    let addr = running.addr(Api::Valtronics).unwrap();
    (running, addr)
}

/// A tiny HTTP/1.1 client: one request, `Connection: close`; status, lower-cased head, body.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    support::http(addr, method, path, &headers, body).await
}

async fn post_json(addr: SocketAddr, path: &str, body: &str) -> (u16, Value) {
    let (status, head, body) = http(
        addr,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body,
    )
    .await;
    assert!(head.contains("content-type: application/json"), "{head}");
    (status, serde_json::from_str(&body).unwrap())
}

/// `POST /api/v1/auth/login` with the demo credentials.
async fn login(addr: SocketAddr) -> String {
    let (status, body) = post_json(
        addr,
        "/api/v1/auth/login",
        r#"{"username":"demo","password":"demo"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "bearer");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn connect(addr: SocketAddr, path: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}{path}"))
        .await
        .unwrap();
    ws
}

async fn send(ws: &mut Ws, text: impl Into<String>) {
    ws.send(Message::text(text.into())).await.unwrap();
}

async fn send_json(ws: &mut Ws, value: Value) {
    send(ws, value.to_string()).await;
}

async fn next(ws: &mut Ws) -> Message {
    tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("a frame in time")
        .expect("the stream is open")
        .expect("a valid frame")
}

/// The next frame, which must be a JSON text message.
async fn next_json(ws: &mut Ws) -> Value {
    match next(ws).await {
        Message::Text(text) => serde_json::from_str(text.as_str()).unwrap(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// The next message of `kind`, skipping the others (bounded).
async fn next_of(ws: &mut Ws, kind: &str) -> Value {
    for _ in 0..MAX_FRAMES {
        let value = next_json(ws).await;
        if value["type"] == kind {
            return value;
        }
    }
    panic!("no {kind} within {MAX_FRAMES} frames");
}

/// Reads until the close frame and returns its code and reason.
async fn close_of(ws: &mut Ws) -> (u16, String) {
    for _ in 0..MAX_FRAMES {
        match next(ws).await {
            Message::Close(Some(frame)) => return (frame.code.into(), frame.reason.to_string()),
            Message::Close(None) => panic!("close without a code"),
            _ => {}
        }
    }
    panic!("no close within {MAX_FRAMES} frames");
}

/// Connects to `path`, authenticates with `token` and checks the success reply.
async fn authed(addr: SocketAddr, path: &str, token: &str) -> Ws {
    let mut ws = connect(addr, path).await;
    send_json(&mut ws, json!({"type": "auth", "token": token})).await;
    let reply = next_json(&mut ws).await;
    assert_eq!(reply, json!({"type": "auth_response", "success": true}));
    ws
}

fn authority() -> JwtAuthority {
    JwtAuthority::new("telewire-valtronics", SECRET, Duration::from_secs(3600))
}

#[tokio::test]
async fn login_issues_a_real_jwt_and_refuses_bad_requests() {
    let (running, addr) = start(ServeOptions::ephemeral()).await;
    let token = login(addr).await;
    let claims = authority()
        .claims(&token)
        .expect("an HS256 JWT of the run's secret");
    assert_eq!(claims.sub, "demo");
    assert_eq!(claims.exp - claims.iat, 3600);

    let (status, body) = post_json(
        addr,
        "/api/v1/auth/login",
        r#"{"username":"demo","password":"nope"}"#,
    )
    .await;
    assert_eq!(status, 401);
    assert!(body["detail"].is_string(), "{body}");
    let (status, body) = post_json(addr, "/api/v1/auth/login", "username=demo").await;
    assert_eq!(status, 400);
    assert!(body["detail"].is_string(), "{body}");
    let (status, body) = post_json(addr, "/api/v1/auth/login", r#"{"username":"demo"}"#).await;
    assert_eq!(status, 422);
    assert!(
        body["detail"].as_str().unwrap().contains("password"),
        "{body}"
    );

    let (status, head, _) = http(addr, "OPTIONS", "/api/v1/auth/login", &[], "").await;
    assert_eq!(status, 204);
    assert!(head.contains("access-control-allow-origin: *"), "{head}");
    running.shutdown().await;
}

#[tokio::test]
async fn the_printed_urls_and_token_work_as_pasted() {
    let (running, addr) = start(ServeOptions::ephemeral()).await;
    let info = running.apis[0].info.clone();
    assert_eq!(info.ws_urls.len(), 5);
    assert!(
        info.http
            .iter()
            .any(|h| h.starts_with("POST ") && h.ends_with("/api/v1/auth/login"))
    );
    assert!(info.credentials.contains("demo"));
    assert!(
        info.notes.iter().any(|n| n.contains("device_id 1")),
        "{:?}",
        info.notes
    );
    for url in &info.ws_urls {
        let path = url.trim_start_matches(&format!("ws://{addr}"));
        let mut ws = authed(addr, path, &info.token).await;
        ws.close(None).await.unwrap();
    }
    running.shutdown().await;
}

#[tokio::test]
async fn ping_is_answered_before_auth_and_echoes_its_timestamp() {
    let (running, addr) = start(ServeOptions::ephemeral()).await;
    let mut ws = connect(addr, "/ws").await;
    send(&mut ws, r#"{"type":"ping"}"#).await;
    let pong = next_json(&mut ws).await;
    assert_eq!(pong["type"], "pong");
    send_json(
        &mut ws,
        json!({"type": "ping", "timestamp": "2024-01-01T12:00:00Z"}),
    )
    .await;
    let pong = next_json(&mut ws).await;
    assert_eq!(pong["type"], "pong");
    assert_eq!(pong["timestamp"], "2024-01-01T12:00:00Z");
    assert!(pong["server_time"].as_str().unwrap().ends_with('Z'));
    running.shutdown().await;
}

#[tokio::test]
async fn messages_before_auth_are_refused_and_the_connection_stays_open() {
    let (running, addr) = start(ServeOptions::ephemeral()).await;
    let mut ws = connect(addr, "/ws").await;
    send_json(
        &mut ws,
        json!({"type": "subscribe", "channel": "telemetry"}),
    )
    .await;
    let reply = next_json(&mut ws).await;
    assert_eq!(reply["type"], "error");
    assert_eq!(reply["error"], "not_authenticated");
    let token = login(addr).await;
    send_json(&mut ws, json!({"type": "auth", "token": token})).await;
    assert_eq!(next_json(&mut ws).await["success"], true);
    send_json(&mut ws, json!({"type": "auth", "token": token})).await;
    assert_eq!(next_json(&mut ws).await["error"], "already_authenticated");
    running.shutdown().await;
}

#[tokio::test]
async fn bad_expired_tampered_and_revoked_tokens_get_invalid_token() {
    let (running, addr) = start(ServeOptions::ephemeral()).await;
    let jwt = authority();
    let now = Timestamp::from_unix_secs(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    );
    let expired = jwt.issue_for("demo", AccessLevel::Admin, now, Duration::ZERO);
    let good = login(addr).await;
    let mut tampered = good.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let foreign = JwtAuthority::new("telewire-valtronics", b"other", Duration::from_secs(60))
        .issue("demo", AccessLevel::Admin, now);
    let mut ws = connect(addr, "/ws").await;
    for (token, why) in [
        ("not-a-jwt".to_owned(), "malformed"),
        (String::new(), "no token"),
        (expired, "expired"),
        (tampered, "signature"),
        (foreign, "signature"),
    ] {
        send_json(&mut ws, json!({"type": "auth", "token": token})).await;
        let reply = next_json(&mut ws).await;
        assert_eq!(reply["type"], "auth_response", "{reply}");
        assert_eq!(reply["success"], false, "{reply}");
        assert_eq!(reply["error"], "invalid_token", "{reply}");
        assert!(reply["message"].as_str().unwrap().contains(why), "{reply}");
    }
    // The connection stays usable: the good token still works after the refusals.
    send_json(&mut ws, json!({"type": "auth", "token": good})).await;
    assert_eq!(next_json(&mut ws).await["success"], true);

    // Logout revokes: the token no longer authenticates a new connection.
    let bearer = format!("Bearer {good}");
    let (status, _, body) = http(
        addr,
        "POST",
        "/api/v1/auth/logout",
        &[("Authorization", &bearer)],
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut again = connect(addr, "/ws").await;
    send_json(&mut again, json!({"type": "auth", "token": good})).await;
    let reply = next_json(&mut again).await;
    assert_eq!(reply["error"], "invalid_token", "{reply}");
    assert!(
        reply["message"].as_str().unwrap().contains("revoked"),
        "{reply}"
    );
    let (status, _, _) = http(
        addr,
        "POST",
        "/api/v1/auth/logout",
        &[("Authorization", "Bearer nope")],
        "",
    )
    .await;
    assert_eq!(status, 401);
    let (status, _, _) = http(addr, "POST", "/api/v1/auth/logout", &[], "").await;
    assert_eq!(status, 401);
    running.shutdown().await;
}

#[tokio::test]
async fn telemetry_follows_device_and_metric_filters_in_both_styles() {
    let (running, addr) = start(fast_options()).await;
    let token = login(addr).await;
    // Spread at the top level, as the document's JavaScript client does.
    let mut ws = authed(addr, "/ws", &token).await;
    send_json(
        &mut ws,
        json!({"type": "subscribe", "channel": "telemetry", "device_id": 2}),
    )
    .await;
    let ack = next_json(&mut ws).await;
    assert_eq!(ack["type"], "subscribed");
    assert_eq!(ack["channel"], "telemetry");
    for _ in 0..5 {
        let update = next_of(&mut ws, "telemetry_update").await;
        assert_eq!(update["channel"], "telemetry");
        assert_eq!(update["device_id"], 2);
        let charge = &update["telemetry"]["state_of_charge"];
        assert!(charge["value"].is_number(), "{update}");
        assert_eq!(charge["unit"], "%");
        assert!(charge["timestamp"].as_str().unwrap().ends_with('Z'));
    }
    // Nested under `filters`, as the document's Python client does.
    let mut ws = authed(addr, "/ws", &token).await;
    send_json(
        &mut ws,
        json!({"type": "subscribe", "channel": "telemetry", "device_id": 1,
               "filters": {"metrics": ["temperature", "humidity"], "frequency": "real-time"}}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "subscribed");
    for _ in 0..5 {
        let update = next_of(&mut ws, "telemetry_update").await;
        assert_eq!(update["device_id"], 1);
        let names: Vec<&String> = update["telemetry"].as_object().unwrap().keys().collect();
        assert_eq!(names, ["humidity", "temperature"], "{update}");
    }
    running.shutdown().await;
}

#[tokio::test]
async fn unsubscribe_stops_the_channel_and_wrong_requests_get_error_replies() {
    let (running, addr) = start(fast_options()).await;
    let token = login(addr).await;
    let mut ws = authed(addr, "/ws", &token).await;
    send_json(
        &mut ws,
        json!({"type": "subscribe", "channel": "telemetry"}),
    )
    .await;
    next_of(&mut ws, "telemetry_update").await;
    send_json(
        &mut ws,
        json!({"type": "unsubscribe", "channel": "telemetry"}),
    )
    .await;
    let ack = next_of(&mut ws, "unsubscribed").await;
    assert_eq!(ack["channel"], "telemetry");
    // Nothing is pushed after the acknowledgement: the next frame answers the next request.
    let requests = [
        (
            json!({"type": "unsubscribe", "channel": "telemetry"}),
            "not_subscribed",
        ),
        (
            json!({"type": "subscribe", "channel": "weather"}),
            "unknown_channel",
        ),
        (
            json!({"type": "subscribe", "channel": "telemetry", "filters": {"severity": ["critical"]}}),
            "invalid_filter",
        ),
        (
            json!({"type": "subscribe", "channel": "system", "filters": {"frequency": "often"}}),
            "invalid_filter",
        ),
        (json!({"type": "launch"}), "invalid_message"),
        (json!({"channel": "telemetry"}), "invalid_message"),
    ];
    for (request, code) in requests {
        send_json(&mut ws, request.clone()).await;
        let reply = next_json(&mut ws).await;
        assert_eq!(reply["type"], "error", "{request} -> {reply}");
        assert_eq!(reply["error"], code, "{request} -> {reply}");
        assert!(reply["message"].is_string());
    }
    send(&mut ws, "{not json").await;
    assert_eq!(next_json(&mut ws).await["error"], "invalid_message");
    send(&mut ws, r#"{"type":"ping"}"#).await;
    assert_eq!(next_json(&mut ws).await["type"], "pong");
    running.shutdown().await;
}

#[tokio::test]
async fn threshold_crossings_raise_alerts_that_follow_the_filters() {
    let mut opts = fast_options();
    opts.scenario.valtronics.devices = vec![jumpy_device(7, false), jumpy_device(8, false)];
    let (running, addr) = start(opts).await;
    let token = login(addr).await;
    let mut ws = authed(addr, "/ws", &token).await;
    send_json(
        &mut ws,
        json!({"type": "subscribe", "channel": "alerts",
               "filters": {"severity": ["critical", "warning"], "device_id": 8, "alert_type": "threshold"}}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "subscribed");
    let mut ids = Vec::new();
    for _ in 0..3 {
        let alert = next_json(&mut ws).await;
        assert_eq!(alert["type"], "alert", "{alert}");
        assert_eq!(alert["channel"], "alerts");
        assert_eq!(alert["device_id"], 8);
        assert_eq!(alert["severity"], "critical");
        assert_eq!(alert["alert_type"], valtronics::ALERT_TYPE_THRESHOLD);
        assert_eq!(alert["title"], "High Level Alert");
        assert!(alert["message"].as_str().unwrap().contains("exceeds"));
        assert!(alert["timestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(alert["metadata"]["threshold_value"], 50.0);
        assert_eq!(alert["metadata"]["actual_value"], 90.0);
        ids.push(alert["alert_id"].as_u64().unwrap());
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    // A severity nobody raises, or an alert type nobody raises, lets nothing through: the
    // next frame after the acknowledgement is the pong.
    for filters in [
        json!({"severity": "warning"}),
        json!({"alert_type": ["connectivity"]}),
    ] {
        let mut quiet = authed(addr, "/ws", &token).await;
        send_json(
            &mut quiet,
            json!({"type": "subscribe", "channel": "alerts", "filters": filters}),
        )
        .await;
        assert_eq!(next_json(&mut quiet).await["type"], "subscribed");
        // Wait until alerts are certainly flowing: the first connection sees new ones.
        next_of(&mut ws, "alert").await;
        next_of(&mut ws, "alert").await;
        send(&mut quiet, r#"{"type":"ping"}"#).await;
        assert_eq!(next_json(&mut quiet).await["type"], "pong");
    }
    running.shutdown().await;
}

#[tokio::test]
async fn devices_flap_offline_and_back_and_status_types_filter() {
    let mut opts = fast_options();
    opts.scenario.valtronics.devices = vec![jumpy_device(5, true)];
    let (running, addr) = start(opts).await;
    let token = login(addr).await;
    let mut ws = authed(addr, "/ws", &token).await;
    send_json(
        &mut ws,
        json!({"type": "subscribe", "channel": "devices",
               "filters": {"device_id": [5, 6], "status_types": ["online", "offline", "warning"]}}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "subscribed");
    let mut seen = Vec::new();
    for _ in 0..6 {
        let update = next_json(&mut ws).await;
        assert_eq!(update["type"], "device_status_update", "{update}");
        assert_eq!(update["channel"], "devices");
        assert_eq!(update["device_id"], 5);
        assert_ne!(update["old_status"], update["new_status"]);
        assert!(update["reason"].is_string());
        assert!(update["timestamp"].is_string());
        assert!(update["metadata"].is_object());
        seen.push(update["new_status"].as_str().unwrap().to_owned());
    }
    assert!(seen.iter().any(|s| s == "offline"), "{seen:?}");
    assert!(seen.iter().any(|s| s != "offline"), "{seen:?}");
    let offline = seen.iter().position(|s| s == "offline").unwrap();
    assert!(
        seen.iter().skip(offline + 1).any(|s| s != "offline"),
        "comes back: {seen:?}"
    );

    let mut only_offline = authed(addr, "/ws", &token).await;
    send_json(
        &mut only_offline,
        json!({"type": "subscribe", "channel": "devices", "filters": {"status_types": ["offline"]}}),
    )
    .await;
    assert_eq!(next_json(&mut only_offline).await["type"], "subscribed");
    for _ in 0..3 {
        let update = next_json(&mut only_offline).await;
        assert_eq!(update["new_status"], "offline", "{update}");
        assert_eq!(
            update["metadata"]["last_seen"]
                .as_str()
                .map(|s| s.ends_with('Z')),
            Some(true)
        );
    }
    // The connectivity alert comes with each drop.
    let mut alerts = authed(addr, "/ws/alerts", &token).await;
    let alert = next_of(&mut alerts, "alert").await;
    let connectivity = if alert["alert_type"] == "connectivity" {
        alert
    } else {
        let mut found = None;
        for _ in 0..MAX_FRAMES {
            let a = next_of(&mut alerts, "alert").await;
            if a["alert_type"] == "connectivity" {
                found = Some(a);
                break;
            }
        }
        found.unwrap()
    };
    assert_eq!(connectivity["severity"], "warning");
    assert_eq!(connectivity["title"], "Device Offline");
    running.shutdown().await;
}

#[tokio::test]
async fn system_status_reports_the_process_figures_filtered_by_metrics() {
    let (running, addr) = start(fast_options()).await;
    let token = login(addr).await;
    let mut ws = authed(addr, "/ws", &token).await;
    send_json(
        &mut ws,
        json!({"type": "subscribe", "channel": "system",
               "filters": {"metrics": ["cpu_usage", "memory_usage", "active_connections"], "frequency": "real-time"}}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "subscribed");
    let update = next_json(&mut ws).await;
    assert_eq!(update["type"], "system_status_update", "{update}");
    assert_eq!(update["channel"], "system");
    assert!(update["timestamp"].as_str().unwrap().ends_with('Z'));
    let metrics = update["metrics"].as_object().unwrap();
    assert!(
        metrics["active_connections"].as_u64().unwrap() >= 1,
        "{update}"
    );
    assert!(
        metrics
            .keys()
            .all(|k| ["cpu_usage", "memory_usage", "active_connections"].contains(&k.as_str())),
        "{update}"
    );
    if std::path::Path::new("/proc/self/status").exists() {
        let memory = metrics["memory_usage"].as_f64().unwrap();
        assert!(memory > 0.0 && memory <= 100.0, "{update}");
        let cpu = metrics["cpu_usage"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&cpu), "{update}");
    }
    // Unfiltered, the update carries the other figures as well.
    let mut all = authed(addr, "/ws/system", &token).await;
    let update = next_of(&mut all, "system_status_update").await;
    assert!(update["metrics"]["uptime_seconds"].is_number(), "{update}");
    running.shutdown().await;
}

#[tokio::test]
async fn specialised_endpoints_are_subscribed_to_their_channel_once_authenticated() {
    let mut opts = fast_options();
    opts.scenario.valtronics.devices = vec![jumpy_device(4, true)];
    let (running, addr) = start(opts).await;
    let token = login(addr).await;
    for (path, kind) in [
        ("/ws/telemetry", "telemetry_update"),
        ("/ws/alerts", "alert"),
        ("/ws/system", "system_status_update"),
        ("/ws/devices", "device_status_update"),
    ] {
        let mut ws = connect(addr, path).await;
        // Before auth: only ping works, and no push arrives.
        send(&mut ws, r#"{"type":"ping"}"#).await;
        assert_eq!(next_json(&mut ws).await["type"], "pong", "{path}");
        send_json(&mut ws, json!({"type": "auth", "token": token})).await;
        assert_eq!(next_json(&mut ws).await["success"], true, "{path}");
        for _ in 0..3 {
            let push = next_json(&mut ws).await;
            assert_eq!(push["type"], kind, "{path}: {push}");
        }
    }
    running.shutdown().await;
}

#[tokio::test]
async fn one_kib_is_accepted_and_one_byte_more_closes_with_1009() {
    let (running, addr) = start(ServeOptions::ephemeral()).await;
    let padded = |len: usize| {
        let base = r#"{"type":"ping","timestamp":""}"#;
        let pad = "x".repeat(len - base.len());
        format!(r#"{{"type":"ping","timestamp":"{pad}"}}"#)
    };
    let mut ws = connect(addr, "/ws").await;
    let exact = padded(1024);
    assert_eq!(exact.len(), 1024);
    send(&mut ws, exact).await;
    assert_eq!(next_json(&mut ws).await["type"], "pong");
    send(&mut ws, padded(1025)).await;
    let (code, reason) = close_of(&mut ws).await;
    assert_eq!(code, 1009, "{reason}");
    assert!(reason.contains("1024"), "{reason}");
    // Far larger messages are closed the same way.
    let mut ws = connect(addr, "/ws").await;
    send(&mut ws, padded(200_000)).await;
    assert_eq!(close_of(&mut ws).await.0, 1009);
    // Beyond what the transport reads at all (1 MiB), still 1009 with a reason.
    let mut ws = connect(addr, "/ws").await;
    send(&mut ws, padded(3 << 20)).await;
    let (code, reason) = close_of(&mut ws).await;
    assert_eq!(code, 1009, "{reason}");
    assert!(!reason.is_empty());
    running.shutdown().await;
}

#[tokio::test]
async fn binary_messages_close_with_1003() {
    let (running, addr) = start(ServeOptions::ephemeral()).await;
    let mut ws = connect(addr, "/ws").await;
    ws.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(close_of(&mut ws).await.0, 1003);
    running.shutdown().await;
}

#[tokio::test]
async fn a_batch_of_50_is_processed_in_order_and_51_is_refused() {
    let (running, addr) = start(ServeOptions::ephemeral()).await;
    let token = login(addr).await;
    let mut ws = authed(addr, "/ws", &token).await;
    let mut messages =
        vec![json!({"type": "subscribe", "channel": "alerts", "severity": ["critical"]})];
    messages.extend((0..48).map(|_| json!({"type": "ping"})));
    messages.push(json!({"type": "unsubscribe", "channel": "alerts"}));
    let batch = json!({"type": "batch", "messages": messages}).to_string();
    assert!(batch.len() <= 1024, "{}", batch.len());
    send(&mut ws, batch).await;
    // Items are processed in order, as if each had arrived alone: nothing comes between.
    assert_eq!(next_json(&mut ws).await["type"], "subscribed");
    for _ in 0..48 {
        assert_eq!(next_json(&mut ws).await["type"], "pong");
    }
    assert_eq!(next_json(&mut ws).await["type"], "unsubscribed");
    let pings: Vec<Value> = (0..51).map(|_| json!({"type": "ping"})).collect();
    let batch = json!({"type": "batch", "messages": pings}).to_string();
    assert!(batch.len() <= 1024);
    send(&mut ws, batch).await;
    let reply = next_of(&mut ws, "error").await;
    assert_eq!(reply["error"], "batch_too_large", "{reply}");
    send(&mut ws, r#"{"type":"ping","timestamp":"after"}"#).await;
    assert_eq!(next_of(&mut ws, "pong").await["timestamp"], "after");
    running.shutdown().await;
}

#[tokio::test]
async fn the_message_rate_refuses_then_closes_with_1008() {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.valtronics.limits.messages_per_second = 5;
    opts.scenario.valtronics.limits.rate_refusals_before_close = 2;
    let (running, addr) = start(opts).await;
    let mut ws = connect(addr, "/ws").await;
    // Eight messages in one burst: five answered, two refused, the eighth closes.
    for _ in 0..8 {
        ws.feed(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
    }
    ws.flush().await.unwrap();
    for _ in 0..5 {
        assert_eq!(next_json(&mut ws).await["type"], "pong");
    }
    for _ in 0..2 {
        let reply = next_json(&mut ws).await;
        assert_eq!(reply["error"], "rate_limited", "{reply}");
    }
    assert_eq!(close_of(&mut ws).await.0, 1008);
    running.shutdown().await;
}

#[tokio::test]
async fn the_documented_rate_refuses_the_101st_message_of_a_second() {
    let (running, addr) = start(ServeOptions::ephemeral()).await;
    let mut ws = connect(addr, "/ws").await;
    for _ in 0..101 {
        ws.feed(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
    }
    ws.flush().await.unwrap();
    for _ in 0..100 {
        assert_eq!(next_json(&mut ws).await["type"], "pong");
    }
    assert_eq!(next_json(&mut ws).await["error"], "rate_limited");
    running.shutdown().await;
}

#[tokio::test]
async fn over_the_total_cap_a_connection_gets_an_error_and_1013() {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.valtronics.limits.max_connections = 2;
    let (running, addr) = start(opts).await;
    let mut a = connect(addr, "/ws").await;
    let mut b = connect(addr, "/ws").await;
    // Round trips make sure both are counted before the third arrives.
    for ws in [&mut a, &mut b] {
        send(ws, r#"{"type":"ping"}"#).await;
        assert_eq!(next_json(ws).await["type"], "pong");
    }
    let mut c = connect(addr, "/ws").await;
    let reply = next_json(&mut c).await;
    assert_eq!(reply["error"], "connection_limit", "{reply}");
    assert_eq!(close_of(&mut c).await.0, 1013);
    // A place freed is a place taken.
    drop(a);
    let mut admitted = false;
    for _ in 0..100 {
        let mut d = connect(addr, "/ws").await;
        send(&mut d, r#"{"type":"ping"}"#).await;
        if next_json(&mut d).await["type"] == "pong" {
            admitted = true;
            break;
        }
    }
    assert!(admitted);
    running.shutdown().await;
}

#[tokio::test]
async fn over_the_per_user_cap_auth_is_refused_with_1008() {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.valtronics.limits.max_connections_per_user = 2;
    let (running, addr) = start(opts).await;
    let token = login(addr).await;
    let _a = authed(addr, "/ws", &token).await;
    let _b = authed(addr, "/ws", &token).await;
    let mut c = connect(addr, "/ws").await;
    send_json(&mut c, json!({"type": "auth", "token": token})).await;
    let reply = next_json(&mut c).await;
    assert_eq!(reply["type"], "auth_response");
    assert_eq!(reply["success"], false);
    assert_eq!(reply["error"], "connection_limit", "{reply}");
    assert_eq!(close_of(&mut c).await.0, 1008);
    running.shutdown().await;
}

#[tokio::test]
async fn the_eleventh_connection_of_a_minute_is_refused_with_1008() {
    let (running, addr) = start(ServeOptions::ephemeral()).await;
    let token = login(addr).await;
    let mut held = Vec::new();
    for _ in 0..10 {
        held.push(authed(addr, "/ws", &token).await);
    }
    let mut eleventh = connect(addr, "/ws").await;
    send_json(&mut eleventh, json!({"type": "auth", "token": token})).await;
    let reply = next_json(&mut eleventh).await;
    assert_eq!(reply["error"], "connection_limit", "{reply}");
    assert!(
        reply["message"].as_str().unwrap().contains("rate"),
        "{reply}"
    );
    assert_eq!(close_of(&mut eleventh).await.0, 1008);
    running.shutdown().await;
}

/// The document's `ValtronicsWebSocket` class: `connect()` sends `auth` on open, then
/// `subscribe('telemetry', { device_id: 1 })` and `subscribe('alerts', { severity: [...] })`
/// spread the filters at the top level; `handleMessage` routes on `type`. Its `send` is
/// `JSON.stringify`, so the frames are compact JSON in insertion order.
#[tokio::test]
async fn the_documents_javascript_client_sequence() {
    let mut opts = fast_options();
    opts.scenario
        .valtronics
        .devices
        .push(jumpy_device(9, false));
    let (running, addr) = start(opts).await;
    let token = login(addr).await;
    let mut ws = connect(addr, "/ws").await;
    send(&mut ws, format!(r#"{{"type":"auth","token":"{token}"}}"#)).await;
    send(
        &mut ws,
        r#"{"type":"subscribe","channel":"telemetry","device_id":1}"#,
    )
    .await;
    send(
        &mut ws,
        r#"{"type":"subscribe","channel":"alerts","severity":["critical","warning"]}"#,
    )
    .await;
    let auth = next_json(&mut ws).await;
    assert_eq!(auth["type"], "auth_response");
    assert_eq!(auth["success"], true);
    let known = [
        "auth_response",
        "telemetry_update",
        "alert",
        "device_status_update",
        "system_status_update",
        "pong",
        "subscribed",
    ];
    let mut telemetry = 0;
    let mut alerts = 0;
    for _ in 0..MAX_FRAMES {
        let data = next_json(&mut ws).await;
        let kind = data["type"].as_str().unwrap();
        assert!(known.contains(&kind), "{data}");
        match kind {
            "telemetry_update" => {
                assert_eq!(data["device_id"], 1);
                assert!(data["telemetry"].is_object());
                telemetry += 1;
            }
            "alert" => {
                assert!(["critical", "warning"].contains(&data["severity"].as_str().unwrap()));
                assert!(data["title"].is_string());
                alerts += 1;
            }
            _ => {}
        }
        if telemetry >= 3 && alerts >= 1 {
            break;
        }
    }
    assert!(telemetry >= 3 && alerts >= 1);
    // The "Ping Message (Keep-alive)" example, the JS `unsubscribe`, and the
    // `MessageBatcher`'s batch.
    send(
        &mut ws,
        r#"{"type":"ping","timestamp":"2024-01-01T12:00:00Z"}"#,
    )
    .await;
    assert_eq!(
        next_of(&mut ws, "pong").await["timestamp"],
        "2024-01-01T12:00:00Z"
    );
    send(&mut ws, r#"{"type":"unsubscribe","channel":"telemetry"}"#).await;
    assert_eq!(
        next_of(&mut ws, "unsubscribed").await["channel"],
        "telemetry"
    );
    send(&mut ws, r#"{"type":"unsubscribe","channel":"alerts"}"#).await;
    assert_eq!(next_of(&mut ws, "unsubscribed").await["channel"], "alerts");
    send(
        &mut ws,
        r#"{"type":"batch","messages":[{"type":"ping","timestamp":"a"},{"type":"ping","timestamp":"b"}]}"#,
    )
    .await;
    assert_eq!(next_json(&mut ws).await["timestamp"], "a");
    assert_eq!(next_json(&mut ws).await["timestamp"], "b");
    ws.close(None).await.unwrap();
    running.shutdown().await;
}

/// The document's `ValtronicsWebSocketClient`: `json.dumps` frames (", " and ": "
/// separators), `authenticate` reads the very next frame and requires an `auth_response`
/// with `success`, `subscribe` nests filters under `filters`, and `ping` sends a naive
/// `datetime.utcnow().isoformat()`.
#[tokio::test]
async fn the_documents_python_client_sequence() {
    let mut opts = fast_options();
    opts.scenario.valtronics.devices.push(jumpy_device(9, true));
    let (running, addr) = start(opts).await;
    let token = login(addr).await;
    let mut ws = connect(addr, "/ws").await;
    send(
        &mut ws,
        format!(r#"{{"type": "auth", "token": "{token}"}}"#),
    )
    .await;
    let data = next_json(&mut ws).await;
    assert!(
        data["type"] == "auth_response" && data["success"] == true,
        "{data}"
    );
    send(
        &mut ws,
        r#"{"type": "subscribe", "channel": "telemetry", "filters": {"device_id": 1}}"#,
    )
    .await;
    send(
        &mut ws,
        r#"{"type": "subscribe", "channel": "alerts", "filters": {"severity": ["critical", "warning"]}}"#,
    )
    .await;
    send(&mut ws, r#"{"type": "subscribe", "channel": "devices"}"#).await;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..MAX_FRAMES {
        let data = next_json(&mut ws).await;
        let kind = data["type"].as_str().unwrap().to_owned();
        match kind.as_str() {
            "telemetry_update" => assert_eq!(data["device_id"], 1),
            "alert" => assert!(data["alert_id"].is_u64() && data["title"].is_string()),
            "device_status_update" => {
                assert!(data["old_status"].is_string() && data["new_status"].is_string())
            }
            "subscribed" => {}
            other => panic!("unexpected {other}: {data}"),
        }
        seen.insert(kind);
        if seen.len() == 4 {
            break;
        }
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
    send(
        &mut ws,
        r#"{"type": "ping", "timestamp": "2026-01-01T12:00:00.123456"}"#,
    )
    .await;
    assert_eq!(
        next_of(&mut ws, "pong").await["timestamp"],
        "2026-01-01T12:00:00.123456"
    );
    for channel in ["telemetry", "alerts", "devices"] {
        send(
            &mut ws,
            format!(r#"{{"type": "unsubscribe", "channel": "{channel}"}}"#),
        )
        .await;
        assert_eq!(next_of(&mut ws, "unsubscribed").await["channel"], channel);
    }
    ws.close(None).await.unwrap();
    running.shutdown().await;
}

/// The values of the first `n` telemetry updates of device 1 a fresh subscriber receives.
async fn first_values(addr: SocketAddr, n: usize) -> Vec<Value> {
    let token = login(addr).await;
    let mut ws = authed(addr, "/ws", &token).await;
    send_json(
        &mut ws,
        json!({"type": "subscribe", "channel": "telemetry", "device_id": 1}),
    )
    .await;
    let mut values = Vec::new();
    while values.len() < n {
        let update = next_of(&mut ws, "telemetry_update").await;
        let readings = update["telemetry"].as_object().unwrap();
        values.push(Value::Object(
            readings
                .iter()
                .map(|(k, r)| (k.clone(), r["value"].clone()))
                .collect(),
        ));
    }
    values
}

#[tokio::test]
async fn the_same_seed_serves_the_same_first_100_values() {
    let (a, addr_a) = start(fast_options()).await;
    let (b, addr_b) = start(fast_options()).await;
    let first = first_values(addr_a, 100).await;
    assert_eq!(first, first_values(addr_b, 100).await);
    let scenario = Scenario::embedded_default().valtronics;
    let expected: Vec<Value> = valtronics::first_telemetry(1, &scenario, 1, 100)
        .into_iter()
        .map(|m| serde_json::to_value(m).unwrap())
        .collect();
    assert_eq!(first, expected);
    let mut other = fast_options();
    other.seed = Some(2);
    let (c, addr_c) = start(other).await;
    assert_ne!(first, first_values(addr_c, 100).await);
    a.shutdown().await;
    b.shutdown().await;
    c.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_a_subscribed_client_with_1001() {
    let (running, addr) = start(fast_options()).await;
    let token = login(addr).await;
    let mut ws = authed(addr, "/ws/telemetry", &token).await;
    next_of(&mut ws, "telemetry_update").await;
    let stopping = tokio::spawn(running.shutdown());
    assert_eq!(close_of(&mut ws).await.0, 1001);
    drop(ws);
    tokio::time::timeout(WAIT, stopping).await.unwrap().unwrap();
}

#[test]
fn the_default_scenario_section_parses_with_three_devices() {
    let scenario = Scenario::embedded_default().valtronics;
    assert_eq!(scenario.devices.len(), 3);
    assert_eq!(scenario.limits, valtronics::scenario::Limits::default());
    let text =
        "seed = 1\n[valtronics]\ninterval_ms = 10\n[valtronics.limits]\nmax_batch_itemz = 3\n";
    assert!(Scenario::parse(text, "bad.toml").is_err());
}

#[tokio::test]
async fn unsubscribe_by_device_id_must_name_the_subscribed_devices() {
    let (running, addr) = start(fast_options()).await;
    let token = login(addr).await;
    let mut ws = authed(addr, "/ws", &token).await;
    send_json(
        &mut ws,
        json!({"type": "subscribe", "channel": "telemetry", "device_id": 1}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "subscribed");
    send_json(
        &mut ws,
        json!({"type": "unsubscribe", "channel": "telemetry", "device_id": 2}),
    )
    .await;
    let reply = next_of(&mut ws, "error").await;
    assert_eq!(reply["error"], "not_subscribed", "{reply}");
    // Still subscribed: telemetry keeps coming.
    next_of(&mut ws, "telemetry_update").await;
    send_json(
        &mut ws,
        json!({"type": "unsubscribe", "channel": "telemetry", "device_id": 1}),
    )
    .await;
    let ack = next_of(&mut ws, "unsubscribed").await;
    assert_eq!(ack["device_id"], 1);
    send(&mut ws, r#"{"type":"ping"}"#).await;
    assert_eq!(next_json(&mut ws).await["type"], "pong");
    running.shutdown().await;
}

#[tokio::test]
async fn a_frequency_sends_each_metric_at_most_once_per_interval() {
    let (running, addr) = start(fast_options()).await;
    let token = login(addr).await;
    let mut ws = authed(addr, "/ws", &token).await;
    send_json(
        &mut ws,
        json!({"type": "subscribe", "channel": "telemetry", "device_id": 1,
               "filters": {"frequency": "1h"}}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "subscribed");
    let first = next_json(&mut ws).await;
    assert_eq!(first["type"], "telemetry_update", "{first}");
    // Every later update of the hour is held back: the next frame answers the ping.
    send(&mut ws, r#"{"type":"ping"}"#).await;
    assert_eq!(next_json(&mut ws).await["type"], "pong");
    running.shutdown().await;
}

#[tokio::test]
async fn acknowledgements_can_be_turned_off() {
    let mut opts = fast_options();
    opts.scenario.valtronics.acknowledge_subscriptions = false;
    let (running, addr) = start(opts).await;
    let token = login(addr).await;
    let mut ws = authed(addr, "/ws", &token).await;
    send_json(
        &mut ws,
        json!({"type": "subscribe", "channel": "telemetry"}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "telemetry_update");
    send_json(
        &mut ws,
        json!({"type": "unsubscribe", "channel": "telemetry"}),
    )
    .await;
    send(&mut ws, r#"{"type":"ping"}"#).await;
    assert_eq!(next_of(&mut ws, "pong").await["type"], "pong");
    send(&mut ws, r#"{"type":"ping"}"#).await;
    assert_eq!(next_json(&mut ws).await["type"], "pong");
    running.shutdown().await;
}
