//! The simulated Molecule relay over real loopback sockets: the document's client, step by step.

mod support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::SinkExt;
use futures_util::StreamExt;
use serde_json::Value;
use telewire_protocols::auth::AccessLevel;
use telewire_protocols::time::Timestamp;
use telewire_simulator::jwt::JwtAuthority;
use telewire_simulator::molecule;
use telewire_simulator::scenario::Scenario;
use telewire_simulator::serve;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::Running;
use telewire_simulator::serve::ServeOptions;
use tokio::net::TcpStream;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(10);
const SECRET: &[u8] = b"telewire-test-secret";
const FORM: &str = "application/x-www-form-urlencoded";

/// Options whose gateways tick every 5 ms, so tests see many frames quickly.
fn fast_options() -> ServeOptions {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.molecule.interval_ms = 5;
    opts
}

async fn start(opts: ServeOptions) -> (Running, SocketAddr) {
    let running = serve::start(&[Api::Molecule], opts).await.unwrap();
    let addr = running.addr(Api::Molecule).unwrap();
    (running, addr)
}

/// A tiny HTTP/1.1 client: one request, `Connection: close`, status and body back.
async fn post(addr: SocketAddr, path: &str, content_type: &str, body: &str) -> (u16, String) {
    let (status, _, body) = post_full(addr, path, content_type, body).await;
    (status, body)
}

/// [`post`], with the response head (lower-cased) as well.
async fn post_full(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, String, String) {
    let headers = format!("Content-Type: {content_type}\r\n");
    support::http(addr, "POST", path, &headers, body).await
}

/// `new URLSearchParams({username, password, client_id, grant_type})`, as the document sends it.
fn form(username: &str, password: &str, client_id: &str, grant_type: &str) -> String {
    format!("username={username}&password={password}&client_id={client_id}&grant_type={grant_type}")
}

/// Step 1: the document's `authenticate`.
async fn authenticate(addr: SocketAddr) -> String {
    let (status, body) = post(
        addr,
        "/connect/token",
        FORM,
        &form("demo", "demo", "molecule-api", "password"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let data: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(data["token_type"], "Bearer");
    assert_eq!(data["expires_in"], 3600);
    let (_, head, _) = post_full(
        addr,
        "/connect/token",
        FORM,
        &form("demo", "demo", "molecule-api", "password"),
    )
    .await;
    assert!(head.contains("content-type: application/json"), "{head}");
    assert!(head.contains("cache-control: no-store"), "{head}");
    assert!(head.contains("access-control-allow-origin: *"), "{head}");
    data["access_token"].as_str().unwrap().to_owned()
}

/// The document's `buildHandshake`, byte for byte.
fn build_handshake(gateway_id: &str, token: &str) -> Vec<u8> {
    let id = gateway_id.as_bytes();
    let tok = token.as_bytes();
    let mut buf = vec![0x01, 0x02];
    buf.push(((id.len() >> 8) & 0xff) as u8);
    buf.push((id.len() & 0xff) as u8);
    buf.extend_from_slice(id);
    buf.push(((tok.len() >> 8) & 0xff) as u8);
    buf.push((tok.len() & 0xff) as u8);
    buf.extend_from_slice(tok);
    buf.extend_from_slice(&[0x01, 0x04]);
    buf
}

async fn connect(addr: SocketAddr) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    ws
}

/// Steps 2 to 4: connect, send the handshake, return the socket and the first frame.
async fn handshake(addr: SocketAddr, bytes: Vec<u8>) -> (Ws, Message) {
    let mut ws = connect(addr).await;
    ws.send(Message::Binary(bytes.into())).await.unwrap();
    let first = next(&mut ws).await;
    (ws, first)
}

async fn next(ws: &mut Ws) -> Message {
    tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("a frame in time")
        .expect("the stream is open")
        .expect("a valid frame")
}

fn binary(msg: Message) -> Vec<u8> {
    match msg {
        Message::Binary(bytes) => bytes.to_vec(),
        other => panic!("expected a binary frame, got {other:?}"),
    }
}

/// Reads until the close frame and returns its code.
async fn close_code(ws: &mut Ws) -> u16 {
    loop {
        match next(ws).await {
            Message::Close(Some(frame)) => return frame.code.into(),
            Message::Close(None) => panic!("close without a code"),
            _ => {}
        }
    }
}

/// The document's decode path: strip the 2-byte header, strip a trailing null, UTF-8.
fn decode_payload(bytes: &[u8]) -> (u8, String) {
    let raw = &bytes[2..];
    let payload = match raw.last() {
        Some(0) => &raw[..raw.len() - 1],
        _ => raw,
    };
    (bytes[0], String::from_utf8(payload.to_vec()).unwrap())
}

/// The next telemetry frame's items, skipping device log lines.
async fn next_telemetry(ws: &mut Ws) -> Vec<Value> {
    loop {
        let (kind, text) = decode_payload(&binary(next(ws).await));
        match kind {
            100 => return serde_json::from_str::<Vec<Value>>(&text).unwrap(),
            2 => assert!(!text.is_empty()),
            other => panic!("unexpected frame type {other}"),
        }
    }
}

/// The `(key, val)` pairs of the first `n` values a fresh client receives.
async fn first_values(addr: SocketAddr, n: usize) -> Vec<(String, String)> {
    let token = authenticate(addr).await;
    let (mut ws, first) = handshake(addr, build_handshake("demo-gateway", &token)).await;
    assert_eq!(binary(first), [2, 1, 4]);
    let mut values = Vec::new();
    while values.len() < n {
        for item in next_telemetry(&mut ws).await {
            values.push((
                item["key"].as_str().unwrap().to_owned(),
                item["val"].as_str().unwrap().to_owned(),
            ));
        }
    }
    values.truncate(n);
    values
}

#[tokio::test]
async fn the_documents_client_sequence_works() {
    let (running, addr) = start(fast_options()).await;
    let token = authenticate(addr).await;
    let (mut ws, first) = handshake(addr, build_handshake("demo-gateway", &token)).await;
    assert_eq!(binary(first), [2, 1, 4], "the auth response comes first");
    let mut seen = HashSet::new();
    let mut labelled_again = false;
    for frame in 0..25 {
        let items = next_telemetry(&mut ws).await;
        assert!(!items.is_empty());
        for item in items {
            let key = item["key"].as_str().unwrap().to_owned();
            assert!(item["val"].is_string(), "val is a string: {item}");
            let first_of_key = seen.insert(key.clone());
            assert_eq!(
                item.get("lbl").is_some(),
                first_of_key || frame % 10 == 0,
                "lbl on the first frame of {key}, then every 10 frames"
            );
            labelled_again |= !first_of_key && item.get("lbl").is_some();
        }
    }
    assert!(labelled_again);
    assert!(seen.contains("SOC") && seen.contains("GRID"));
    ws.close(None).await.unwrap();
    running.shutdown().await;
}

#[tokio::test]
async fn wrong_credentials_grant_type_client_and_body_get_oauth_errors() {
    let (running, addr) = start(fast_options()).await;
    let cases = [
        (
            form("demo", "wrong", "molecule-api", "password"),
            FORM,
            400,
            "invalid_grant",
        ),
        (
            form("nobody", "demo", "molecule-api", "password"),
            FORM,
            400,
            "invalid_grant",
        ),
        (
            form("demo", "demo", "molecule-api", "client_credentials"),
            FORM,
            400,
            "unsupported_grant_type",
        ),
        (
            form("demo", "demo", "other-app", "password"),
            FORM,
            401,
            "invalid_client",
        ),
        (
            "username=demo&password=demo".to_owned(),
            FORM,
            400,
            "invalid_request",
        ),
        ("username=%zz".to_owned(), FORM, 400, "invalid_request"),
        (
            form("demo", "demo", "molecule-api", "password"),
            "application/json",
            400,
            "invalid_request",
        ),
    ];
    for (body, content_type, status, error) in cases {
        let (got, text) = post(addr, "/connect/token", content_type, &body).await;
        assert_eq!(got, status, "{body}: {text}");
        let data: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(data["error"], error, "{body}");
    }
    running.shutdown().await;
}

#[tokio::test]
async fn tampered_token_gets_status_0_then_1008() {
    let (running, addr) = start(fast_options()).await;
    let mut token = authenticate(addr).await;
    let last = token.pop().unwrap();
    token.push(if last == 'A' { 'B' } else { 'A' });
    let (mut ws, first) = handshake(addr, build_handshake("demo-gateway", &token)).await;
    assert_eq!(binary(first), [2, 0, 4]);
    assert_eq!(close_code(&mut ws).await, 1008);
    running.shutdown().await;
}

#[tokio::test]
async fn expired_token_gets_status_0_then_1008() {
    let (running, addr) = start(fast_options()).await;
    let authority = JwtAuthority::new("telewire-molecule", SECRET, Duration::from_secs(3600));
    let now = Timestamp::from_unix_secs(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    );
    let expired = authority.issue_for("demo", AccessLevel::Admin, now, Duration::ZERO);
    let (mut ws, first) = handshake(addr, build_handshake("demo-gateway", &expired)).await;
    assert_eq!(binary(first), [2, 0, 4]);
    assert_eq!(close_code(&mut ws).await, 1008);
    // The same authority's fresh token is accepted: only the expiry was wrong.
    let fresh = authority.issue("demo", AccessLevel::Admin, now);
    let (_ws, first) = handshake(addr, build_handshake("demo-gateway", &fresh)).await;
    assert_eq!(binary(first), [2, 1, 4]);
    running.shutdown().await;
}

#[tokio::test]
async fn unknown_gateway_gets_status_0() {
    let (running, addr) = start(fast_options()).await;
    let token = authenticate(addr).await;
    let (mut ws, first) = handshake(addr, build_handshake("no-such-gateway", &token)).await;
    assert_eq!(binary(first), [2, 0, 4]);
    assert_eq!(close_code(&mut ws).await, 1008);
    running.shutdown().await;
}

#[tokio::test]
async fn oversized_handshake_gets_1009() {
    let (running, addr) = start(fast_options()).await;
    let token = "x".repeat(9_000);
    let (_ws, first) = handshake(addr, build_handshake("demo-gateway", &token)).await;
    match first {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1009),
        other => panic!("expected close 1009 and no auth response, got {other:?}"),
    }
    running.shutdown().await;
}

#[tokio::test]
async fn bad_sentinel_and_text_handshakes_get_status_0() {
    let (running, addr) = start(fast_options()).await;
    let token = authenticate(addr).await;
    let mut bytes = build_handshake("demo-gateway", &token);
    let end = bytes.len() - 1;
    bytes[end] = 0x05;
    let (mut ws, first) = handshake(addr, bytes).await;
    assert_eq!(binary(first), [2, 0, 4]);
    assert_eq!(close_code(&mut ws).await, 1002);

    let mut ws = connect(addr).await;
    ws.send(Message::Text(token.into())).await.unwrap();
    assert_eq!(binary(next(&mut ws).await), [2, 0, 4]);
    assert_eq!(close_code(&mut ws).await, 1003);
    running.shutdown().await;
}

#[tokio::test]
async fn commands_are_answered_with_a_type_1_frame() {
    let (running, addr) = start(fast_options()).await;
    let token = authenticate(addr).await;
    let (mut ws, first) = handshake(addr, build_handshake("demo-gateway", &token)).await;
    assert_eq!(binary(first), [2, 1, 4]);
    ws.send(Message::Binary(b"\x01\x00status".to_vec().into()))
        .await
        .unwrap();
    loop {
        let (kind, text) = decode_payload(&binary(next(&mut ws).await));
        if kind == 1 {
            assert_eq!(text, molecule::relay::command_reply("status"));
            break;
        }
    }
    running.shutdown().await;
}

#[tokio::test]
async fn every_client_of_a_gateway_gets_the_same_frames() {
    let (running, addr) = start(fast_options()).await;
    let token = authenticate(addr).await;
    let (mut a, first) = handshake(addr, build_handshake("demo-gateway", &token)).await;
    assert_eq!(binary(first), [2, 1, 4]);
    let (mut b, first) = handshake(addr, build_handshake("demo-gateway", &token)).await;
    assert_eq!(binary(first), [2, 1, 4]);
    let vals =
        |items: Vec<Value>| -> Vec<Value> { items.iter().map(|i| i["val"].clone()).collect() };
    let b_frames = [
        vals(next_telemetry(&mut b).await),
        vals(next_telemetry(&mut b).await),
    ];
    // A joined earlier: somewhere in its stream are B's frames, in order.
    let mut found = false;
    for _ in 0..200 {
        if vals(next_telemetry(&mut a).await) == b_frames[0] {
            assert_eq!(vals(next_telemetry(&mut a).await), b_frames[1]);
            found = true;
            break;
        }
    }
    assert!(found, "client A never saw client B's first frame");
    running.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_clients_with_1001() {
    let (running, addr) = start(fast_options()).await;
    let token = authenticate(addr).await;
    let (mut ws, first) = handshake(addr, build_handshake("demo-gateway", &token)).await;
    assert_eq!(binary(first), [2, 1, 4]);
    let stopping = tokio::spawn(running.shutdown());
    assert_eq!(close_code(&mut ws).await, 1001);
    drop(ws);
    tokio::time::timeout(WAIT, stopping).await.unwrap().unwrap();
}

#[tokio::test]
async fn the_same_seed_serves_the_same_first_100_values() {
    let (one, addr) = start(fast_options()).await;
    let first = first_values(addr, 100).await;
    one.shutdown().await;
    let (two, addr) = start(fast_options()).await;
    let second = first_values(addr, 100).await;
    two.shutdown().await;
    assert_eq!(first, second);

    let opts = fast_options();
    let expected: Vec<(String, String)> = molecule::first_frames(
        1,
        &opts.scenario.molecule,
        "demo-gateway",
        "demo-gateway",
        100,
    )
    .into_iter()
    .flatten()
    .map(|item| (item.key.into_owned(), item.val.into_owned()))
    .take(100)
    .collect();
    assert_eq!(
        first, expected,
        "the server serves the pure generator's values"
    );

    let mut other = fast_options();
    other.seed = Some(2);
    let (three, addr) = start(other).await;
    assert_ne!(first_values(addr, 100).await, first);
    three.shutdown().await;
}

#[test]
fn the_default_scenario_section_parses_and_serves_the_demo_gateway() {
    let text = include_str!("../../fixtures/scenarios/default/molecule.toml");
    let scenario = Scenario::parse(text, "molecule.toml").unwrap().molecule;
    assert_eq!(scenario.gateways.len(), 2);
    assert_eq!(
        scenario.gateways[0].id, None,
        "the first gateway is the demo one"
    );
    let frames = molecule::first_frames(1, &scenario, "demo-gateway", "demo-gateway", 3);
    assert_eq!(frames.len(), 3);
    assert!(frames[0].iter().any(|i| i.key == "SOC"));
    let depot = molecule::first_frames(1, &scenario, "demo-gateway", "depot-gateway", 1);
    assert_eq!(depot.len(), 1);
}

#[tokio::test]
async fn the_printed_token_and_urls_work_as_pasted() {
    let (running, addr) = start(fast_options()).await;
    let info = running.apis[0].info.clone();
    assert_eq!(info.ws_urls, [format!("ws://{addr}/ws")]);
    assert_eq!(info.http, [format!("POST http://{addr}/connect/token")]);
    let (_ws, first) = handshake(addr, build_handshake("demo-gateway", &info.token)).await;
    assert_eq!(binary(first), [2, 1, 4]);
    let token = authenticate(addr).await;
    let (_ws, first) = handshake(addr, build_handshake("depot-gateway", &token)).await;
    assert_eq!(binary(first), [2, 1, 4], "every scenario gateway is served");
    running.shutdown().await;
}

#[tokio::test]
async fn text_and_oversized_frames_after_authentication_are_closed() {
    let (running, addr) = start(fast_options()).await;
    let token = authenticate(addr).await;
    let (mut ws, first) = handshake(addr, build_handshake("demo-gateway", &token)).await;
    assert_eq!(binary(first), [2, 1, 4]);
    ws.send(Message::Text("hello".into())).await.unwrap();
    assert_eq!(close_code(&mut ws).await, 1003);

    let (mut ws, first) = handshake(addr, build_handshake("demo-gateway", &token)).await;
    assert_eq!(binary(first), [2, 1, 4]);
    let mut big = vec![1, 0];
    big.resize(9_000, b'x');
    ws.send(Message::Binary(big.into())).await.unwrap();
    assert_eq!(close_code(&mut ws).await, 1009);
    running.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_client_that_sends_no_handshake_is_closed_with_1002() {
    let (running, addr) = start(fast_options()).await;
    let mut ws = connect(addr).await;
    // Paused time auto-advances while the socket is idle; the devices' 5 ms ticks keep
    // the advance in small steps, so the close frame arrives long before this bound.
    let frame = tokio::time::timeout(Duration::from_secs(60), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match frame {
        Message::Close(Some(close)) => {
            assert_eq!(u16::from(close.code), 1002, "the 10 s handshake timeout");
        }
        other => panic!("expected close 1002, got {other:?}"),
    }
    running.shutdown().await;
}
