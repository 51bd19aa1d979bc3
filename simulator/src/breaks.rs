//! Named broken profiles (`telewire serve --break`): each makes a simulator break one
//! documented rule, so that a conformance run can show it catches exactly that rule.

use std::fmt::Write as _;

use crate::scenario::Scenario;
use crate::serve::Api;

/// One deliberately broken behaviour: what it breaks and how it changes the scenario.
#[derive(Debug)]
pub struct Break {
    /// The profile's kebab-case name, as `--break` takes it.
    pub name: &'static str,
    /// The API whose server it breaks.
    pub api: Api,
    /// The rule id (a tag in `features/<api>/`) it breaks.
    pub rule: &'static str,
    /// Further rules whose scenarios necessarily fail with it, because they go through
    /// the broken behaviour on their way to what they check (for example every scenario
    /// that starts with a successful handshake). Usually none.
    pub also: &'static [&'static str],
    /// One line: what the server does wrong.
    pub description: &'static str,
    apply: fn(&mut Scenario),
}

impl Break {
    /// Applies the profile's fault to `scenario`.
    pub fn apply(&self, scenario: &mut Scenario) {
        (self.apply)(scenario);
    }

    /// The rule ids a conformance run against the broken server fails: [`Break::rule`],
    /// then [`Break::also`].
    pub fn rules(&self) -> Vec<&'static str> {
        std::iter::once(self.rule)
            .chain(self.also.iter().copied())
            .collect()
    }
}

/// Every broken profile, grouped by API in port order.
pub const BREAKS: &[Break] = &[
    Break {
        name: "molecule-missing-sentinel",
        api: Api::Molecule,
        rule: "molecule.handshake.malformed",
        also: &[],
        description: "accepts a handshake without the mandatory sentinel 01 04 (auth status 1 instead of 0)",
        apply: |s| s.molecule.faults.accept_missing_sentinel = true,
    },
    Break {
        name: "molecule-long-auth-response",
        api: Api::Molecule,
        rule: "molecule.auth_response.shape",
        also: &[
            "molecule.handshake.accepted",
            "molecule.frames.binary",
            "molecule.frames.shape",
            "molecule.telemetry.shape",
            "molecule.telemetry.labels",
            "molecule.command.response",
            "molecule.session.text_frame",
            "molecule.session.repeated_handshake",
        ],
        description: "answers a valid handshake with the 4-byte auth response 02 01 04 00 instead of 3 bytes",
        apply: |s| s.molecule.faults.long_auth_response = true,
    },
    Break {
        name: "molecule-too-large-1008",
        api: Api::Molecule,
        rule: "molecule.handshake.too_large",
        also: &[],
        description: "closes an oversized handshake with 1008 instead of 1009",
        apply: |s| s.molecule.faults.too_large_close_1008 = true,
    },
    Break {
        name: "valtronics-no-size-cap",
        api: Api::Valtronics,
        rule: "valtronics.limits.message_size",
        also: &[],
        description: "accepts messages up to 2 KiB instead of closing above 1 KiB",
        apply: |s| s.valtronics.limits.max_message_bytes = 2048,
    },
    Break {
        name: "valtronics-oversize-1008",
        api: Api::Valtronics,
        rule: "valtronics.limits.message_size",
        also: &[],
        description: "closes a message over 1 KiB with 1008 instead of 1009",
        apply: |s| s.valtronics.faults.oversize_close_1008 = true,
    },
    Break {
        name: "valtronics-no-acks",
        api: Api::Valtronics,
        rule: "valtronics.channels.subscribed_ack",
        also: &["valtronics.channels.unsubscribed_ack"],
        description: "acknowledges neither subscribe nor unsubscribe",
        apply: |s| s.valtronics.acknowledge_subscriptions = false,
    },
    Break {
        name: "webmacs-no-connected",
        api: Api::Webmacs,
        rule: "webmacs.stream.connected",
        also: &[],
        description: "never sends the stream's {\"type\":\"connected\"} confirmation",
        apply: |s| s.webmacs.faults.no_connected = true,
    },
    Break {
        name: "webmacs-no-throttle",
        api: Api::Webmacs,
        rule: "webmacs.stream.throttle",
        also: &[],
        description: "broadcasts every batch of an event instead of at most one per 200 ms",
        apply: |s| s.webmacs.throttle_ms = 0,
    },
    Break {
        name: "webmacs-no-token-1000",
        api: Api::Webmacs,
        rule: "webmacs.auth.required",
        also: &[],
        description: "closes a connection without a token with 1000 instead of 1008 (\"Authentication required\")",
        apply: |s| s.webmacs.faults.missing_token_close_1000 = true,
    },
    Break {
        name: "mosaic-no-connection-cap",
        api: Api::Mosaic,
        rule: "mosaic.limit.connections",
        also: &[],
        description: "admits connections beyond the controller's cap (8 for an MSC)",
        apply: |s| s.mosaic.faults.no_connection_cap = true,
    },
    Break {
        name: "mosaic-id-first-reply-only",
        api: Api::Mosaic,
        rule: "mosaic.request.concurrent",
        also: &[],
        description: "echoes the request's id only in a connection's first reply, not in later ones",
        apply: |s| s.mosaic.faults.drop_later_reply_ids = true,
    },
    Break {
        name: "mosaic-short-session-key",
        api: Api::Mosaic,
        rule: "mosaic.keepalive.key_shape",
        also: &[],
        description: "answers a live keepalive with 8 bytes instead of the 16-byte session key",
        apply: |s| s.mosaic.faults.short_session_key = true,
    },
    Break {
        name: "robot-no-server-logs",
        api: Api::Robot,
        rule: "robot.messages.server_logs",
        also: &[],
        description: "publishes nothing on server_logs",
        apply: |s| s.robot.faults.no_server_logs = true,
    },
    Break {
        name: "robot-expired-token-accepted",
        api: Api::Robot,
        rule: "robot.auth.expired_token",
        also: &[],
        description: "opens the WebSocket for an expired token instead of refusing it",
        apply: |s| s.robot.faults.accept_expired_tokens = true,
    },
    Break {
        name: "robot-publish-leak",
        api: Api::Robot,
        rule: "robot.messages.only_subscribers",
        also: &["robot.messages.unsubscribe"],
        description: "hands a publish also to clients subscribed only to other topics (an unsubscribed client too, while it holds another topic)",
        apply: |s| s.robot.faults.leak_publishes = true,
    },
];

/// The profiles whose fault `scenario` already has (applied, or set in a scenario file):
/// applying one of them changes nothing.
pub fn in_effect(scenario: &Scenario) -> Vec<&'static Break> {
    BREAKS
        .iter()
        .filter(|b| {
            let mut applied = scenario.clone();
            b.apply(&mut applied);
            applied == *scenario
        })
        .collect()
}

/// The profile called `name`.
pub fn find(name: &str) -> Result<&'static Break, String> {
    BREAKS.iter().find(|b| b.name == name).ok_or_else(|| {
        format!(
            "unknown break profile '{name}': run `telewire serve --break list` to see them ({})",
            BREAKS.iter().map(|b| b.name).collect::<Vec<_>>().join(", ")
        )
    })
}

/// What `telewire serve --break list` prints: one line per profile with its name, API,
/// the rule it breaks and what it does.
pub fn list() -> String {
    let width = BREAKS.iter().map(|b| b.name.len()).max().unwrap_or(0);
    let rule_width = BREAKS.iter().map(|b| b.rule.len()).max().unwrap_or(0);
    let mut out = format!(
        "{:<width$}  {:<10}  {:<rule_width$}  description\n",
        "profile", "api", "rule"
    );
    for b in BREAKS {
        let _ = writeln!(
            out,
            "{:<width$}  {:<10}  {:<rule_width$}  {}",
            b.name,
            b.api.name(),
            b.rule,
            b.description
        );
        if !b.also.is_empty() {
            let _ = writeln!(
                out,
                "{:<width$}  {:<10}  also fails: {}",
                "",
                "",
                b.also.join(", ")
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_rules_belong_to_their_api() {
        for (i, b) in BREAKS.iter().enumerate() {
            assert!(
                b.name
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-'),
                "{}",
                b.name
            );
            assert!(b.name.starts_with(b.api.name()), "{}", b.name);
            assert!(
                BREAKS.iter().skip(i + 1).all(|other| other.name != b.name),
                "{} twice",
                b.name
            );
            for rule in b.rules() {
                assert!(
                    rule.starts_with(&format!("{}.", b.api.name())),
                    "{}: {rule}",
                    b.name
                );
            }
        }
    }

    #[test]
    fn every_profile_changes_the_default_scenario() {
        for b in BREAKS {
            let mut scenario = Scenario::embedded_default();
            b.apply(&mut scenario);
            assert_ne!(
                format!("{scenario:?}"),
                format!("{:?}", Scenario::embedded_default()),
                "{}",
                b.name
            );
        }
    }

    #[test]
    fn profiles_in_effect_are_found_whether_applied_or_written_in_the_scenario() {
        let mut scenario = Scenario::embedded_default();
        assert!(in_effect(&scenario).is_empty());
        find("robot-publish-leak").unwrap().apply(&mut scenario);
        let names = |s: &Scenario| in_effect(s).iter().map(|b| b.name).collect::<Vec<_>>();
        assert_eq!(names(&scenario), ["robot-publish-leak"]);
        let written = Scenario::parse(
            "[webmacs]\nthrottle_ms = 0\n[webmacs.faults]\nno_connected = true\n",
            "test",
        )
        .unwrap();
        assert_eq!(
            names(&written),
            ["webmacs-no-connected", "webmacs-no-throttle"]
        );
    }

    #[test]
    fn unknown_names_are_refused_with_the_list() {
        let err = find("no-such-break").unwrap_err();
        assert!(err.contains("--break list") && err.contains("robot-publish-leak"));
        assert_eq!(find("webmacs-no-connected").unwrap().api, Api::Webmacs);
        assert!(list().contains("mosaic.request.concurrent"));
    }
}
