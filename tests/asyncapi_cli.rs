//! `telewire asyncapi <api> [--json]`: prints the API's AsyncAPI 3.0 document.

use std::process::Command;

use serde_json::Value;
use telewire_protocols::asyncapi::Api;

const BIN: &str = env!("CARGO_BIN_EXE_telewire");

fn run(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).output().unwrap()
}

#[test]
fn prints_each_document_as_yaml_and_as_json() {
    for api in Api::ALL {
        let yaml = run(&["asyncapi", api.name()]);
        assert!(yaml.status.success(), "{api}: {yaml:?}");
        assert_eq!(String::from_utf8(yaml.stdout).unwrap(), api.yaml(), "{api}");

        let json = run(&["asyncapi", api.name(), "--json"]);
        assert!(json.status.success(), "{api}: {json:?}");
        let printed: Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(printed, api.document(), "{api}");
        assert_eq!(printed["asyncapi"], "3.0.0", "{api}");
    }
}

#[test]
fn an_unknown_api_is_a_usage_error_that_lists_the_names() {
    let out = run(&["asyncapi", "mqtt"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("unknown API `mqtt`") && stderr.contains("molecule, valtronics"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}
