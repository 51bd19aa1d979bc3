//! The control page of `telewire serve`: its state JSON, the live WebSocket, the data
//! preview and fault forwarding, over real loopback sockets.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::Method;
use axum::http::StatusCode;
use futures_util::SinkExt;
use futures_util::StreamExt;
use serde_json::Value;
use serde_json::json;
use telewire_simulator::context::ApiInfo;
use telewire_simulator::control::forward::Forwarder;
use telewire_simulator::serve;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::Running;
use telewire_simulator::serve::RunningApi;
use telewire_simulator::serve::ServeOptions;
use tokio::net::TcpStream;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Upper bound on any wait (a readiness bound, never a timing assertion).
const WAIT: Duration = Duration::from_secs(10);
/// Bound on frames or pushes read while looking for one.
const MAX_FRAMES: usize = 200;

/// Every API, with no periodic robot status lines.
async fn start() -> (Running, SocketAddr) {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.robot.status_interval_ms = 0;
    let running = serve::start(&[], opts).await.unwrap();
    let control = running.control.expect("the control page runs");
    (running, control)
}

async fn state(control: SocketAddr) -> Value {
    let (status, head, body) = support::http(control, "GET", "/api/state", "", "").await;
    assert_eq!(status, 200, "{body}");
    assert!(head.contains("content-type: application/json"), "{head}");
    serde_json::from_str(&body).unwrap()
}

fn simulator<'a>(state: &'a Value, api: &str) -> &'a Value {
    state["simulators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["api"] == api)
        .unwrap_or_else(|| panic!("no {api} in {state}"))
}

async fn next(ws: &mut Ws) -> Message {
    tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("a frame in time")
        .expect("the stream is open")
        .expect("a valid frame")
}

async fn next_json(ws: &mut Ws) -> Value {
    for _ in 0..MAX_FRAMES {
        if let Message::Text(text) = next(ws).await {
            return serde_json::from_str(text.as_str()).unwrap();
        }
    }
    panic!("no text frame");
}

/// Reads pushes of the control page until one matches `pred`.
async fn push_where(ws: &mut Ws, pred: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..MAX_FRAMES {
        let state = next_json(ws).await;
        if pred(&state) {
            return state;
        }
    }
    panic!("no matching push in {MAX_FRAMES}");
}

async fn live(control: SocketAddr) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{control}/ws"))
        .await
        .unwrap();
    ws
}

/// A robot client on `/wss`, subscribed to `topic`: a marker published on a topic of its own
/// has come back, so the server has handled the subscription before it.
async fn robot_client(addr: SocketAddr, topic: &str) -> Ws {
    let (status, _, body) =
        support::http(addr, "GET", "/api/v1/auth/", "X-API-Key: demo\r\n", "").await;
    assert_eq!(status, 200, "{body}");
    let token: Value = serde_json::from_str(&body).unwrap();
    let token = token["token"].as_str().unwrap();
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/wss?token={token}"))
        .await
        .unwrap();
    let marker = format!("{topic}-marker");
    for frame in [
        json!({"action": "subscribe", "topic": topic}),
        json!({"action": "subscribe", "topic": marker}),
        json!({"action": "publish", "topic": marker,
               "data": {"name": marker, "type": "json", "data": null}}),
    ] {
        ws.send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }
    for _ in 0..MAX_FRAMES {
        let msg = next_json(&mut ws).await;
        if msg["name"] == marker.as_str() {
            return ws;
        }
    }
    panic!("the marker did not come back");
}

fn local_addr(ws: &Ws) -> String {
    match ws.get_ref() {
        MaybeTlsStream::Plain(tcp) => tcp.local_addr().unwrap().to_string(),
        _ => panic!("plain TCP expected"),
    }
}

#[tokio::test]
async fn the_state_lists_every_simulator_and_a_client_with_its_auth_and_subscriptions() {
    let (running, control) = start().await;
    assert!(control.ip().is_loopback());
    assert!(
        running.table().contains(&format!("http://{control}/")),
        "{}",
        running.table()
    );
    let robot = running.addr(Api::Robot).unwrap();
    let ws = robot_client(robot, "arm").await;
    let state = state(control).await;
    assert_eq!(state["seed"], 1);
    for api in Api::ALL {
        let sim = simulator(&state, api.name());
        let running_api = running.apis.iter().find(|r| r.api == api).unwrap();
        assert_eq!(sim["addr"], running_api.addr.to_string());
        assert_eq!(sim["token"], running_api.info.token);
        assert_eq!(sim["credentials"], running_api.info.credentials);
        assert!(!sim["ws_urls"].as_array().unwrap().is_empty(), "{sim}");
    }
    let clients = simulator(&state, "robot")["clients"].as_array().unwrap();
    assert_eq!(clients.len(), 1, "{clients:?}");
    let client = &clients[0];
    assert_eq!(client["peer"], local_addr(&ws));
    assert_eq!(client["path"], "/wss");
    assert!(
        client["auth"]
            .as_str()
            .unwrap()
            .starts_with("authenticated as "),
        "{client}"
    );
    assert_eq!(client["subscriptions"], json!(["arm", "arm-marker"]));
    assert!(client["frames_out"].as_u64().unwrap() >= 1, "{client}");
    assert_eq!(client["dropped"], 0);
    assert!(client["in_per_s"].is_number() && client["out_per_s"].is_number());
    assert!(
        state["policy"]
            .as_str()
            .is_some_and(|p| p.starts_with("drop-oldest")),
        "the default slow-consumer policy: {state}"
    );
    drop(ws);
    running.shutdown().await;
}

#[tokio::test]
async fn the_live_socket_pushes_the_state_and_then_each_change() {
    let (running, control) = start().await;
    let robot = running.addr(Api::Robot).unwrap();
    let mut page = live(control).await;
    let first = next_json(&mut page).await;
    assert_eq!(
        first["simulators"].as_array().unwrap().len(),
        Api::ALL.len()
    );
    assert_eq!(simulator(&first, "robot")["clients"], json!([]));

    let ws = robot_client(robot, "camera").await;
    let peer = local_addr(&ws);
    let seen = push_where(&mut page, |s| {
        simulator(s, "robot")["clients"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["peer"] == peer.as_str())
    })
    .await;
    let client = &simulator(&seen, "robot")["clients"][0];
    assert_eq!(client["subscriptions"], json!(["camera", "camera-marker"]));

    drop(ws);
    push_where(&mut page, |s| simulator(s, "robot")["clients"] == json!([])).await;
    running.shutdown().await;
}

#[tokio::test]
async fn the_preview_shows_sampled_outbound_data_frames() {
    let (running, control) = start().await;
    let robot = running.addr(Api::Robot).unwrap();
    let mut page = live(control).await;
    next_json(&mut page).await;
    // The page is watched: the marker coming back is sampled into the robot's preview.
    let ws = robot_client(robot, "preview-topic").await;
    let seen = push_where(&mut page, |s| {
        simulator(s, "robot")["preview"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| {
                f["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("preview-topic-marker"))
            })
    })
    .await;
    let frame = simulator(&seen, "robot")["preview"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["text"]
                .as_str()
                .is_some_and(|t| t.contains("preview-topic-marker"))
        })
        .unwrap()
        .clone();
    assert_eq!(frame["kind"], "text");
    assert_eq!(frame["truncated"], false);
    let state = state(control).await;
    let client_id = simulator(&state, "robot")["clients"][0]["id"].clone();
    assert_eq!(frame["client"], client_id);
    assert!(
        simulator(&seen, "mosaic")["preview"]
            .as_array()
            .unwrap()
            .len()
            <= 20,
        "the preview ring is bounded"
    );
    drop(ws);
    running.shutdown().await;
}

#[tokio::test]
async fn the_page_and_its_assets_are_served() {
    let (running, control) = start().await;
    let (status, head, body) = support::http(control, "GET", "/", "", "").await;
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(body.contains("src=\"/app.js\""), "{body}");
    for (path, kind) in [("/app.js", "text/javascript"), ("/style.css", "text/css")] {
        let (status, head, body) = support::http(control, "GET", path, "", "").await;
        assert_eq!(status, 200, "{path}");
        assert!(head.contains(kind), "{head}");
        assert!(!body.is_empty());
    }
    // A page of another site cannot read the state (or open the live socket).
    let (status, _, body) = support::http(
        control,
        "GET",
        "/api/state",
        "Origin: https://elsewhere.example\r\n",
        "",
    )
    .await;
    assert_eq!(status, 403, "{body}");
    running.shutdown().await;
}

#[tokio::test]
async fn fault_requests_are_checked_forwarded_and_their_errors_reported() {
    let (running, control) = start().await;
    let post = |body: String| async move {
        let (status, _, answer) = support::http(
            control,
            "POST",
            "/api/faults",
            "Content-Type: application/json\r\n",
            &body,
        )
        .await;
        let answer: Value =
            serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: not JSON: {answer}"));
        (status, answer)
    };
    let (status, answer) = post(json!({"api": "nope", "fault": "disconnect"}).to_string()).await;
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("unknown API"),
        "{answer}"
    );

    let (status, answer) = post("{not json".into()).await;
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("\"fault\""),
        "{answer}"
    );

    // A fault this API does not have: the simulator's 400 comes back.
    let (status, answer) = post(json!({"api": "robot", "fault": "revoke-token"}).to_string()).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"].is_string(), "{answer}");

    // A client id that does not exist: the simulator's answer comes back as an error.
    let (status, answer) =
        post(json!({"api": "robot", "fault": "disconnect", "client": 999_999}).to_string()).await;
    assert_eq!(status, 404, "{answer}");
    assert!(answer["error"].is_string(), "{answer}");
    running.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_simulator_is_a_bad_gateway_with_a_reason() {
    let closed = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let gone = RunningApi {
        api: Api::Mosaic,
        addr: closed,
        info: ApiInfo::default(),
    };
    let response = Forwarder::plain()
        .send(&gone, Method::POST, Some(r#"{"fault":"stall"}"#.into()))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    let answer: Value = serde_json::from_slice(&body).unwrap();
    let error = answer["error"].as_str().unwrap();
    assert!(
        error.contains("mosaic") && error.contains(&closed.to_string()),
        "{error}"
    );
}

#[tokio::test]
async fn a_fault_posted_to_the_page_reaches_the_client_and_a_lasting_one_is_listed() {
    let (running, control) = start().await;
    let robot = running.addr(Api::Robot).unwrap();
    let mut ws = robot_client(robot, "arm").await;
    let first = state(control).await;
    let sim = simulator(&first, "robot");
    let names: Vec<&str> = sim["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"close") && names.contains(&"latency"),
        "{names:?}"
    );
    let id = sim["clients"][0]["id"].as_u64().unwrap();

    let post = |body: Value| async move {
        let (status, _, answer) = support::http(
            control,
            "POST",
            "/api/faults",
            "Content-Type: application/json\r\n",
            &body.to_string(),
        )
        .await;
        (status, serde_json::from_str::<Value>(&answer).unwrap())
    };
    // A lasting fault on every client is listed as in effect, and clears.
    let (status, answer) = post(json!({"api": "robot", "fault": "latency=1ms"})).await;
    assert_eq!(status, 200, "{answer}");
    let listed = state(control).await;
    assert_eq!(
        simulator(&listed, "robot")["active"],
        json!([{"fault": "latency=1ms", "client": null}])
    );
    let (status, _, answer) = support::http(
        control,
        "DELETE",
        "/api/faults",
        "Content-Type: application/json\r\n",
        r#"{"api": "robot"}"#,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        simulator(&state(control).await, "robot")["active"],
        json!([])
    );

    // A close with a chosen code reaches the client.
    let (status, answer) =
        post(json!({"api": "robot", "fault": "close=4100:from the page", "client": id})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["clients"], json!([id]));
    for _ in 0..MAX_FRAMES {
        if let Message::Close(frame) = next(&mut ws).await {
            let frame = frame.expect("a close code");
            assert_eq!(u16::from(frame.code), 4100);
            assert_eq!(frame.reason.as_str(), "from the page");
            running.shutdown().await;
            return;
        }
    }
    panic!("no close frame");
}

#[tokio::test]
async fn with_tls_faults_are_forwarded_over_https() {
    // No certificate given: one is generated, and the control page trusts it.
    let opts = ServeOptions {
        tls: Some(telewire_simulator::tls::TlsSettings::default()),
        ..ServeOptions::ephemeral()
    };
    let running = serve::start(&[Api::Valtronics], opts).await.unwrap();
    let control = running.control.unwrap();
    let state = state(control).await;
    let sim = simulator(&state, "valtronics");
    assert!(
        sim["ws_urls"][0].as_str().unwrap().starts_with("wss://"),
        "{sim}"
    );
    let (status, _, answer) = support::http(
        control,
        "POST",
        "/api/faults",
        "Content-Type: application/json\r\n",
        &json!({"api": "valtronics", "fault": "stall", "client": 424_242}).to_string(),
    )
    .await;
    // The simulator's own 404 (unknown client), not a gateway error.
    assert_eq!(status, 404, "{answer}");
    assert!(answer.contains("424242"), "{answer}");
    running.shutdown().await;
}
