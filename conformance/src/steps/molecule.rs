//! Molecule steps: Step 3 (handshake), Step 4 (auth response), Step 5 (data frames).

use cucumber::given;
use cucumber::then;
use cucumber::when;
use telewire_protocols::molecule::AuthResponse;
use telewire_protocols::molecule::Command;
use telewire_protocols::molecule::DataFrame;
use telewire_protocols::molecule::Handshake;
use telewire_protocols::molecule::MessageType;
use telewire_simulator::wsclient::Incoming;

use crate::world::StepResult;
use crate::world::World;
use crate::world::describe;
use crate::world::hex;

const SOCKET: &str = "socket";

fn gateway(world: &World) -> String {
    world.target.gateway_id.clone().unwrap_or_default()
}

fn handshake(gateway_id: &str, token: &str) -> Result<Vec<u8>, String> {
    Handshake::new(gateway_id, token)
        .map(|h| h.to_bytes())
        .map_err(|e| format!("cannot build the handshake: {e}"))
}

fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    text.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).map_err(|e| format!("bad hex {b:?}: {e}")))
        .collect()
}

#[given("a connection to the Molecule endpoint")]
async fn connection(world: &mut World) -> StepResult {
    world.last = SOCKET.to_owned();
    let url = world.target.url.clone();
    match world.connect(SOCKET, &url).await? {
        None => Ok(()),
        Some(status) => Err(format!(
            "expected the WebSocket upgrade to succeed; observed HTTP {status}"
        )),
    }
}

#[when("the client sends a handshake for the configured gateway with the configured token")]
async fn send_valid_handshake(world: &mut World) -> StepResult {
    let bytes = handshake(&gateway(world), &world.token())?;
    world.send_binary(SOCKET, bytes).await
}

#[when(
    regex = r#"^the client sends a handshake for the configured gateway with the token "(.*)"$"#
)]
async fn send_handshake_with_token(world: &mut World, token: String) -> StepResult {
    let bytes = handshake(&gateway(world), &token)?;
    world.send_binary(SOCKET, bytes).await
}

#[when(
    regex = r#"^the client sends a handshake for the gateway "(.*)" with the configured token$"#
)]
async fn send_handshake_for_gateway(world: &mut World, gateway_id: String) -> StepResult {
    let bytes = handshake(&gateway_id, &world.token())?;
    world.send_binary(SOCKET, bytes).await
}

#[when("the client sends a handshake for the configured gateway with the expired token")]
async fn send_expired_handshake(world: &mut World) -> StepResult {
    let token = world
        .target
        .expired_token
        .clone()
        .ok_or("no expired token configured")?;
    let bytes = handshake(&gateway(world), &token)?;
    world.send_binary(SOCKET, bytes).await
}

#[when(
    regex = r"^the client sends a handshake for the configured gateway with a token of (\d+) bytes$"
)]
async fn send_large_handshake(world: &mut World, len: usize) -> StepResult {
    let token = "x".repeat(len);
    let bytes = handshake(&gateway(world), &token)?;
    world.send_binary(SOCKET, bytes).await
}

#[when(regex = r"^the client sends a handshake (without .*|with .*|truncated .*|of zero bytes)$")]
async fn send_malformed_handshake(world: &mut World, defect: String) -> StepResult {
    let gateway_id = gateway(world);
    let mut bytes = handshake(&gateway_id, &world.token())?;
    let len = bytes.len();
    let token_at = 2 + 2 + gateway_id.len() + 2;
    match defect.trim() {
        "without the sentinel" => bytes.truncate(len - 2),
        "with the sentinel 01 05" => bytes[len - 1] = 0x05,
        "with the marker 01 03" => bytes[1] = 0x03,
        "with an idLen past the end" => {
            bytes[2] = 0xFF;
            bytes[3] = 0xFF;
        }
        "with trailing bytes after sentinel" => bytes.extend_from_slice(&[0x00, 0x00]),
        "truncated inside the token" => bytes.truncate(token_at + (len - token_at - 2) / 2),
        "of zero bytes" => bytes.clear(),
        other => return Err(format!("unknown handshake defect {other:?}")),
    }
    world.send_binary(SOCKET, bytes).await
}

#[when(regex = r#"^the client sends the text frame "(.*)"$"#)]
async fn send_text_frame(world: &mut World, text: String) -> StepResult {
    world.send_text(SOCKET, &text).await
}

#[then(regex = r"^the first frame is the auth response ([0-9a-fA-F ]+)$")]
async fn first_frame_is(world: &mut World, expected: String) -> StepResult {
    let expected = parse_hex(&expected)?;
    let first = world
        .recv(SOCKET)
        .await
        .map_err(|e| format!("expected the auth response {}; {e}", hex(&expected, 8)))?;
    match &first {
        Incoming::Binary(bytes) if *bytes == expected => {
            AuthResponse::decode(bytes)
                .map_err(|e| format!("the auth response does not decode: {e}"))?;
            Ok(())
        }
        other => Err(format!(
            "expected the auth response {} as the first frame; observed {}",
            hex(&expected, 8),
            describe(other)
        )),
    }
}

#[then("the first frame is binary, 3 bytes long, with request type 2 and end byte 0x04")]
async fn first_frame_shape(world: &mut World) -> StepResult {
    let first = world.recv(SOCKET).await?;
    match &first {
        Incoming::Binary(bytes) => AuthResponse::decode(bytes).map(|_| ()).map_err(|e| {
            format!(
                "expected a 3-byte auth response [2][status][0x04]; observed {}: {e}",
                describe(&first)
            )
        }),
        other => Err(format!(
            "expected a 3-byte binary auth response as the first frame; observed {}",
            describe(other)
        )),
    }
}

async fn refuses(world: &mut World, close_code: Option<u16>) -> StepResult {
    let first = world
        .recv(SOCKET)
        .await
        .map_err(|e| format!("expected auth status 0 or a close; {e}"))?;
    let wanted = match close_code {
        Some(code) => format!("auth response 02 00 04 or close {code}"),
        None => "auth response 02 00 04 or a close frame".to_owned(),
    };
    match (&first, close_code) {
        (Incoming::Binary(bytes), _) if bytes.as_slice() == AuthResponse::FAILED.to_bytes() => {
            Ok(())
        }
        (Incoming::Close(Some((code, _))), Some(expected)) if *code == expected => Ok(()),
        (Incoming::Close(Some(_)), None) => Ok(()),
        (other, _) => Err(format!("expected {wanted}; observed {}", describe(other))),
    }
}

#[then("the server refuses the handshake with auth status 0 or close 1008")]
async fn refuses_1008(world: &mut World) -> StepResult {
    refuses(world, Some(1008)).await
}

#[then("the server refuses the handshake with auth status 0 or a close")]
async fn refuses_any(world: &mut World) -> StepResult {
    refuses(world, None).await
}

#[given("an authenticated Molecule session")]
async fn authenticated(world: &mut World) -> StepResult {
    connection(world).await?;
    send_valid_handshake(world).await?;
    first_frame_is(world, "02 01 04".into()).await
}

/// Reads the next data frame (binary or not) into `world.received`.
async fn next_frame(world: &mut World) -> Result<Incoming, String> {
    let frame = world.recv(SOCKET).await?;
    if let Incoming::Close(_) = frame {
        return Err(format!(
            "expected data frames; observed {}",
            describe(&frame)
        ));
    }
    world.received.push(frame.clone());
    Ok(frame)
}

#[when(regex = r"^the client waits for (\d+) data frames$")]
async fn wait_frames(world: &mut World, count: usize) -> StepResult {
    for _ in 0..count {
        next_frame(world).await?;
    }
    Ok(())
}

fn is_telemetry(frame: &Incoming) -> bool {
    matches!(frame, Incoming::Binary(bytes) if bytes.first() == Some(&MessageType::TELEMETRY.0))
}

#[when("the client waits for a telemetry frame")]
async fn wait_telemetry(world: &mut World) -> StepResult {
    loop {
        if is_telemetry(&next_frame(world).await?) {
            return Ok(());
        }
    }
}

#[then("every frame the server sent is binary")]
async fn all_binary(world: &mut World) -> StepResult {
    match world
        .received
        .iter()
        .find(|f| !matches!(f, Incoming::Binary(_)))
    {
        None => Ok(()),
        Some(other) => Err(format!(
            "expected binary frames only; observed {}",
            describe(other)
        )),
    }
}

#[then("every data frame has a 2-byte header and a UTF-8 payload")]
async fn frames_decode(world: &mut World) -> StepResult {
    for frame in &world.received {
        let Incoming::Binary(bytes) = frame else {
            return Err(format!(
                "expected a binary data frame; observed {}",
                describe(frame)
            ));
        };
        let decoded = DataFrame::decode(bytes).map_err(|e| {
            format!(
                "expected [type][reserved][UTF-8 payload]; observed {} ({e})",
                describe(frame)
            )
        })?;
        if decoded.reserved() != DataFrame::RESERVED {
            return Err(format!(
                "expected reserved byte 0; observed {:#04x} in {}",
                decoded.reserved(),
                describe(frame)
            ));
        }
        decoded.text().map_err(|e| {
            format!(
                "expected a UTF-8 payload; observed {} ({e})",
                describe(frame)
            )
        })?;
    }
    Ok(())
}

fn telemetry_items(bytes: &[u8]) -> Result<Vec<serde_json::Value>, String> {
    let frame = DataFrame::decode(bytes).map_err(|e| e.to_string())?;
    let text = frame.text().map_err(|e| e.to_string())?;
    telewire_protocols::molecule::Telemetry::decode(text)
        .map_err(|e| format!("the telemetry payload does not decode: {e}: {text}"))?;
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    value
        .as_array()
        .cloned()
        .ok_or_else(|| format!("expected a JSON array; observed {text}"))
}

#[then("every telemetry payload is a JSON array of items with a string key and a string val")]
async fn telemetry_shape(world: &mut World) -> StepResult {
    for frame in world.received.iter().filter(|f| is_telemetry(f)) {
        let Incoming::Binary(bytes) = frame else {
            continue;
        };
        for item in telemetry_items(bytes)? {
            let ok = item["key"].is_string()
                && item["val"].is_string()
                && (item.get("lbl").is_none() || item["lbl"].is_string());
            if !ok {
                return Err(format!(
                    "expected {{\"key\": string, \"lbl\"?: string, \"val\": string}}; observed {item}"
                ));
            }
        }
    }
    Ok(())
}

#[then("every key in the first telemetry frame carries a lbl")]
async fn first_frame_labels(world: &mut World) -> StepResult {
    let Some(Incoming::Binary(bytes)) = world.received.iter().find(|f| is_telemetry(f)) else {
        return Err("no telemetry frame arrived".into());
    };
    for item in telemetry_items(bytes)? {
        if !item["lbl"].is_string() {
            return Err(format!(
                "expected a lbl on the first item of each key; observed {item}"
            ));
        }
    }
    Ok(())
}

#[when(regex = r#"^the client sends the command "(.*)"$"#)]
async fn send_command(world: &mut World, text: String) -> StepResult {
    let mut bytes = Vec::new();
    Command::new(&text).encode(&mut bytes);
    world.send_binary(SOCKET, bytes).await
}

#[then("a command response frame of type 1 arrives")]
async fn command_response(world: &mut World) -> StepResult {
    loop {
        let frame = next_frame(world)
            .await
            .map_err(|e| format!("expected a type-1 command response; {e}"))?;
        if matches!(&frame, Incoming::Binary(b) if b.first() == Some(&MessageType::COMMAND_RESPONSE.0))
        {
            return Ok(());
        }
    }
}
