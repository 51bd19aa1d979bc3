//! Verdicts and the report writers: human text, JUnit XML and JSON.

use std::fmt;
use std::fmt::Write as _;
use std::time::Duration;

/// How binding a rule is (specs README, "Conformance levels").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The document states it.
    Must,
    /// The document's examples or real clients depend on it.
    Should,
    /// Defined by the simulator where the document is silent; informational only.
    May,
}

impl Level {
    /// The level of a tag (`must`, `@should`, ...), if it is one.
    pub fn from_tag(tag: &str) -> Option<Self> {
        match tag.trim_start_matches('@') {
            "must" => Some(Level::Must),
            "should" => Some(Level::Should),
            "may" => Some(Level::May),
            _ => None,
        }
    }

    /// `MUST`, `SHOULD` or `MAY`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a scenario ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every step passed.
    Passed,
    /// A step failed: what was expected versus what was observed.
    Failed {
        /// The verdict.
        message: String,
    },
    /// Not run: the target lacks what the scenario needs.
    Skipped {
        /// Why, naming the configuration to set.
        reason: String,
    },
}

/// The verdict on one scenario.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    /// The feature file's name (`Feature:` line).
    pub feature: String,
    /// The stable rule id.
    pub rule_id: String,
    /// MUST, SHOULD or MAY.
    pub level: Level,
    /// `server` or `client`.
    pub role: String,
    /// The scenario title (outline placeholders filled in).
    pub title: String,
    /// The spec sentence the scenario checks.
    pub spec: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The frames exchanged, redacted and bounded.
    pub transcript: Vec<String>,
    /// How long it ran.
    pub duration: Duration,
}

impl ScenarioResult {
    /// One progress line: `PASS  MUST    rule.id  title`.
    pub fn line(&self) -> String {
        let status = match self.outcome {
            Outcome::Passed => "PASS",
            Outcome::Failed { .. } if self.level == Level::May => "INFO",
            Outcome::Failed { .. } => "FAIL",
            Outcome::Skipped { .. } => "SKIP",
        };
        let mut line = format!(
            "{status}  {:<6}  {}  {}",
            self.level.as_str(),
            self.rule_id,
            self.title
        );
        if let Outcome::Skipped { reason } = &self.outcome {
            let _ = write!(line, " ({reason})");
        }
        line
    }

    /// Whether this failure fails the run (a MAY never does; SHOULD only when strict).
    pub fn is_blocking(&self, strict: bool) -> bool {
        matches!(self.outcome, Outcome::Failed { .. })
            && (self.level == Level::Must || (strict && self.level == Level::Should))
    }
}

/// The verdicts of one run.
#[derive(Debug, Clone)]
pub struct Report {
    /// The suite's name.
    pub suite: String,
    /// The target, redacted.
    pub target: String,
    /// One verdict per scenario (outline examples each count), in run order.
    pub scenarios: Vec<ScenarioResult>,
}

impl Report {
    /// Counts: passed, failed, skipped.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for s in &self.scenarios {
            match s.outcome {
                Outcome::Passed => counts.0 += 1,
                Outcome::Failed { .. } => counts.1 += 1,
                Outcome::Skipped { .. } => counts.2 += 1,
            }
        }
        counts
    }

    /// Whether a MUST (with `strict`, also a SHOULD) scenario failed.
    pub fn failed(&self, strict: bool) -> bool {
        self.scenarios.iter().any(|s| s.is_blocking(strict))
    }

    /// The human report: a line per scenario, then every failure in full.
    pub fn text(&self) -> String {
        let mut out = format!(
            "conformance: {} suite against {}\n",
            self.suite, self.target
        );
        for s in &self.scenarios {
            let _ = writeln!(out, "  {}", s.line());
        }
        out.push_str(&self.details());
        out
    }

    /// Every failure in full (rule, level, spec sentence, verdict, frames), then the counts.
    pub fn details(&self) -> String {
        let mut out = String::new();
        for s in &self.scenarios {
            if let Outcome::Failed { message } = &s.outcome {
                let _ = writeln!(out, "\n{} [{}] {}", s.rule_id, s.level, s.title);
                let _ = writeln!(out, "  spec:     {}", s.spec);
                let _ = writeln!(out, "  verdict:  {message}");
                if !s.transcript.is_empty() {
                    let _ = writeln!(out, "  frames:");
                    for line in &s.transcript {
                        let _ = writeln!(out, "    {line}");
                    }
                }
            }
        }
        let (passed, failed, skipped) = self.counts();
        let _ = writeln!(
            out,
            "\n{} scenarios: {passed} passed, {failed} failed, {skipped} skipped",
            self.scenarios.len()
        );
        out
    }

    /// JUnit XML: a testsuite per feature, a testcase per scenario (classname = rule id).
    pub fn junit(&self) -> String {
        let mut features: Vec<&str> = Vec::new();
        for s in &self.scenarios {
            if !features.contains(&s.feature.as_str()) {
                features.push(&s.feature);
            }
        }
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(out, "<testsuites name=\"{}\">", xml(&self.suite));
        for feature in features {
            let cases: Vec<&ScenarioResult> = self
                .scenarios
                .iter()
                .filter(|s| s.feature == feature)
                .collect();
            let failures = cases
                .iter()
                .filter(|s| matches!(s.outcome, Outcome::Failed { .. }))
                .count();
            let skipped = cases
                .iter()
                .filter(|s| matches!(s.outcome, Outcome::Skipped { .. }))
                .count();
            let time: f64 = cases.iter().map(|s| s.duration.as_secs_f64()).sum();
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time:.3}\">",
                xml(feature),
                cases.len()
            );
            for s in cases {
                let _ = write!(
                    out,
                    "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
                    xml(&s.rule_id),
                    xml(&format!("[{}] {}", s.level, s.title)),
                    s.duration.as_secs_f64()
                );
                match &s.outcome {
                    Outcome::Passed => {}
                    Outcome::Failed { message } => {
                        let kind = if s.level == Level::May {
                            "informational"
                        } else {
                            s.level.as_str()
                        };
                        let _ = write!(
                            out,
                            "\n      <failure type=\"{kind}\" message=\"{}\">{}</failure>\n    ",
                            xml(message),
                            xml(&verdict(s, message))
                        );
                    }
                    Outcome::Skipped { reason } => {
                        let _ = write!(out, "\n      <skipped message=\"{}\"/>\n    ", xml(reason));
                    }
                }
                out.push_str("</testcase>\n");
            }
            out.push_str("  </testsuite>\n");
        }
        out.push_str("</testsuites>\n");
        out
    }

    /// JSON: `{suite, target, summary, scenarios: [{rule_id, level, ..., outcome}]}`.
    pub fn json(&self) -> String {
        let (passed, failed, skipped) = self.counts();
        let scenarios: Vec<serde_json::Value> = self
            .scenarios
            .iter()
            .map(|s| {
                let (outcome, detail) = match &s.outcome {
                    Outcome::Passed => ("passed", None),
                    Outcome::Failed { message } => ("failed", Some(message.clone())),
                    Outcome::Skipped { reason } => ("skipped", Some(reason.clone())),
                };
                serde_json::json!({
                    "feature": s.feature,
                    "rule_id": s.rule_id,
                    "level": s.level.as_str(),
                    "role": s.role,
                    "title": s.title,
                    "spec": s.spec,
                    "outcome": outcome,
                    "detail": detail,
                    "transcript": s.transcript,
                    "duration_ms": u64::try_from(s.duration.as_millis()).unwrap_or(u64::MAX),
                })
            })
            .collect();
        let value = serde_json::json!({
            "suite": self.suite,
            "target": self.target,
            "summary": {"passed": passed, "failed": failed, "skipped": skipped},
            "scenarios": scenarios,
        });
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }
}

fn verdict(s: &ScenarioResult, message: &str) -> String {
    let mut out = format!(
        "rule: {} ({})\nspec: {}\nverdict: {message}\n",
        s.rule_id, s.level, s.spec
    );
    if !s.transcript.is_empty() {
        out.push_str("frames:\n");
        for line in &s.transcript {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Escapes text for an XML attribute or element; drops characters XML 1.0 forbids.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(outcome: Outcome, level: Level) -> ScenarioResult {
        ScenarioResult {
            feature: "WebMACS <auth> & \"close\"".into(),
            rule_id: "webmacs.auth.required".into(),
            level,
            role: "server".into(),
            title: "No token closes with 1008".into(),
            spec: "closed with code 1008".into(),
            outcome,
            transcript: vec!["<- stream close 1008 \"Authentication required\"".into()],
            duration: Duration::from_millis(5),
        }
    }

    fn report() -> Report {
        Report {
            suite: "webmacs".into(),
            target: "ws://127.0.0.1:1".into(),
            scenarios: vec![
                result(Outcome::Passed, Level::Must),
                result(
                    Outcome::Failed {
                        message: "expected <a> & \u{1} got".into(),
                    },
                    Level::Should,
                ),
                result(
                    Outcome::Failed {
                        message: "informational".into(),
                    },
                    Level::May,
                ),
                result(
                    Outcome::Skipped {
                        reason: "set X".into(),
                    },
                    Level::Must,
                ),
            ],
        }
    }

    #[test]
    fn may_failures_never_fail_a_run_and_should_ones_only_when_strict() {
        let report = report();
        assert!(!report.failed(false));
        assert!(report.failed(true));
        assert_eq!(report.counts(), (1, 2, 1));
    }

    #[test]
    fn the_json_report_parses_and_carries_each_verdict() {
        let value: serde_json::Value = serde_json::from_str(&report().json()).unwrap();
        assert_eq!(value["summary"]["failed"], 2);
        assert_eq!(value["scenarios"][1]["level"], "SHOULD");
        assert_eq!(value["scenarios"][3]["detail"], "set X");
    }

    #[test]
    fn junit_escapes_text_and_marks_may_failures_informational() {
        let xml = report().junit();
        assert!(xml.contains("classname=\"webmacs.auth.required\""));
        assert!(xml.contains("&lt;auth&gt; &amp; &quot;close&quot;"));
        assert!(xml.contains("type=\"informational\""));
        assert!(xml.contains("<skipped message=\"set X\"/>"));
        assert!(!xml.contains('\u{1}'));
    }
}
