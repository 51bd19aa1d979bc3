//! Valtronics steps: auth message, channels and filters, keep-alive, limits, error replies.

use std::time::Duration;
use std::time::Instant;

use cucumber::given;
use cucumber::then;
use cucumber::when;
use telewire_protocols::valtronics::Auth;
use telewire_protocols::valtronics::Batch;
use telewire_protocols::valtronics::Channel;
use telewire_protocols::valtronics::ClientMessage;
use telewire_protocols::valtronics::DeviceId;
use telewire_protocols::valtronics::Endpoint;
use telewire_protocols::valtronics::FilterStyle;
use telewire_protocols::valtronics::Filters;
use telewire_protocols::valtronics::OneOrMany;
use telewire_protocols::valtronics::Ping;
use telewire_protocols::valtronics::ServerMessage;
use telewire_protocols::valtronics::Subscribe;
use telewire_simulator::wsclient::Incoming;

use crate::world::StepResult;
use crate::world::WAIT;
use crate::world::World;
use crate::world::describe;

/// The connection's name in the transcript.
const CLIENT: &str = "client";

/// What the server sent next: a decoded message, or the end of the connection.
enum Got {
    Message(ServerMessage),
    Closed(Option<(u16, String)>),
}

impl Got {
    fn describe(&self) -> String {
        match self {
            Got::Message(message) => message.to_text(),
            Got::Closed(close) => describe(&Incoming::Close(close.clone())),
        }
    }
}

fn is_push(message: &ServerMessage) -> bool {
    message.push_channel().is_some()
}

/// The next message, decoded through the protocol's codec.
async fn next(world: &mut World) -> Result<Got, String> {
    next_within(world, WAIT).await
}

/// [`next`], waiting at most `wait`.
async fn next_within(world: &mut World, wait: Duration) -> Result<Got, String> {
    match world.recv_within(CLIENT, wait).await? {
        Incoming::Text(text) => ServerMessage::decode(&text).map(Got::Message).map_err(|e| {
            format!("the message does not decode as a documented server message ({e}): {text}")
        }),
        Incoming::Close(close) => Ok(Got::Closed(close)),
        other => Err(format!(
            "expected a JSON text message; observed {}",
            describe(&other)
        )),
    }
}

/// What is left of [`WAIT`] since `started`: loops that skip pushes end within it.
fn left(started: Instant) -> Result<Duration, String> {
    WAIT.checked_sub(started.elapsed())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("the expected message did not arrive within {WAIT:?}"))
}

/// The next message that is not a data push.
async fn next_reply(world: &mut World) -> Result<Got, String> {
    let started = Instant::now();
    loop {
        match next_within(world, left(started)?).await? {
            Got::Message(message) if is_push(&message) => {}
            other => return Ok(other),
        }
    }
}

async fn open(world: &mut World, path: &str) -> StepResult {
    let endpoint = Endpoint::from_path(path).ok_or_else(|| format!("unknown endpoint {path}"))?;
    let base = world.target.url.trim_end_matches('/').to_owned();
    let url = format!("{base}{}", endpoint.path());
    world.last = CLIENT.to_owned();
    if let Some(status) = world.connect(CLIENT, &url).await? {
        world.refused.insert(CLIENT.to_owned(), status);
        return Err(format!(
            "the upgrade was refused with HTTP {status}; the document expects the WebSocket to be accepted"
        ));
    }
    Ok(())
}

async fn send(world: &mut World, message: impl Into<ClientMessage>) -> StepResult {
    let text = message.into().to_text();
    world.send_text(CLIENT, &text).await
}

async fn authenticate(world: &mut World, token: String) -> StepResult {
    send(world, Auth { token }).await
}

/// Sends a ping and reads up to its pong: the server has processed everything sent before.
/// An error reply or a close on the way fails.
async fn barrier(world: &mut World) -> StepResult {
    send(world, Ping { timestamp: None }).await?;
    let started = Instant::now();
    loop {
        match next_within(world, left(started)?).await? {
            Got::Message(ServerMessage::Pong(_)) => return Ok(()),
            Got::Message(ServerMessage::Error(error)) => {
                return Err(format!(
                    "expected the message to be accepted; observed the error reply {}",
                    ServerMessage::Error(error).to_text()
                ));
            }
            Got::Closed(close) => {
                return Err(format!(
                    "expected the connection to stay open; observed {}",
                    Got::Closed(close).describe()
                ));
            }
            Got::Message(_) => {}
        }
    }
}

/// Reads until a push of `message_type`; an error reply or a close fails.
async fn push_of(world: &mut World, message_type: &str) -> Result<ServerMessage, String> {
    let started = Instant::now();
    loop {
        match next_within(world, left(started)?).await? {
            Got::Message(message) if message.message_type() == message_type => {
                return Ok(message);
            }
            Got::Message(ServerMessage::Error(error)) => {
                return Err(format!(
                    "expected a {message_type}; observed the error reply {}",
                    ServerMessage::Error(error).to_text()
                ));
            }
            Got::Closed(close) => {
                return Err(format!(
                    "expected a {message_type}; observed {}",
                    Got::Closed(close).describe()
                ));
            }
            Got::Message(_) => {}
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS` followed by optional fractions and a zone (ISO 8601 as the
/// document writes it).
fn is_iso8601(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    };
    bytes.len() >= 19
        && digits(0..4)
        && bytes[4] == b'-'
        && digits(5..7)
        && bytes[7] == b'-'
        && digits(8..10)
        && (bytes[10] == b'T' || bytes[10] == b' ')
        && digits(11..13)
        && bytes[13] == b':'
        && digits(14..16)
        && bytes[16] == b':'
        && digits(17..19)
}

#[given(regex = r"^the client connects to the (/ws\S*) endpoint$")]
#[when(regex = r"^the client connects to the (/ws\S*) endpoint$")]
#[then(regex = r"^the client connects to the (/ws\S*) endpoint$")]
async fn connect(world: &mut World, path: String) -> StepResult {
    open(world, &path).await
}

#[given("the client authenticates with the configured token")]
#[when("the client authenticates with the configured token")]
#[then("the client authenticates with the configured token")]
async fn auth_configured(world: &mut World) -> StepResult {
    let token = world.token();
    authenticate(world, token).await
}

#[given(regex = r#"^the client authenticates with the token "(.*)"$"#)]
#[when(regex = r#"^the client authenticates with the token "(.*)"$"#)]
#[then(regex = r#"^the client authenticates with the token "(.*)"$"#)]
async fn auth_with(world: &mut World, token: String) -> StepResult {
    authenticate(world, token).await
}

#[given("the client authenticates with the expired token")]
#[when("the client authenticates with the expired token")]
#[then("the client authenticates with the expired token")]
async fn auth_expired(world: &mut World) -> StepResult {
    let token = world.target.expired_token.clone().unwrap_or_default();
    authenticate(world, token).await
}

#[given("the server answers with a successful auth_response")]
#[when("the server answers with a successful auth_response")]
#[then("the server answers with a successful auth_response")]
async fn auth_accepted(world: &mut World) -> StepResult {
    match next_reply(world).await? {
        Got::Message(ServerMessage::AuthResponse(response)) if response.success => Ok(()),
        other => Err(format!(
            "expected {{\"type\":\"auth_response\",\"success\":true}}; observed {}",
            other.describe()
        )),
    }
}

#[given(regex = r#"^the server answers with a failed auth_response with error "(.*)"$"#)]
#[when(regex = r#"^the server answers with a failed auth_response with error "(.*)"$"#)]
#[then(regex = r#"^the server answers with a failed auth_response with error "(.*)"$"#)]
async fn auth_refused(world: &mut World, code: String) -> StepResult {
    match next_reply(world).await? {
        Got::Message(ServerMessage::AuthResponse(response))
            if !response.success && response.error.as_ref().is_some_and(|e| e.as_str() == code) =>
        {
            Ok(())
        }
        other => Err(format!(
            "expected {{\"type\":\"auth_response\",\"success\":false,\"error\":\"{code}\"}}; observed {}",
            other.describe()
        )),
    }
}

#[given(regex = r"^the client is authenticated on the (/ws\S*) endpoint$")]
#[when(regex = r"^the client is authenticated on the (/ws\S*) endpoint$")]
#[then(regex = r"^the client is authenticated on the (/ws\S*) endpoint$")]
async fn authenticated(world: &mut World, path: String) -> StepResult {
    open(world, &path).await?;
    auth_configured(world).await?;
    auth_accepted(world).await
}

#[given(regex = r"^the client sends the JSON text ([\[{].*)$")]
#[when(regex = r"^the client sends the JSON text ([\[{].*)$")]
#[then(regex = r"^the client sends the JSON text ([\[{].*)$")]
async fn send_raw(world: &mut World, text: String) -> StepResult {
    world.send_text(CLIENT, &text).await
}

#[given(regex = r"^the client (?:subscribes|unsubscribes) with ([\[{].*)$")]
#[when(regex = r"^the client (?:subscribes|unsubscribes) with ([\[{].*)$")]
#[then(regex = r"^the client (?:subscribes|unsubscribes) with ([\[{].*)$")]
async fn send_accepted(world: &mut World, text: String) -> StepResult {
    world.send_text(CLIENT, &text).await?;
    barrier(world).await
}

#[given("the server refuses the message")]
#[when("the server refuses the message")]
#[then("the server refuses the message")]
async fn refuses(world: &mut World) -> StepResult {
    match next_reply(world).await? {
        Got::Message(ServerMessage::Error(_)) | Got::Closed(_) => Ok(()),
        Got::Message(ServerMessage::AuthResponse(response)) if !response.success => Ok(()),
        other => Err(format!(
            "expected the message to be refused (an error reply); observed {}",
            other.describe()
        )),
    }
}

#[given("the connection is still open")]
#[when("the connection is still open")]
#[then("the connection is still open")]
async fn stays_open(world: &mut World) -> StepResult {
    barrier(world).await
}

#[given("the server replies with a pong")]
#[when("the server replies with a pong")]
#[then("the server replies with a pong")]
async fn pong(world: &mut World) -> StepResult {
    match next_reply(world).await? {
        Got::Message(ServerMessage::Pong(_)) => Ok(()),
        other => Err(format!(
            "expected {{\"type\":\"pong\"}}; observed {}",
            other.describe()
        )),
    }
}

#[given("the server replies with a pong and nothing before it")]
#[when("the server replies with a pong and nothing before it")]
#[then("the server replies with a pong and nothing before it")]
async fn pong_first(world: &mut World) -> StepResult {
    match next(world).await? {
        Got::Message(ServerMessage::Pong(_)) => Ok(()),
        other => Err(format!(
            "expected {{\"type\":\"pong\"}} and no push before a subscribe; observed {}",
            other.describe()
        )),
    }
}

#[given(regex = r#"^the server replies with a pong echoing the timestamp "(.*)"$"#)]
#[when(regex = r#"^the server replies with a pong echoing the timestamp "(.*)"$"#)]
#[then(regex = r#"^the server replies with a pong echoing the timestamp "(.*)"$"#)]
async fn pong_echo(world: &mut World, timestamp: String) -> StepResult {
    match next_reply(world).await? {
        Got::Message(ServerMessage::Pong(pong))
            if pong.timestamp.as_deref() == Some(&timestamp) =>
        {
            Ok(())
        }
        other => Err(format!(
            "expected a pong with \"timestamp\":\"{timestamp}\"; observed {}",
            other.describe()
        )),
    }
}

#[given(
    regex = r#"^the server replies with a "(subscribed|unsubscribed)" message for channel "(.*)"$"#
)]
#[when(
    regex = r#"^the server replies with a "(subscribed|unsubscribed)" message for channel "(.*)"$"#
)]
#[then(
    regex = r#"^the server replies with a "(subscribed|unsubscribed)" message for channel "(.*)"$"#
)]
async fn acknowledged(world: &mut World, message_type: String, channel: String) -> StepResult {
    let got = next_reply(world).await?;
    let channel_of = match &got {
        Got::Message(ServerMessage::Subscribed(ack)) if message_type == "subscribed" => {
            Some(&ack.channel)
        }
        Got::Message(ServerMessage::Unsubscribed(ack)) if message_type == "unsubscribed" => {
            Some(&ack.channel)
        }
        _ => None,
    };
    if channel_of.is_some_and(|c| c.as_str() == channel) {
        Ok(())
    } else {
        Err(format!(
            "expected {{\"type\":\"{message_type}\",\"channel\":\"{channel}\"}}; observed {}",
            got.describe()
        ))
    }
}

#[given(regex = r#"^the server replies with an error "(.*)"$"#)]
#[when(regex = r#"^the server replies with an error "(.*)"$"#)]
#[then(regex = r#"^the server replies with an error "(.*)"$"#)]
async fn error_reply(world: &mut World, code: String) -> StepResult {
    match next_reply(world).await? {
        Got::Message(ServerMessage::Error(error)) if error.error.as_str() == code => Ok(()),
        other => Err(format!(
            "expected {{\"type\":\"error\",\"error\":\"{code}\",\"message\":\"...\"}}; observed {}",
            other.describe()
        )),
    }
}

#[given(
    regex = r"^an? (telemetry_update|system_status_update|alert|device_status_update) arrives$"
)]
#[when(regex = r"^an? (telemetry_update|system_status_update|alert|device_status_update) arrives$")]
#[then(regex = r"^an? (telemetry_update|system_status_update|alert|device_status_update) arrives$")]
async fn push_arrives(world: &mut World, message_type: String) -> StepResult {
    let message = push_of(world, &message_type).await?;
    world
        .stream_messages
        .push(serde_json::from_str(&message.to_text()).map_err(|e| e.to_string())?);
    Ok(())
}

fn last_of(world: &World, message_type: &str) -> Result<ServerMessage, String> {
    let last = world
        .stream_messages
        .last()
        .ok_or_else(|| format!("no {message_type} was received"))?;
    ServerMessage::decode(&last.to_string()).map_err(|e| e.to_string())
}

#[given("every reading of the last telemetry_update has a value, a unit and an ISO 8601 timestamp")]
#[when("every reading of the last telemetry_update has a value, a unit and an ISO 8601 timestamp")]
#[then("every reading of the last telemetry_update has a value, a unit and an ISO 8601 timestamp")]
async fn telemetry_shape(world: &mut World) -> StepResult {
    let ServerMessage::TelemetryUpdate(update) = last_of(world, "telemetry_update")? else {
        return Err("the last push is not a telemetry_update".into());
    };
    if update.channel != Channel::TELEMETRY {
        return Err(format!(
            "expected \"channel\":\"telemetry\"; observed {:?}",
            update.channel.as_str()
        ));
    }
    if update.telemetry.is_empty() {
        return Err("expected at least one reading in \"telemetry\"; observed none".into());
    }
    for (metric, reading) in &update.telemetry {
        if !is_iso8601(&reading.timestamp) {
            return Err(format!(
                "expected {metric}.timestamp in ISO 8601 (2024-01-01T12:00:00Z); observed {:?}",
                reading.timestamp
            ));
        }
    }
    Ok(())
}

#[given("the last system_status_update has numeric metrics and an ISO 8601 timestamp")]
#[when("the last system_status_update has numeric metrics and an ISO 8601 timestamp")]
#[then("the last system_status_update has numeric metrics and an ISO 8601 timestamp")]
async fn system_shape(world: &mut World) -> StepResult {
    let ServerMessage::SystemStatusUpdate(update) = last_of(world, "system_status_update")? else {
        return Err("the last push is not a system_status_update".into());
    };
    if update.channel != Channel::SYSTEM {
        return Err(format!(
            "expected \"channel\":\"system\"; observed {:?}",
            update.channel.as_str()
        ));
    }
    if update.metrics.is_empty() {
        return Err("expected at least one figure in \"metrics\"; observed none".into());
    }
    if !is_iso8601(&update.timestamp) {
        return Err(format!(
            "expected timestamp in ISO 8601 (2024-01-01T12:00:00Z); observed {:?}",
            update.timestamp
        ));
    }
    Ok(())
}

#[given("the last alert has the documented fields and an ISO 8601 timestamp")]
#[when("the last alert has the documented fields and an ISO 8601 timestamp")]
#[then("the last alert has the documented fields and an ISO 8601 timestamp")]
async fn alert_shape(world: &mut World) -> StepResult {
    let ServerMessage::Alert(alert) = last_of(world, "alert")? else {
        return Err("the last push is not an alert".into());
    };
    if alert.channel != Channel::ALERTS {
        return Err(format!(
            "expected \"channel\":\"alerts\"; observed {:?}",
            alert.channel.as_str()
        ));
    }
    if !alert.severity.is_known() {
        return Err(format!(
            "expected a documented severity (critical, warning); observed {:?}",
            alert.severity.as_str()
        ));
    }
    if !is_iso8601(&alert.timestamp) {
        return Err(format!(
            "expected timestamp in ISO 8601 (2024-01-01T12:00:00Z); observed {:?}",
            alert.timestamp
        ));
    }
    Ok(())
}

#[given("the last device_status_update has the documented fields and an ISO 8601 timestamp")]
#[when("the last device_status_update has the documented fields and an ISO 8601 timestamp")]
#[then("the last device_status_update has the documented fields and an ISO 8601 timestamp")]
async fn device_status_shape(world: &mut World) -> StepResult {
    let ServerMessage::DeviceStatusUpdate(update) = last_of(world, "device_status_update")? else {
        return Err("the last push is not a device_status_update".into());
    };
    if update.channel != Channel::DEVICES {
        return Err(format!(
            "expected \"channel\":\"devices\"; observed {:?}",
            update.channel.as_str()
        ));
    }
    if !is_iso8601(&update.timestamp) {
        return Err(format!(
            "expected timestamp in ISO 8601 (2024-01-01T12:00:00Z); observed {:?}",
            update.timestamp
        ));
    }
    Ok(())
}

#[given(
    regex = r#"^the next (\d+) (alert|device_status_update) messages have (severity|new_status) "(.*)"$"#
)]
#[when(
    regex = r#"^the next (\d+) (alert|device_status_update) messages have (severity|new_status) "(.*)"$"#
)]
#[then(
    regex = r#"^the next (\d+) (alert|device_status_update) messages have (severity|new_status) "(.*)"$"#
)]
async fn filtered_pushes(
    world: &mut World,
    count: usize,
    message_type: String,
    field: String,
    value: String,
) -> StepResult {
    for _ in 0..count {
        let message = push_of(world, &message_type).await?;
        let got = match &message {
            ServerMessage::Alert(alert) => alert.severity.as_str().to_owned(),
            ServerMessage::DeviceStatusUpdate(update) => update.new_status.as_str().to_owned(),
            _ => String::new(),
        };
        if got != value {
            return Err(format!(
                "expected only {message_type} messages with {field} {value:?}; observed {}",
                message.to_text()
            ));
        }
    }
    Ok(())
}

#[given("a system_status_update arrives with no telemetry_update before it")]
#[when("a system_status_update arrives with no telemetry_update before it")]
#[then("a system_status_update arrives with no telemetry_update before it")]
async fn system_without_telemetry(world: &mut World) -> StepResult {
    let started = Instant::now();
    loop {
        match next_within(world, left(started)?).await? {
            Got::Message(ServerMessage::SystemStatusUpdate(_)) => return Ok(()),
            Got::Message(ServerMessage::TelemetryUpdate(update)) => {
                return Err(format!(
                    "expected no telemetry_update after the unsubscribe; observed {}",
                    ServerMessage::TelemetryUpdate(update).to_text()
                ));
            }
            Got::Closed(close) => {
                return Err(format!(
                    "expected a system_status_update; observed {}",
                    Got::Closed(close).describe()
                ));
            }
            Got::Message(_) => {}
        }
    }
}

#[given("the client has learned a device id and one of its metrics from a telemetry_update")]
#[when("the client has learned a device id and one of its metrics from a telemetry_update")]
#[then("the client has learned a device id and one of its metrics from a telemetry_update")]
async fn learn(world: &mut World) -> StepResult {
    send(
        world,
        Subscribe::new(Channel::TELEMETRY, Filters::default(), FilterStyle::Spread),
    )
    .await?;
    barrier(world).await?;
    let ServerMessage::TelemetryUpdate(update) = push_of(world, "telemetry_update").await? else {
        return Err("expected a telemetry_update".into());
    };
    let metric = update
        .telemetry
        .keys()
        .next()
        .cloned()
        .ok_or("the telemetry_update carries no reading")?;
    world.learned = Some((update.device_id.0, metric));
    Ok(())
}

#[given(
    regex = r"^the client subscribes to telemetry for that (metric|device) with the filters (nested|spread|top)$"
)]
#[when(
    regex = r"^the client subscribes to telemetry for that (metric|device) with the filters (nested|spread|top)$"
)]
#[then(
    regex = r"^the client subscribes to telemetry for that (metric|device) with the filters (nested|spread|top)$"
)]
async fn subscribe_filtered(world: &mut World, what: String, style: String) -> StepResult {
    let (device, metric) = world.learned.clone().ok_or("nothing was learned")?;
    let mut filters = Filters::default();
    if what == "metric" {
        filters.metrics = Some(OneOrMany::Many(vec![metric]));
    } else {
        filters.device_id = Some(OneOrMany::One(DeviceId(device)));
    }
    let style = if style == "nested" {
        FilterStyle::Nested
    } else {
        FilterStyle::Spread
    };
    send(world, Subscribe::new(Channel::TELEMETRY, filters, style)).await?;
    barrier(world).await
}

#[given(
    regex = r"^the next (\d+) telemetry_update messages (carry only that metric|are for that device)$"
)]
#[when(
    regex = r"^the next (\d+) telemetry_update messages (carry only that metric|are for that device)$"
)]
#[then(
    regex = r"^the next (\d+) telemetry_update messages (carry only that metric|are for that device)$"
)]
async fn filtered_updates(world: &mut World, count: usize, what: String) -> StepResult {
    let (device, metric) = world.learned.clone().ok_or("nothing was learned")?;
    for _ in 0..count {
        let ServerMessage::TelemetryUpdate(update) = push_of(world, "telemetry_update").await?
        else {
            return Err("expected a telemetry_update".into());
        };
        let ok = if what.starts_with("carry") {
            update.telemetry.keys().all(|k| *k == metric) && !update.telemetry.is_empty()
        } else {
            update.device_id.0 == device
        };
        if !ok {
            let expected = if what.starts_with("carry") {
                format!("only the metric {metric:?}")
            } else {
                format!("device_id {device}")
            };
            return Err(format!(
                "expected {expected}; observed {}",
                ServerMessage::TelemetryUpdate(update).to_text()
            ));
        }
    }
    Ok(())
}

#[given(regex = r"^the client sends a ping of (\d+) bytes$")]
#[when(regex = r"^the client sends a ping of (\d+) bytes$")]
#[then(regex = r"^the client sends a ping of (\d+) bytes$")]
async fn sized_ping(world: &mut World, size: usize) -> StepResult {
    let empty = ClientMessage::from(Ping {
        timestamp: Some(String::new()),
    })
    .to_text()
    .len();
    let padding = size
        .checked_sub(empty)
        .ok_or_else(|| format!("a ping cannot be shorter than {empty} bytes"))?;
    let text = ClientMessage::from(Ping {
        timestamp: Some("x".repeat(padding)),
    })
    .to_text();
    world.send_text(CLIENT, &text).await
}

#[given(regex = r"^the client sends a batch of (\d+) pings$")]
#[when(regex = r"^the client sends a batch of (\d+) pings$")]
#[then(regex = r"^the client sends a batch of (\d+) pings$")]
async fn batch(world: &mut World, items: usize) -> StepResult {
    let messages = vec![ClientMessage::from(Ping { timestamp: None }); items];
    send(world, Batch { messages }).await
}

#[given(regex = r"^the server replies with (\d+) pongs$")]
#[when(regex = r"^the server replies with (\d+) pongs$")]
#[then(regex = r"^the server replies with (\d+) pongs$")]
async fn pongs(world: &mut World, count: usize) -> StepResult {
    for seen in 0..count {
        match next_reply(world).await? {
            Got::Message(ServerMessage::Pong(_)) => {}
            other => {
                return Err(format!(
                    "expected {count} pongs; observed {seen}, then {}",
                    other.describe()
                ));
            }
        }
    }
    Ok(())
}

#[given(regex = r"^the client sends (\d+) pings at once$")]
#[when(regex = r"^the client sends (\d+) pings at once$")]
#[then(regex = r"^the client sends (\d+) pings at once$")]
async fn many_pings(world: &mut World, count: usize) -> StepResult {
    let text = ClientMessage::from(Ping { timestamp: None }).to_text();
    for _ in 0..count {
        world.send_text(CLIENT, &text).await?;
    }
    Ok(())
}

#[given(
    regex = r"^the server answers at most (\d+) of the (\d+) pings with a pong and refuses the others$"
)]
#[when(
    regex = r"^the server answers at most (\d+) of the (\d+) pings with a pong and refuses the others$"
)]
#[then(
    regex = r"^the server answers at most (\d+) of the (\d+) pings with a pong and refuses the others$"
)]
async fn rate_limited(world: &mut World, max: usize, sent: usize) -> StepResult {
    let (mut pongs, mut refused) = (0, 0);
    while pongs + refused < sent {
        match next_reply(world).await? {
            Got::Message(ServerMessage::Pong(_)) => pongs += 1,
            Got::Message(ServerMessage::Error(_)) => refused += 1,
            Got::Closed(_) => refused = sent - pongs,
            other => {
                return Err(format!(
                    "expected pongs and refusals; observed {}",
                    other.describe()
                ));
            }
        }
    }
    if pongs > max || refused == 0 {
        return Err(format!(
            "expected at most {max} pongs and the other pings refused; observed {pongs} pongs and {refused} refusals"
        ));
    }
    Ok(())
}

#[given("the client sends a binary message")]
#[when("the client sends a binary message")]
#[then("the client sends a binary message")]
async fn binary(world: &mut World) -> StepResult {
    let bytes = ClientMessage::from(Ping { timestamp: None })
        .to_text()
        .into_bytes();
    world.send_binary(CLIENT, bytes).await
}
