//! `telewire serve --break` end to end: the table says the server is broken, and
//! `telewire check` fails it on exactly the broken rule while it passes the unbroken server.

use std::io::BufRead;
use std::io::BufReader;
use std::path::Path;
use std::process::Child;
use std::process::Command;
use std::process::Output;
use std::process::Stdio;

const BIN: &str = env!("CARGO_BIN_EXE_telewire");

/// Kills the server when the test ends, passed or not.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `telewire serve webmacs` on a free port with `args`; the server and its table.
fn serve(scenario: &Path, args: &[&str]) -> (Guard, Vec<String>) {
    let mut child = Guard(
        Command::new(BIN)
            .args(["serve", "webmacs", "--port", "0", "--scenario"])
            .arg(scenario)
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

/// Runs `telewire check webmacs` against the server whose table is `lines`.
fn check(lines: &[String], junit: &Path) -> Output {
    let stream = field(lines, "ws ", "/ws/datapoints/stream");
    let base = stream.trim_end_matches("/ws/datapoints/stream");
    let token = field(lines, "token ", "");
    Command::new(BIN)
        .args([
            "check", "webmacs", "--url", base, "--token", token, "--junit",
        ])
        .arg(junit)
        .output()
        .unwrap()
}

#[test]
fn check_fails_a_broken_server_on_its_rule_and_passes_the_unbroken_one() {
    let dir = std::env::temp_dir().join(format!("telewire-breaks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = dir.join("quiet.toml");
    // No built-in controller: only what a scenario pushes reaches the stream.
    std::fs::write(&scenario, "[webmacs]\nrate = 0\n").unwrap();

    let (broken, lines) = serve(&scenario, &["--break", "webmacs-no-token-1000"]);
    let table = lines.join("\n");
    assert!(table.contains("DELIBERATELY BROKEN"), "{table}");
    assert!(
        table.contains("BROKEN webmacs-no-token-1000 (breaks webmacs.auth.required)"),
        "{table}"
    );
    let junit = dir.join("broken.xml");
    let out = check(&lines, &junit);
    drop(broken);
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    let failed: Vec<&str> = report
        .lines()
        .filter(|l| l.trim_start().starts_with("FAIL"))
        .collect();
    assert!(
        !failed.is_empty()
            && failed
                .iter()
                .all(|l| l.contains("MUST") && l.contains("webmacs.auth.required")),
        "{report}"
    );
    assert!(
        report.contains("webmacs.auth.required [MUST]")
            && report.contains(
                "expected close 1008 \"Authentication required\"; observed close 1000 \"Authentication required\""
            ),
        "the report names the rule, its level, and expected versus observed: {report}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("classname=\"webmacs.auth.required\"")
            && xml.contains("<failure type=\"MUST\""),
        "{xml}"
    );

    let (unbroken, lines) = serve(&scenario, &[]);
    assert!(!lines.join("\n").contains("BROKEN"), "{lines:#?}");
    let junit = dir.join("unbroken.xml");
    let out = check(&lines, &junit);
    drop(unbroken);
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(!xml.contains("<failure"), "{xml}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn break_list_prints_every_profile_and_unknown_or_unserved_profiles_are_refused() {
    let out = Command::new(BIN)
        .args(["serve", "--break", "list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for profile in telewire_simulator::breaks::BREAKS {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(profile.name))
            .unwrap_or_else(|| panic!("{} missing from:\n{text}", profile.name));
        assert!(
            line.contains(profile.api.name()) && line.contains(profile.rule),
            "{line}"
        );
    }
    let same = Command::new(BIN)
        .args(["serve", "--list-breaks"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(same.stdout).unwrap(), text);

    let out = Command::new(BIN)
        .args([
            "serve",
            "webmacs",
            "--port",
            "0",
            "--break",
            "no-such-profile",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("unknown break profile 'no-such-profile'"),
        "{err}"
    );

    let out = Command::new(BIN)
        .args([
            "serve",
            "webmacs",
            "--port",
            "0",
            "--break",
            "robot-publish-leak",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("add robot to the APIs"), "{err}");
}
