//! The `telewire` binary end to end: `serve` prints a usable table, `device webmacs` pushes
//! into it, a stream client sees the data, and SIGINT closes clients with 1001.

use std::io::BufRead;
use std::io::BufReader;
use std::process::Child;
use std::process::Command;
use std::process::Stdio;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const BIN: &str = env!("CARGO_BIN_EXE_telewire");
const WAIT: Duration = Duration::from_secs(20);

/// Kills the child if a test fails before it exits.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads the table `serve` prints up to its last line; returns the lines. The rest of
/// stdout is drained in the background.
fn read_table(child: &mut Child) -> Vec<String> {
    let stdout = child.stdout.take().unwrap();
    let mut reader = BufReader::new(stdout);
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            panic!("serve ended before printing its table: {lines:?}");
        }
        let line = line.trim_end().to_owned();
        let done = line.starts_with("Ctrl-C");
        lines.push(line);
        if done {
            std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
            return lines;
        }
    }
}

fn field<'a>(lines: &'a [String], label: &str, contains: &str) -> &'a str {
    lines
        .iter()
        .filter_map(|l| l.trim_start().strip_prefix(label))
        .map(str::trim)
        .find(|v| v.contains(contains))
        .unwrap_or_else(|| panic!("no {label} line with {contains:?} in {lines:#?}"))
}

#[test]
fn help_explains_every_command() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for word in ["serve", "device", "RUST_LOG"] {
        assert!(text.contains(word), "{word} missing from:\n{text}");
    }
    let out = Command::new(BIN)
        .args(["device", "webmacs", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for flag in ["--url", "--token", "--events", "--rate", "--ca-cert"] {
        assert!(text.contains(flag), "{flag} missing from:\n{text}");
    }
}

#[test]
fn a_bad_device_url_is_a_clear_error_with_a_failing_exit_code() {
    let out = Command::new(BIN)
        .args([
            "device",
            "webmacs",
            "--url",
            "http://127.0.0.1:1",
            "--token",
            "t",
            "--events",
            "e",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stderr).unwrap();
    assert!(text.contains("invalid server URL"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_webmacs_pushes_into_serve_webmacs_and_a_stream_client_sees_it() {
    let dir = std::env::temp_dir().join(format!("telewire-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = dir.join("quiet.toml");
    // No built-in controller and no throttle: every datapoint on the stream is the device's.
    std::fs::write(&scenario, "[webmacs]\nrate = 0\nthrottle_ms = 0\n").unwrap();
    let mut serve = Guard(
        Command::new(BIN)
            .args(["serve", "webmacs", "--port", "0", "--scenario"])
            .arg(&scenario)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let lines = tokio::task::block_in_place(|| read_table(&mut serve.0));
    let stream_url = field(&lines, "ws ", "/ws/datapoints/stream").to_owned();
    let token = field(&lines, "token ", "").to_owned();
    let event = field(&lines, "note ", "= Reactor")
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned();
    let base = stream_url
        .trim_end_matches("/ws/datapoints/stream")
        .to_owned();

    let (mut stream, _) = tokio_tungstenite::connect_async(format!("{stream_url}?token={token}"))
        .await
        .unwrap();
    let connected = tokio::time::timeout(WAIT, stream.next()).await.unwrap();
    assert!(
        format!("{connected:?}").contains("connected"),
        "{connected:?}"
    );

    let device = tokio::process::Command::new(BIN)
        .args(["device", "webmacs", "--url", &base, "--token", &token])
        .args(["--events", &event, "--rate", "500", "--count", "30"])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(WAIT, device).await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("sent 30 datapoints"), "{stdout}");

    let mut seen = 0;
    while seen < 30 {
        let msg = tokio::time::timeout(WAIT, stream.next()).await.unwrap();
        let Some(Ok(Message::Text(text))) = msg else {
            panic!("expected datapoints, got {msg:?}");
        };
        let value: Value = serde_json::from_str(text.as_str()).unwrap();
        assert_eq!(value["type"], "datapoints_batch", "{value}");
        for dp in value["datapoints"].as_array().unwrap() {
            assert_eq!(dp["event_public_id"], event.as_str());
            seen += 1;
        }
    }
    assert_eq!(seen, 30);

    // Ctrl-C (SIGINT) closes the stream client with 1001 and ends serve cleanly.
    let pid = serve.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let close = loop {
        match tokio::time::timeout(WAIT, stream.next()).await.unwrap() {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(close.map(|f| f.code), Some(CloseCode::Away));
    drop(stream);
    let status = tokio::task::block_in_place(|| serve.0.wait()).unwrap();
    assert!(status.success(), "{status}");
    let _ = std::fs::remove_dir_all(&dir);
}
