//! `telewire serve --fault` and `telewire fault` as processes: a fault from a second
//! terminal reaches a connected client; refusals and a missing server exit non-zero.

use std::io::BufRead;
use std::io::BufReader;
use std::process::Child;
use std::process::Command;
use std::process::Output;
use std::process::Stdio;
use std::time::Duration;

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

const BIN: &str = env!("CARGO_BIN_EXE_telewire");
const WAIT: Duration = Duration::from_secs(20);

/// Kills the server when the test ends, passed or not.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `telewire serve robot` on a free port with `args`; the server and its table.
fn serve(args: &[&str]) -> (Guard, Vec<String>) {
    let mut child = Guard(
        Command::new(BIN)
            .args(["serve", "robot", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut reader = BufReader::new(child.0.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            panic!("serve ended before printing its table: {lines:#?}");
        }
        let line = line.trim_end().to_owned();
        let done = line.starts_with("Ctrl-C");
        lines.push(line);
        if done {
            std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
            return (child, lines);
        }
    }
}

/// The value of the first table line `label ...` containing `contains`.
fn field<'a>(lines: &'a [String], label: &str, contains: &str) -> &'a str {
    lines
        .iter()
        .filter_map(|l| l.trim_start().strip_prefix(label))
        .map(str::trim)
        .find(|v| v.contains(contains))
        .unwrap_or_else(|| panic!("no {label} line with {contains:?} in {lines:#?}"))
}

/// Runs `telewire fault robot <args>` against `port`.
fn fault(port: u16, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["fault", "robot"])
        .args(args)
        .args(["--port", &port.to_string()])
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_from_a_second_terminal_reaches_the_client() {
    let (_server, table) = serve(&["--fault", "robot:latency=10ms"]);
    let url = field(&table, "ws", "/wss").to_owned();
    let token = field(&table, "token", "").to_owned();
    let port: u16 = url
        .trim_start_matches("ws://")
        .split(['/', ':'])
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{url}?token={token}"))
        .await
        .unwrap();

    let list = fault(port, &["--list"]);
    assert_eq!(list.status.code(), Some(0), "{}", text(&list.stderr));
    let listing = text(&list.stdout);
    for expected in [
        "latency=<dur>[,jitter=<dur>]",
        "latency=10ms (every client)",
        "restart[=<dur>]",
    ] {
        assert!(
            listing.contains(expected),
            "{expected} missing from:\n{listing}"
        );
    }

    let applied = fault(port, &["close=4000:see you"]);
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied.stderr));
    assert!(text(&applied.stdout).contains("applied close=4000:see you on robot"));
    let close = tokio::time::timeout(WAIT, async {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Close(frame) = msg {
                return frame;
            }
        }
        None
    })
    .await
    .expect("the close in time")
    .expect("a close frame");
    assert_eq!(
        (u16::from(close.code), close.reason.as_str()),
        (4000, "see you")
    );

    let cleared = fault(port, &["clear"]);
    assert_eq!(cleared.status.code(), Some(0), "{}", text(&cleared.stderr));
    assert!(
        text(&cleared.stdout).contains("cleared 1 lasting fault"),
        "{}",
        text(&cleared.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_usage_errors_and_a_missing_server_exit_non_zero() {
    let (_server, table) = serve(&[]);
    let url = field(&table, "ws", "/wss");
    let port: u16 = url
        .trim_start_matches("ws://")
        .split(['/', ':'])
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let refused = fault(port, &["revoke-token"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("WebMACS"),
        "{}",
        text(&refused.stderr)
    );
    let unknown = fault(port, &["stall", "--client", "999999"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("no robot connection 999999"));
    let usage = fault(port, &["latency=soon"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(
        text(&usage.stderr).contains("accepted faults"),
        "{}",
        text(&usage.stderr)
    );
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = free.local_addr().unwrap().port();
    drop(free);
    let nobody = fault(closed, &["stall"]);
    assert_eq!(nobody.status.code(), Some(1));
    assert!(
        text(&nobody.stderr).contains("is `telewire serve robot` running?"),
        "{}",
        text(&nobody.stderr)
    );
    let bad = Command::new(BIN)
        .args([
            "serve",
            "robot",
            "--port",
            "0",
            "--fault",
            "robot:revoke-token",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("WebMACS"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn a_tls_server_is_reached_over_https_with_its_certificate() {
    let dir = std::env::temp_dir().join(format!("telewire-fault-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pem = telewire_simulator::tls::self_signed().unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, &pem.cert_pem).unwrap();
    std::fs::write(&key, &pem.key_pem).unwrap();
    let (_server, table) = serve(&[
        "--tls",
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ]);
    let admin = field(&table, "admin", "https://");
    let base = admin.split("/_telewire").next().unwrap().to_owned();
    let run = |extra: &[&str]| {
        Command::new(BIN)
            .args(["fault", "robot", "latency=20ms", "--url", &base])
            .args(extra)
            .output()
            .unwrap()
    };
    let trusted = run(&["--ca-cert", cert.to_str().unwrap()]);
    assert_eq!(trusted.status.code(), Some(0), "{}", text(&trusted.stderr));
    assert!(text(&trusted.stdout).contains("applied latency=20ms on robot"));
    let untrusted = run(&[]);
    assert_eq!(untrusted.status.code(), Some(1));
    assert!(
        text(&untrusted.stderr).contains("--ca-cert"),
        "{}",
        text(&untrusted.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
