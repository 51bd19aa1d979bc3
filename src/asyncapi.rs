//! `telewire asyncapi <api>`: print the API's AsyncAPI 3.0 document.

use std::io::Write as _;

use clap::Args;
use telewire_protocols::asyncapi::Api;

/// Arguments of `telewire asyncapi`.
#[derive(Debug, Args)]
pub struct AsyncApiArgs {
    /// Which API: molecule, valtronics, webmacs, mosaic, robot.
    #[arg(value_name = "API", value_parser = parse_api)]
    api: Api,
    /// Print JSON instead of YAML.
    #[arg(long)]
    json: bool,
}

fn parse_api(name: &str) -> Result<Api, String> {
    Api::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Api::ALL.iter().map(|a| a.name()).collect();
        format!("unknown API `{name}`: expected one of {}", names.join(", "))
    })
}

/// Writes the document to stdout.
pub fn run(args: &AsyncApiArgs) -> Result<(), String> {
    let document = args.api.document();
    let text = if args.json {
        let mut text = serde_json::to_string_pretty(&document)
            .map_err(|e| format!("cannot encode the document as JSON: {e}"))?;
        text.push('\n');
        text
    } else {
        telewire_protocols::asyncapi::to_yaml(&document)
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write the document to stdout: {e}"))
}
