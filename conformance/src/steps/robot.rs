//! Robot steps: robot.txt "Connecting to the WebSocket", "Messages" and "System logs".

use std::time::SystemTime;

use cucumber::given;
use cucumber::then;
use cucumber::when;
use telewire_protocols::robot::API_KEY_HEADER;
use telewire_protocols::robot::AUTH_PATH;
use telewire_protocols::robot::ClientMessage;
use telewire_protocols::robot::EmbeddedPayload;
use telewire_protocols::robot::Payload;
use telewire_protocols::robot::PublishData;
use telewire_protocols::robot::ServerMessage;
use telewire_protocols::robot::Topic;
use telewire_simulator::wsclient::Incoming;

use crate::http;
use crate::world::StepResult;
use crate::world::World;
use crate::world::describe;

const CLIENT: &str = "client";
const SUBSCRIBER: &str = "subscriber";
const PUBLISHER: &str = "publisher";
const OTHER: &str = "other";
const LOGS: &str = "logs";
/// The connection that publishes probes (it subscribes to nothing).
const PROBE: &str = "probe";
/// The `name` of a probe payload; deliveries of probes are skipped everywhere else.
const PROBE_NAME: &str = "conformance_probe";
/// How long one probe may take to arrive before the next is published (an upper bound:
/// the first probe may race the subscription it checks).
const PROBE_WAIT: std::time::Duration = std::time::Duration::from_millis(250);
/// Probes published before giving up.
const PROBE_TRIES: u32 = 40;
/// Messages skipped (acknowledgements, unrelated deliveries) while looking for one.
const MAX_SKIPPED: usize = 50;

/// What the robot steps remember within one scenario.
#[derive(Debug, Default)]
pub struct RobotState {
    /// The fresh topic the scenario's subscriber subscribed to.
    topic: Option<String>,
    /// The topic the subscriber is subscribed to now (for the ordering marker).
    live: Option<String>,
    /// A token obtained from the token endpoint.
    token: Option<String>,
    /// Topics made so far.
    made: u32,
    /// Whether the probe connection is open.
    probe: bool,
}

/// A topic no other run uses.
fn fresh_topic(world: &mut World) -> String {
    world.robot.made += 1;
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "conformance-{}-{nanos:x}-{}",
        std::process::id(),
        world.robot.made
    )
}

fn parse_payload(text: &str) -> Result<Payload, String> {
    Payload::decode(text)
        .map_err(|e| format!("the scenario's payload {text} is not {{name, type, data}}: {e}"))
}

async fn open(world: &mut World, name: &str, token: Option<&str>) -> StepResult {
    let base = world.target.url.clone();
    let url = match token {
        Some(token) => {
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}token={token}")
        }
        None => base,
    };
    world.last = name.to_owned();
    if let Some(status) = world.connect(name, &url).await? {
        world.refused.insert(name.to_owned(), status);
    }
    Ok(())
}

async fn open_configured(world: &mut World, name: &str) -> StepResult {
    let token = world.token();
    open(world, name, Some(&token)).await?;
    if let Some(status) = world.refused.get(name) {
        return Err(format!(
            "expected the WebSocket to open with the configured token; observed HTTP {status}"
        ));
    }
    Ok(())
}

async fn send(world: &mut World, name: &str, message: &ClientMessage) -> StepResult {
    world.send_text(name, &message.to_text()).await
}

fn subscribe(topic: &str) -> ClientMessage {
    ClientMessage::Subscribe {
        topic: Topic::from(topic),
    }
}

fn publish(topic: &str, payload: Payload) -> ClientMessage {
    ClientMessage::Publish {
        topic: Topic::from(topic),
        data: PublishData::Object(payload),
    }
}

/// The next server message on `name`, decoded through the protocol's codec;
/// acknowledgements (MAY) are skipped.
async fn next_message(world: &mut World, name: &str) -> Result<ServerMessage, String> {
    for _ in 0..MAX_SKIPPED {
        match world.recv(name).await? {
            Incoming::Text(text) => match ServerMessage::decode(&text) {
                Ok(ServerMessage::Ack(_)) => {}
                Ok(ServerMessage::Data(p)) if p.name == PROBE_NAME => {}
                Ok(message) => return Ok(message),
                Err(e) => {
                    return Err(format!(
                        "the message does not decode as {{name, type, data}} or a reply ({e}): {text}"
                    ));
                }
            },
            other => {
                return Err(format!(
                    "expected a JSON text message; observed {}",
                    describe(&other)
                ));
            }
        }
    }
    Err(format!("more than {MAX_SKIPPED} acknowledgements in a row"))
}

/// Waits until `name` receives what the probe connection publishes on `topic`: `name`'s
/// subscription to `topic`, and every message it sent before, has been handled. Probes are
/// published again until one arrives (the first may race the subscription); nothing
/// relies on a publisher receiving its own message.
async fn await_subscribed(world: &mut World, name: &str, topic: &str) -> StepResult {
    if !world.robot.probe {
        open_configured(world, PROBE).await?;
        world.robot.probe = true;
    }
    for attempt in 0..PROBE_TRIES {
        let probe = Payload::new(
            PROBE_NAME,
            "text",
            serde_json::Value::String(format!("{topic} {attempt}")),
        );
        send(world, PROBE, &publish(topic, probe)).await?;
        loop {
            let text = match world.recv_within(name, PROBE_WAIT).await {
                Ok(Incoming::Text(text)) => text,
                Ok(other) => {
                    return Err(format!(
                        "expected a delivery on {topic}; observed {}",
                        describe(&other)
                    ));
                }
                Err(e) if e.starts_with("nothing arrived") => break,
                Err(e) => return Err(e),
            };
            match ServerMessage::decode(&text) {
                Ok(ServerMessage::Data(p))
                    if p.name == PROBE_NAME
                        && p.data.as_str().is_some_and(|d| d.starts_with(topic)) =>
                {
                    return Ok(());
                }
                Ok(ServerMessage::Data(_) | ServerMessage::Ack(_)) => {}
                Ok(other) => {
                    return Err(format!(
                        "expected a delivery on {topic}; observed {}",
                        other.to_text()
                    ));
                }
                Err(e) => {
                    return Err(format!(
                        "the message does not decode as {{name, type, data}} or a reply ({e}): {text}"
                    ));
                }
            }
        }
    }
    Err(format!(
        "expected a message published on {topic} to reach the subscribed {name} connection; none of {PROBE_TRIES} did"
    ))
}

/// Subscribes `name` to a fresh topic and waits until a publish on it arrives: the
/// connection is open and every earlier message on it was handled.
async fn round_trip(world: &mut World, name: &str) -> Result<String, String> {
    let topic = fresh_topic(world);
    send(world, name, &subscribe(&topic)).await?;
    await_subscribed(world, name, &topic).await?;
    Ok(topic)
}

#[given("a connected client")]
async fn connected_client(world: &mut World) -> StepResult {
    open_configured(world, CLIENT).await
}

#[when("the client connects with the configured token")]
async fn connect_configured(world: &mut World) -> StepResult {
    let token = world.token();
    open(world, CLIENT, Some(&token)).await
}

#[when("the client connects without a token")]
async fn connect_without(world: &mut World) -> StepResult {
    open(world, CLIENT, None).await
}

#[when(expr = "the client connects with the token {string}")]
async fn connect_with(world: &mut World, token: String) -> StepResult {
    open(world, CLIENT, Some(&token)).await
}

#[when("the client connects with the expired token")]
async fn connect_expired(world: &mut World) -> StepResult {
    let token = world
        .target
        .expired_token
        .clone()
        .ok_or("no expired token configured")?;
    open(world, CLIENT, Some(&token)).await
}

#[given("a token from the token endpoint for the configured API key")]
async fn token_from_key(world: &mut World) -> StepResult {
    let token = world.target.robot_token().await?;
    world.note("http", format!("GET {AUTH_PATH} -> a token"));
    world.robot.token = Some(token);
    Ok(())
}

#[when("the client connects with that token")]
async fn connect_with_that(world: &mut World) -> StepResult {
    let token = world
        .robot
        .token
        .clone()
        .ok_or("no token was obtained by an earlier step")?;
    open(world, CLIENT, Some(&token)).await
}

#[when(expr = "the token endpoint is asked with the API key {string}")]
async fn ask_token_endpoint(world: &mut World, key: String) -> StepResult {
    let url = format!("{}{AUTH_PATH}", world.target.http_base());
    let answer = http::request_with(&url, "GET", &[(API_KEY_HEADER, &key)], "").await?;
    world.note(
        "http",
        format!("GET {AUTH_PATH} -> HTTP {} {}", answer.status, answer.body),
    );
    world.http_answer = Some((answer.status, answer.body));
    Ok(())
}

#[then(expr = "the token endpoint answers HTTP {int}")]
async fn token_endpoint_status(world: &mut World, status: u16) -> StepResult {
    match &world.http_answer {
        Some((got, _)) if *got == status => Ok(()),
        Some((got, body)) => Err(format!(
            "expected HTTP {status}; observed HTTP {got} {body}"
        )),
        None => Err("no HTTP request was made by an earlier step".into()),
    }
}

#[then("the connection stays open and serves a publish")]
async fn stays_open(world: &mut World) -> StepResult {
    let name = world.last.clone();
    if let Some(status) = world.refused.get(&name) {
        return Err(format!(
            "expected the WebSocket to open; observed HTTP {status}"
        ));
    }
    round_trip(world, &name).await.map(|_| ()).map_err(|e| {
        format!("expected the connection to stay open and deliver a publish to its subscriber; {e}")
    })
}

#[then("the connection is refused with HTTP 401 or close 1008")]
async fn refused(world: &mut World) -> StepResult {
    let name = world.last.clone();
    if let Some(status) = world.refused.get(&name) {
        return if *status == 401 {
            Ok(())
        } else {
            Err(format!(
                "expected HTTP 401 or close 1008; observed HTTP {status}"
            ))
        };
    }
    match world.close_of(&name).await? {
        Some((1008, _)) => Ok(()),
        Some((code, reason)) => Err(format!(
            "expected HTTP 401 or close 1008; observed close {code} {reason:?}"
        )),
        None => Err(
            "expected HTTP 401 or close 1008; observed the connection ending without a close frame"
                .into(),
        ),
    }
}

#[given("a subscriber of a fresh topic")]
async fn subscriber(world: &mut World) -> StepResult {
    open_configured(world, SUBSCRIBER).await?;
    let topic = fresh_topic(world);
    send(world, SUBSCRIBER, &subscribe(&topic)).await?;
    await_subscribed(world, SUBSCRIBER, &topic).await?;
    world.robot.topic = Some(topic.clone());
    world.robot.live = Some(topic);
    Ok(())
}

#[given("a publisher")]
async fn publisher(world: &mut World) -> StepResult {
    open_configured(world, PUBLISHER).await
}

fn scenario_topic(world: &World) -> Result<String, String> {
    world
        .robot
        .topic
        .clone()
        .ok_or_else(|| "no topic was subscribed to by an earlier step".to_owned())
}

#[when(regex = r"^the publisher publishes (\{.*\}) on that topic$")]
async fn publish_object(world: &mut World, payload: String) -> StepResult {
    let payload = parse_payload(&payload)?;
    let topic = scenario_topic(world)?;
    send(world, PUBLISHER, &publish(&topic, payload)).await
}

#[when(regex = r"^the subscriber publishes (\{.*\}) on that topic$")]
async fn subscriber_publishes(world: &mut World, payload: String) -> StepResult {
    let payload = parse_payload(&payload)?;
    let topic = scenario_topic(world)?;
    send(world, SUBSCRIBER, &publish(&topic, payload)).await
}

#[when(regex = r"^the publisher publishes (\{.*\}) as a JSON string on that topic$")]
async fn publish_string(world: &mut World, payload: String) -> StepResult {
    let payload = parse_payload(&payload)?;
    let topic = scenario_topic(world)?;
    let message = ClientMessage::Publish {
        topic: Topic::from(topic.as_str()),
        data: PublishData::Text(EmbeddedPayload::new(payload)),
    };
    send(world, PUBLISHER, &message).await
}

#[when(regex = r"^the publisher publishes (\{.*\}) on another fresh topic$")]
async fn publish_elsewhere(world: &mut World, payload: String) -> StepResult {
    let payload = parse_payload(&payload)?;
    let topic = fresh_topic(world);
    send(world, PUBLISHER, &publish(&topic, payload)).await
}

#[then(regex = r"^the subscriber receives exactly (\{.*\})$")]
async fn receives_exactly(world: &mut World, payload: String) -> StepResult {
    let payload = parse_payload(&payload)?;
    match next_message(world, SUBSCRIBER).await? {
        ServerMessage::Data(got) if got == payload => Ok(()),
        other => Err(format!(
            "expected exactly {}; observed {}",
            payload.to_text(),
            other.to_text()
        )),
    }
}

#[when("the subscriber unsubscribes from that topic")]
async fn unsubscribe(world: &mut World) -> StepResult {
    let topic = scenario_topic(world)?;
    let message = ClientMessage::Unsubscribe {
        topic: Topic::from(topic.as_str()),
    };
    send(world, SUBSCRIBER, &message).await?;
    // The unsubscribe was handled once a later message on the same connection was.
    let live = round_trip(world, SUBSCRIBER).await?;
    world.robot.live = Some(live);
    Ok(())
}

#[then("the subscriber receives nothing more from that topic")]
async fn nothing_more(world: &mut World) -> StepResult {
    // The publisher's next message on the subscriber's live topic must be the next thing
    // the subscriber sees: anything published before it that reached the subscriber
    // would arrive first.
    let live = world
        .robot
        .live
        .clone()
        .ok_or("no topic was subscribed to by an earlier step")?;
    let marker = Payload::new(
        "marker",
        "text",
        serde_json::Value::String(format!("after {live}")),
    );
    send(world, PUBLISHER, &publish(&live, marker.clone())).await?;
    match next_message(world, SUBSCRIBER).await? {
        ServerMessage::Data(got) if got == marker => Ok(()),
        other => Err(format!(
            "expected nothing before the publisher's marker {}; observed {}",
            marker.to_text(),
            other.to_text()
        )),
    }
}

#[when("the subscriber subscribes to that topic again")]
async fn subscribe_again(world: &mut World) -> StepResult {
    let topic = scenario_topic(world)?;
    send(world, SUBSCRIBER, &subscribe(&topic)).await
}

#[given("a subscriber of server_logs")]
async fn logs_subscriber(world: &mut World) -> StepResult {
    open_configured(world, LOGS).await?;
    send(world, LOGS, &subscribe(Topic::SERVER_LOGS.as_str())).await
}

#[when("another client connects and subscribes to a fresh topic")]
async fn another_client(world: &mut World) -> StepResult {
    open_configured(world, OTHER).await?;
    let topic = fresh_topic(world);
    send(world, OTHER, &subscribe(&topic)).await
}

#[then("the subscriber receives a message on server_logs")]
async fn receives_log(world: &mut World) -> StepResult {
    match next_message(world, LOGS).await {
        Ok(ServerMessage::Data(_)) => Ok(()),
        Ok(other) => Err(format!(
            "expected a log line {{name, type, data}} on server_logs; observed {}",
            other.to_text()
        )),
        Err(e) => Err(format!("expected a log line on server_logs; {e}")),
    }
}

#[when(regex = r"^the client sends the message (.+)$")]
async fn client_sends(world: &mut World, text: String) -> StepResult {
    world.send_text(CLIENT, &text).await
}

#[when("the client sends a binary frame to the broker")]
async fn client_sends_binary(world: &mut World) -> StepResult {
    world.send_binary(CLIENT, b"{}".to_vec()).await
}

#[when(expr = "the client publishes a message of {int} bytes")]
async fn publish_large(world: &mut World, size: usize) -> StepResult {
    let topic = fresh_topic(world);
    let empty = publish(
        &topic,
        Payload::new("n", "text", serde_json::Value::String(String::new())),
    );
    let padding = size.saturating_sub(empty.to_text().len());
    let message = publish(
        &topic,
        Payload::new("n", "text", serde_json::Value::String("x".repeat(padding))),
    );
    world.send_text(CLIENT, &message.to_text()).await
}

#[when(expr = "the client subscribes to a topic of {int} bytes")]
async fn subscribe_long(world: &mut World, len: usize) -> StepResult {
    send(world, CLIENT, &subscribe(&"t".repeat(len))).await
}

#[when(expr = "the client sends {int} subscribe messages at once")]
async fn flood(world: &mut World, count: usize) -> StepResult {
    let topic = fresh_topic(world);
    for _ in 0..count {
        send(world, CLIENT, &subscribe(&topic)).await?;
    }
    Ok(())
}

#[then(expr = "the client receives the error reply {string}")]
async fn error_reply(world: &mut World, code: String) -> StepResult {
    for _ in 0..MAX_SKIPPED {
        match next_message(world, CLIENT).await? {
            ServerMessage::Error(reply) if reply.error.as_str() == code => return Ok(()),
            ServerMessage::Error(reply) => {
                return Err(format!(
                    "expected the error reply {code:?}; observed {:?} {:?}",
                    reply.error.as_str(),
                    reply.message
                ));
            }
            ServerMessage::Data(_) | ServerMessage::Ack(_) => {}
        }
    }
    Err(format!(
        "expected the error reply {code:?}; observed only deliveries"
    ))
}
