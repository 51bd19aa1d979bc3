//! Placeholder for the simulated mosaic server (being written).

use serde::Deserialize;

use crate::context::ApiInfo;
use crate::context::Context;
use crate::context::Started;

/// The mosaic section of a scenario file.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Scenario {}

/// Starts the simulated mosaic server.
pub fn start(_ctx: &Context, _scenario: &Scenario) -> Started {
    Started {
        router: axum::Router::new(),
        tasks: Vec::new(),
        info: ApiInfo::default(),
    }
}
