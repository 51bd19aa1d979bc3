//! Client conformance (`@client` scenarios): a judged in-process simulator, scripted clients
//! that behave well or badly, and the verdicts read back from `GET /_telewire/verdicts`.

use std::time::Duration;

use cucumber::given;
use cucumber::then;
use cucumber::when;
use serde_json::Value;
use telewire_protocols::molecule::Handshake;
use telewire_simulator::context::Credentials;
use telewire_simulator::judge::JudgeSettings;
use telewire_simulator::judge::VERDICTS_PATH;
use telewire_simulator::serve;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::Running;
use telewire_simulator::serve::ServeOptions;
use telewire_simulator::wsclient::Incoming;

use crate::http;
use crate::world::StepResult;
use crate::world::WAIT;
use crate::world::World;
use crate::world::describe;

/// Messages a scripted client reads past while it waits for the one it expects.
const SKIP_LIMIT: usize = 500;

/// The judge's timing in client scenarios: short enough to keep each scenario well under
/// a few seconds, long enough that scheduling noise cannot change a verdict.
fn fast_settings() -> JudgeSettings {
    JudgeSettings {
        keepalive_interval: Duration::from_millis(400),
        min_backoff: Duration::from_millis(250),
        connection_window: Duration::from_secs(60),
        unknown_frame: true,
        unknown_grace: Duration::from_secs(30),
        timeout_grace: Duration::from_secs(5),
        print: false,
    }
}

/// A judged simulator started by a client scenario.
pub struct Judged {
    running: Running,
    api: Api,
    /// `ws://127.0.0.1:port`.
    ws_base: String,
    /// `http://127.0.0.1:port`.
    http_base: String,
    /// A valid token for the demo user.
    token: String,
}

impl Judged {
    /// Stops the simulator (every remaining connection gets close 1001).
    pub async fn stop(self) {
        self.running.shutdown().await;
    }
}

fn api_of(name: &str) -> Result<Api, String> {
    name.parse()
}

fn judged(world: &World) -> Result<&Judged, String> {
    world.judged.as_ref().ok_or_else(|| {
        "no judged simulator: start one with `Given a judged <api> simulator`".into()
    })
}

fn fill(world: &World, text: &str) -> Result<String, String> {
    Ok(text.replace("{token}", &judged(world)?.token))
}

#[given(regex = r"^a judged (molecule|valtronics|webmacs|mosaic|robot) simulator$")]
async fn start_judged(world: &mut World, api: String) -> StepResult {
    world.close_all().await;
    let api = api_of(&api)?;
    let mut opts = ServeOptions::ephemeral();
    opts.ports = vec![(api, 0)];
    opts.judge = Some(fast_settings());
    // Only what the scripted client sends reaches the WebMACS stream.
    opts.scenario.webmacs.rate = 0.0;
    let running = serve::start(&[api], opts)
        .await
        .map_err(|e| format!("the judged simulator did not start: {e}"))?;
    let started = running
        .apis
        .first()
        .cloned()
        .ok_or("the judged simulator started no API")?;
    world.judged = Some(Judged {
        api,
        ws_base: format!("ws://{}", started.addr),
        http_base: format!("http://{}", started.addr),
        token: started.info.token.clone(),
        running,
    });
    Ok(())
}

async fn open(world: &mut World, name: &str, path: &str) -> Result<Option<u16>, String> {
    let url = format!("{}{}", judged(world)?.ws_base, fill(world, path)?);
    world.last = name.to_owned();
    world.connect(name, &url).await
}

#[when(regex = r#"^judged client "([^"]+)" connects to "([^"]+)"$"#)]
async fn connects(world: &mut World, name: String, path: String) -> StepResult {
    match open(world, &name, &path).await? {
        None => Ok(()),
        Some(status) => Err(format!(
            "expected the upgrade of {path} to succeed; observed HTTP {status}"
        )),
    }
}

#[when(regex = r#"^judged client "([^"]+)" is refused or closed connecting to "([^"]+)"$"#)]
async fn refused_or_closed(world: &mut World, name: String, path: String) -> StepResult {
    if open(world, &name, &path).await?.is_some() {
        return Ok(());
    }
    closed_by_server(world, name).await
}

#[when(
    regex = r#"^judged client "([^"]+)" connects to "([^"]+)" and closes with code (\d+), (\d+) times$"#
)]
async fn connects_and_closes(
    world: &mut World,
    name: String,
    path: String,
    code: u16,
    times: usize,
) -> StepResult {
    for _ in 0..times {
        // A refused upgrade counts as a connection attempt too.
        if open(world, &name, &path).await?.is_none() {
            world.close_with(&name, code).await?;
        }
    }
    Ok(())
}

#[when(regex = r#"^judged client "([^"]+)" sends '(.*)'$"#)]
async fn sends(world: &mut World, name: String, text: String) -> StepResult {
    let text = fill(world, &text)?;
    world.send_text(&name, &text).await
}

#[when(regex = r#"^judged client "([^"]+)" sends the binary frame "([0-9a-f ]+)"$"#)]
async fn sends_binary(world: &mut World, name: String, hex: String) -> StepResult {
    let bytes = hex
        .split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).map_err(|e| format!("bad hex byte {b:?}: {e}")))
        .collect::<Result<Vec<u8>, String>>()?;
    world.send_binary(&name, bytes).await
}

async fn handshake(world: &mut World, name: &str, token: &str) -> StepResult {
    let gateway = Credentials::default().gateway_id;
    let hs = Handshake::new(&gateway, token).map_err(|e| format!("handshake: {e}"))?;
    let mut bytes = Vec::new();
    hs.encode(&mut bytes);
    world.send_binary(name, bytes).await
}

#[when(regex = r#"^judged client "([^"]+)" sends the Molecule handshake$"#)]
async fn sends_handshake(world: &mut World, name: String) -> StepResult {
    let token = judged(world)?.token.clone();
    handshake(world, &name, &token).await
}

#[when(
    regex = r#"^judged client "([^"]+)" sends the Molecule handshake with the token "([^"]+)"$"#
)]
async fn sends_handshake_with(world: &mut World, name: String, token: String) -> StepResult {
    handshake(world, &name, &token).await
}

#[when(regex = r#"^judged client "([^"]+)" sends a Valtronics batch of (\d+) pings$"#)]
async fn sends_valtronics_batch(world: &mut World, name: String, n: usize) -> StepResult {
    let messages: Vec<Value> = (0..n)
        .map(|_| serde_json::json!({"type": "ping"}))
        .collect();
    let text = serde_json::json!({"type": "batch", "messages": messages}).to_string();
    world.send_text(&name, &text).await
}

#[when(regex = r#"^judged client "([^"]+)" sends a Valtronics ping of (\d+) bytes$"#)]
async fn sends_big_ping(world: &mut World, name: String, size: usize) -> StepResult {
    let empty = serde_json::json!({"type": "ping", "timestamp": ""}).to_string();
    let pad = size
        .checked_sub(empty.len())
        .ok_or_else(|| format!("a ping cannot be shorter than {} bytes", empty.len()))?;
    let text = serde_json::json!({"type": "ping", "timestamp": "x".repeat(pad)}).to_string();
    world.send_text(&name, &text).await
}

#[when(regex = r#"^judged client "([^"]+)" sends a WebMACS batch of (\d+) datapoints$"#)]
async fn sends_webmacs_batch(world: &mut World, name: String, n: usize) -> StepResult {
    let datapoints: Vec<Value> = (0..n)
        .map(|i| serde_json::json!({"value": i as f64, "event_public_id": "judge-event"}))
        .collect();
    let text = serde_json::json!({"datapoints": datapoints}).to_string();
    world.send_text(&name, &text).await
}

/// Reads until `wanted` accepts a message (at most [`SKIP_LIMIT`] messages, each within
/// [`WAIT`]); a close fails the step.
async fn read_until(
    world: &mut World,
    name: &str,
    what: &str,
    wanted: impl Fn(&Incoming) -> bool,
) -> StepResult {
    for _ in 0..SKIP_LIMIT {
        let incoming = world
            .recv(name)
            .await
            .map_err(|e| format!("expected {what}; {e}"))?;
        if wanted(&incoming) {
            return Ok(());
        }
        if matches!(incoming, Incoming::Close(_)) {
            return Err(format!("expected {what}; observed {}", describe(&incoming)));
        }
    }
    Err(format!("expected {what} within {SKIP_LIMIT} messages"))
}

#[when(regex = r#"^judged client "([^"]+)" receives a message$"#)]
async fn receives_any(world: &mut World, name: String) -> StepResult {
    read_until(world, &name, "a message", |m| {
        matches!(m, Incoming::Text(_) | Incoming::Binary(_))
    })
    .await
}

#[when(regex = r#"^judged client "([^"]+)" receives a message containing "([^"]+)"$"#)]
async fn receives_containing(world: &mut World, name: String, needle: String) -> StepResult {
    let what = format!("a text message containing {needle:?}");
    read_until(
        world,
        &name,
        &what,
        |m| matches!(m, Incoming::Text(t) if t.contains(needle.as_str())),
    )
    .await
}

#[when(regex = r#"^judged client "([^"]+)" receives a binary frame of type (\d+)$"#)]
async fn receives_binary_type(world: &mut World, name: String, kind: u8) -> StepResult {
    let what = format!("a binary frame of type {kind}");
    read_until(
        world,
        &name,
        &what,
        |m| matches!(m, Incoming::Binary(b) if b.first() == Some(&kind) && b.len() != 3),
    )
    .await
}

#[when(regex = r#"^judged client "([^"]+)" receives the undocumented frame$"#)]
async fn receives_undocumented(world: &mut World, name: String) -> StepResult {
    read_until(
        world,
        &name,
        "the judge's undocumented frame",
        |m| match m {
            Incoming::Text(t) => t.contains("telewire_notice"),
            Incoming::Binary(b) => b.first() == Some(&99),
            _ => false,
        },
    )
    .await
}

/// A scripted client's own pacing (the behaviour under test), not a synchronisation wait.
#[when(regex = r#"^judged client "([^"]+)" waits (\d+) ms$"#)]
async fn waits(world: &mut World, name: String, ms: u64) -> StepResult {
    world.note(&name, format!("stays silent for {ms} ms"));
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(())
}

#[when(regex = r#"^judged client "([^"]+)" closes with code (\d+)$"#)]
async fn closes(world: &mut World, name: String, code: u16) -> StepResult {
    world.close_with(&name, code).await
}

#[when(regex = r#"^judged client "([^"]+)" is closed by the server$"#)]
async fn closed_by_server(world: &mut World, name: String) -> StepResult {
    let close = world.close_of(&name).await?;
    world.forget(&name);
    match close {
        Some(_) => Ok(()),
        None => Err("expected the server's close frame; the connection ended without one".into()),
    }
}

#[then(regex = r"^the judge reports (\d+) connections?$")]
async fn reports(world: &mut World, count: usize) -> StepResult {
    let judged = judged(world)?;
    let judge = judged
        .running
        .judge(judged.api)
        .ok_or("the simulator runs without a judge")?;
    if judge.wait_for_reports(count, WAIT).await {
        Ok(())
    } else {
        Err(format!(
            "expected {count} judged connection(s) within {WAIT:?}; observed {}",
            judge.reports().len()
        ))
    }
}

/// The verdict on `rule` for connection `id`, read from `GET /_telewire/verdicts`.
async fn verdict(world: &World, id: u64, rule: &str) -> Result<Value, String> {
    let url = format!("{}{VERDICTS_PATH}", judged(world)?.http_base);
    let answer = http::request(&url, "GET", None, None, "").await?;
    if answer.status != 200 {
        return Err(format!(
            "GET {VERDICTS_PATH}: expected 200; observed {} {}",
            answer.status, answer.body
        ));
    }
    let json: Value = serde_json::from_str(&answer.body)
        .map_err(|e| format!("GET {VERDICTS_PATH} is not JSON ({e}): {}", answer.body))?;
    let client = json
        .get("clients")
        .and_then(Value::as_array)
        .and_then(|clients| {
            clients
                .iter()
                .find(|c| c.get("id").and_then(Value::as_u64) == Some(id))
        })
        .ok_or_else(|| format!("no judged connection {id} in {json}"))?;
    client
        .get("verdicts")
        .and_then(Value::as_array)
        .and_then(|vs| {
            vs.iter()
                .find(|v| v.get("rule").and_then(Value::as_str) == Some(rule))
        })
        .cloned()
        .ok_or_else(|| {
            format!("expected a verdict on {rule} for connection {id}; observed {client}")
        })
}

fn field<'a>(verdict: &'a Value, name: &str) -> &'a str {
    verdict
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

#[then(regex = r#"^judged connection (\d+) passes "([^"]+)"$"#)]
async fn passes(world: &mut World, id: u64, rule: String) -> StepResult {
    let verdict = verdict(world, id, &rule).await?;
    match field(&verdict, "outcome") {
        "pass" => Ok(()),
        other => Err(format!(
            "expected {rule} to pass for connection {id}; observed {other}: {}",
            field(&verdict, "observed")
        )),
    }
}

#[then(regex = r#"^judged connection (\d+) fails "([^"]+)" observing "([^"]+)"$"#)]
async fn fails(world: &mut World, id: u64, rule: String, needle: String) -> StepResult {
    let verdict = verdict(world, id, &rule).await?;
    let observed = field(&verdict, "observed");
    if field(&verdict, "outcome") != "fail" {
        return Err(format!(
            "expected {rule} to fail for connection {id}; observed a pass: {observed}"
        ));
    }
    if !observed.contains(needle.as_str()) {
        return Err(format!(
            "expected the failure of {rule} to mention {needle:?}; observed {observed:?}"
        ));
    }
    for key in ["level", "spec", "expected"] {
        if field(&verdict, key).is_empty() {
            return Err(format!("the verdict on {rule} has no {key}: {verdict}"));
        }
    }
    Ok(())
}
