//! Placeholder for the simulated valtronics server (being written).

use serde::Deserialize;

use crate::context::ApiInfo;
use crate::context::Context;
use crate::context::Started;

/// The valtronics section of a scenario file.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Scenario {}

/// Starts the simulated valtronics server.
pub fn start(_ctx: &Context, _scenario: &Scenario) -> Started {
    Started {
        router: axum::Router::new(),
        tasks: Vec::new(),
        info: ApiInfo::default(),
    }
}
