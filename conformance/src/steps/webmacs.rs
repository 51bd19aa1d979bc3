//! WebMACS steps: "Authentication", "Controller Telemetry" and "Datapoint Stream".

use std::time::Duration;

use std::str::FromStr;

use cucumber::Parameter;
use cucumber::given;
use cucumber::then;
use cucumber::when;
use serde_json::Value;
use serde_json::json;
use telewire_protocols::webmacs::BROADCAST_INTERVAL;
use telewire_protocols::webmacs::Endpoint;
use telewire_protocols::webmacs::IsoTimestamp;
use telewire_protocols::webmacs::ServerMessage;
use telewire_protocols::webmacs::http::LOGOUT_PATH;
use telewire_simulator::wsclient::Incoming;

use crate::http;
use crate::suite::Suite;
use crate::world::StepResult;
use crate::world::WAIT;
use crate::world::World;
use crate::world::describe;

const STREAM: &str = "stream";
const CONTROLLER: &str = "controller";
/// How long a pushed reading may take to show on the stream before it is pushed again
/// (the previous scenario may have used the event within the 200 ms throttle).
const BROADCAST_WAIT: Duration = Duration::from_millis(400);
/// An event id no lab has.
const UNKNOWN_EVENT: &str = "00000000-0000-4000-8000-000000000000";

/// `{endpoint}` in a step: `stream` or `controller`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Parameter)]
#[param(name = "endpoint", regex = "stream|controller")]
enum Socket {
    Stream,
    Controller,
}

impl FromStr for Socket {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            STREAM => Ok(Socket::Stream),
            CONTROLLER => Ok(Socket::Controller),
            other => Err(format!("unknown endpoint {other:?}")),
        }
    }
}

impl Socket {
    /// The connection's name in the transcript.
    fn name(self) -> &'static str {
        match self {
            Socket::Stream => STREAM,
            Socket::Controller => CONTROLLER,
        }
    }

    /// The endpoint's path, from the protocol crate.
    fn path(self) -> &'static str {
        match self {
            Socket::Stream => Endpoint::DatapointStream.path(),
            Socket::Controller => Endpoint::ControllerTelemetry.path(),
        }
    }
}

async fn open(world: &mut World, socket: Socket, token: Option<&str>) -> StepResult {
    let endpoint = socket.name();
    let base = world.target.url.trim_end_matches('/').to_owned();
    let url = match token {
        Some(token) => format!("{base}{}?token={token}", socket.path()),
        None => format!("{base}{}", socket.path()),
    };
    world.last = endpoint.to_owned();
    if let Some(status) = world.connect(endpoint, &url).await? {
        world.refused.insert(endpoint.to_owned(), status);
    }
    Ok(())
}

fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("the message is not strict JSON ({e}): {text}"))
}

/// The next text message on `name` as JSON, decoded through the protocol's codec.
async fn next_json(world: &mut World, name: &str, wait: Duration) -> Result<Value, String> {
    match world.recv_within(name, wait).await? {
        Incoming::Text(text) => {
            ServerMessage::decode(&text).map_err(|e| {
                format!("the message does not decode as a documented server message ({e}): {text}")
            })?;
            let value = parse_json(&text)?;
            if name == STREAM {
                world.stream_messages.push(value.clone());
            }
            Ok(value)
        }
        other => Err(format!(
            "expected a JSON text message; observed {}",
            describe(&other)
        )),
    }
}

#[when(expr = "the client connects to the {endpoint} endpoint with the configured token")]
async fn connect_configured(world: &mut World, endpoint: Socket) -> StepResult {
    let token = world.token();
    open(world, endpoint, Some(&token)).await
}

#[when(expr = "the client connects to the {endpoint} endpoint without a token")]
async fn connect_without(world: &mut World, endpoint: Socket) -> StepResult {
    open(world, endpoint, None).await
}

#[when(expr = "the client connects to the {endpoint} endpoint with the token {string}")]
async fn connect_with(world: &mut World, endpoint: Socket, token: String) -> StepResult {
    open(world, endpoint, Some(&token)).await
}

#[when(expr = "the client connects to the {endpoint} endpoint with that token")]
async fn connect_with_that(world: &mut World, endpoint: Socket) -> StepResult {
    let token = world
        .scratch_token
        .clone()
        .ok_or("no token was obtained by an earlier step")?;
    open(world, endpoint, Some(&token)).await
}

#[when(expr = "the client connects to the {endpoint} endpoint with the deleted user's token")]
async fn connect_deleted(world: &mut World, endpoint: Socket) -> StepResult {
    let token = world
        .target
        .deleted_user_token
        .clone()
        .ok_or("no deleted user's token configured")?;
    open(world, endpoint, Some(&token)).await
}

#[when(expr = "the client connects to the {endpoint} endpoint with the expired token")]
async fn connect_expired(world: &mut World, endpoint: Socket) -> StepResult {
    let token = world
        .target
        .expired_token
        .clone()
        .ok_or("no expired token configured")?;
    open(world, endpoint, Some(&token)).await
}

#[given("a fresh token from the login endpoint that was then logged out")]
async fn revoked_token(world: &mut World) -> StepResult {
    let token = world.target.login(Suite::Webmacs).await?;
    let url = format!("{}{LOGOUT_PATH}", world.target.http_base());
    let answer = http::request(&url, "POST", None, Some(&token), "").await?;
    world.note(
        "http",
        format!("POST {LOGOUT_PATH} -> HTTP {}", answer.status),
    );
    if !(200..300).contains(&answer.status) {
        return Err(format!(
            "expected the logout to succeed; observed HTTP {}",
            answer.status
        ));
    }
    world.scratch_token = Some(token);
    Ok(())
}

#[then("the connection stays open")]
async fn stays_open(world: &mut World) -> StepResult {
    let name = world.last.clone();
    if let Some(status) = world.refused.get(&name) {
        return Err(format!(
            "expected the WebSocket to open; observed HTTP {status}"
        ));
    }
    if name == STREAM {
        return ping_pong(world).await;
    }
    // The controller endpoint never speaks first: an empty batch must get an error reply
    // rather than a close.
    world.send_text(CONTROLLER, r#"{"datapoints":[]}"#).await?;
    next_json(world, &name, WAIT)
        .await
        .map(|_| ())
        .map_err(|e| format!("expected the connection to stay open and answer; {e}"))
}

#[then(regex = r"^the first message is (\{.*\})$")]
async fn first_message(world: &mut World, expected: String) -> StepResult {
    let expected = parse_json(&expected)?;
    let name = world.last.clone();
    if let Some(status) = world.refused.get(&name) {
        return Err(format!(
            "expected the WebSocket to open; observed HTTP {status}"
        ));
    }
    let got = next_json(world, &name, WAIT).await?;
    if got == expected {
        Ok(())
    } else {
        Err(format!("expected {expected}; observed {got}"))
    }
}

/// Sends a ping on the stream and reads up to its pong; `connected` and broadcasts on the
/// way are skipped (they are judged by their own rules), so that a missing confirmation
/// fails only the rule that checks it.
async fn ping_pong(world: &mut World) -> StepResult {
    world.send_text(STREAM, r#"{"type":"ping"}"#).await?;
    loop {
        let message = next_json(world, STREAM, WAIT)
            .await
            .map_err(|e| format!("expected a pong to the ping; {e}"))?;
        match message["type"].as_str() {
            Some("pong") => return Ok(()),
            Some("connected" | "datapoints_batch") => {}
            _ => return Err(format!("expected a pong to the ping; observed {message}")),
        }
    }
}

#[given("a stream client")]
async fn stream_client(world: &mut World) -> StepResult {
    connect_configured(world, Socket::Stream).await?;
    if let Some(status) = world.refused.get(STREAM) {
        return Err(format!(
            "expected the stream to open; observed HTTP {status}"
        ));
    }
    ping_pong(world).await
}

#[given("a controller connection")]
async fn controller(world: &mut World) -> StepResult {
    connect_configured(world, Socket::Controller).await?;
    match world.refused.get(CONTROLLER) {
        Some(status) => Err(format!(
            "expected the controller endpoint to open; observed HTTP {status}"
        )),
        None => Ok(()),
    }
}

#[when(regex = r"^the client sends (\{.*\}) on the stream$")]
async fn send_on_stream(world: &mut World, text: String) -> StepResult {
    world.send_text(STREAM, &text).await
}

#[then(regex = r#"^the next stream message has type "(.*)"$"#)]
async fn next_stream_type(world: &mut World, kind: String) -> StepResult {
    loop {
        let got = next_json(world, STREAM, WAIT).await?;
        if got["type"] == kind.as_str() {
            return Ok(());
        }
        // Live data from other controllers may interleave with the answer.
        if got["type"] != "datapoints_batch" {
            return Err(format!(
                "expected a message of type {kind:?}; observed {got}"
            ));
        }
    }
}

fn event(world: &World, which: &str) -> Result<String, String> {
    let index = if which == "second" { 1 } else { 0 };
    world
        .target
        .events
        .get(index)
        .cloned()
        .ok_or_else(|| format!("no {which} event configured"))
}

fn shows(message: &Value, event: &str, value: f64) -> bool {
    message["type"] == "datapoints_batch"
        && message["datapoints"].as_array().is_some_and(|points| {
            points
                .iter()
                .any(|p| p["event_public_id"] == event && p["value"].as_f64() == Some(value))
        })
}

/// A value no earlier push of this scenario used.
fn fresh_value(world: &mut World) -> f64 {
    let value = 1000.0 + world.pushed.len() as f64 + 0.25;
    world.pushed.push(value);
    value
}

async fn push(world: &mut World, event: &str, value: f64) -> StepResult {
    let batch = json!({"datapoints": [{"value": value, "event_public_id": event}]});
    world.send_text(CONTROLLER, &batch.to_string()).await
}

/// Pushes `batch(value, other)` (fresh values each time) until a stream message satisfies
/// `shown(message, value, other)`; keeps that message as `seen_broadcast`.
async fn push_until(
    world: &mut World,
    batch: impl Fn(f64, f64) -> Value,
    shown: impl Fn(&Value, f64, f64) -> bool,
) -> StepResult {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        let value = fresh_value(world);
        let other = fresh_value(world);
        world
            .send_text(CONTROLLER, &batch(value, other).to_string())
            .await?;
        loop {
            match next_json(world, STREAM, BROADCAST_WAIT).await {
                Ok(message) if shown(&message, value, other) => {
                    world.seen_broadcast = Some(message);
                    return Ok(());
                }
                Ok(_) => {}
                Err(e) if e.starts_with("nothing arrived") => break,
                Err(e) => return Err(e),
            }
        }
    }
    Err(format!(
        "expected a datapoints_batch showing the pushed reading(s); observed none within {WAIT:?}"
    ))
}

#[when(
    regex = r"^the controller pushes a reading of the (first|second) configured event until the stream shows it$"
)]
async fn push_until_shown(world: &mut World, which: String) -> StepResult {
    let event = event(world, &which)?;
    let shown_event = event.clone();
    push_until(
        world,
        move |value, _| json!({"datapoints": [{"value": value, "event_public_id": event}]}),
        move |message, value, _| shows(message, &shown_event, value),
    )
    .await
}

#[when(
    "the controller pushes readings of the first and second configured events in one batch until the stream shows both"
)]
async fn push_two_until_shown(world: &mut World) -> StepResult {
    let first = event(world, "first")?;
    let second = event(world, "second")?;
    let (a, b) = (first.clone(), second.clone());
    push_until(
        world,
        move |value, other| {
            json!({"datapoints": [
                {"value": value, "event_public_id": a},
                {"value": other, "event_public_id": b},
            ]})
        },
        move |message, value, other| {
            shows(message, &first, value) && shows(message, &second, other)
        },
    )
    .await
}

#[when(
    regex = r"^the controller pushes a reading of the first configured event with (an entry without value|a reading of an unknown event) until the stream shows it$"
)]
async fn push_with_extra_until_shown(world: &mut World, extra: String) -> StepResult {
    let event = event(world, "first")?;
    let shown_event = event.clone();
    let unknown = extra.contains("unknown");
    push_until(
        world,
        move |value, other| {
            let extra = if unknown {
                json!({"value": other, "event_public_id": UNKNOWN_EVENT})
            } else {
                json!({"event_public_id": event})
            };
            json!({"datapoints": [{"value": value, "event_public_id": event}, extra]})
        },
        move |message, value, _| shows(message, &shown_event, value),
    )
    .await
}

#[then("that broadcast holds both readings with one shared timestamp")]
async fn both_in_one(world: &mut World) -> StepResult {
    let message = world
        .seen_broadcast
        .clone()
        .ok_or("no broadcast was seen")?;
    let first = event(world, "first")?;
    let second = event(world, "second")?;
    let [.., value, other] = world.pushed[..] else {
        return Err("the scenario pushed no batch".into());
    };
    if !(shows(&message, &first, value) && shows(&message, &second, other)) {
        return Err(format!(
            "expected one datapoints_batch holding both readings of the batch; observed {message}"
        ));
    }
    let stamps: Vec<&Value> = message["datapoints"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| &p["timestamp"])
        .collect();
    if stamps.windows(2).all(|w| w[0] == w[1]) {
        Ok(())
    } else {
        Err(format!(
            "expected one timestamp shared by the batch; observed {message}"
        ))
    }
}

#[then("that broadcast holds only the reading of the first configured event")]
async fn only_first(world: &mut World) -> StepResult {
    let message = world
        .seen_broadcast
        .clone()
        .ok_or("no broadcast was seen")?;
    let first = event(world, "first")?;
    let points = message["datapoints"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if points.len() == 1 && points[0]["event_public_id"] == first.as_str() {
        Ok(())
    } else {
        Err(format!(
            "expected the broadcast to hold only the valid reading of {first}; observed {message}"
        ))
    }
}

#[when("the controller at once pushes another reading of the first configured event")]
async fn push_again(world: &mut World) -> StepResult {
    let event = event(world, "first")?;
    let value = fresh_value(world);
    world.held_back = Some(value);
    push(world, &event, value).await
}

#[then("the stream never showed the second reading of the first event")]
async fn throttled(world: &mut World) -> StepResult {
    let event = event(world, "first")?;
    let value = world
        .held_back
        .ok_or("no second reading was pushed by an earlier step")?;
    if !world
        .stream_messages
        .iter()
        .any(|m| shows(m, &event, value))
    {
        return Ok(());
    }
    // It was broadcast: that is right only when the server accepted it 200 ms or more
    // after the event's previous broadcast (a slow run), judged by the server's timestamps.
    let mut times = Vec::new();
    for message in &world.stream_messages {
        for point in message["datapoints"].as_array().into_iter().flatten() {
            if point["event_public_id"] == event.as_str() {
                let text = point["timestamp"].as_str().unwrap_or_default();
                let at = IsoTimestamp::parse(text)
                    .ok()
                    .and_then(|t| t.to_timestamp())
                    .ok_or_else(|| format!("expected an ISO 8601 timestamp; observed {text:?}"))?;
                times.push((at, point["value"].as_f64()));
            }
        }
    }
    for pair in times.windows(2) {
        let gap = pair[1].0.saturating_since(pair[0].0);
        if gap < BROADCAST_INTERVAL {
            return Err(format!(
                "expected at most one broadcast of {event} per {BROADCAST_INTERVAL:?}; observed readings {:?} and {:?} broadcast {gap:?} apart",
                pair[0].1, pair[1].1
            ));
        }
    }
    Ok(())
}

fn has_offset(timestamp: &str) -> bool {
    IsoTimestamp::parse(timestamp).is_ok_and(|t| t.has_offset())
}

#[then("that broadcast has value, event_public_id, an ISO 8601 timestamp and experiment_public_id")]
async fn broadcast_shape(world: &mut World) -> StepResult {
    let message = world
        .seen_broadcast
        .clone()
        .ok_or("no broadcast was seen")?;
    for point in message["datapoints"].as_array().into_iter().flatten() {
        let ok = point["value"].is_number()
            && point["event_public_id"].is_string()
            && point["timestamp"].as_str().is_some_and(|t| t.contains('T'))
            && point
                .get("experiment_public_id")
                .is_some_and(|e| e.is_string() || e.is_null());
        if !ok {
            return Err(format!(
                "expected {{value: number, event_public_id: string, timestamp: ISO 8601, experiment_public_id: string|null}}; observed {point}"
            ));
        }
    }
    Ok(())
}

#[then("every timestamp of that broadcast has a UTC offset")]
async fn broadcast_offsets(world: &mut World) -> StepResult {
    let message = world
        .seen_broadcast
        .clone()
        .ok_or("no broadcast was seen")?;
    for point in message["datapoints"].as_array().into_iter().flatten() {
        let timestamp = point["timestamp"].as_str().unwrap_or_default();
        if !has_offset(timestamp) {
            return Err(format!(
                "expected a timestamp with an offset (+00:00 or Z); observed {timestamp:?}"
            ));
        }
    }
    Ok(())
}

#[when("the controller sends a binary frame")]
async fn controller_sends_binary(world: &mut World) -> StepResult {
    world.send_binary(CONTROLLER, b"{}".to_vec()).await
}

#[when(regex = r#"^the controller sends the text "(.*)"$"#)]
async fn controller_sends_raw(world: &mut World, text: String) -> StepResult {
    world.send_text(CONTROLLER, &text).await
}

#[then("the controller receives an error reply")]
async fn controller_error_reply(world: &mut World) -> StepResult {
    let got = next_json(world, CONTROLLER, WAIT)
        .await
        .map_err(|e| format!("expected an error reply; {e}"))?;
    if got["type"] == "error" && got["message"].is_string() {
        Ok(())
    } else {
        Err(format!(
            "expected {{\"type\":\"error\",\"message\":...}}; observed {got}"
        ))
    }
}

#[when(regex = r"^the controller sends (\{.*\})$")]
async fn controller_sends(world: &mut World, text: String) -> StepResult {
    world.send_text(CONTROLLER, &text).await
}

async fn send_batch(world: &mut World, count: usize, event: &str) -> StepResult {
    let points: Vec<Value> = (0..count)
        .map(|i| json!({"value": i as f64 + 0.5, "event_public_id": event}))
        .collect();
    let text = json!({ "datapoints": points }).to_string();
    world.send_text(CONTROLLER, &text).await
}

#[when(regex = r"^the controller sends a batch of (\d+) datapoints$")]
async fn controller_sends_many(world: &mut World, count: usize) -> StepResult {
    let event = event(world, "first").unwrap_or_else(|_| "abc-123".to_owned());
    send_batch(world, count, &event).await
}

#[when(
    regex = r"^the controller sends a batch of (\d+) datapoints for the first configured event$"
)]
async fn controller_sends_many_for(world: &mut World, count: usize) -> StepResult {
    let event = event(world, "first")?;
    send_batch(world, count, &event).await
}

#[when("the controller sends a valid batch for the first configured event")]
async fn controller_sends_valid(world: &mut World) -> StepResult {
    let event = event(world, "first")?;
    send_batch(world, 1, &event).await
}

#[then(regex = r"^the controller receives (\{.*\})$")]
async fn controller_receives(world: &mut World, expected: String) -> StepResult {
    let expected = parse_json(&expected)?;
    let got = next_json(world, CONTROLLER, WAIT)
        .await
        .map_err(|e| format!("expected {expected}; {e}"))?;
    if got == expected {
        Ok(())
    } else {
        Err(format!("expected {expected}; observed {got}"))
    }
}

#[then(regex = r#"^the controller receives an error message "(.*)"$"#)]
async fn controller_error(world: &mut World, message: String) -> StepResult {
    let expected = json!({"type": "error", "message": message});
    let got = next_json(world, CONTROLLER, WAIT)
        .await
        .map_err(|e| format!("expected {expected}; {e}"))?;
    if got == expected {
        Ok(())
    } else {
        Err(format!("expected {expected}; observed {got}"))
    }
}
