//! Placeholder for the simulated robot server (being written).

use serde::Deserialize;

use crate::context::ApiInfo;
use crate::context::Context;
use crate::context::Started;

/// The robot section of a scenario file.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Scenario {}

/// Starts the simulated robot server.
pub fn start(_ctx: &Context, _scenario: &Scenario) -> Started {
    Started {
        router: axum::Router::new(),
        tasks: Vec::new(),
        info: ApiInfo::default(),
    }
}
