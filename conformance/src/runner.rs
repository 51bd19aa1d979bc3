//! Runs one suite against one target with cucumber and collects the verdicts.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Instant;

use cucumber::World as _;
use cucumber::WriterExt as _;
use cucumber::event::ScenarioFinished;
use cucumber::event::StepError;
use cucumber::feature::Ext as _;
use cucumber::gherkin;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::tag::Ext as _;
use futures_util::FutureExt as _;

use crate::report::Outcome;
use crate::report::Report;
use crate::report::ScenarioResult;
use crate::suite;
use crate::suite::Suite;
use crate::target::Target;
use crate::target::TargetSpec;
use crate::target::start_in_process;
use crate::transcript::Redactor;
use crate::world::World;

/// A callback that sees each verdict as soon as it is known.
pub type Progress = Box<dyn Fn(&ScenarioResult)>;

/// How to run.
#[derive(Default)]
pub struct Options {
    /// A cucumber tag expression (`@must and not @needs.events`); only matching scenarios run.
    pub tags: Option<String>,
    /// Only scenarios whose title contains this text run.
    pub name_filter: Option<String>,
    /// Called with each verdict as its scenario finishes (and for each skipped one first).
    pub progress: Option<Progress>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("tags", &self.tags)
            .field("name_filter", &self.name_filter)
            .finish_non_exhaustive()
    }
}

/// Arguments of the `harness = false` test targets: libtest's flags are accepted and
/// ignored, so that `cargo test -- --nocapture` and nextest work.
#[derive(Debug, Default, clap::Parser)]
#[command(ignore_errors = true)]
pub struct TestArgs {
    /// Only scenarios whose title contains this text.
    pub filter: Option<String>,
    /// A cucumber tag expression.
    #[arg(long)]
    pub tags: Option<String>,
    /// Ignored (libtest).
    #[arg(long)]
    pub list: bool,
    /// Ignored (libtest).
    #[arg(long)]
    pub ignored: bool,
    /// Ignored (libtest).
    #[arg(long)]
    pub exact: bool,
    /// Ignored (libtest).
    #[arg(long)]
    pub nocapture: bool,
    /// Ignored (libtest).
    #[arg(long)]
    pub format: Option<String>,
    /// Ignored (libtest).
    #[arg(long)]
    pub test_threads: Option<String>,
}

impl TestArgs {
    /// The main of a `harness = false` test target for `suite`: the in-process simulator,
    /// or the server `TELEWIRE_<API>_URL` names. Exits 1 when any scenario failed (MAY
    /// ones included: the simulator defines them), 2 for configuration errors.
    pub async fn main(suite: Suite) -> std::process::ExitCode {
        use clap::Parser as _;
        let args = Self::parse();
        if args.list {
            // libtest's listing, so that test runners see one test per suite.
            if !args.ignored {
                println!("{}: test", suite.name());
            }
            return std::process::ExitCode::SUCCESS;
        }
        if args.ignored {
            return std::process::ExitCode::SUCCESS;
        }
        let name_filter = args.filter.filter(|f| f != suite.name());
        let target = Target::from_env(suite)
            .map_or(TargetSpec::InProcess, |t| TargetSpec::Remote(Box::new(t)));
        let options = Options {
            tags: args.tags,
            name_filter,
            progress: Some(Box::new(|result| println!("{}", result.line()))),
        };
        match run(suite, target, options).await {
            Ok(report) => {
                print!("{}", report.details());
                let failed = report
                    .scenarios
                    .iter()
                    .any(|s| matches!(s.outcome, Outcome::Failed { .. }));
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
}

/// Why a run could not start.
#[derive(Debug)]
pub enum RunError {
    /// The configuration is incomplete or wrong (exit code 2).
    Config(String),
    /// The suite or the simulator failed.
    Internal(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Config(m) => write!(f, "configuration: {m}"),
            RunError::Internal(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RunError {}

/// Feeds cucumber the embedded features.
struct Embedded;

impl cucumber::Parser<Suite> for Embedded {
    type Cli = cucumber::cli::Empty;
    type Output =
        futures_util::stream::Iter<std::vec::IntoIter<cucumber::parser::Result<gherkin::Feature>>>;

    fn parse(self, suite: Suite, _: Self::Cli) -> Self::Output {
        let features: Vec<_> = suite
            .files()
            .iter()
            .map(|(path, text)| {
                let feature = suite::parse(path, text).map_err(|source| {
                    cucumber::parser::Error::Parsing(Arc::new(gherkin::ParseFileError::Parsing {
                        path: (*path).into(),
                        error: None,
                        source,
                    }))
                })?;
                feature
                    .expand_examples()
                    .map_err(|e| cucumber::parser::Error::ExampleExpansion(Arc::new(e)))
            })
            .collect();
        futures_util::stream::iter(features)
    }
}

/// Runs `suite` against `target`; one verdict per scenario (skipped ones included, with
/// the configuration they need).
pub async fn run(suite: Suite, target: TargetSpec, options: Options) -> Result<Report, RunError> {
    let remote = matches!(target, TargetSpec::Remote(_));
    let (target, running) = match target {
        TargetSpec::InProcess => {
            let (target, running) = start_in_process(suite).await.map_err(RunError::Internal)?;
            (target, Some(running))
        }
        TargetSpec::Remote(target) => {
            (target.resolve(suite).await.map_err(RunError::Config)?, None)
        }
    };
    let result = run_resolved(suite, target, options, remote).await;
    if let Some(running) = running {
        running.shutdown().await;
    }
    result
}

/// Why a `@client` scenario does not run against a remote target: it judges a client, and
/// starts its own judged simulator for the scripted clients it runs.
pub const CLIENT_ON_REMOTE: &str = "a client rule: it judges a client connected to `telewire serve <api> --judge`, not a server (runs in the in-process suites)";

async fn run_resolved(
    suite: Suite,
    target: Target,
    options: Options,
    remote: bool,
) -> Result<Report, RunError> {
    let tags = options
        .tags
        .as_deref()
        .map(|t| {
            TagOperation::from_str(t).map_err(|e| RunError::Config(format!("--tags {t:?}: {e}")))
        })
        .transpose()?;
    let redactor = Redactor::new(target.secrets());
    let progress = options.progress.map(Arc::<dyn Fn(&ScenarioResult)>::from);
    let results: Arc<Mutex<Vec<ScenarioResult>>> = Arc::default();

    // Which scenarios run: selected by tags and name, and not lacking configuration.
    let selected = {
        let tags = tags.clone();
        let name_filter = options.name_filter.clone();
        move |feature: &gherkin::Feature, scenario: &gherkin::Scenario| {
            let rule = suite::rule_of(feature, scenario);
            tags.as_ref().is_none_or(|op| op.eval(rule.tags.iter()))
                && name_filter
                    .as_ref()
                    .is_none_or(|f| scenario.name.contains(f.as_str()))
        }
    };
    let missing = {
        let target = target.clone();
        move |feature: &gherkin::Feature, scenario: &gherkin::Scenario| {
            let rule = suite::rule_of(feature, scenario);
            if remote && rule.role == "client" {
                return Some(CLIENT_ON_REMOTE.to_owned());
            }
            rule.needs
                .iter()
                .find_map(|need| target.missing(suite, need))
        }
    };
    let features = suite
        .features()
        .map_err(RunError::Internal)?
        .into_iter()
        .map(|f| {
            f.expand_examples()
                .map_err(|e| RunError::Internal(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    for feature in &features {
        for scenario in suite::scenarios(feature) {
            if !selected(feature, scenario) {
                continue;
            }
            if let Some(reason) = missing(feature, scenario) {
                let rule = suite::rule_of(feature, scenario);
                let result = ScenarioResult {
                    feature: feature.name.clone(),
                    rule_id: rule.id,
                    level: rule.level,
                    role: rule.role,
                    title: scenario.name.clone(),
                    spec: suite::spec_of(scenario),
                    outcome: Outcome::Skipped { reason },
                    transcript: Vec::new(),
                    duration: std::time::Duration::ZERO,
                };
                if let Some(progress) = &progress {
                    progress(&result);
                }
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(result);
            }
        }
    }

    let target = Arc::new(target);
    let started: Arc<Mutex<Option<Instant>>> = Arc::default();
    let before_target = target.clone();
    let before_started = started.clone();
    let after_results = results.clone();
    let after_redactor = redactor.clone();
    let after_progress = progress.clone();
    let filter_missing = missing.clone();
    World::cucumber::<&str>()
        .with_parser(Embedded)
        .with_writer(
            cucumber::writer::Basic::raw(
                std::io::sink(),
                cucumber::writer::Coloring::Never,
                cucumber::writer::Verbosity::Default,
            )
            .summarized()
            .normalized(),
        )
        .fail_on_skipped()
        .max_concurrent_scenarios(1)
        .before(move |_, _, _, world| {
            world.target = before_target.clone();
            world.suite = suite;
            *before_started.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
            async {}.boxed_local()
        })
        .after(move |feature, _, scenario, finished, world| {
            let results = after_results.clone();
            let redactor = after_redactor.clone();
            let progress = after_progress.clone();
            let started = started.clone();
            async move {
                let rule = suite::rule_of(feature, scenario);
                let outcome = match finished {
                    ScenarioFinished::StepPassed => Outcome::Passed,
                    ScenarioFinished::StepSkipped => Outcome::Failed {
                        message: "a step matches no step definition (undefined step)".into(),
                    },
                    ScenarioFinished::BeforeHookFailed(_) => Outcome::Failed {
                        message: "the before hook failed".into(),
                    },
                    ScenarioFinished::StepFailed(_, _, err) => Outcome::Failed {
                        message: redactor.text(&step_error(err)),
                    },
                };
                let transcript = match world {
                    Some(world) => {
                        world.close_all().await;
                        world.transcript.render(&redactor)
                    }
                    None => Vec::new(),
                };
                let duration = started
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .map(|s| s.elapsed())
                    .unwrap_or_default();
                let result = ScenarioResult {
                    feature: feature.name.clone(),
                    rule_id: rule.id,
                    level: rule.level,
                    role: rule.role,
                    title: scenario.name.clone(),
                    spec: suite::spec_of(scenario),
                    outcome,
                    transcript,
                    duration,
                };
                if let Some(progress) = &progress {
                    progress(&result);
                }
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(result);
            }
            .boxed_local()
        })
        // Last: the builder calls before it may reset the CLI, and cucumber must not read
        // the process arguments (they belong to `telewire check` or the test harness).
        .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
        .filter_run(suite, move |feature, _, scenario| {
            selected(feature, scenario) && filter_missing(feature, scenario).is_none()
        })
        .await;

    let scenarios = std::mem::take(&mut *results.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(Report {
        suite: suite.name().to_owned(),
        target: redactor.text(&target.url),
        scenarios,
    })
}

fn step_error(err: &StepError) -> String {
    match err {
        StepError::Panic(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "the step panicked".into()),
        other => other.to_string(),
    }
}
