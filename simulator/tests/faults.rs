//! Faults on demand through the admin API (`/_telewire/faults`), each observed from a real
//! WebSocket client over loopback.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::SinkExt;
use futures_util::StreamExt;
use serde_json::Value;
use serde_json::json;
use telewire_simulator::serve;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::Running;
use telewire_simulator::serve::ServeOptions;
use tokio::net::TcpStream;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Upper bound on any wait (never a timing assertion).
const WAIT: Duration = Duration::from_secs(10);
/// Bound on frames read or admin requests made while waiting for something.
const MAX_TRIES: usize = 2_000;

/// Every API on an ephemeral port; the robot writes no periodic status lines, so a
/// subscriber sees only what a test publishes.
async fn start(apis: &[Api]) -> Running {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.robot.status_interval_ms = 0;
    serve::start(apis, opts).await.unwrap()
}

async fn admin(addr: SocketAddr, method: &str, body: &str) -> (u16, Value) {
    let headers = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/json\r\n"
    };
    let (status, _, body) = support::http(addr, method, "/_telewire/faults", headers, body).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// POSTs `fault` (to `client`, or to all); the reply must be 200.
async fn fault(addr: SocketAddr, fault: &str, client: Option<u64>) -> Value {
    let body = match client {
        Some(id) => json!({"fault": fault, "client": id}),
        None => json!({"fault": fault}),
    };
    let (status, reply) = admin(addr, "POST", &body.to_string()).await;
    assert_eq!(status, 200, "{fault}: {reply}");
    assert_eq!(reply["applied"].as_str().unwrap(), fault);
    reply
}

async fn clients(addr: SocketAddr) -> Vec<Value> {
    let (status, _, body) = support::http(addr, "GET", "/_telewire/clients", "", "").await;
    assert_eq!(status, 200, "{body}");
    let list: Value = serde_json::from_str(&body).unwrap();
    list["clients"].as_array().unwrap().clone()
}

fn local_addr(ws: &Ws) -> SocketAddr {
    match ws.get_ref() {
        MaybeTlsStream::Plain(tcp) => tcp.local_addr().unwrap(),
        _ => panic!("plain TCP expected"),
    }
}

/// The connection id of `ws`, once the server lists it.
async fn id_of(addr: SocketAddr, ws: &Ws) -> u64 {
    let me = local_addr(ws).to_string();
    for _ in 0..MAX_TRIES {
        if let Some(client) = clients(addr).await.into_iter().find(|c| c["peer"] == me) {
            return client["id"].as_u64().unwrap();
        }
        tokio::task::yield_now().await;
    }
    panic!("{me} never listed");
}

/// Waits until the server has counted `n` frames dropped for `ws`.
async fn dropped_reaches(addr: SocketAddr, id: u64, n: u64) {
    for _ in 0..MAX_TRIES {
        let list = clients(addr).await;
        let client = list.iter().find(|c| c["id"] == id).unwrap();
        if client["dropped"].as_u64().unwrap() >= n {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("connection {id} never dropped {n} frames");
}

async fn connect(url: String) -> Ws {
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

async fn next(ws: &mut Ws) -> Message {
    tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("a frame in time")
        .expect("the stream is open")
        .expect("a valid frame")
}

/// The next frame other than ping/pong.
async fn next_frame(ws: &mut Ws) -> Message {
    for _ in 0..MAX_TRIES {
        match next(ws).await {
            Message::Ping(_) | Message::Pong(_) => {}
            other => return other,
        }
    }
    panic!("only pings");
}

async fn next_json(ws: &mut Ws) -> Value {
    match next_frame(ws).await {
        Message::Text(text) => serde_json::from_str(text.as_str()).unwrap(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// The end of the stream: the close frame if there was one.
async fn end(ws: &mut Ws) -> Option<(u16, String)> {
    for _ in 0..MAX_TRIES {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("the end in time")
        {
            Some(Ok(Message::Close(frame))) => {
                // Reading on sends the close reply and sees the end of the stream.
                let _ = tokio::time::timeout(WAIT, ws.next()).await;
                return frame.map(|f| (u16::from(f.code), f.reason.to_string()));
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return None,
        }
    }
    panic!("the connection never ended");
}

// --- robot: a publisher and subscribers whose data frames the test controls ---

async fn robot_token(addr: SocketAddr) -> String {
    let (status, _, body) =
        support::http(addr, "GET", "/api/v1/auth/", "X-API-Key: demo\r\n", "").await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn robot(addr: SocketAddr) -> Ws {
    let token = robot_token(addr).await;
    connect(format!("ws://{addr}/wss?token={token}")).await
}

async fn send(ws: &mut Ws, value: Value) {
    ws.send(Message::Text(value.to_string().into()))
        .await
        .unwrap();
}

async fn publish(ws: &mut Ws, topic: &str, n: u64) {
    send(
        ws,
        json!({"action": "publish", "topic": topic, "data": {"name": topic, "type": "json", "data": {"n": n}}}),
    )
    .await;
}

/// Subscribes `ws` to `topic`; returns once the server has handled it: a connection's
/// messages are handled in order, so once a marker it publishes on a topic of its own
/// comes back, the subscription before it is in place.
async fn subscribe(ws: &mut Ws, topic: &str) {
    send(ws, json!({"action": "subscribe", "topic": topic})).await;
    let marker = format!("{topic}-ready-{}", local_addr(ws).port());
    send(ws, json!({"action": "subscribe", "topic": marker})).await;
    publish(ws, &marker, 0).await;
    for _ in 0..MAX_TRIES {
        if next_json(ws).await["name"] == marker.as_str() {
            send(ws, json!({"action": "unsubscribe", "topic": marker})).await;
            return;
        }
    }
    panic!("never subscribed");
}

/// The `n` of the next message on `topic` (other topics' late messages skipped).
async fn next_n(ws: &mut Ws, topic: &str) -> u64 {
    for _ in 0..MAX_TRIES {
        let msg = next_json(ws).await;
        if msg["name"] == topic {
            return msg["data"]["n"].as_u64().unwrap();
        }
    }
    panic!("nothing on {topic}");
}

/// A robot server with a publisher and one subscriber of `topic`, and its id.
async fn robot_pair(running: &Running, topic: &str) -> (SocketAddr, Ws, Ws, u64) {
    let addr = running.addr(Api::Robot).unwrap();
    let publisher = robot(addr).await;
    let mut subscriber = robot(addr).await;
    subscribe(&mut subscriber, topic).await;
    let id = id_of(addr, &subscriber).await;
    (addr, publisher, subscriber, id)
}

#[tokio::test]
async fn latency_delays_every_frame_by_at_least_the_latency() {
    let running = start(&[Api::Robot]).await;
    let (addr, mut publisher, mut subscriber, id) = robot_pair(&running, "slow").await;
    fault(addr, "latency=300ms,jitter=50ms", Some(id)).await;
    for n in 1..=3 {
        let sent = tokio::time::Instant::now();
        publish(&mut publisher, "slow", n).await;
        assert_eq!(next_n(&mut subscriber, "slow").await, n, "in order");
        assert!(
            sent.elapsed() >= Duration::from_millis(300),
            "frame {n} came after {:?}",
            sent.elapsed()
        );
    }
    // Latency delays what the server writes, never what it reads: with a minute of
    // latency on the subscriber, what it publishes still reaches the publisher at once
    // (well within the wait bound).
    fault(addr, "latency=60s", Some(id)).await;
    subscribe(&mut publisher, "back").await;
    publish(&mut subscriber, "back", 42).await;
    assert_eq!(next_n(&mut publisher, "back").await, 42);
    running.shutdown().await;
}

#[tokio::test]
async fn drop_all_sends_no_data_and_duplicate_all_sends_each_twice() {
    let running = start(&[Api::Robot]).await;
    let (addr, mut publisher, mut subscriber, id) = robot_pair(&running, "t").await;
    fault(addr, "drop=1", Some(id)).await;
    for n in 1..=5 {
        publish(&mut publisher, "t", n).await;
    }
    dropped_reaches(addr, id, 5).await;
    let (status, cleared) = admin(addr, "DELETE", "").await;
    assert_eq!((status, cleared["cleared"].as_u64()), (200, Some(1)));
    publish(&mut publisher, "t", 6).await;
    assert_eq!(next_n(&mut subscriber, "t").await, 6, "1 to 5 never came");
    fault(addr, "duplicate=1", Some(id)).await;
    for n in 7..=9 {
        publish(&mut publisher, "t", n).await;
    }
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(next_n(&mut subscriber, "t").await);
    }
    assert_eq!(seen, vec![7, 7, 8, 8, 9, 9]);
    running.shutdown().await;
}

#[tokio::test]
async fn a_stall_sends_nothing_keeps_nothing_and_ends_when_cleared() {
    let running = start(&[Api::Robot]).await;
    let (addr, mut publisher, mut subscriber, id) = robot_pair(&running, "s").await;
    let before = clients(addr).await;
    let frames_out = |list: &[Value]| {
        list.iter().find(|c| c["id"] == id).unwrap()["frames_out"]
            .as_u64()
            .unwrap()
    };
    fault(addr, "stall", Some(id)).await;
    let (_, listed) = admin(addr, "GET", "").await;
    assert_eq!(listed["active"], json!([{"fault": "stall", "client": id}]));
    for n in 1..=20 {
        publish(&mut publisher, "s", n).await;
    }
    dropped_reaches(addr, id, 20).await;
    assert_eq!(frames_out(&clients(addr).await), frames_out(&before));
    admin(addr, "DELETE", "").await;
    publish(&mut publisher, "s", 21).await;
    assert_eq!(next_n(&mut subscriber, "s").await, 21);
    running.shutdown().await;
}

#[tokio::test]
async fn disconnect_drops_without_a_close_frame_and_close_sends_code_and_reason() {
    let running = start(&[Api::Robot]).await;
    let addr = running.addr(Api::Robot).unwrap();
    let mut a = robot(addr).await;
    let mut b = robot(addr).await;
    let a_id = id_of(addr, &a).await;
    let b_id = id_of(addr, &b).await;
    let reply = fault(addr, "disconnect", Some(a_id)).await;
    assert_eq!(reply["clients"], json!([a_id]));
    assert_eq!(end(&mut a).await, None, "no close frame");
    fault(addr, "close=4000:maintenance window", Some(b_id)).await;
    assert_eq!(
        end(&mut b).await,
        Some((4000, "maintenance window".to_owned()))
    );
    running.shutdown().await;
}

#[tokio::test]
async fn one_connection_or_every_connection_of_the_api() {
    let running = start(&[Api::Robot, Api::Webmacs]).await;
    let addr = running.addr(Api::Robot).unwrap();
    let mut publisher = robot(addr).await;
    let mut a = robot(addr).await;
    let mut b = robot(addr).await;
    subscribe(&mut a, "x").await;
    subscribe(&mut b, "x").await;
    let a_id = id_of(addr, &a).await;
    fault(addr, "close=4001:only you", Some(a_id)).await;
    assert_eq!(end(&mut a).await, Some((4001, "only you".to_owned())));
    publish(&mut publisher, "x", 1).await;
    assert_eq!(
        next_n(&mut b, "x").await,
        1,
        "the other client is untouched"
    );
    let webmacs = running.addr(Api::Webmacs).unwrap();
    assert!(
        clients(webmacs).await.is_empty(),
        "clients are listed per API"
    );
    let b_id = id_of(addr, &b).await;
    let publisher_id = id_of(addr, &publisher).await;
    let reply = fault(addr, "close=4002:everyone", None).await;
    let reached = reply["clients"].as_array().unwrap();
    assert!(reached.contains(&json!(b_id)) && reached.contains(&json!(publisher_id)));
    assert_eq!(end(&mut b).await, Some((4002, "everyone".to_owned())));
    assert_eq!(
        end(&mut publisher).await,
        Some((4002, "everyone".to_owned()))
    );
    running.shutdown().await;
}

#[tokio::test]
async fn lasting_faults_for_every_client_reach_clients_that_connect_later() {
    let running = start(&[Api::Robot]).await;
    let addr = running.addr(Api::Robot).unwrap();
    fault(addr, "duplicate=1", None).await;
    let (addr, mut publisher, mut subscriber, _) = robot_pair(&running, "late").await;
    publish(&mut publisher, "late", 1).await;
    assert_eq!(next_n(&mut subscriber, "late").await, 1);
    assert_eq!(next_n(&mut subscriber, "late").await, 1);
    let (_, listed) = admin(addr, "GET", "").await;
    assert_eq!(
        listed["active"],
        json!([{"fault": "duplicate=1", "client": null}])
    );
    running.shutdown().await;
}

#[tokio::test]
async fn malformed_frames_of_the_json_apis() {
    let running = start(&[Api::Robot]).await;
    let addr = running.addr(Api::Robot).unwrap();
    let mut ws = robot(addr).await;
    let id = id_of(addr, &ws).await;
    fault(addr, "malformed=truncated", Some(id)).await;
    match next_frame(&mut ws).await {
        Message::Text(text) => {
            assert!(text.starts_with("{\"name\":\"temperature\""), "{text}");
            assert!(serde_json::from_str::<Value>(text.as_str()).is_err());
        }
        other => panic!("{other:?}"),
    }
    fault(addr, "malformed=bad-utf8", Some(id)).await;
    match next_frame(&mut ws).await {
        Message::Binary(bytes) => assert!(std::str::from_utf8(&bytes).is_err()),
        other => panic!("{other:?}"),
    }
    fault(addr, "malformed=invalid-json", Some(id)).await;
    match next_frame(&mut ws).await {
        Message::Text(text) => {
            assert!(text.contains("'name'"), "{text}");
            assert!(serde_json::from_str::<Value>(text.as_str()).is_err());
        }
        other => panic!("{other:?}"),
    }
    let (status, reply) = admin(addr, "POST", r#"{"fault":"malformed=wrong-type"}"#).await;
    assert_eq!(status, 400);
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("JSON text frames only"),
        "{reply}"
    );
    running.shutdown().await;
}

#[tokio::test]
async fn malformed_binary_frames_of_molecule_and_mosaic() {
    let running = start(&[Api::Molecule, Api::Mosaic]).await;
    let molecule = running.addr(Api::Molecule).unwrap();
    let mut ws = connect(format!("ws://{molecule}/ws")).await;
    let id = id_of(molecule, &ws).await;
    for (kind, check) in [
        (
            "wrong-type",
            (|b: &[u8]| b[0] == 0xEE && b[1] == 0) as fn(&[u8]) -> bool,
        ),
        ("truncated", |b: &[u8]| b == [100]),
        ("bad-utf8", |b: &[u8]| {
            b[0] == 2 && std::str::from_utf8(&b[2..]).is_err()
        }),
        ("invalid-json", |b: &[u8]| {
            b[0] == 100 && serde_json::from_slice::<Value>(&b[2..]).is_err()
        }),
    ] {
        fault(molecule, &format!("malformed={kind}"), Some(id)).await;
        match next_frame(&mut ws).await {
            Message::Binary(bytes) => assert!(check(&bytes), "{kind}: {bytes:?}"),
            other => panic!("{kind}: {other:?}"),
        }
    }
    let mosaic = running.addr(Api::Mosaic).unwrap();
    let mut ws = connect(format!("ws://{mosaic}/query")).await;
    let id = id_of(mosaic, &ws).await;
    fault(mosaic, "malformed=truncated", Some(id)).await;
    match next_frame(&mut ws).await {
        Message::Binary(bytes) => assert_eq!(bytes.len(), 8, "half a keepalive reply"),
        other => panic!("{other:?}"),
    }
    fault(mosaic, "malformed=wrong-type", Some(id)).await;
    match next_frame(&mut ws).await {
        Message::Binary(bytes) => {
            let value: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(value["broadcast"], "group", "a broadcast in a binary frame");
        }
        other => panic!("{other:?}"),
    }
    fault(mosaic, "malformed=invalid-json", Some(id)).await;
    assert!(
        matches!(next_frame(&mut ws).await, Message::Text(t) if serde_json::from_str::<Value>(t.as_str()).is_err())
    );
    running.shutdown().await;
}

#[tokio::test]
async fn token_expiry_closes_live_robot_clients_and_refuses_old_tokens() {
    let running = start(&[Api::Robot, Api::Webmacs]).await;
    let addr = running.addr(Api::Robot).unwrap();
    let token = robot_token(addr).await;
    let mut ws = connect(format!("ws://{addr}/wss?token={token}")).await;
    id_of(addr, &ws).await;
    let (status, reply) = admin(addr, "POST", r#"{"fault":"token-expiry","client":1}"#).await;
    assert_eq!(status, 400, "server-wide: no client");
    assert!(
        reply["error"]
            .as_str()
            .unwrap()
            .contains("leave out the client")
    );
    fault(addr, "token-expiry", None).await;
    let (code, reason) = end(&mut ws).await.expect("a close frame");
    assert_eq!(code, 1008);
    assert!(reason.to_lowercase().contains("expired"), "{reason}");
    let mut again = connect(format!("ws://{addr}/wss?token={token}")).await;
    let (code, _) = end(&mut again).await.expect("the old token is refused");
    assert_eq!(code, 1008);
    let fresh = robot(addr).await;
    drop(fresh);
    // WebMACS: live sockets stay (its document checks the token at connect); a new
    // connection with an old token gets the documented 1008.
    let webmacs = running.addr(Api::Webmacs).unwrap();
    let token = webmacs_login(webmacs).await;
    fault(webmacs, "token-expiry", None).await;
    let mut ws = connect(format!("ws://{webmacs}/ws/datapoints/stream?token={token}")).await;
    assert_eq!(
        end(&mut ws).await,
        Some((1008, "Invalid or expired token".to_owned()))
    );
    running.shutdown().await;
}

async fn webmacs_login(addr: SocketAddr) -> String {
    let (status, _, body) = support::http(
        addr,
        "POST",
        "/api/v1/auth/login",
        "Content-Type: application/json\r\n",
        r#"{"email":"demo@example.com","password":"demo"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn webmacs_revocation_closes_live_sockets_and_refuses_the_token() {
    let running = start(&[Api::Webmacs]).await;
    let addr = running.addr(Api::Webmacs).unwrap();
    let token = webmacs_login(addr).await;
    let url = format!("ws://{addr}/ws/datapoints/stream?token={token}");
    let mut ws = connect(url.clone()).await;
    assert_eq!(next_json(&mut ws).await["type"], "connected");
    fault(addr, "revoke-token", None).await;
    let revoked = Some((1008, "Token has been revoked".to_owned()));
    assert_eq!(end(&mut ws).await, revoked);
    let mut again = connect(url).await;
    assert_eq!(end(&mut again).await, revoked);
    let fresh = webmacs_login(addr).await;
    let mut ws = connect(format!("ws://{addr}/ws/datapoints/stream?token={fresh}")).await;
    assert_eq!(
        next_json(&mut ws).await["type"],
        "connected",
        "a new login works"
    );
    running.shutdown().await;
}

async fn mosaic_token(addr: SocketAddr) -> String {
    let (status, _, body) = support::http(
        addr,
        "POST",
        "/authenticate",
        "Content-Type: application/json\r\n",
        r#"{"username":"demo","password":"demo"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Sends a keepalive with `token`; the binary reply.
async fn keepalive(ws: &mut Ws, token: &str) -> Vec<u8> {
    send(ws, json!({"token": token})).await;
    for _ in 0..MAX_TRIES {
        if let Message::Binary(bytes) = next_frame(ws).await {
            return bytes.to_vec();
        }
    }
    panic!("no keepalive reply");
}

#[tokio::test]
async fn mosaic_session_timeout_and_controller_restart() {
    let running = start(&[Api::Mosaic]).await;
    let addr = running.addr(Api::Mosaic).unwrap();
    let token = mosaic_token(addr).await;
    let mut a = connect(format!("ws://{addr}/query")).await;
    let mut b = connect(format!("ws://{addr}/query")).await;
    let key = keepalive(&mut a, &token).await;
    assert_eq!(key.len(), 16);
    assert!(key.iter().any(|b| *b != 0));
    assert_eq!(keepalive(&mut b, &token).await, key);
    fault(addr, "controller-restart", None).await;
    let new_key = keepalive(&mut a, &token).await;
    assert_eq!(new_key.len(), 16);
    assert!(new_key.iter().any(|b| *b != 0));
    assert_ne!(new_key, key, "a restarted controller has a new key");
    let a_id = id_of(addr, &a).await;
    fault(addr, "session-timeout", Some(a_id)).await;
    assert_eq!(keepalive(&mut a, &token).await, vec![0; 16], "timed out");
    assert_eq!(keepalive(&mut b, &token).await, new_key, "b lives on");
    running.shutdown().await;
}

#[tokio::test]
async fn restart_drops_every_client_and_the_port_comes_back_after_the_delay() {
    let running = start(&[Api::Robot]).await;
    let addr = running.addr(Api::Robot).unwrap();
    let mut a = robot(addr).await;
    let mut b = robot(addr).await;
    id_of(addr, &a).await;
    id_of(addr, &b).await;
    let asked = tokio::time::Instant::now();
    let reply = fault(addr, "restart=300ms", None).await;
    assert_eq!(reply["clients"].as_array().unwrap().len(), 2);
    assert_eq!(end(&mut a).await, None, "dropped without a close frame");
    assert_eq!(end(&mut b).await, None, "dropped without a close frame");
    let back = tokio::time::timeout(WAIT, async {
        loop {
            if let Ok((ws, _)) = tokio_tungstenite::connect_async(format!(
                "ws://{addr}/wss?token={}",
                robot_token_quiet(addr).await.unwrap_or_default()
            ))
            .await
            {
                return ws;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the port accepts again");
    assert!(
        asked.elapsed() >= Duration::from_millis(300),
        "closed for the delay"
    );
    drop(back);
    running.shutdown().await;
}

/// A robot token, or `None` while the port is closed.
async fn robot_token_quiet(addr: SocketAddr) -> Option<String> {
    TcpStream::connect(addr).await.ok()?;
    Some(robot_token(addr).await)
}

#[tokio::test]
async fn refusals_say_what_was_wrong() {
    let running = start(&[Api::Robot, Api::Mosaic]).await;
    let addr = running.addr(Api::Robot).unwrap();
    for (body, status, says) in [
        (r#"{"fault":"latency=fast"}"#, 400, "accepted faults"),
        (r#"{"fault":"explode"}"#, 400, "unknown fault"),
        (r#"{"fault":"revoke-token"}"#, 400, "WebMACS"),
        (r#"{"fault":"session-timeout"}"#, 400, "Mosaic"),
        ("{nope", 400, "must be JSON"),
        (
            r#"{"fault":"stall","client":999999}"#,
            404,
            "no robot connection 999999",
        ),
    ] {
        let (got, reply) = admin(addr, "POST", body).await;
        assert_eq!(got, status, "{body}: {reply}");
        assert!(
            reply["error"].as_str().unwrap().contains(says),
            "{body}: {reply}"
        );
    }
    let (status, listed) = admin(addr, "GET", "").await;
    assert_eq!(status, 200);
    assert_eq!(listed["api"], "robot");
    let names: Vec<&str> = listed["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"latency") && !names.contains(&"session-timeout"));
    let (_, listed) = admin(running.addr(Api::Mosaic).unwrap(), "GET", "").await;
    assert!(
        listed["faults"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "controller-restart")
    );
    running.shutdown().await;
}

#[tokio::test]
async fn startup_faults_from_options_and_scenario_reach_each_client_as_it_connects() {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.robot.status_interval_ms = 0;
    opts.faults
        .push((Api::Robot, "duplicate=1".parse().unwrap()));
    opts.scenario.webmacs = telewire_simulator::scenario::Scenario::parse(
        "[webmacs]\nfaults = [\"close=4003:startup\"]\n",
        "test",
    )
    .unwrap()
    .webmacs;
    let running = serve::start(&[Api::Robot, Api::Webmacs], opts)
        .await
        .unwrap();
    let (_, mut publisher, mut subscriber, _) = robot_pair(&running, "twice").await;
    publish(&mut publisher, "twice", 5).await;
    assert_eq!(next_n(&mut subscriber, "twice").await, 5);
    assert_eq!(next_n(&mut subscriber, "twice").await, 5);
    let webmacs = running.addr(Api::Webmacs).unwrap();
    let token = webmacs_login(webmacs).await;
    let mut ws = connect(format!("ws://{webmacs}/ws/datapoints/stream?token={token}")).await;
    assert_eq!(end(&mut ws).await, Some((4003, "startup".to_owned())));
    running.shutdown().await;
}

async fn json_token(addr: SocketAddr, path: &str, body: &str, field: &str) -> String {
    let (status, _, reply) = support::http(
        addr,
        "POST",
        path,
        "Content-Type: application/json\r\n",
        body,
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    serde_json::from_str::<Value>(&reply).unwrap()[field]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The document's Molecule handshake for the demo gateway.
fn molecule_handshake(token: &str) -> Vec<u8> {
    let mut buf = vec![0x01, 0x02];
    for part in ["demo-gateway", token] {
        let len = u16::try_from(part.len()).unwrap();
        buf.extend_from_slice(&len.to_be_bytes());
        buf.extend_from_slice(part.as_bytes());
    }
    buf.extend_from_slice(&[0x01, 0x04]);
    buf
}

#[tokio::test]
async fn token_expiry_leaves_live_sessions_where_the_document_checks_only_at_connect() {
    let running = start(&[Api::Molecule, Api::Valtronics, Api::Mosaic]).await;
    // Molecule: the live relay goes on; a new handshake with the old token gets status 0
    // and close 1008.
    let molecule = running.addr(Api::Molecule).unwrap();
    let (status, _, body) = support::http(
        molecule,
        "POST",
        "/connect/token",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        "username=demo&password=demo&client_id=molecule-api&grant_type=password",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = serde_json::from_str::<Value>(&body).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut live = connect(format!("ws://{molecule}/ws")).await;
    live.send(Message::Binary(molecule_handshake(&token).into()))
        .await
        .unwrap();
    assert_eq!(
        next_frame(&mut live).await,
        Message::Binary(vec![2, 1, 4].into())
    );
    fault(molecule, "token-expiry", None).await;
    let mut late = connect(format!("ws://{molecule}/ws")).await;
    late.send(Message::Binary(molecule_handshake(&token).into()))
        .await
        .unwrap();
    assert_eq!(
        next_frame(&mut late).await,
        Message::Binary(vec![2, 0, 4].into())
    );
    assert_eq!(end(&mut late).await.map(|(code, _)| code), Some(1008));
    let live_id = id_of(molecule, &live).await;
    fault(molecule, "malformed=wrong-type", Some(live_id)).await;
    assert!(
        matches!(next_frame(&mut live).await, Message::Binary(b) if b[0] == 0xEE),
        "the live relay still takes frames"
    );

    // Valtronics: a new `auth` with the old token is answered invalid_token.
    let valtronics = running.addr(Api::Valtronics).unwrap();
    let token = json_token(
        valtronics,
        "/api/v1/auth/login",
        r#"{"username":"demo","password":"demo"}"#,
        "access_token",
    )
    .await;
    fault(valtronics, "token-expiry", None).await;
    let mut ws = connect(format!("ws://{valtronics}/ws")).await;
    send(&mut ws, json!({"type": "auth", "token": token})).await;
    let reply = next_json(&mut ws).await;
    assert_eq!(
        (
            reply["type"].as_str(),
            reply["success"].as_bool(),
            reply["error"].as_str()
        ),
        (Some("auth_response"), Some(false), Some("invalid_token")),
        "{reply}"
    );

    // Mosaic: the live session goes on (keepalives refresh it past its token), a new
    // session with the old token is refused.
    let mosaic = running.addr(Api::Mosaic).unwrap();
    let token = json_token(
        mosaic,
        "/authenticate",
        r#"{"username":"demo","password":"demo"}"#,
        "token",
    )
    .await;
    let mut live = connect(format!("ws://{mosaic}/query")).await;
    let key = keepalive(&mut live, &token).await;
    fault(mosaic, "token-expiry", None).await;
    assert_eq!(
        keepalive(&mut live, &token).await,
        key,
        "the session lives on"
    );
    let mut late = connect(format!("ws://{mosaic}/query")).await;
    send(
        &mut late,
        json!({"request": "system", "id": 1, "token": token}),
    )
    .await;
    let reply = next_json(&mut late).await;
    assert_eq!(reply["error"], "token_expired", "{reply}");
    running.shutdown().await;
}
