//! The embedded suites: every `features/<api>/*.feature`, compiled into the binary.

use std::path::PathBuf;

use cucumber::gherkin;

use crate::report::Level;

/// One API's suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Suite {
    /// `features/molecule`.
    Molecule,
    /// `features/webmacs`.
    Webmacs,
    /// `features/robot`.
    Robot,
    /// `features/mosaic`.
    Mosaic,
    /// `features/valtronics`.
    Valtronics,
}

const MOLECULE: &[(&str, &str)] = &[
    (
        "features/molecule/handshake.feature",
        include_str!("../../features/molecule/handshake.feature"),
    ),
    (
        "features/molecule/data.feature",
        include_str!("../../features/molecule/data.feature"),
    ),
    (
        "features/molecule/client.feature",
        include_str!("../../features/molecule/client.feature"),
    ),
];

const WEBMACS: &[(&str, &str)] = &[
    (
        "features/webmacs/auth.feature",
        include_str!("../../features/webmacs/auth.feature"),
    ),
    (
        "features/webmacs/stream.feature",
        include_str!("../../features/webmacs/stream.feature"),
    ),
    (
        "features/webmacs/controller.feature",
        include_str!("../../features/webmacs/controller.feature"),
    ),
    (
        "features/webmacs/http.feature",
        include_str!("../../features/webmacs/http.feature"),
    ),
    (
        "features/webmacs/client.feature",
        include_str!("../../features/webmacs/client.feature"),
    ),
];

const ROBOT: &[(&str, &str)] = &[
    (
        "features/robot/auth.feature",
        include_str!("../../features/robot/auth.feature"),
    ),
    (
        "features/robot/messages.feature",
        include_str!("../../features/robot/messages.feature"),
    ),
    (
        "features/robot/errors.feature",
        include_str!("../../features/robot/errors.feature"),
    ),
    (
        "features/robot/client.feature",
        include_str!("../../features/robot/client.feature"),
    ),
];

const MOSAIC: &[(&str, &str)] = &[
    (
        "features/mosaic/auth.feature",
        include_str!("../../features/mosaic/auth.feature"),
    ),
    (
        "features/mosaic/keepalive.feature",
        include_str!("../../features/mosaic/keepalive.feature"),
    ),
    (
        "features/mosaic/request.feature",
        include_str!("../../features/mosaic/request.feature"),
    ),
    (
        "features/mosaic/subscribe.feature",
        include_str!("../../features/mosaic/subscribe.feature"),
    ),
    (
        "features/mosaic/limits.feature",
        include_str!("../../features/mosaic/limits.feature"),
    ),
    (
        "features/mosaic/client.feature",
        include_str!("../../features/mosaic/client.feature"),
    ),
];

const VALTRONICS: &[(&str, &str)] = &[
    (
        "features/valtronics/auth.feature",
        include_str!("../../features/valtronics/auth.feature"),
    ),
    (
        "features/valtronics/channels.feature",
        include_str!("../../features/valtronics/channels.feature"),
    ),
    (
        "features/valtronics/limits.feature",
        include_str!("../../features/valtronics/limits.feature"),
    ),
    (
        "features/valtronics/errors.feature",
        include_str!("../../features/valtronics/errors.feature"),
    ),
    (
        "features/valtronics/client.feature",
        include_str!("../../features/valtronics/client.feature"),
    ),
];

/// One rule of a suite: a scenario as written (an outline counts once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The stable rule id (`webmacs.auth.required`).
    pub id: String,
    /// MUST, SHOULD or MAY.
    pub level: Level,
    /// `server` or `client`.
    pub role: String,
    /// The scenario title.
    pub title: String,
    /// What the target must provide (`needs.*` tags, without the prefix).
    pub needs: Vec<String>,
    /// Every tag, without `@`.
    pub tags: Vec<String>,
}

impl Suite {
    /// Every suite.
    pub const ALL: [Suite; 5] = [
        Suite::Molecule,
        Suite::Webmacs,
        Suite::Valtronics,
        Suite::Mosaic,
        Suite::Robot,
    ];

    /// `molecule`, `webmacs`, `valtronics`, `mosaic` or `robot`.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Molecule => "molecule",
            Suite::Webmacs => "webmacs",
            Suite::Robot => "robot",
            Suite::Mosaic => "mosaic",
            Suite::Valtronics => "valtronics",
        }
    }

    /// The suite of an API name, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    /// The embedded feature files: path and text.
    pub fn files(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Suite::Molecule => MOLECULE,
            Suite::Webmacs => WEBMACS,
            Suite::Robot => ROBOT,
            Suite::Mosaic => MOSAIC,
            Suite::Valtronics => VALTRONICS,
        }
    }

    /// The parsed features.
    pub fn features(self) -> Result<Vec<gherkin::Feature>, String> {
        self.files()
            .iter()
            .map(|(path, text)| parse(path, text).map_err(|e| format!("{path}: {e}")))
            .collect()
    }

    /// The rules, in file order.
    pub fn rules(self) -> Result<Vec<Rule>, String> {
        let mut rules = Vec::new();
        for feature in self.features()? {
            for scenario in scenarios(&feature) {
                rules.push(rule_of(&feature, scenario));
            }
        }
        Ok(rules)
    }
}

/// Parses one embedded feature.
pub(crate) fn parse(path: &str, text: &str) -> Result<gherkin::Feature, gherkin::ParseError> {
    let mut feature = gherkin::Feature::parse(text, gherkin::GherkinEnv::default())?;
    feature.path = Some(PathBuf::from(path));
    Ok(feature)
}

/// Every scenario of a feature, including those inside `Rule:` blocks.
pub(crate) fn scenarios(feature: &gherkin::Feature) -> Vec<&gherkin::Scenario> {
    feature
        .scenarios
        .iter()
        .chain(feature.rules.iter().flat_map(|r| r.scenarios.iter()))
        .collect()
}

/// The rule a scenario checks, read from its tags.
pub(crate) fn rule_of(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> Rule {
    let tags: Vec<String> = feature
        .tags
        .iter()
        .chain(scenario.tags.iter())
        .map(|t| t.trim_start_matches('@').to_owned())
        .collect();
    let id = tags
        .iter()
        .find(|t| t.contains('.') && !t.starts_with("needs."))
        .cloned()
        .unwrap_or_else(|| "untagged".to_owned());
    let level = tags
        .iter()
        .find_map(|t| Level::from_tag(t))
        .unwrap_or(Level::Must);
    let role = tags
        .iter()
        .find(|t| *t == "server" || *t == "client")
        .cloned()
        .unwrap_or_else(|| "server".to_owned());
    let needs = tags
        .iter()
        .filter_map(|t| t.strip_prefix("needs."))
        .map(str::to_owned)
        .collect();
    Rule {
        id,
        level,
        role,
        title: scenario.name.clone(),
        needs,
        tags,
    }
}

/// The spec sentence a scenario quotes: its description, without the `Spec:` prefix.
pub(crate) fn spec_of(scenario: &gherkin::Scenario) -> String {
    scenario
        .description
        .as_deref()
        .map(|d| {
            d.lines()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ")
                .trim()
                .trim_start_matches("Spec:")
                .trim()
                .to_owned()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_has_a_rule_id_a_level_a_role_and_a_spec_sentence() {
        for suite in Suite::ALL {
            let features = suite.features().unwrap();
            let mut ids = std::collections::HashSet::new();
            for feature in &features {
                for scenario in scenarios(feature) {
                    let tags: Vec<&str> = scenario
                        .tags
                        .iter()
                        .map(|t| t.trim_start_matches('@'))
                        .collect();
                    let rule = rule_of(feature, scenario);
                    assert!(
                        rule.id.starts_with(suite.name()),
                        "{}: {tags:?}",
                        scenario.name
                    );
                    assert!(ids.insert(rule.id.clone()), "duplicate rule id {}", rule.id);
                    assert_eq!(
                        tags.iter().filter(|t| Level::from_tag(t).is_some()).count(),
                        1,
                        "{}: exactly one level tag",
                        scenario.name
                    );
                    assert_eq!(
                        tags.iter()
                            .filter(|t| **t == "server" || **t == "client")
                            .count(),
                        1,
                        "{}: exactly one role tag",
                        scenario.name
                    );
                    if rule.role == "client" {
                        assert!(
                            rule.id.starts_with(&format!("{}.client.", suite.name())),
                            "{}: client rule ids read <api>.client.<rule>",
                            scenario.name
                        );
                    }
                    assert!(
                        !spec_of(scenario).is_empty(),
                        "{}: spec sentence",
                        scenario.name
                    );
                }
            }
        }
    }
}
