//! `telewire record` and `telewire serve --replay` end to end: record a session of the
//! built-in robot server, replay it, record the replay, and refuse bad files.

use std::io::BufRead;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::Child;
use std::process::Command;
use std::process::Output;
use std::process::Stdio;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_telewire");
const API_KEY: &str = "cli-key-Secret-5521";

/// Kills the child if a test ends before it exits.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `telewire serve` with `args` on free ports; the child and its table's lines.
fn serve(args: &[&str]) -> (Guard, Vec<String>) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .args(["--port", "0", "--api-key", API_KEY])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut guard = Guard(child);
    let mut reader = BufReader::new(stdout);
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            let _ = guard.0.wait();
            panic!("serve ended before printing its table: {lines:?}");
        }
        let line = line.trim_end().to_owned();
        let done = line.starts_with("Ctrl-C");
        lines.push(line);
        if done {
            std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
            return (guard, lines);
        }
    }
}

/// The `host:port` the table gives for `api`.
fn addr(lines: &[String], api: &str) -> String {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(api).map(|rest| rest.trim().to_owned()))
        .unwrap_or_else(|| panic!("no {api} line in {lines:#?}"))
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("telewire-cli-{}-{name}", std::process::id()))
}

fn record(addr: &str, out: &PathBuf, frames: u64) -> Output {
    Command::new(BIN)
        .args(["record", "robot", "--url", &format!("ws://{addr}")])
        .args(["--api-key", API_KEY, "--subscribe", "battery,odom"])
        .args(["--frames", &frames.to_string(), "--duration", "30s"])
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// The payloads of the server data frames of a recording file, in order.
fn data_frames(path: &PathBuf) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["data"] == true)
        .map(|v| v["text"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn record_a_session_then_replay_it_to_a_new_client() {
    let (live, lines) = serve(&["robot"]);
    let robot = addr(&lines, "robot");
    let original = temp("original.jsonl");
    let out = record(&robot, &original, 4);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("data frames) to"), "{stderr}");
    let text = std::fs::read_to_string(&original).unwrap();
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["format"], "telewire-recording");
    assert_eq!(header["api"], "robot");
    assert_eq!(
        header["url"],
        format!("ws://{robot}/?token=<redacted>").as_str()
    );
    let printed_token = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("token"))
        .unwrap()
        .trim();
    for secret in [API_KEY, printed_token.split('.').next().unwrap()] {
        assert!(!text.contains(secret), "{secret} in\n{text}");
    }
    drop(live);
    let recorded = data_frames(&original);
    assert_eq!(recorded.len(), 4);

    // No API named: the recording's API is served, with its data in place of live data.
    let (_replaying, lines) = serve(&["--replay", original.to_str().unwrap(), "--speed", "10"]);
    assert!(lines.iter().any(|l| l.contains("REPLAY of")), "{lines:#?}");
    let again = temp("again.jsonl");
    let out = record(&addr(&lines, "robot"), &again, 4);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(data_frames(&again), recorded);
    let _ = std::fs::remove_file(&original);
    let _ = std::fs::remove_file(&again);
}

#[test]
fn ctrl_c_stops_a_recording_with_what_it_has_and_exit_0() {
    let (_live, lines) = serve(&["robot"]);
    let robot = addr(&lines, "robot");
    let out = temp("interrupted.jsonl");
    let mut child = Command::new(BIN)
        .args(["record", "robot", "--url", &format!("ws://{robot}")])
        .args(["--api-key", API_KEY, "--subscribe", "battery"])
        .arg("--out")
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait (bounded) until the progress line counts a data frame.
    let mut stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Read as _;
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        let mut told = false;
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&seen).into_owned();
            let latest = text.rsplit('\r').find(|l| l.contains(" data frames)"));
            if !told && latest.is_some_and(|l| !l.contains("(0 data frames)")) {
                told = true;
                let _ = tx.send(());
            }
        }
        let _ = tx.send(());
        String::from_utf8_lossy(&seen).into_owned()
    });
    let mut child = Guard(child);
    rx.recv_timeout(std::time::Duration::from_secs(30))
        .expect("a data frame recorded");
    let status = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.0.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    let text = std::fs::read_to_string(&out).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["kind"], "close", "{text}");
    assert!(!data_frames(&out).is_empty());
    let _ = std::fs::remove_file(&out);
}

#[test]
fn bad_recordings_and_unreachable_servers_are_clear_errors() {
    let header = r#"{"format":"telewire-recording","version":1,"api":"robot","url":"ws://h/wss","started":"2026-01-01T00:00:00Z","started_unix_ms":0,"telewire":"0.1.0"}"#;
    let bad = temp("bad.jsonl");
    std::fs::write(
        &bad,
        format!("{header}\n{{\"ms\":1,\"from\":\"nobody\"}}\n"),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["serve", "robot", "--port", "0", "--replay"])
        .arg(&bad)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("line 2: not a frame line"), "{stderr}");

    let robot = temp("robot.jsonl");
    let data = r#"{"ms":5,"from":"server","kind":"text","data":true,"text":"{}"}"#;
    std::fs::write(&robot, format!("{header}\n{data}\n")).unwrap();
    let out = Command::new(BIN)
        .args(["serve", "webmacs", "--port", "0", "--replay"])
        .arg(&robot)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("a recording of the robot API, not webmacs"),
        "{stderr}"
    );

    // Nothing listening: the login cannot connect, and no empty file is left.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let free = listener.local_addr().unwrap();
    drop(listener);
    let out_file = temp("none.jsonl");
    let out = record(&free.to_string(), &out_file, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("is the server running?"), "{stderr}");
    assert!(!out_file.exists());
    let _ = std::fs::remove_file(&bad);
    let _ = std::fs::remove_file(&robot);
}
