//! Scenario files (`--scenario`): devices, metrics, rates and seeds for every simulated API.

use std::path::Path;

use serde::Deserialize;

/// A whole scenario: one optional section per API. Absent sections take the built-in
/// defaults of that API.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The data seed; `--seed` overrides it.
    pub seed: Option<u64>,
    /// What a connection's full outbound queue does; `--slow-consumer` overrides it.
    pub slow_consumer: Option<crate::hub::Overflow>,
    /// Molecule gateways and their metrics.
    #[serde(default)]
    pub molecule: crate::molecule::Scenario,
    /// Valtronics devices, metrics, alerts and flaps.
    #[serde(default)]
    pub valtronics: crate::valtronics::Scenario,
    /// WebMACS events and experiment.
    #[serde(default)]
    pub webmacs: crate::webmacs::Scenario,
    /// Mosaic controller model, security and show.
    #[serde(default)]
    pub mosaic: crate::mosaic::Scenario,
    /// Robot topics and status lines.
    #[serde(default)]
    pub robot: crate::robot::Scenario,
}

/// The scenario `telewire serve` runs when given none: one file per API section, so each
/// section can be read (and copied into one's own scenario file) on its own.
pub const EMBEDDED_DEFAULT: [(&str, &str); 5] = [
    (
        "molecule",
        include_str!("../../fixtures/scenarios/default/molecule.toml"),
    ),
    (
        "valtronics",
        include_str!("../../fixtures/scenarios/default/valtronics.toml"),
    ),
    (
        "webmacs",
        include_str!("../../fixtures/scenarios/default/webmacs.toml"),
    ),
    (
        "mosaic",
        include_str!("../../fixtures/scenarios/default/mosaic.toml"),
    ),
    (
        "robot",
        include_str!("../../fixtures/scenarios/default/robot.toml"),
    ),
];

/// Why a scenario file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not a valid scenario; the message points at the line and key.
    #[error("invalid scenario {path}: {message}")]
    Parse {
        /// The path given.
        path: String,
        /// What is wrong, and where.
        message: String,
    },
}

/// The embedded default as one scenario file: `seed = 1` and each API's section.
pub fn embedded_default_text() -> String {
    let mut text = String::from("seed = 1\n");
    for (_, section) in EMBEDDED_DEFAULT {
        text.push('\n');
        text.push_str(section);
    }
    text
}

impl Scenario {
    /// The embedded default scenario.
    pub fn embedded_default() -> Self {
        Self::parse(&embedded_default_text(), "<embedded default>").unwrap_or_default()
    }

    /// Parses scenario text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ScenarioError> {
        toml::from_str(text).map_err(|e| ScenarioError::Parse {
            path: origin.to_owned(),
            message: e.to_string(),
        })
    }

    /// Reads and parses a scenario file.
    pub fn from_file(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_parses() {
        let scenario = Scenario::parse(&embedded_default_text(), "default").unwrap();
        assert_eq!(scenario.seed, Some(1));
    }

    #[test]
    fn unknown_keys_are_refused_with_their_location() {
        let err = Scenario::parse("seed = 1\n[nonsense]\nx = 1\n", "bad.toml").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("bad.toml") && text.contains("nonsense"),
            "{text}"
        );
    }
}
