//! Mosaic steps: `/query` requests, subscriptions, keepalive, `POST /authenticate` and the
//! connection cap. Every message is built and read through `telewire_protocols::mosaic`.

use std::time::Instant;

use cucumber::given;
use cucumber::then;
use cucumber::when;
use serde_json::Map;
use serde_json::Number;
use serde_json::Value;
use telewire_protocols::mosaic::Channel;
use telewire_protocols::mosaic::ClientMessage;
use telewire_protocols::mosaic::Keepalive;
use telewire_protocols::mosaic::KeepaliveReply;
use telewire_protocols::mosaic::Request;
use telewire_protocols::mosaic::RequestId;
use telewire_protocols::mosaic::ServerMessage;
use telewire_protocols::mosaic::SessionKey;
use telewire_protocols::mosaic::Subscribe;
use telewire_protocols::mosaic::http::AUTHENTICATE_PATH;
use telewire_protocols::mosaic::http::AuthenticateRequest;
use telewire_protocols::mosaic::http::AuthenticateResponse;
use telewire_simulator::wsclient::Incoming;

use crate::http;
use crate::world::StepResult;
use crate::world::WAIT;
use crate::world::World;
use crate::world::describe;

const QUERY: &str = "query";
/// The id of the request a step sends to learn that earlier messages were handled.
const PROBE_ID: u64 = 4242;

/// Which token a message carries.
enum Token {
    /// The configured one (none when the controller's security is off).
    Configured,
    /// No token member.
    None,
}

fn token_of(world: &World, token: Token) -> Option<String> {
    match token {
        Token::Configured => world.target.token.clone(),
        Token::None => None,
    }
}

fn id_of(id: u64) -> RequestId {
    RequestId(Number::from(id))
}

fn request_text(channel: &str, id: Option<u64>, token: Option<String>) -> String {
    ClientMessage::Request(Request {
        channel: Channel::new(channel),
        id: id.map(id_of),
        token,
        params: Map::new(),
    })
    .to_text()
}

async fn open(world: &mut World, name: &str) -> StepResult {
    let url = world.target.url.clone();
    world.last = name.to_owned();
    match world.connect(name, &url).await? {
        Some(status) => Err(format!(
            "expected the WebSocket upgrade of {url} to succeed; observed HTTP {status}"
        )),
        None => Ok(()),
    }
}

/// The next text message decoded as a documented server message.
async fn next_message(world: &mut World, name: &str) -> Result<ServerMessage, String> {
    match world.recv(name).await? {
        Incoming::Text(text) => ServerMessage::decode(&text).map_err(|e| {
            format!("the message does not decode as a documented server message ({e}): {text}")
        }),
        other => Err(format!(
            "expected a JSON text message; observed {}",
            describe(&other)
        )),
    }
}

fn same_id(got: Option<&RequestId>, id: Option<u64>) -> bool {
    match (got, id) {
        (None, None) => true,
        (Some(got), Some(id)) => got.0.as_u64() == Some(id),
        _ => false,
    }
}

/// Reads until the reply to `channel` with `id`; broadcasts and error replies to other
/// messages are passed over.
async fn reply_to(world: &mut World, channel: &str, id: Option<u64>) -> Result<Value, String> {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        match next_message(world, QUERY).await? {
            ServerMessage::Reply(reply) if same_id(reply.id.as_ref(), id) => {
                if reply.channel.as_str() != channel {
                    return Err(format!(
                        "expected the reply to echo \"request\": {channel:?}; observed {:?}",
                        reply.channel.as_str()
                    ));
                }
                return serde_json::to_value(&reply.data)
                    .map_err(|e| format!("the reply's data does not encode: {e}"));
            }
            ServerMessage::Error(err) if same_id(err.id.as_ref(), id) && id.is_some() => {
                return Err(format!(
                    "expected the reply to {channel:?} with its data; observed the error reply {:?} {:?}",
                    err.error.as_str(),
                    err.message.unwrap_or_default()
                ));
            }
            _ => {}
        }
    }
    Err(format!("no reply to {channel:?} within {WAIT:?}"))
}

#[given("a client connected to the query endpoint")]
async fn connected(world: &mut World) -> StepResult {
    open(world, QUERY).await
}

#[when(regex = r#"^the client requests "([^"]*)" with id (\d+) and the configured token$"#)]
async fn request_configured(world: &mut World, channel: String, id: u64) -> StepResult {
    let text = request_text(&channel, Some(id), token_of(world, Token::Configured));
    world.send_text(QUERY, &text).await
}

#[when(regex = r#"^the client requests "([^"]*)" with id (\d+) and no token$"#)]
async fn request_without_token(world: &mut World, channel: String, id: u64) -> StepResult {
    let text = request_text(&channel, Some(id), token_of(world, Token::None));
    world.send_text(QUERY, &text).await
}

#[when(regex = r#"^the client requests "([^"]*)" with id (\d+) and the token "([^"]*)"$"#)]
async fn request_with_token(
    world: &mut World,
    channel: String,
    id: u64,
    token: String,
) -> StepResult {
    let text = request_text(&channel, Some(id), Some(token));
    world.send_text(QUERY, &text).await
}

#[when(regex = r#"^the client requests "([^"]*)" with id (\d+) and the expired token$"#)]
async fn request_expired(world: &mut World, channel: String, id: u64) -> StepResult {
    let token = world
        .target
        .expired_token
        .clone()
        .ok_or("no expired token configured")?;
    let text = request_text(&channel, Some(id), Some(token));
    world.send_text(QUERY, &text).await
}

#[when(regex = r#"^the client requests "([^"]*)" with id (\d+) and the Status-level token$"#)]
async fn request_status(world: &mut World, channel: String, id: u64) -> StepResult {
    let token = world
        .target
        .status_token
        .clone()
        .ok_or("no Status-level token configured")?;
    let text = request_text(&channel, Some(id), Some(token));
    world.send_text(QUERY, &text).await
}

#[when(regex = r#"^the client requests "([^"]*)" without an id$"#)]
async fn request_without_id(world: &mut World, channel: String) -> StepResult {
    let text = request_text(&channel, None, token_of(world, Token::Configured));
    world.send_text(QUERY, &text).await
}

#[then(regex = r#"^the reply to "([^"]*)" with id (\d+) carries its data$"#)]
async fn reply_with_id(world: &mut World, channel: String, id: u64) -> StepResult {
    reply_to(world, &channel, Some(id)).await.map(|_| ())
}

#[then(regex = r#"^the reply to "([^"]*)" without an id carries its data$"#)]
async fn reply_without_id(world: &mut World, channel: String) -> StepResult {
    reply_to(world, &channel, None).await.map(|_| ())
}

#[then(regex = r#"^the reply to "([^"]*)" with id (\d+) has the fields (.+)$"#)]
async fn reply_fields(world: &mut World, channel: String, id: u64, fields: String) -> StepResult {
    let data = reply_to(world, &channel, Some(id)).await?;
    let missing: Vec<&str> = fields
        .split(',')
        .map(str::trim)
        .filter(|f| data.get(f).is_none())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "expected the data to carry {fields}; observed it without {}: {data}",
            missing.join(", ")
        ))
    }
}

/// Sends a probe request with the configured token and reads until its reply, the close
/// or the time bound; every message before it is returned.
async fn probe(world: &mut World) -> Result<(Vec<ServerMessage>, bool), String> {
    let text = request_text("system", Some(PROBE_ID), token_of(world, Token::Configured));
    world.send_text(QUERY, &text).await?;
    let mut seen = Vec::new();
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        match world.recv(QUERY).await? {
            Incoming::Close(_) => return Ok((seen, false)),
            Incoming::Text(text) => {
                let message = ServerMessage::decode(&text).map_err(|e| {
                    format!(
                        "the message does not decode as a documented server message ({e}): {text}"
                    )
                })?;
                if let ServerMessage::Reply(reply) = &message
                    && same_id(reply.id.as_ref(), Some(PROBE_ID))
                {
                    return Ok((seen, true));
                }
                seen.push(message);
            }
            _ => {}
        }
    }
    Err(format!(
        "the request with id {PROBE_ID} sent after it was not answered within {WAIT:?}"
    ))
}

#[then(regex = r"^the replies come in the order (.+)$")]
async fn replies_in_order(world: &mut World, order: String) -> StepResult {
    let expected: Vec<&str> = order.split(',').map(str::trim).collect();
    let mut got = Vec::new();
    while got.len() < expected.len() {
        if let ServerMessage::Reply(reply) = next_message(world, QUERY).await? {
            got.push(reply.channel.as_str().to_owned());
        }
    }
    if got == expected {
        Ok(())
    } else {
        Err(format!(
            "expected the replies in the order {}; observed {}",
            expected.join(", "),
            got.join(", ")
        ))
    }
}

#[then(regex = r"^the request with id (\d+) is not answered with data$")]
async fn not_answered(world: &mut World, id: u64) -> StepResult {
    // A server may also close the connection: a refused request is then not answered either.
    let (seen, _) = probe(world).await?;
    match seen
        .iter()
        .find(|m| matches!(m, ServerMessage::Reply(reply) if same_id(reply.id.as_ref(), Some(id))))
    {
        Some(reply) => Err(format!(
            "expected no data for the request with id {id}; observed {}",
            reply.to_text()
        )),
        None => Ok(()),
    }
}

#[then("the connection still answers a request")]
async fn still_answers(world: &mut World) -> StepResult {
    match probe(world).await? {
        (_, true) => Ok(()),
        (_, false) => Err(format!(
            "expected the connection to stay open and answer the request with id {PROBE_ID}; observed the connection closing"
        )),
    }
}

#[then(regex = r#"^the server answers with the error reply "([^"]*)"$"#)]
async fn error_reply(world: &mut World, code: String) -> StepResult {
    match next_message(world, QUERY).await? {
        ServerMessage::Error(err) if err.error.as_str() == code => Ok(()),
        other => Err(format!(
            "expected an error reply {{\"error\": {code:?}, ...}}; observed {}",
            other.to_text()
        )),
    }
}

#[when(regex = r"^the client sends the text '(.*)'$")]
async fn send_text(world: &mut World, text: String) -> StepResult {
    world.send_text(QUERY, &text).await
}

#[when("the client sends a binary frame")]
async fn send_binary(world: &mut World) -> StepResult {
    world.send_binary(QUERY, vec![0x7b, 0x7d]).await
}

// Keepalive.

fn keepalive_text(token: Option<String>) -> String {
    ClientMessage::Keepalive(Keepalive { token }).to_text()
}

#[when("the client sends a keepalive with the configured token")]
async fn keepalive_configured(world: &mut World) -> StepResult {
    let text = keepalive_text(token_of(world, Token::Configured));
    world.send_text(QUERY, &text).await
}

#[when(regex = r#"^the client sends a keepalive with the token "([^"]*)"$"#)]
async fn keepalive_with(world: &mut World, token: String) -> StepResult {
    world.send_text(QUERY, &keepalive_text(Some(token))).await
}

#[when("the client sends a keepalive with the expired token")]
async fn keepalive_expired(world: &mut World) -> StepResult {
    let token = world
        .target
        .expired_token
        .clone()
        .ok_or("no expired token configured")?;
    world.send_text(QUERY, &keepalive_text(Some(token))).await
}

#[when("the client sends an empty keepalive object")]
async fn keepalive_empty(world: &mut World) -> StepResult {
    world.send_text(QUERY, &keepalive_text(None)).await
}

#[when("the client sends an empty text frame")]
async fn empty_frame(world: &mut World) -> StepResult {
    world.send_text(QUERY, "").await
}

/// The next binary frame on `name`.
async fn binary_reply(world: &mut World, name: &str) -> Result<Vec<u8>, String> {
    match world.recv(name).await? {
        Incoming::Binary(bytes) => Ok(bytes),
        other => Err(format!(
            "expected a binary keepalive reply; observed {}",
            describe(&other)
        )),
    }
}

#[when("the client reads the keepalive reply")]
async fn read_keepalive(world: &mut World) -> StepResult {
    binary_reply(world, QUERY).await.map(|_| ())
}

#[then("the keepalive reply is a non-zero binary session key")]
async fn session_key(world: &mut World) -> StepResult {
    let bytes = binary_reply(world, QUERY).await?;
    if bytes.is_empty() || bytes.iter().all(|b| *b == 0) {
        return Err(format!(
            "expected a non-zero session key; observed {} bytes, all zero (session timed out)",
            bytes.len()
        ));
    }
    Ok(())
}

#[then("the keepalive reply is a binary object of all zeros")]
async fn all_zeros(world: &mut World) -> StepResult {
    let bytes = binary_reply(world, QUERY).await?;
    if bytes.is_empty() || bytes.iter().any(|b| *b != 0) {
        return Err(format!(
            "expected a binary object of all zeros (session timed out); observed {}",
            describe(&Incoming::Binary(bytes))
        ));
    }
    Ok(())
}

fn decode_key(bytes: &[u8]) -> Result<SessionKey, String> {
    match KeepaliveReply::decode(bytes) {
        Ok(KeepaliveReply::SessionKey(key)) => Ok(key),
        Ok(KeepaliveReply::TimedOut) => {
            Err("expected a session key; observed 16 zero bytes (session timed out)".into())
        }
        Err(e) => Err(format!(
            "expected a {}-byte session key; observed {} bytes ({e})",
            SessionKey::LEN,
            bytes.len()
        )),
    }
}

#[then("the keepalive reply is a 16-byte session key")]
async fn key_16(world: &mut World) -> StepResult {
    let bytes = binary_reply(world, QUERY).await?;
    world.session_key = Some(decode_key(&bytes)?.as_bytes().to_vec());
    Ok(())
}

#[then("a keepalive on a second connection is answered with the same session key")]
async fn same_key(world: &mut World) -> StepResult {
    let first = world
        .session_key
        .clone()
        .ok_or("no session key was read by an earlier step")?;
    let text = keepalive_text(token_of(world, Token::Configured));
    world.send_text(QUERY, &text).await?;
    let again = decode_key(&binary_reply(world, QUERY).await?)?;
    if again.as_bytes()[..] != first[..] {
        return Err("expected the same session key on a second keepalive; observed another".into());
    }
    let url = world.target.url.clone();
    if let Some(status) = world.connect("second", &url).await? {
        return Err(format!(
            "the second connection was refused with HTTP {status}"
        ));
    }
    world.send_text("second", &text).await?;
    let other = decode_key(&binary_reply(world, "second").await?)?;
    if other.as_bytes()[..] != first[..] {
        return Err(
            "expected the same session key on a second connection; observed another".into(),
        );
    }
    Ok(())
}

#[then("the keepalive reply is the text {}")]
async fn keepalive_ack(world: &mut World) -> StepResult {
    match next_message(world, QUERY).await? {
        ServerMessage::KeepaliveAck => Ok(()),
        other => Err(format!(
            "expected the text {{}}; observed {}",
            other.to_text()
        )),
    }
}

// Subscriptions.

#[when(regex = r#"^the client subscribes to "([^"]*)" with the configured token$"#)]
async fn subscribe(world: &mut World, channel: String) -> StepResult {
    let text = ClientMessage::Subscribe(Subscribe {
        channel: Channel::new(channel),
        token: token_of(world, Token::Configured),
        extra: Map::new(),
    })
    .to_text();
    world.send_text(QUERY, &text).await
}

#[when(regex = r#"^the client subscribes to "([^"]*)" without a token$"#)]
async fn subscribe_without(world: &mut World, channel: String) -> StepResult {
    let text = ClientMessage::Subscribe(Subscribe {
        channel: Channel::new(channel),
        token: None,
        extra: Map::new(),
    })
    .to_text();
    world.send_text(QUERY, &text).await
}

#[then(regex = r#"^a broadcast of "([^"]*)" arrives with its data$"#)]
async fn broadcast_arrives(world: &mut World, channel: String) -> StepResult {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        match next_message(world, QUERY).await? {
            ServerMessage::Broadcast(b) if b.channel.as_str() == channel => return Ok(()),
            ServerMessage::Error(err) => {
                return Err(format!(
                    "expected broadcasts of {channel:?}; observed the error reply {:?}",
                    err.error.as_str()
                ));
            }
            _ => {}
        }
    }
    Err(format!("no broadcast of {channel:?} within {WAIT:?}"))
}

#[then(regex = r#"^the next (\d+) broadcasts are all of "([^"]*)"$"#)]
async fn only_subscribed(world: &mut World, count: usize, channel: String) -> StepResult {
    let mut seen = 0;
    while seen < count {
        match next_message(world, QUERY).await? {
            ServerMessage::Broadcast(b) if b.channel.as_str() == channel => seen += 1,
            ServerMessage::Broadcast(b) => {
                return Err(format!(
                    "expected only broadcasts of {channel:?}; observed one of {:?}",
                    b.channel.as_str()
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

// POST /authenticate.

async fn authenticate(world: &mut World, password: &str) -> StepResult {
    let username = world
        .target
        .username
        .clone()
        .ok_or("no user name configured")?;
    let body = AuthenticateRequest {
        username,
        password: password.to_owned(),
    }
    .to_text();
    let url = format!("{}{AUTHENTICATE_PATH}", world.target.http_base());
    let answer = http::request(&url, "POST", Some("application/json"), None, &body).await?;
    world.note(
        "http",
        format!("POST {AUTHENTICATE_PATH} -> HTTP {}", answer.status),
    );
    world.http_answer = Some((answer.status, answer.body));
    Ok(())
}

#[when("the client authenticates with the configured credentials")]
async fn authenticate_configured(world: &mut World) -> StepResult {
    let password = world
        .target
        .password
        .clone()
        .ok_or("no password configured")?;
    authenticate(world, &password).await
}

#[when("the client authenticates with a wrong password")]
async fn authenticate_wrong(world: &mut World) -> StepResult {
    let password = world.target.password.clone().unwrap_or_default();
    authenticate(world, &format!("{password}-wrong")).await
}

#[then("the answer is HTTP 200 with a token")]
async fn answer_token(world: &mut World) -> StepResult {
    let (status, body) = world
        .http_answer
        .clone()
        .ok_or("no HTTP answer was received")?;
    if status != AuthenticateResponse::STATUS {
        return Err(format!("expected HTTP 200; observed HTTP {status}"));
    }
    let response = AuthenticateResponse::decode(&body).map_err(|e| {
        format!("expected {{\"token\": ...}}; observed a body that does not decode ({e})")
    })?;
    world.scratch_token = Some(response.token);
    Ok(())
}

#[then(regex = r"^the answer is HTTP (\d+)$")]
async fn answer_status(world: &mut World, expected: u16) -> StepResult {
    match &world.http_answer {
        Some((status, _)) if *status == expected => Ok(()),
        Some((status, _)) => Err(format!("expected HTTP {expected}; observed HTTP {status}")),
        None => Err("no HTTP answer was received".into()),
    }
}

#[then("that token is accepted on the query endpoint")]
async fn token_accepted(world: &mut World) -> StepResult {
    let token = world
        .scratch_token
        .clone()
        .ok_or("no token was obtained by an earlier step")?;
    open(world, QUERY).await?;
    let text = request_text("system", Some(1), Some(token));
    world.send_text(QUERY, &text).await?;
    reply_to(world, "system", Some(1)).await.map(|_| ())
}

// The connection cap.

fn client(n: usize) -> String {
    format!("client {n}")
}

#[given("as many clients connected to the query endpoint as the controller allows")]
async fn fill_cap(world: &mut World) -> StepResult {
    let max = world
        .target
        .max_connections
        .ok_or("no connection cap configured")?;
    for n in 1..=max {
        open(world, &client(n)).await?;
    }
    Ok(())
}

#[then("every one of them answers a request")]
async fn all_answer(world: &mut World) -> StepResult {
    let max = world.target.max_connections.unwrap_or_default();
    let text = request_text("system", Some(1), token_of(world, Token::Configured));
    for n in 1..=max {
        let name = client(n);
        world.send_text(&name, &text).await?;
        loop {
            match world.recv(&name).await? {
                Incoming::Text(reply) => {
                    if let Ok(ServerMessage::Reply(_)) = ServerMessage::decode(&reply) {
                        break;
                    }
                }
                other => {
                    return Err(format!(
                        "expected connection {n} of {max} to answer a request; observed {}",
                        describe(&other)
                    ));
                }
            }
        }
    }
    Ok(())
}

#[then("an HTTP request to the controller is refused")]
async fn http_refused(world: &mut World) -> StepResult {
    let max = world.target.max_connections.unwrap_or_default();
    let body = AuthenticateRequest {
        username: world.target.username.clone().unwrap_or_default(),
        password: String::new(),
    }
    .to_text();
    let url = format!("{}{AUTHENTICATE_PATH}", world.target.http_base());
    match http::request(&url, "POST", Some("application/json"), None, &body).await {
        Err(err) => {
            world.note("http", format!("POST {AUTHENTICATE_PATH} -> {err}"));
            Ok(())
        }
        Ok(answer) => {
            world.note(
                "http",
                format!("POST {AUTHENTICATE_PATH} -> HTTP {}", answer.status),
            );
            if answer.status == 503 {
                Ok(())
            } else {
                Err(format!(
                    "expected the HTTP request to be refused with {max} WebSockets open; observed it served with HTTP {}",
                    answer.status
                ))
            }
        }
    }
}

#[then("one more connection is refused")]
async fn one_more_refused(world: &mut World) -> StepResult {
    let max = world.target.max_connections.unwrap_or_default();
    let name = client(max + 1);
    let url = world.target.url.clone();
    if world.connect(&name, &url).await?.is_some() {
        return Ok(());
    }
    // Upgraded anyway: it must not be served (closed, or never answering).
    let text = request_text("system", Some(1), token_of(world, Token::Configured));
    if world.send_text(&name, &text).await.is_err() {
        return Ok(());
    }
    match world.recv(&name).await {
        Ok(Incoming::Close(_)) | Err(_) => Ok(()),
        Ok(other) => Err(format!(
            "expected connection {} to be refused above the cap of {max}; observed it accepted and answering: {}",
            max + 1,
            describe(&other)
        )),
    }
}
