//! `telewire check` against an in-process `serve webmacs`: exit codes, JUnit XML that
//! parses, and tokens kept out of the reports.

#[path = "../src/check.rs"]
mod check;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use telewire_simulator::context::Credentials;
use telewire_simulator::serve;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::Running;
use telewire_simulator::serve::ServeOptions;

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    args: check::CheckArgs,
}

async fn webmacs() -> (Running, String, String, Vec<String>) {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.webmacs.rate = 0.0;
    let events = opts
        .scenario
        .webmacs
        .events
        .iter()
        .filter(|e| e.enabled)
        .map(|e| e.public_id.clone())
        .collect();
    let running = serve::start(&[Api::Webmacs], opts).await.unwrap();
    let url = format!("ws://{}", running.addr(Api::Webmacs).unwrap());
    let token = running.apis[0].info.token.clone();
    (running, url, token, events)
}

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("telewire-check-{}-{name}", std::process::id()))
}

async fn check(argv: &[&str]) -> ExitCode {
    let mut full = vec!["check"];
    full.extend_from_slice(argv);
    check::run(Cli::parse_from(full).args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conforming_server_passes_and_the_junit_report_parses() {
    let (running, url, token, events) = webmacs().await;
    let creds = Credentials::default();
    let junit = scratch("pass.xml");
    let events = events.join(",");
    let code = check(&[
        "webmacs",
        "--url",
        &url,
        "--token",
        &token,
        "--email",
        &creds.email,
        "--password",
        &creds.password,
        "--events",
        &events,
        "--junit",
        junit.to_str().unwrap(),
    ])
    .await;
    running.shutdown().await;
    assert_eq!(code, ExitCode::SUCCESS);
    let xml = std::fs::read_to_string(&junit).unwrap();
    let _ = std::fs::remove_file(&junit);
    well_formed(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    // One test suite per feature file: auth, stream, controller, http and client.
    assert_eq!(xml.matches("<testsuite ").count(), 5, "{xml}");
    assert!(xml.contains("classname=\"webmacs.auth.required\""), "{xml}");
    assert!(
        xml.contains("<skipped"),
        "the deleted-user scenario is skipped with its reason: {xml}"
    );
    assert!(!xml.contains("<failure"), "{xml}");
    assert!(!xml.contains(&token));
    // Client rules judge clients, not this server: listed as skipped.
    assert!(
        xml.contains("classname=\"webmacs.client.token-query\""),
        "{xml}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_fails_must_rules_and_stays_redacted() {
    let (running, url, _, _) = webmacs().await;
    // Shaped like a JWT, signed with another key: the server refuses it.
    let forged = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkZW1vIn0.Zm9yZ2VkLXNpZ25hdHVyZQ";
    let junit = scratch("fail.xml");
    let json = scratch("fail.json");
    let code = check(&[
        "webmacs",
        "--url",
        &url,
        "--token",
        forged,
        "--tags",
        "@webmacs.stream.connected or @webmacs.auth.required",
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ])
    .await;
    running.shutdown().await;
    assert_eq!(code, ExitCode::from(1));
    let xml = std::fs::read_to_string(&junit).unwrap();
    let json = std::fs::read_to_string(&json).unwrap();
    let _ = std::fs::remove_file(scratch("fail.xml"));
    let _ = std::fs::remove_file(scratch("fail.json"));
    well_formed(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert!(xml.contains("<failure type=\"MUST\""), "{xml}");
    assert!(
        xml.contains("Invalid or expired token"),
        "the observed close is in the verdict: {xml}"
    );
    assert!(xml.contains("&lt;redacted&gt;"), "{xml}");
    for report in [&xml, &json] {
        assert!(!report.contains(forged), "{report}");
        assert!(!report.contains("eyJ"), "{report}");
    }
}

#[tokio::test]
async fn usage_errors_exit_2_and_list_prints_the_rules() {
    assert_eq!(
        check(&["nosuchapi", "--url", "ws://127.0.0.1:9"]).await,
        ExitCode::from(2)
    );
    assert_eq!(check(&["webmacs"]).await, ExitCode::from(2));
    assert_eq!(check(&["webmacs", "--list"]).await, ExitCode::SUCCESS);
    assert_eq!(
        check(&[
            "webmacs",
            "--url",
            "ws://127.0.0.1:9",
            "--token",
            "t",
            "--tags",
            "@must and ("
        ])
        .await,
        ExitCode::from(2)
    );
}

/// A small XML well-formedness check: one root element, balanced tags, quoted attributes,
/// only the five predefined entities or character references.
fn well_formed(xml: &str) -> Result<(), String> {
    let mut rest = xml.trim_start();
    if let Some(after) = rest.strip_prefix("<?xml") {
        rest = after
            .split_once("?>")
            .ok_or("unterminated XML declaration")?
            .1;
    }
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    while !rest.is_empty() {
        let Some(open) = rest.find('<') else {
            check_text(rest)?;
            if !rest.trim().is_empty() {
                return Err("text after the root element".into());
            }
            break;
        };
        let text = &rest[..open];
        check_text(text)?;
        if stack.is_empty() && !text.trim().is_empty() {
            return Err(format!("text outside the root element: {text:?}"));
        }
        rest = &rest[open..];
        let close = rest.find('>').ok_or("unterminated tag")?;
        let tag = &rest[1..close];
        rest = &rest[close + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            match stack.pop() {
                Some(open) if open == name.trim() => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name = tag.split_whitespace().next().ok_or("empty tag")?;
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!("bad element name {name:?}"));
        }
        check_attributes(&tag[name.len()..])?;
        if stack.is_empty() {
            roots += 1;
        }
        if !self_closing {
            stack.push(name.to_owned());
        }
    }
    match (roots, stack.is_empty()) {
        (1, true) => Ok(()),
        (_, false) => Err(format!("unclosed elements {stack:?}")),
        (n, _) => Err(format!("{n} root elements")),
    }
}

fn check_attributes(mut attrs: &str) -> Result<(), String> {
    loop {
        attrs = attrs.trim_start();
        if attrs.is_empty() {
            return Ok(());
        }
        let (name, after) = attrs.split_once('=').ok_or("attribute without =")?;
        if name.trim().is_empty() || name.contains(char::is_whitespace) {
            return Err(format!("bad attribute name {name:?}"));
        }
        let after = after.strip_prefix('"').ok_or("unquoted attribute value")?;
        let (value, next) = after
            .split_once('"')
            .ok_or("unterminated attribute value")?;
        if value.contains('<') {
            return Err("< in an attribute value".into());
        }
        check_text(value)?;
        attrs = next;
    }
}

fn check_text(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        let after = &rest[amp + 1..];
        let end = after.find(';').ok_or("unterminated entity")?;
        let entity = &after[..end];
        let known = matches!(entity, "amp" | "lt" | "gt" | "quot" | "apos")
            || entity
                .strip_prefix('#')
                .is_some_and(|n| n.chars().all(|c| c.is_ascii_alphanumeric()));
        if !known {
            return Err(format!("unknown entity &{entity};"));
        }
        rest = &after[end + 1..];
    }
    if text
        .chars()
        .any(|c| (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("control character in text".into());
    }
    Ok(())
}

#[test]
fn the_well_formedness_check_rejects_broken_xml() {
    assert!(well_formed("<a><b/></a>").is_ok());
    assert!(well_formed("<a><b></a>").is_err());
    assert!(well_formed("<a x=\"1 & 2\"/>").is_err());
    assert!(well_formed("<a/><b/>").is_err());
    assert!(well_formed("<a x=1/>").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_robot_with_an_api_key_passes_against_the_simulator() {
    let running = serve::start(&[Api::Robot], ServeOptions::ephemeral())
        .await
        .unwrap();
    let addr = running.addr(Api::Robot).unwrap();
    let url = format!("ws://{addr}/wss");
    let json = scratch("robot.json");
    let creds = Credentials::default();
    let code = check(&[
        "robot",
        "--url",
        &url,
        "--api-key",
        &creds.api_key,
        "--json",
        json.to_str().unwrap(),
    ])
    .await;
    running.shutdown().await;
    assert_eq!(code, ExitCode::SUCCESS);
    let report = std::fs::read_to_string(&json).unwrap();
    let _ = std::fs::remove_file(&json);
    assert!(report.contains("\"robot.auth.api_key_token\""), "{report}");
    assert_eq!(check(&["robot", "--list"]).await, ExitCode::SUCCESS);
}
