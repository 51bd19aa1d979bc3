//! telewire-conformance: the Gherkin suites of `features/`, the cucumber steps that drive a
//! server through `telewire-protocols`, and the report writers (text, JUnit XML, JSON).
//!
//! [`run`] runs one [`Suite`] against a [`TargetSpec`]: a real server described by a
//! [`Target`] (usually [`Target::from_env`]), or the in-process simulator.

#![warn(missing_docs)]

mod http;
pub mod report;
mod runner;
mod steps;
pub mod suite;
pub mod target;
pub mod transcript;
mod world;

pub use report::Level;
pub use report::Outcome;
pub use report::Report;
pub use report::ScenarioResult;
pub use runner::Options;
pub use runner::RunError;
pub use runner::TestArgs;
pub use runner::run;
pub use suite::Suite;
pub use target::Target;
pub use target::TargetSpec;
