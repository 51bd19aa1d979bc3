//! The WebMACS suite against the in-process simulator, or the server `TELEWIRE_WEBMACS_URL` names.

use clap::Parser as _;
use telewire_conformance::Options;
use telewire_conformance::Suite;
use telewire_conformance::Target;
use telewire_conformance::TargetSpec;
use telewire_conformance::TestArgs;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = TestArgs::parse();
    let suite = Suite::Webmacs;
    run(suite, args).await
}

async fn run(suite: Suite, args: TestArgs) -> std::process::ExitCode {
    let target =
        Target::from_env(suite).map_or(TargetSpec::InProcess, |t| TargetSpec::Remote(Box::new(t)));
    let options = Options {
        tags: args.tags,
        name_filter: args.filter,
        progress: Some(Box::new(|result| println!("{}", result.line()))),
    };
    match telewire_conformance::run(suite, target, options).await {
        Ok(report) => {
            println!("{}", report.text());
            let failed = report
                .scenarios
                .iter()
                .any(|s| matches!(s.outcome, telewire_conformance::Outcome::Failed { .. }));
            if failed {
                std::process::ExitCode::FAILURE
            } else {
                std::process::ExitCode::SUCCESS
            }
        }
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::from(2)
        }
    }
}
