//! The simulated Mosaic controller over real loopback sockets: authentication, every
//! channel, subscriptions, keepalive and session keys, the connection cap, bad input,
//! shutdown, determinism and the document's own message sequence.

mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::SinkExt;
use futures_util::StreamExt;
use serde_json::Value;
use serde_json::json;
use telewire_protocols::auth::AccessLevel;
use telewire_protocols::auth::TokenVerifier;
use telewire_protocols::frame::Inbound;
use telewire_protocols::frame::Outbound;
use telewire_protocols::mosaic::Beacon;
use telewire_protocols::mosaic::Broadcast;
use telewire_protocols::mosaic::BroadcastData;
use telewire_protocols::mosaic::Channel;
use telewire_protocols::mosaic::ChannelKind;
use telewire_protocols::mosaic::ErrorReply;
use telewire_protocols::mosaic::KeepaliveReply;
use telewire_protocols::mosaic::MosaicSession;
use telewire_protocols::mosaic::PreparedBroadcast;
use telewire_protocols::mosaic::Reply;
use telewire_protocols::mosaic::ReplyData;
use telewire_protocols::mosaic::ServerMessage;
use telewire_protocols::mosaic::SessionKey;
use telewire_protocols::session::ServerSession;
use telewire_protocols::time::Timestamp;
use telewire_simulator::jwt::JwtAuthority;
use telewire_simulator::mosaic;
use telewire_simulator::mosaic::scenario::Model;
use telewire_simulator::mosaic::scenario::Rates;
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
const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// The document's example `system` reply, member by member.
const SYSTEM_MEMBERS: [&str; 14] = [
    "hardware_type",
    "channel_capacity",
    "serial_number",
    "memory_total",
    "memory_used",
    "memory_available",
    "storage_size",
    "bootloader_version",
    "firmware_version",
    "reset_reason",
    "last_boot_time",
    "ip_address",
    "subnet_mask",
    "default_gateway",
];

const SUBSCRIBABLE: [&str; 9] = [
    "timeline",
    "scene",
    "group",
    "content_target",
    "remote_device",
    "beacon",
    "log",
    "lua",
    "io_module",
];

/// A show that moves every 5 ms, with an event about every other tick.
fn fast_options() -> ServeOptions {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.mosaic.rates = Rates {
        tick_ms: 5,
        position_ms: 5,
        level_ms: 5,
        event_ms: 10,
        lua_ms: 5,
        log_ms: 5,
        io_ms: 5,
    };
    opts
}

fn open_options() -> ServeOptions {
    let mut opts = fast_options();
    opts.scenario.mosaic.security = false;
    opts
}

/// Security off, group levels every 10 ms tick, everything else at its default rate.
fn steady_options() -> ServeOptions {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.mosaic.security = false;
    opts.scenario.mosaic.rates.tick_ms = 10;
    opts.scenario.mosaic.rates.level_ms = 10;
    opts
}

async fn start(opts: ServeOptions) -> (Running, SocketAddr) {
    let running = serve::start(&[Api::Mosaic], opts).await.unwrap();
    let addr = running.addr(Api::Mosaic).unwrap();
    (running, addr)
}

/// A tiny HTTP/1.1 client: one request, `Connection: close`, status, head and body back.
async fn post(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, String, String) {
    let headers = format!("Content-Type: {content_type}\r\n");
    support::http(addr, "POST", path, &headers, body).await
}

/// `POST /authenticate` with the demo credentials; the token.
async fn authenticate(addr: SocketAddr) -> String {
    let (status, head, body) = post(
        addr,
        "/authenticate",
        JSON,
        r#"{"username":"demo","password":"demo"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert!(head.contains("access-control-allow-origin: *"), "{head}");
    let data: Value = serde_json::from_str(&body).unwrap();
    data["token"].as_str().unwrap().to_owned()
}

async fn connect(addr: SocketAddr) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/query"))
        .await
        .unwrap();
    ws
}

async fn send(ws: &mut Ws, value: Value) {
    ws.send(Message::Text(value.to_string().into()))
        .await
        .unwrap();
}

async fn next(ws: &mut Ws) -> Message {
    tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("a frame in time")
        .expect("the stream is open")
        .expect("a valid frame")
}

/// The next frame that is not a broadcast: a reply, an error, `{}` or binary.
async fn next_answer(ws: &mut Ws) -> Message {
    for _ in 0..10_000 {
        let msg = next(ws).await;
        if let Message::Text(text) = &msg
            && matches!(
                ServerMessage::decode(text.as_str()),
                Ok(ServerMessage::Broadcast(_))
            )
        {
            continue;
        }
        return msg;
    }
    panic!("no answer among 10000 broadcasts");
}

async fn next_reply(ws: &mut Ws) -> Reply {
    match next_answer(ws).await {
        Message::Text(text) => match ServerMessage::decode(text.as_str()) {
            Ok(ServerMessage::Reply(reply)) => reply,
            other => panic!("expected a reply, got {other:?} from {text}"),
        },
        other => panic!("expected a text reply, got {other:?}"),
    }
}

async fn next_error(ws: &mut Ws) -> ErrorReply {
    match next_answer(ws).await {
        Message::Text(text) => match ServerMessage::decode(text.as_str()) {
            Ok(ServerMessage::Error(e)) => e,
            other => panic!("expected an error reply, got {other:?} from {text}"),
        },
        other => panic!("expected a text error, got {other:?}"),
    }
}

async fn next_keepalive(ws: &mut Ws) -> KeepaliveReply {
    match next_answer(ws).await {
        Message::Binary(bytes) => KeepaliveReply::decode(&bytes).unwrap(),
        other => panic!("expected the binary keepalive reply, got {other:?}"),
    }
}

async fn next_broadcast(ws: &mut Ws) -> Broadcast {
    for _ in 0..10_000 {
        if let Message::Text(text) = next(ws).await {
            match ServerMessage::decode(text.as_str()) {
                Ok(ServerMessage::Broadcast(b)) => return b,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    panic!("no broadcast");
}

/// Reads until the close frame and returns its code.
async fn close_code(ws: &mut Ws) -> u16 {
    for _ in 0..100_000 {
        if let Message::Close(frame) = next(ws).await {
            return frame.map(|f| f.code.into()).unwrap_or(1005);
        }
    }
    panic!("no close frame");
}

#[tokio::test]
async fn authenticate_issues_real_tokens_and_refuses_bad_credentials() {
    let (running, addr) = start(ServeOptions::ephemeral()).await;
    let token = authenticate(addr).await;
    let jwt = JwtAuthority::new("telewire-mosaic", SECRET, Duration::from_secs(300));
    let claims = jwt.claims(&token).unwrap();
    assert_eq!(claims.sub, "demo");
    assert_eq!(claims.exp - claims.iat, 300, "tokens live 5 minutes");
    let (status, _, body) = post(addr, "/authenticate", FORM, "username=demo&password=demo").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"token\""));
    let (status, _, body) = post(
        addr,
        "/authenticate",
        JSON,
        r#"{"username":"demo","password":"wrong"}"#,
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        "invalid_credentials"
    );
    let (status, _, body) = post(addr, "/authenticate", JSON, "{nope").await;
    assert_eq!(status, 400);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        "invalid_request"
    );
    let info = &running.apis[0].info;
    assert!(info.ws_urls[0].ends_with("/query"));
    assert!(info.http[0].starts_with("POST http://"));
    assert!(!info.credentials.is_empty() && !info.notes.is_empty());
    assert!(
        jwt.claims(&info.token).is_some(),
        "the printed token is real"
    );
    running.shutdown().await;
}

#[test]
fn the_embedded_default_section_is_the_built_in_default() {
    let scenario = Scenario::embedded_default();
    assert_eq!(scenario.mosaic, mosaic::Scenario::default());
}

#[tokio::test]
async fn every_requestable_channel_is_answered_with_its_id() {
    let (running, addr) = start(ServeOptions::ephemeral()).await;
    let token = authenticate(addr).await;
    let mut ws = connect(addr).await;
    let requestable: Vec<_> = ChannelKind::ALL
        .iter()
        .filter(|k| k.capability().request)
        .collect();
    assert_eq!(requestable.len(), 22);
    for (n, kind) in requestable.iter().enumerate() {
        send(
            &mut ws,
            json!({"request": kind.name(), "id": n, "token": token}),
        )
        .await;
        let reply = next_reply(&mut ws).await;
        assert_eq!(reply.channel.as_str(), kind.name());
        assert_eq!(reply.id.map(|id| id.0.as_u64()), Some(Some(n as u64)));
        assert!(reply.data.fits(&reply.channel));
        let data = serde_json::to_value(&reply.data).unwrap();
        assert!(
            data.as_object().is_some_and(|o| !o.is_empty()),
            "{kind}: {data}"
        );
        match kind {
            ChannelKind::System => {
                let keys: BTreeSet<_> = data.as_object().unwrap().keys().cloned().collect();
                let want: BTreeSet<_> = SYSTEM_MEMBERS.iter().map(|s| s.to_string()).collect();
                assert_eq!(keys, want);
                assert_eq!(data["hardware_type"], "MSC");
            }
            ChannelKind::Timeline => {
                assert_eq!(data["timelines"].as_array().unwrap().len(), 3);
                assert_eq!(data["timelines"][0]["state"], "running");
            }
            ChannelKind::Group => assert_eq!(data["groups"][0]["name"], "Facade"),
            ChannelKind::Output => {
                assert_eq!(data["channels"].as_array().unwrap().len(), 512)
            }
            _ => {}
        }
    }
    // Without an id the reply still names the channel; the hyphenated spelling is echoed.
    send(&mut ws, json!({"request": "current_time", "token": token})).await;
    let reply = next_reply(&mut ws).await;
    assert_eq!(reply.id, None);
    assert!(matches!(reply.data, ReplyData::CurrentTime(ref t) if t.local_time > 1_600_000_000));
    send(
        &mut ws,
        json!({"request": "remote-device", "id": 7, "token": token}),
    )
    .await;
    let reply = next_reply(&mut ws).await;
    assert_eq!(reply.channel.as_str(), "remote-device");
    assert!(matches!(reply.data, ReplyData::RemoteDevices(ref d) if d.remote_devices.len() == 3));
    // A `num` filter narrows the lists.
    send(
        &mut ws,
        json!({"request": "timeline", "num": 2, "id": 8, "token": token}),
    )
    .await;
    let data = serde_json::to_value(next_reply(&mut ws).await.data).unwrap();
    assert_eq!(data["timelines"].as_array().unwrap().len(), 1);
    assert_eq!(data["timelines"][0]["num"], 2);
    running.shutdown().await;
}

#[tokio::test]
async fn subscriptions_push_every_channel_as_the_show_moves() {
    let (running, addr) = start(fast_options()).await;
    let token = authenticate(addr).await;
    let mut ws = connect(addr).await;
    for ch in SUBSCRIBABLE {
        send(&mut ws, json!({"subscribe": ch, "token": token})).await;
    }
    let mut seen = BTreeSet::new();
    let mut positions = Vec::new();
    for _ in 0..20_000 {
        let b = next_broadcast(&mut ws).await;
        assert!(b.data.fits(&b.channel));
        if let BroadcastData::Timeline(t) = &b.data
            && t.num == 1
            && positions.len() < 3
        {
            positions.push(t.position);
        }
        seen.insert(b.channel.as_str().to_owned());
        if seen.len() == SUBSCRIBABLE.len() && positions.len() >= 3 {
            break;
        }
    }
    let want: BTreeSet<_> = SUBSCRIBABLE.iter().map(|s| s.to_string()).collect();
    assert_eq!(seen, want);
    assert!(
        positions.windows(2).any(|w| w[1] > w[0]),
        "timeline 1 advances: {positions:?}"
    );
    running.shutdown().await;
}

#[tokio::test]
async fn security_off_needs_no_token_and_keepalive_gets_empty_object() {
    let (running, addr) = start(open_options()).await;
    let mut ws = connect(addr).await;
    send(&mut ws, json!({"request": "system", "id": 1})).await;
    assert!(matches!(
        next_reply(&mut ws).await.data,
        ReplyData::System(_)
    ));
    send(&mut ws, json!({})).await;
    assert_eq!(next_answer(&mut ws).await, Message::Text("{}".into()));
    ws.send(Message::Text("".into())).await.unwrap();
    assert_eq!(next_answer(&mut ws).await, Message::Text("{}".into()));
    send(&mut ws, json!({"subscribe": "group"})).await;
    let b = next_broadcast(&mut ws).await;
    assert!(matches!(b.data, BroadcastData::Group(_)));
    running.shutdown().await;
}

#[tokio::test]
async fn security_on_refuses_missing_and_bad_tokens() {
    let (running, addr) = start(fast_options()).await;
    let mut ws = connect(addr).await;
    send(&mut ws, json!({"request": "system", "id": 3})).await;
    let e = next_error(&mut ws).await;
    assert_eq!(e.error.as_str(), "token_missing");
    assert_eq!(e.request.as_ref().map(|c| c.as_str()), Some("system"));
    assert_eq!(e.id.map(|id| id.0.as_u64()), Some(Some(3)));
    send(
        &mut ws,
        json!({"request": "system", "id": 4, "token": "not.a.jwt"}),
    )
    .await;
    assert_eq!(next_error(&mut ws).await.error.as_str(), "token_invalid");
    let foreign = JwtAuthority::new(
        "telewire-mosaic",
        b"another secret",
        Duration::from_secs(300),
    )
    .issue(
        "demo",
        AccessLevel::Admin,
        Timestamp::from_unix_secs(2_000_000_000),
    );
    send(&mut ws, json!({"subscribe": "group", "token": foreign})).await;
    let e = next_error(&mut ws).await;
    assert_eq!(e.error.as_str(), "token_invalid");
    assert_eq!(e.subscribe.as_ref().map(|c| c.as_str()), Some("group"));
    // A keepalive with no session, or with a refused token, gets the 16 zero bytes.
    send(&mut ws, json!({})).await;
    assert_eq!(next_keepalive(&mut ws).await, KeepaliveReply::TimedOut);
    send(&mut ws, json!({"token": "forged"})).await;
    assert_eq!(next_keepalive(&mut ws).await, KeepaliveReply::TimedOut);
    running.shutdown().await;
}

#[tokio::test]
async fn keepalive_returns_the_session_key_and_a_new_token_refreshes() {
    let (running, addr) = start(ServeOptions::ephemeral()).await;
    let token = authenticate(addr).await;
    let mut ws = connect(addr).await;
    send(&mut ws, json!({"subscribe": "timeline", "token": token})).await;
    send(&mut ws, json!({"token": token})).await;
    let key = match next_keepalive(&mut ws).await {
        KeepaliveReply::SessionKey(key) => key,
        KeepaliveReply::TimedOut => panic!("the session is valid"),
    };
    assert_eq!(key, SessionKey::from_seed(1), "the controller's key");
    ws.send(Message::Text("".into())).await.unwrap();
    assert_eq!(
        next_keepalive(&mut ws).await,
        KeepaliveReply::SessionKey(key)
    );
    let fresh = authenticate(addr).await;
    send(&mut ws, json!({"token": fresh})).await;
    assert_eq!(
        next_keepalive(&mut ws).await,
        KeepaliveReply::SessionKey(key)
    );
    let mut other = connect(addr).await;
    send(&mut other, json!({"token": fresh})).await;
    assert_eq!(
        next_keepalive(&mut other).await,
        KeepaliveReply::SessionKey(key),
        "one key until the controller restarts"
    );
    running.shutdown().await;
}

#[tokio::test]
async fn a_timed_out_session_gets_sixteen_zero_bytes() {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.mosaic.session_timeout_ms = 0;
    let (running, addr) = start(opts).await;
    let token = authenticate(addr).await;
    let mut ws = connect(addr).await;
    send(&mut ws, json!({"subscribe": "log", "token": token})).await;
    send(&mut ws, json!({"token": token})).await;
    let reply = next_answer(&mut ws).await;
    assert_eq!(reply, Message::Binary(vec![0u8; 16].into()));
    send(
        &mut ws,
        json!({"request": "system", "id": 9, "token": token}),
    )
    .await;
    assert_eq!(
        next_error(&mut ws).await.error.as_str(),
        "session_timed_out"
    );
    // Re-authenticating starts a new session.
    let fresh = authenticate(addr).await;
    send(&mut ws, json!({"token": fresh})).await;
    assert!(matches!(
        next_keepalive(&mut ws).await,
        KeepaliveReply::SessionKey(_)
    ));
    running.shutdown().await;
}

/// Tokens live 5 minutes; keepalives carry a session past its token's expiry, and a session
/// left a whole lifetime without one times out. Driven by hand with virtual time.
#[test]
fn keepalives_refresh_the_session_past_the_token_lifetime() {
    let jwt = Arc::new(JwtAuthority::new(
        "telewire-mosaic",
        SECRET,
        Duration::from_secs(300),
    ));
    let scenario = mosaic::Scenario::default();
    let mut session = MosaicSession::new(
        mosaic::session_config(&scenario),
        jwt.clone(),
        SessionKey::from_seed(1),
    );
    let t0 = Timestamp::from_unix_secs(1_800_000_000);
    let token = jwt.issue("demo", AccessLevel::Admin, t0);
    let keepalive = json!({"token": token}).to_string();
    let answer = |session: &mut MosaicSession, secs: u64| {
        session.handle_frame(t0 + Duration::from_secs(secs), Inbound::Text(&keepalive));
        match session.poll_transmit() {
            Some(Outbound::Binary(bytes)) => KeepaliveReply::decode(&bytes).unwrap(),
            other => panic!("expected a binary reply, got {other:?}"),
        }
    };
    assert!(matches!(
        answer(&mut session, 0),
        KeepaliveReply::SessionKey(_)
    ));
    assert!(matches!(
        answer(&mut session, 250),
        KeepaliveReply::SessionKey(_)
    ));
    assert!(jwt.verify(&token, t0 + Duration::from_secs(400)).is_err());
    assert!(
        matches!(answer(&mut session, 400), KeepaliveReply::SessionKey(_)),
        "the session outlives its token while refreshed"
    );
    assert_eq!(session.poll_timeout(), Some(t0 + Duration::from_secs(700)));
    let subscribe = json!({"subscribe": "beacon", "token": token}).to_string();
    session.handle_frame(t0 + Duration::from_secs(401), Inbound::Text(&subscribe));
    let beacon = PreparedBroadcast::new(Broadcast {
        channel: Channel::BEACON,
        data: BroadcastData::Beacon(Beacon {
            on: true,
            extra: Default::default(),
        }),
        extra: Default::default(),
    })
    .unwrap();
    assert!(session.offer(t0 + Duration::from_secs(402), &beacon));
    assert!(matches!(session.poll_transmit(), Some(Outbound::Text(_))));
    session.handle_timeout(t0 + Duration::from_secs(700));
    assert!(
        !session.offer(t0 + Duration::from_secs(700), &beacon),
        "a timed-out session gets no broadcasts"
    );
    assert_eq!(answer(&mut session, 701), KeepaliveReply::TimedOut);
}

async fn refused_status(addr: SocketAddr) -> u16 {
    match tokio_tungstenite::connect_async(format!("ws://{addr}/query")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Ok(_) => panic!("connection above the cap was accepted"),
        Err(other) => panic!("unexpected error {other}"),
    }
}

#[tokio::test]
async fn the_controller_model_caps_connections() {
    for (model, cap) in [(Model::Msc, 8), (Model::Atlas, 16), (Model::MscX, 16)] {
        let mut opts = open_options();
        opts.scenario.mosaic.model = model;
        let (running, addr) = start(opts).await;
        let mut open = Vec::new();
        for _ in 0..cap {
            open.push(connect(addr).await);
        }
        assert_eq!(refused_status(addr).await, 503, "{model:?}");
        let (status, _, body) = post(
            addr,
            "/authenticate",
            JSON,
            r#"{"username":"demo","password":"demo"}"#,
        )
        .await;
        assert_eq!(status, 503, "HTTP counts too");
        assert!(body.contains("too_many_connections"), "{body}");
        // Closing one frees its place once the server has seen it go.
        let mut first = open.remove(0);
        first.close(None).await.unwrap();
        drop(first);
        let mut admitted = None;
        for _ in 0..1_000 {
            if let Ok((ws, _)) =
                tokio_tungstenite::connect_async(format!("ws://{addr}/query")).await
            {
                admitted = Some(ws);
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(admitted.is_some(), "a freed place is given again");
        running.shutdown().await;
    }
}

#[tokio::test]
async fn bad_input_gets_error_replies_and_the_socket_stays_open() {
    let (running, addr) = start(open_options()).await;
    let mut ws = connect(addr).await;
    ws.send(Message::Text("{not json".into())).await.unwrap();
    assert_eq!(next_error(&mut ws).await.error.as_str(), "malformed");
    ws.send(Message::Text("[1,2]".into())).await.unwrap();
    assert_eq!(next_error(&mut ws).await.error.as_str(), "malformed");
    send(&mut ws, json!({"request": "system", "subscribe": "log"})).await;
    assert_eq!(next_error(&mut ws).await.error.as_str(), "malformed");
    send(&mut ws, json!({"request": 5})).await;
    assert_eq!(next_error(&mut ws).await.error.as_str(), "malformed");
    ws.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(next_error(&mut ws).await.error.as_str(), "unsupported_data");
    send(&mut ws, json!({"request": "time", "id": 2})).await;
    let e = next_error(&mut ws).await;
    assert_eq!(e.error.as_str(), "unknown_channel");
    assert_eq!(e.id.map(|id| id.0.as_u64()), Some(Some(2)));
    for ch in ["beacon", "lua", "io_module"] {
        send(&mut ws, json!({"request": ch, "id": 3})).await;
        assert_eq!(next_error(&mut ws).await.error.as_str(), "not_requestable");
    }
    send(&mut ws, json!({"subscribe": "system"})).await;
    assert_eq!(next_error(&mut ws).await.error.as_str(), "not_subscribable");
    send(&mut ws, json!({"subscribe": "nonsense"})).await;
    assert_eq!(next_error(&mut ws).await.error.as_str(), "unknown_channel");
    send(&mut ws, json!({"request": "project", "id": 4})).await;
    assert_eq!(next_reply(&mut ws).await.channel.as_str(), "project");
    running.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_clients_with_1001() {
    let (running, addr) = start(fast_options()).await;
    let token = authenticate(addr).await;
    let mut ws = connect(addr).await;
    send(&mut ws, json!({"subscribe": "group", "token": token})).await;
    next_broadcast(&mut ws).await;
    let stop = tokio::spawn(running.shutdown());
    assert_eq!(close_code(&mut ws).await, 1001);
    drop(ws);
    tokio::time::timeout(WAIT, stop).await.unwrap().unwrap();
}

/// The first `n` group levels a fresh subscriber of a fresh server sees.
async fn first_levels(n: usize) -> Vec<(u32, u8)> {
    let (running, addr) = start(steady_options()).await;
    let mut ws = connect(addr).await;
    send(&mut ws, json!({"subscribe": "group"})).await;
    let mut levels = Vec::new();
    while levels.len() < n {
        if let BroadcastData::Group(g) = next_broadcast(&mut ws).await.data {
            levels.push((g.num, g.level.percent()));
        }
    }
    running.shutdown().await;
    levels
}

#[tokio::test]
async fn same_seed_serves_the_same_first_100_values() {
    let a = first_levels(100).await;
    let b = first_levels(100).await;
    assert_eq!(a, b);
    assert_eq!(
        a,
        mosaic::first_group_levels(1, &steady_options().scenario.mosaic, 100)
    );
    assert_ne!(
        a,
        mosaic::first_group_levels(2, &steady_options().scenario.mosaic, 100)
    );
}

/// The document's messages in its order: authenticate, subscribe with the token, keep
/// alive, request `system` with `id` 1; then the same without security.
#[tokio::test]
async fn replays_the_documents_message_sequence() {
    let (running, addr) = start(fast_options()).await;
    let token = authenticate(addr).await;
    let mut ws = connect(addr).await;
    send(&mut ws, json!({"subscribe": "timeline", "token": token})).await;
    send(&mut ws, json!({"token": token})).await;
    assert!(matches!(
        next_keepalive(&mut ws).await,
        KeepaliveReply::SessionKey(_)
    ));
    send(
        &mut ws,
        json!({"request": "system", "id": 1, "token": token}),
    )
    .await;
    let reply = next_reply(&mut ws).await;
    assert_eq!(reply.channel.as_str(), "system");
    assert_eq!(serde_json::to_value(&reply.id).unwrap(), json!(1));
    let b = next_broadcast(&mut ws).await;
    assert!(matches!(b.data, BroadcastData::Timeline(_)));
    running.shutdown().await;

    let (running, addr) = start(open_options()).await;
    let mut ws = connect(addr).await;
    send(&mut ws, json!({"request": "system", "id": 1})).await;
    let Message::Text(text) = next_answer(&mut ws).await else {
        panic!("a text reply");
    };
    let raw: Value = serde_json::from_str(text.as_str()).unwrap();
    assert_eq!(raw["request"], "system");
    assert_eq!(raw["id"], 1);
    let keys: BTreeSet<_> = raw["data"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, SYSTEM_MEMBERS.iter().map(|s| s.to_string()).collect());
    send(&mut ws, json!({"subscribe": "timeline"})).await;
    send(&mut ws, json!({})).await;
    assert_eq!(next_answer(&mut ws).await, Message::Text("{}".into()));
    running.shutdown().await;
}

/// A browser app on another origin: the JSON `POST /authenticate` is preflighted.
#[tokio::test]
async fn a_cors_preflight_is_answered() {
    let (running, addr) = start(ServeOptions::ephemeral()).await;
    let (status, head, _) = support::http(
        addr,
        "OPTIONS",
        "/authenticate",
        "Origin: http://localhost:5173\r\nAccess-Control-Request-Method: POST\r\n\
         Access-Control-Request-Headers: content-type\r\n",
        "",
    )
    .await;
    assert_eq!(status, 204, "{head}");
    assert!(head.contains("access-control-allow-origin: *"), "{head}");
    assert!(
        head.contains("access-control-allow-methods: get, post, options"),
        "{head}"
    );
    assert!(
        head.contains("access-control-allow-headers: content-type"),
        "{head}"
    );
    running.shutdown().await;
}
