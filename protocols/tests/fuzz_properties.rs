//! The fuzz targets' property functions on stable: every one over every committed seed and every fixture.
//!
//! `fuzz/` needs a nightly toolchain; these tests keep its properties exercised without
//! one. Parser properties get each seed and fixture as raw bytes; session properties get
//! each seed split into frames and ticks (`fuzzing::byte_steps`), and each fixture sent
//! after the messages that authenticate and subscribe.

// Test helpers outside `#[test]` functions: a panic here is a failed assertion.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::fs;
use std::path::Path;
use std::path::PathBuf;

use telewire_protocols::fuzzing::PropertyFailure;
use telewire_protocols::fuzzing::Step;
use telewire_protocols::fuzzing::byte_steps;
use telewire_protocols::molecule;
use telewire_protocols::mosaic;
use telewire_protocols::robot;
use telewire_protocols::valtronics;
use telewire_protocols::webmacs;

type Property = fn(&[u8]) -> Result<(), PropertyFailure>;

/// Every parser target, with the property function it calls.
const PARSERS: [(&str, Property); 9] = [
    ("molecule_handshake", molecule::fuzzing::handshake),
    ("molecule_server_frame", molecule::fuzzing::server_frame),
    ("molecule_auth_response", molecule::fuzzing::auth_response),
    ("mosaic_keepalive", mosaic::fuzzing::keepalive),
    ("mosaic_message", mosaic::fuzzing::message),
    ("valtronics_message", valtronics::fuzzing::message),
    ("webmacs_batch", webmacs::fuzzing::batch),
    ("webmacs_stream", webmacs::fuzzing::messages),
    ("robot_message", robot::fuzzing::message),
];

/// The session targets.
const SESSIONS: [&str; 5] = [
    "molecule_session",
    "mosaic_session",
    "robot_session",
    "valtronics_session",
    "webmacs_session",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every file directly under each directory of `dir`, as (directory name, path, bytes).
fn files_under(dir: &Path) -> Vec<(String, PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for sub in fs::read_dir(dir).unwrap() {
        let sub = sub.unwrap().path();
        if !sub.is_dir() {
            continue;
        }
        let group = sub.file_name().unwrap().to_string_lossy().into_owned();
        for file in fs::read_dir(&sub).unwrap() {
            let path = file.unwrap().path();
            if path.is_file() {
                let bytes = fs::read(&path).unwrap();
                out.push((group.clone(), path, bytes));
            }
        }
    }
    out.sort();
    out
}

fn holds(outcome: Result<(), PropertyFailure>, what: &str, path: &Path) {
    if let Err(failure) = outcome {
        panic!("{what} on {}: {failure}", path.display());
    }
}

/// Every session property over `steps`, each step to one side where there are two.
fn all_sessions(steps: &[Step<'_>], path: &Path) {
    let sided: Vec<(u8, Step<'_>)> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (u8::try_from(i % 2).unwrap(), *s))
        .collect();
    holds(molecule::fuzzing::session(steps), "molecule session", path);
    holds(
        valtronics::fuzzing::session(steps),
        "valtronics session",
        path,
    );
    holds(
        mosaic::fuzzing::session(true, steps),
        "mosaic session",
        path,
    );
    holds(
        mosaic::fuzzing::session(false, steps),
        "mosaic open session",
        path,
    );
    holds(robot::fuzzing::two_clients(&sided), "robot session", path);
    holds(webmacs::fuzzing::session(&sided), "webmacs session", path);
}

/// Property functions no target calls on its own (the session targets reach them).
const MORE_PARSERS: [(&str, Property); 2] = [
    ("molecule client frame", molecule::fuzzing::client_frame),
    ("molecule token request", molecule::fuzzing::token_request),
];

#[test]
fn every_target_has_seeds() {
    let seeds = repo().join("fuzz/seeds");
    for target in PARSERS.iter().map(|(t, _)| *t).chain(SESSIONS) {
        let count = fs::read_dir(seeds.join(target))
            .map(|d| d.count())
            .unwrap_or(0);
        assert!(count > 0, "fuzz/seeds/{target} holds no seed");
    }
}

#[test]
fn parser_properties_hold_on_every_seed_and_fixture() {
    let mut inputs = files_under(&repo().join("fuzz/seeds"));
    inputs.extend(files_under(&repo().join("fixtures")));
    assert!(inputs.len() > 100, "seeds and fixtures were found");
    for (_, path, bytes) in &inputs {
        for (target, property) in PARSERS.into_iter().chain(MORE_PARSERS) {
            holds(property(bytes), target, path);
        }
    }
}

#[test]
fn session_properties_hold_on_every_seed() {
    for (_, path, bytes) in files_under(&repo().join("fuzz/seeds")) {
        all_sessions(&byte_steps(&bytes), &path);
    }
}

#[test]
fn session_properties_hold_on_every_fixture_after_authentication() {
    let handshake =
        molecule::build_handshake(molecule::fuzzing::GATEWAY, molecule::fuzzing::GOOD_TOKEN)
            .unwrap();
    let valtronics_auth = format!(
        r#"{{"type":"auth","token":"{}"}}"#,
        valtronics::fuzzing::GOOD_TOKEN
    );
    let valtronics_subscribe: Vec<String> = ["telemetry", "alerts", "devices", "system"]
        .iter()
        .map(|c| format!(r#"{{"type":"subscribe","channel":"{c}"}}"#))
        .collect();
    let mosaic_subscribe = format!(
        r#"{{"subscribe":"beacon","token":"{}"}}"#,
        mosaic::fuzzing::GOOD_TOKEN
    );
    let robot_subscribe = r#"{"action":"subscribe","topic":"some_topic"}"#;
    for (api, path, bytes) in files_under(&repo().join("fixtures")) {
        let text = String::from_utf8_lossy(&bytes);
        match api.as_str() {
            "molecule" => {
                let steps = [Step::Binary(&handshake), Step::Binary(&bytes)];
                holds(
                    molecule::fuzzing::session(&steps),
                    "molecule session",
                    &path,
                );
                holds(
                    molecule::fuzzing::session(&[Step::Binary(&bytes)]),
                    "molecule session",
                    &path,
                );
            }
            "valtronics" => {
                let mut steps = vec![Step::Text(&valtronics_auth)];
                steps.extend(valtronics_subscribe.iter().map(|s| Step::Text(s)));
                steps.push(Step::Text(&text));
                holds(
                    valtronics::fuzzing::session(&steps),
                    "valtronics session",
                    &path,
                );
            }
            "mosaic" => {
                let steps = [Step::Text(&mosaic_subscribe), Step::Text(&text)];
                for secured in [true, false] {
                    holds(
                        mosaic::fuzzing::session(secured, &steps),
                        "mosaic session",
                        &path,
                    );
                }
            }
            "robot" => {
                let steps = [
                    (1, Step::Text(robot_subscribe)),
                    (0, Step::Text(&text)),
                    (1, Step::Text(&text)),
                ];
                holds(robot::fuzzing::two_clients(&steps), "robot session", &path);
            }
            "webmacs" => {
                let steps = [(0, Step::Text(&text)), (1, Step::Text(&text))];
                holds(webmacs::fuzzing::session(&steps), "webmacs session", &path);
            }
            _ => {}
        }
    }
}
