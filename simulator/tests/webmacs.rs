//! The simulated WebMACS backend over real loopback sockets: the document's flows, limits and closes.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::SinkExt;
use futures_util::StreamExt;
use serde_json::Value;
use serde_json::json;
use telewire_simulator::scenario::Scenario;
use telewire_simulator::serve;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::Running;
use telewire_simulator::serve::ServeOptions;
use telewire_simulator::shutdown;
use telewire_simulator::signals::SignalSpec;
use telewire_simulator::webmacs;
use telewire_simulator::webmacs::ControllerError;
use telewire_simulator::webmacs::ControllerOptions;
use telewire_simulator::webmacs::EventSpec;
use telewire_simulator::webmacs::Lab;
use tokio::net::TcpListener;
use tokio::net::TcpStream;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(10);
const TEMP: &str = "8d0b6a52-1f3e-4c1a-9b7d-2e5f6a7b8c01";
const PRESSURE: &str = "8d0b6a52-1f3e-4c1a-9b7d-2e5f6a7b8c02";
const DISABLED: &str = "8d0b6a52-1f3e-4c1a-9b7d-2e5f6a7b8c05";
const EXPERIMENT: &str = "3f2b8c1e-5d4a-4e7b-9c6f-0a1b2c3d4e5f";
const STREAM: &str = "/ws/datapoints/stream";
const CONTROLLER: &str = "/ws/controller/telemetry";

/// The embedded default scenario with the built-in controller off, so that only what a
/// test pushes reaches the stream.
fn quiet_options() -> ServeOptions {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.webmacs.rate = 0.0;
    opts
}

async fn start(opts: ServeOptions) -> (Running, SocketAddr) {
    let running = serve::start(&[Api::Webmacs], opts).await.unwrap();
    let addr = running.addr(Api::Webmacs).unwrap();
    (running, addr)
}

/// A tiny HTTP/1.1 client: one request, `Connection: close`; status, head and body back.
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String, String) {
    let mut headers = String::new();
    if let Some(token) = token {
        headers.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.unwrap_or_default();
    if !body.is_empty() || method == "POST" {
        headers.push_str("Content-Type: application/json\r\n");
    }
    support::http(addr, method, path, &headers, body).await
}

async fn login(addr: SocketAddr) -> String {
    let (status, head, body) = request(
        addr,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(r#"{"email":"demo@example.com","password":"demo"}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(head.contains("content-type: application/json"), "{head}");
    let data: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(data["token_type"], "bearer");
    data["access_token"].as_str().unwrap().to_owned()
}

async fn connect(addr: SocketAddr, path: &str, token: Option<&str>) -> Ws {
    let url = match token {
        Some(token) => format!("ws://{addr}{path}?token={token}"),
        None => format!("ws://{addr}{path}"),
    };
    let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws
}

async fn next(ws: &mut Ws) -> Message {
    tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("a frame in time")
        .expect("the stream is open")
        .expect("a valid frame")
}

/// The next text message, as JSON (pings and pongs skipped).
async fn next_json(ws: &mut Ws) -> Value {
    loop {
        match next(ws).await {
            Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

async fn send_json(ws: &mut Ws, value: &Value) {
    ws.send(Message::Text(value.to_string().into()))
        .await
        .unwrap();
}

/// Reads until the close frame; returns its code and reason.
async fn close_of(ws: &mut Ws) -> (u16, String) {
    loop {
        match next(ws).await {
            Message::Close(Some(frame)) => return (frame.code.into(), frame.reason.to_string()),
            Message::Close(None) => panic!("close without a code"),
            _ => {}
        }
    }
}

/// A stream client past its `connected` confirmation.
async fn subscribe(addr: SocketAddr, token: &str) -> Ws {
    let mut ws = connect(addr, STREAM, Some(token)).await;
    let first = next_json(&mut ws).await;
    assert_eq!(
        first,
        json!({"type": "connected", "message": "Subscribed to live datapoint stream."})
    );
    ws
}

fn batch(points: &[(&str, f64)]) -> Value {
    json!({
        "datapoints": points
            .iter()
            .map(|(id, v)| json!({"value": v, "event_public_id": id}))
            .collect::<Vec<_>>()
    })
}

/// `(event_public_id, value)` of a `datapoints_batch`.
fn points(message: &Value) -> Vec<(String, f64)> {
    assert_eq!(message["type"], "datapoints_batch", "{message}");
    message["datapoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["event_public_id"].as_str().unwrap().to_owned(),
                d["value"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn note_token(running: &Running, prefix: &str) -> String {
    let info = &running.apis[0].info;
    let note = info
        .notes
        .iter()
        .find(|n| n.starts_with(prefix))
        .unwrap_or_else(|| panic!("no note {prefix:?} in {:?}", info.notes));
    note.rsplit(' ').next().unwrap().to_owned()
}

fn event(id: &str, name: &str, unit: &str, start: f64) -> EventSpec {
    EventSpec {
        public_id: id.to_owned(),
        name: name.to_owned(),
        unit: unit.to_owned(),
        min_value: 0.0,
        max_value: 2000.0,
        decimals: 2,
        enabled: true,
        signal: SignalSpec::RandomWalk {
            start,
            step: 0.1,
            min: 0.0,
            max: 2000.0,
        },
    }
}

/// The document, section by section, with its own ids: the controller pushes the printed
/// batch, the dashboard connects, pings and receives the printed broadcast shape.
#[tokio::test]
async fn the_documents_message_sequences_work() {
    let mut opts = quiet_options();
    opts.scenario.webmacs.events = vec![
        event("abc-123", "Temperature", "°C", 20.0),
        event("def-456", "Pressure", "hPa", 1000.0),
        event("ghi-789", "pH", "pH", 7.0),
    ];
    opts.scenario.webmacs.experiment = Some("exp-001".to_owned());
    let (running, addr) = start(opts).await;
    let token = login(addr).await;

    // Datapoint Stream: (1) confirmation, (2) keep-alive.
    let mut browser = subscribe(addr, &token).await;
    send_json(&mut browser, &json!({"type": "ping"})).await;
    assert_eq!(next_json(&mut browser).await, json!({"type": "pong"}));

    // Controller Telemetry: the printed inbound message.
    let mut controller = connect(addr, CONTROLLER, Some(&token)).await;
    let printed = json!({
      "datapoints": [
        { "value": 23.5, "event_public_id": "abc-123" },
        { "value": 1013.2, "event_public_id": "def-456" },
        { "value": 7.14, "event_public_id": "ghi-789" }
      ]
    });
    send_json(&mut controller, &printed).await;

    // (3) live data, in the printed shape.
    let message = next_json(&mut browser).await;
    assert_eq!(
        points(&message),
        [
            ("abc-123".to_owned(), 23.5),
            ("def-456".to_owned(), 1013.2),
            ("ghi-789".to_owned(), 7.14)
        ]
    );
    let datapoints = message["datapoints"].as_array().unwrap();
    let stamp = datapoints[0]["timestamp"].as_str().unwrap();
    assert!(stamp.ends_with("+00:00") && stamp.contains('T'), "{stamp}");
    for d in datapoints {
        assert_eq!(d["timestamp"], stamp, "one timestamp per batch");
        assert_eq!(d["experiment_public_id"], "exp-001");
        assert_eq!(d.as_object().unwrap().len(), 4, "{d}");
    }

    // A successful batch gets no reply: the next controller message is the error reply
    // of an empty batch.
    send_json(&mut controller, &json!({"datapoints": []})).await;
    assert_eq!(
        next_json(&mut controller).await,
        json!({"type": "error", "message": "No valid datapoints in batch"})
    );

    // The fallback: GET /api/v1/datapoints/latest, one item per event.
    let (status, _, body) =
        request(addr, "GET", "/api/v1/datapoints/latest", Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    let latest: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(latest.len(), 3);
    for item in &latest {
        for field in [
            "public_id",
            "value",
            "timestamp",
            "event_public_id",
            "experiment_public_id",
        ] {
            assert!(item.get(field).is_some(), "{field} missing in {item}");
        }
    }
    assert_eq!(latest[0]["event_public_id"], "abc-123");
    assert_eq!(latest[0]["value"], 23.5);
    running.shutdown().await;
}

#[tokio::test]
async fn login_refuses_wrong_credentials_and_bad_bodies() {
    let (running, addr) = start(quiet_options()).await;
    let (status, head, body) = request(
        addr,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(r#"{"email":"demo@example.com","password":"nope"}"#),
    )
    .await;
    assert_eq!(status, 401);
    assert!(head.contains("access-control-allow-origin: *"), "{head}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"detail": "Invalid email or password"})
    );
    let (status, _, body) = request(
        addr,
        "POST",
        "/api/v1/auth/login",
        None,
        Some("{\"email\":1}"),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("detail"), "{body}");
    let (status, head, _) = request(addr, "OPTIONS", "/api/v1/events", None, None).await;
    assert_eq!(status, 204);
    assert!(
        head.contains("access-control-allow-headers: authorization"),
        "{head}"
    );
    running.shutdown().await;
}

/// "Connections without a valid token are immediately closed with code 1008" and one of
/// the four documented reasons, on both endpoints.
#[tokio::test]
async fn each_authentication_failure_closes_1008_with_its_documented_reason() {
    let (running, addr) = start(quiet_options()).await;
    let revoked = login(addr).await;
    let (status, _, body) =
        request(addr, "POST", "/api/v1/auth/logout", Some(&revoked), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["status"],
        "success"
    );
    let deleted = note_token(&running, "token of a deleted user");
    let cases: [(Option<&str>, &str); 5] = [
        (None, "Authentication required"),
        (Some(""), "Authentication required"),
        (Some("not.a.jwt"), "Invalid or expired token"),
        (Some(&revoked), "Token has been revoked"),
        (Some(&deleted), "User not found"),
    ];
    for path in [STREAM, CONTROLLER] {
        for (token, reason) in cases {
            let mut ws = connect(addr, path, token).await;
            assert_eq!(
                close_of(&mut ws).await,
                (1008, reason.to_owned()),
                "{path} {token:?}"
            );
        }
    }
    // The same refusals on the REST side are 401s with the backend's details.
    let (status, head, body) = request(
        addr,
        "GET",
        "/api/v1/datapoints/latest",
        Some(&revoked),
        None,
    )
    .await;
    assert_eq!(status, 401);
    assert!(head.contains("www-authenticate: bearer"), "{head}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"detail": "Token has been revoked."})
    );
    let (status, _, body) = request(addr, "GET", "/api/v1/events", None, None).await;
    assert_eq!(
        (status, body.contains("Authentication required.")),
        (401, true)
    );
    running.shutdown().await;
}

#[tokio::test]
async fn an_expired_token_is_invalid_or_expired() {
    let mut opts = quiet_options();
    opts.scenario.webmacs.token_ttl_secs = 0;
    let (running, addr) = start(opts).await;
    let token = login(addr).await;
    let mut ws = connect(addr, STREAM, Some(&token)).await;
    assert_eq!(
        close_of(&mut ws).await,
        (1008, "Invalid or expired token".to_owned())
    );
    running.shutdown().await;
}

/// "Batches exceeding 500 datapoints are rejected with an error message"; the socket stays
/// open and the next batch goes through.
#[tokio::test]
async fn a_501_item_batch_gets_the_error_and_the_socket_stays_open() {
    let (running, addr) = start(quiet_options()).await;
    let token = login(addr).await;
    let mut browser = subscribe(addr, &token).await;
    let mut controller = connect(addr, CONTROLLER, Some(&token)).await;
    let big: Vec<(&str, f64)> = (0..501).map(|i| (TEMP, f64::from(i))).collect();
    send_json(&mut controller, &batch(&big)).await;
    assert_eq!(
        next_json(&mut controller).await,
        json!({"type": "error", "message": "Batch too large (501), max 500"})
    );
    let full: Vec<(&str, f64)> = (0..500).map(|i| (PRESSURE, f64::from(i))).collect();
    send_json(&mut controller, &batch(&full)).await;
    let got = points(&next_json(&mut browser).await);
    assert_eq!(got.len(), 500, "a batch of exactly 500 is accepted");
    assert_eq!(got[499], (PRESSURE.to_owned(), 499.0));
    running.shutdown().await;
}

/// Invalid entries are dropped; only a batch without one valid entry gets the error;
/// unknown and disabled events are dropped silently.
#[tokio::test]
async fn invalid_entries_are_dropped_and_an_all_invalid_batch_gets_the_error() {
    let (running, addr) = start(quiet_options()).await;
    let token = login(addr).await;
    let mut browser = subscribe(addr, &token).await;
    let mut controller = connect(addr, CONTROLLER, Some(&token)).await;
    send_json(
        &mut controller,
        &json!({"datapoints": [
            {"value": "x", "event_public_id": TEMP},
            {"event_public_id": TEMP},
            {"value": 1.5},
            {"value": 2.5, "event_public_id": TEMP},
            {"value": 3.5, "event_public_id": "no-such-event"},
            {"value": 4.5, "event_public_id": DISABLED}
        ]}),
    )
    .await;
    assert_eq!(
        points(&next_json(&mut browser).await),
        [(TEMP.to_owned(), 2.5)]
    );
    for bad in [
        json!({"datapoints": [{"value": null, "event_public_id": TEMP}, 7]}),
        json!({"datapoints": []}),
    ] {
        send_json(&mut controller, &bad).await;
        assert_eq!(
            next_json(&mut controller).await,
            json!({"type": "error", "message": "No valid datapoints in batch"})
        );
    }
    // Not a batch at all, and a binary frame: error replies (MAY), socket open.
    send_json(&mut controller, &json!([1, 2])).await;
    let reply = next_json(&mut controller).await;
    assert_eq!(reply["type"], "error");
    assert!(
        reply["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid message"),
        "{reply}"
    );
    controller
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(
        next_json(&mut controller).await,
        json!({"type": "error", "message": "Binary frames are not supported"})
    );
    // Only known events went into the latest values.
    let (_, _, body) = request(addr, "GET", "/api/v1/datapoints/latest", Some(&token), None).await;
    let latest: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(latest.len(), 1, "{body}");
    assert_eq!(latest[0]["event_public_id"], TEMP);
    assert_eq!(latest[0]["experiment_public_id"], EXPERIMENT);
    running.shutdown().await;
}

/// "Broadcasts to all connected frontends (throttled to ≥ 200 ms per event)": a second
/// datapoint of an event inside the window is stored but never broadcast. The window is
/// widened to a minute so that the test does not depend on how fast the machine is; the
/// session tests of the protocol crate check the exact 200 ms edge.
#[tokio::test]
async fn a_second_datapoint_of_an_event_inside_the_window_is_not_broadcast() {
    let mut opts = quiet_options();
    opts.scenario.webmacs.throttle_ms = 60_000;
    let (running, addr) = start(opts).await;
    let token = login(addr).await;
    let mut first = subscribe(addr, &token).await;
    let mut second = subscribe(addr, &token).await;
    let mut controller = connect(addr, CONTROLLER, Some(&token)).await;
    send_json(&mut controller, &batch(&[(TEMP, 1.0)])).await;
    send_json(&mut controller, &batch(&[(TEMP, 2.0)])).await;
    send_json(&mut controller, &batch(&[(PRESSURE, 3.0)])).await;
    for ws in [&mut first, &mut second] {
        assert_eq!(points(&next_json(ws).await), [(TEMP.to_owned(), 1.0)]);
        assert_eq!(points(&next_json(ws).await), [(PRESSURE.to_owned(), 3.0)]);
    }
    // The throttled value was stored all the same.
    let (_, _, body) = request(addr, "GET", "/api/v1/datapoints/latest", Some(&token), None).await;
    let latest: Vec<Value> = serde_json::from_str(&body).unwrap();
    let temp = latest
        .iter()
        .find(|d| d["event_public_id"] == TEMP)
        .unwrap();
    assert_eq!(temp["value"], 2.0);
    running.shutdown().await;
}

#[tokio::test]
async fn the_stream_is_read_only_except_ping() {
    let (running, addr) = start(quiet_options()).await;
    let token = login(addr).await;
    let mut ws = subscribe(addr, &token).await;
    send_json(&mut ws, &json!({"datapoints": []})).await;
    let reply = next_json(&mut ws).await;
    assert_eq!(reply["type"], "error", "{reply}");
    send_json(&mut ws, &json!({"type": "subscribe"})).await;
    assert_eq!(next_json(&mut ws).await["type"], "error");
    ws.send(Message::Binary(vec![0].into())).await.unwrap();
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "error", "message": "Binary frames are not supported"})
    );
    send_json(&mut ws, &json!({"type": "ping"})).await;
    assert_eq!(next_json(&mut ws).await, json!({"type": "pong"}));
    running.shutdown().await;
}

#[tokio::test]
async fn events_list_the_seeded_events_with_pages() {
    let (running, addr) = start(quiet_options()).await;
    let token = login(addr).await;
    let (status, head, body) = request(addr, "GET", "/api/v1/events", Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    assert!(head.contains("access-control-allow-origin: *"), "{head}");
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["total"], 5);
    assert_eq!(page["page"], 1);
    let ids: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["public_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&TEMP) && ids.contains(&DISABLED), "{ids:?}");
    let notes = running.apis[0].info.notes.join("\n");
    for id in &ids {
        assert!(notes.contains(id), "{id} not in the notes");
    }
    let temp = &page["data"][ids.iter().position(|i| *i == TEMP).unwrap()];
    assert_eq!(temp["name"], "Reactor Temperature");
    assert_eq!(temp["unit"], "°C");
    assert_eq!(temp["type"], "sensor");
    let (_, _, body) = request(
        addr,
        "GET",
        "/api/v1/events?page=2&page_size=2",
        Some(&token),
        None,
    )
    .await;
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    assert_eq!(page["data"][0]["public_id"], ids[2]);
    let (status, _, _) = request(addr, "GET", "/api/v1/events?page=x", Some(&token), None).await;
    assert_eq!(status, 422);
    running.shutdown().await;
}

/// The built-in controller feeds every enabled seeded event while a dashboard watches,
/// with the active experiment, and never the disabled one.
#[tokio::test]
async fn the_built_in_controller_feeds_live_data() {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.webmacs.rate = 500.0;
    let (running, addr) = start(opts).await;
    let info = running.apis[0].info.clone();
    assert_eq!(info.ws_urls.len(), 2);
    assert_eq!(info.http.len(), 4);
    assert!(!info.credentials.is_empty());
    // The printed token works as pasted.
    let mut ws = subscribe(addr, &info.token).await;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let message = next_json(&mut ws).await;
        for d in message["datapoints"].as_array().unwrap() {
            assert_eq!(d["experiment_public_id"], EXPERIMENT);
            seen.insert(d["event_public_id"].as_str().unwrap().to_owned());
        }
    }
    assert!(seen.contains(TEMP) && seen.contains(PRESSURE), "{seen:?}");
    assert!(!seen.contains(DISABLED));
    running.shutdown().await;
}

/// The values `n` stream messages carry, in order.
async fn first_values(addr: SocketAddr, n: usize) -> Vec<(String, f64)> {
    let token = login(addr).await;
    let mut ws = subscribe(addr, &token).await;
    let mut values = Vec::new();
    for _ in 0..n {
        if values.len() >= n {
            break;
        }
        values.extend(points(&next_json(&mut ws).await));
    }
    values.truncate(n);
    values
}

#[tokio::test]
async fn the_same_seed_serves_the_same_first_100_values() {
    let options = || {
        let mut opts = ServeOptions::ephemeral();
        opts.scenario.webmacs.rate = 2_000.0;
        opts.scenario.webmacs.throttle_ms = 0;
        opts
    };
    let (a, addr_a) = start(options()).await;
    let (b, addr_b) = start(options()).await;
    let values_a = first_values(addr_a, 100).await;
    let values_b = first_values(addr_b, 100).await;
    assert_eq!(values_a.len(), 100);
    assert_eq!(values_a, values_b);
    // They are the seed's first readings, in order (the disabled event's are dropped).
    let scenario = Scenario::embedded_default().webmacs;
    let mut lab = Lab::from_events(1, &scenario.events);
    let mut expected = Vec::new();
    while expected.len() < 100 {
        for d in lab.sweep() {
            if d.event_public_id.as_str() != DISABLED {
                expected.push((d.event_public_id.to_string(), d.value.get()));
            }
        }
    }
    expected.truncate(100);
    assert_eq!(values_a, expected);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_stream_and_controller_clients_with_1001() {
    let (running, addr) = start(quiet_options()).await;
    let token = login(addr).await;
    let mut browser = subscribe(addr, &token).await;
    let mut controller = connect(addr, CONTROLLER, Some(&token)).await;
    // Make sure the controller's session is running before the shutdown.
    send_json(&mut controller, &json!({"datapoints": []})).await;
    assert_eq!(next_json(&mut controller).await["type"], "error");
    let (closes, ()) = tokio::join!(
        async {
            (
                close_of(&mut browser).await.0,
                close_of(&mut controller).await.0,
            )
        },
        running.shutdown()
    );
    assert_eq!(closes, (1001, 1001));
}

#[test]
fn the_default_scenario_section_parses_and_matches_the_built_in_default() {
    let scenario = Scenario::embedded_default().webmacs;
    assert_eq!(scenario.events.len(), 5);
    assert_eq!(scenario.experiment.as_deref(), Some(EXPERIMENT));
    let built_in = webmacs::Scenario::default();
    assert_eq!(scenario.events[..4], built_in.events[..]);
    assert!(Scenario::parse("[webmacs]\nnonsense = 1\n", "bad.toml").is_err());
}

fn controller_options(addr: SocketAddr, token: &str, events: &[&str]) -> ControllerOptions {
    ControllerOptions {
        url: format!("ws://{addr}"),
        token: token.to_owned(),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
        rate: 1_000.0,
        seed: 7,
        limit: Some(40),
        ca_cert: None,
    }
}

/// `run_controller` pushing into `serve webmacs`: a stream client sees exactly the
/// controller's seeded readings.
#[tokio::test]
async fn run_controller_pushes_into_the_server_and_the_stream_sees_its_values() {
    let mut opts = quiet_options();
    opts.scenario.webmacs.throttle_ms = 0;
    let (running, addr) = start(opts).await;
    let token = login(addr).await;
    let mut browser = subscribe(addr, &token).await;
    let (_trigger, signal) = shutdown::channel();
    let opts = controller_options(addr, &token, &[TEMP, PRESSURE]);
    let stats = tokio::time::timeout(WAIT, webmacs::run_controller(opts, signal))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stats.sent, 40);
    assert!(stats.batches >= 1);
    assert_eq!(stats.reconnects, 0);
    let ids = [TEMP.to_owned(), PRESSURE.to_owned()];
    let expected: Vec<(String, f64)> = Lab::from_ids(7, &ids)
        .take(40)
        .into_iter()
        .map(|d| (d.event_public_id.to_string(), d.value.get()))
        .collect();
    let mut got = Vec::new();
    while got.len() < 40 {
        got.extend(points(&next_json(&mut browser).await));
    }
    assert_eq!(got, expected);
    running.shutdown().await;
}

#[tokio::test]
async fn run_controller_chunks_large_pushes_at_500() {
    let (running, addr) = start(quiet_options()).await;
    let token = login(addr).await;
    let (_trigger, signal) = shutdown::channel();
    let mut opts = controller_options(addr, &token, &[TEMP]);
    opts.rate = 100_000.0;
    opts.limit = Some(1_200);
    let stats = tokio::time::timeout(WAIT, webmacs::run_controller(opts, signal))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stats.sent, 1_200);
    assert!(stats.batches >= 3, "{stats:?}");
    running.shutdown().await;
}

#[tokio::test]
async fn run_controller_with_a_revoked_token_stops_with_the_documented_reason() {
    let (running, addr) = start(quiet_options()).await;
    let token = login(addr).await;
    request(addr, "POST", "/api/v1/auth/logout", Some(&token), None).await;
    let (_trigger, signal) = shutdown::channel();
    let err = tokio::time::timeout(
        WAIT,
        webmacs::run_controller(controller_options(addr, &token, &[TEMP]), signal),
    )
    .await
    .unwrap()
    .unwrap_err();
    match err {
        ControllerError::Refused { code, reason } => {
            assert_eq!((code, reason.as_str()), (1008, "Token has been revoked"));
        }
        other => panic!("expected a refusal, got {other}"),
    }
    running.shutdown().await;
}

#[tokio::test]
async fn run_controller_refuses_bad_options_and_wrong_paths() {
    let (running, addr) = start(quiet_options()).await;
    let (_trigger, signal) = shutdown::channel();
    let mut opts = controller_options(addr, "t", &[]);
    assert!(matches!(
        webmacs::run_controller(opts.clone(), signal.clone()).await,
        Err(ControllerError::NoEvents)
    ));
    opts.events = vec![TEMP.to_owned()];
    opts.rate = 0.0;
    assert!(matches!(
        webmacs::run_controller(opts.clone(), signal.clone()).await,
        Err(ControllerError::InvalidRate(_))
    ));
    opts.rate = 10.0;
    opts.url = format!("http://{addr}");
    assert!(matches!(
        webmacs::run_controller(opts.clone(), signal.clone()).await,
        Err(ControllerError::InvalidUrl { .. })
    ));
    // wss:// to a server without TLS fails at once, naming TLS.
    opts.url = format!("wss://{addr}");
    let err = tokio::time::timeout(WAIT, webmacs::run_controller(opts.clone(), signal.clone()))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, ControllerError::Tls(_)), "{err}");
    opts.url = format!("ws://{addr}/no/such/path");
    let err = tokio::time::timeout(WAIT, webmacs::run_controller(opts, signal))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, ControllerError::Upgrade { status: 404, .. }),
        "{err}"
    );
    running.shutdown().await;
}

/// A server that accepts and drops connections: the controller keeps reconnecting with
/// backoff until it is shut down.
#[tokio::test]
async fn run_controller_reconnects_until_shut_down() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (trigger, signal) = shutdown::channel();
    let controller = tokio::spawn(webmacs::run_controller(
        controller_options(addr, "t", &[TEMP]),
        signal,
    ));
    for _ in 0..2 {
        let (stream, _) = tokio::time::timeout(WAIT, listener.accept())
            .await
            .unwrap()
            .unwrap();
        drop(stream);
    }
    trigger.trigger();
    let stats = tokio::time::timeout(WAIT, controller)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(stats.reconnects >= 1, "{stats:?}");
    assert_eq!(stats.sent, 0);
}

/// The "Frontend Fallback Strategy" as the document's Vue client runs it (the protocol
/// crate's `DashboardLink`): three failed sockets, polling `GET /api/v1/datapoints/latest`
/// (which keeps the built-in controller running with no stream client), then the socket
/// opens again and polling stops.
#[tokio::test]
async fn the_frontend_fallback_polls_latest_after_three_failures_then_returns_to_the_socket() {
    use telewire_protocols::time::Timestamp;
    use telewire_protocols::webmacs::client::ConnectionMode;
    use telewire_protocols::webmacs::client::DashboardAction;
    use telewire_protocols::webmacs::client::DashboardLink;

    let mut opts = ServeOptions::ephemeral();
    opts.scenario.webmacs.rate = 2_000.0;
    let (running, addr) = start(opts).await;
    let token = login(addr).await;
    let mut link = DashboardLink::new();
    let t = Timestamp::from_unix_secs(1_000);
    for _ in 0..3 {
        // A stale token: the socket opens and is closed with 1008.
        let mut ws = connect(addr, STREAM, Some("stale.token.value")).await;
        assert_eq!(close_of(&mut ws).await.0, 1008);
        link.on_failure(t);
    }
    assert_eq!(link.mode(), ConnectionMode::Polling);
    assert_eq!(link.poll_action(t), Some(DashboardAction::PollLatest));
    // Poll until the built-in controller, woken by the poll, has stored values.
    let mut latest = Vec::new();
    for _ in 0..2_000 {
        let (status, _, body) =
            request(addr, "GET", "/api/v1/datapoints/latest", Some(&token), None).await;
        assert_eq!(status, 200, "{body}");
        latest = serde_json::from_str::<Vec<Value>>(&body).unwrap();
        if latest.len() == 4 {
            break;
        }
    }
    assert_eq!(latest.len(), 4, "one item per enabled event");
    let mut ws = subscribe(addr, &token).await;
    link.on_open(t);
    assert_eq!(link.mode(), ConnectionMode::WebSocket);
    assert_eq!(next_json(&mut ws).await["type"], "datapoints_batch");
    running.shutdown().await;
}

/// `wss://`: the controller trusts the certificate `serve --tls` uses and pushes through it.
#[tokio::test]
async fn run_controller_pushes_over_wss_with_a_trusted_certificate() {
    let pem = telewire_simulator::tls::self_signed().unwrap();
    let mut opts = quiet_options();
    opts.tls = Some(telewire_simulator::tls::TlsSettings {
        pem: Some(pem.clone()),
        ..Default::default()
    });
    let (running, addr) = start(opts).await;
    let token = running.apis[0].info.token.clone();
    let (_trigger, signal) = shutdown::channel();
    let mut opts = controller_options(addr, &token, &[TEMP]);
    opts.url = format!("wss://localhost:{}", addr.port());
    opts.ca_cert = Some(pem.cert_pem.into_bytes());
    let stats = tokio::time::timeout(WAIT, webmacs::run_controller(opts, signal))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stats.sent, stats.reconnects), (40, 0));
    running.shutdown().await;
}

#[tokio::test]
async fn live_connections_are_listed_and_obey_commands() {
    use telewire_protocols::frame::Close;
    use telewire_protocols::frame::CloseCode;
    use telewire_simulator::link::Command;

    let (running, addr) = start(quiet_options()).await;
    let token = login(addr).await;
    let mut first = connect(addr, STREAM, Some(&token)).await;
    let mut second = connect(addr, STREAM, Some(&token)).await;
    // `connected` is written by the driver, after the connection is registered.
    assert_eq!(next_json(&mut first).await["type"], "connected");
    assert_eq!(next_json(&mut second).await["type"], "connected");
    let listed = running.links.list(Some(Api::Webmacs));
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().all(|l| l.path == STREAM
        && l.frames_out >= 1
        && l.auth == "authenticated as demo@example.com"
        && l.subscriptions == ["datapoints"]));
    let id_of = |ws: &Ws| {
        let MaybeTlsStream::Plain(tcp) = ws.get_ref() else {
            panic!("plain TCP")
        };
        let local = tcp.local_addr().unwrap().to_string();
        listed.iter().find(|l| l.peer == local).unwrap().id
    };
    let (a, b) = (id_of(&first), id_of(&second));

    let injected = r#"{"type":"injected"}"#;
    running
        .links
        .send(
            a,
            Command::Send(telewire_protocols::frame::Outbound::Text(injected.into())),
        )
        .unwrap();
    assert_eq!(next(&mut first).await, Message::Text(injected.into()));

    let close = Close::new(CloseCode(4000), "closed on command");
    running.links.send(a, Command::Close(close)).unwrap();
    match next(&mut first).await {
        Message::Close(Some(frame)) => {
            assert_eq!(u16::from(frame.code), 4000);
            assert_eq!(frame.reason.as_str(), "closed on command");
        }
        other => panic!("expected close 4000, got {other:?}"),
    }

    running.links.send(b, Command::Abort).unwrap();
    // No close frame: the stream ends (or errors) without one.
    let ended = tokio::time::timeout(WAIT, second.next()).await.unwrap();
    assert!(
        !matches!(ended, Some(Ok(Message::Close(_)))),
        "aborted without a close frame, got {ended:?}"
    );
    running.shutdown().await;
}
