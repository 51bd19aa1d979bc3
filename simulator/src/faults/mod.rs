//! Faults on demand: the spec strings of `--fault`, the scenario's `faults` list and the
//! admin API (`/_telewire/faults`), parsed into a typed [`Fault`], and which API has which.
//!
//! [`shape`] applies the lasting ones (latency, drop, duplicate, stall) in each
//! connection's write path, [`malformed`] builds each API's malformed frames, [`admin`]
//! serves the admin routes and applies a fault to one connection or to all of an API, and
//! [`section`] reads the scenario key.

pub mod admin;
pub mod malformed;
pub mod section;
pub mod shape;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::serve::Api;

pub use admin::FaultControl;
pub use admin::Hooks;
pub use section::Section;
pub use shape::ShapeChange;

/// The longest latency or jitter a fault may add to each frame.
pub const MAX_LATENCY: Duration = Duration::from_secs(60);
/// The longest timed stall.
pub const MAX_STALL: Duration = Duration::from_secs(3600);
/// The longest restart delay.
pub const MAX_RESTART: Duration = Duration::from_secs(600);
/// How long the port stays closed when `restart` gives no delay.
pub const DEFAULT_RESTART: Duration = Duration::from_secs(2);

/// One fault, as the contract's spec strings name them.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// `latency=<dur>[,jitter=<dur>]`: every outbound frame waits `latency` plus a uniform
    /// share of `jitter`; frames keep their order.
    Latency {
        /// The fixed delay.
        latency: Duration,
        /// The most added on top, uniformly.
        jitter: Duration,
    },
    /// `drop=<fraction>`: that share of data frames (telemetry, pushes) is never sent.
    Drop(f64),
    /// `duplicate=<fraction>`: that share of data frames is sent twice.
    Duplicate(f64),
    /// `stall[=<dur>]`: the connection stays open and sends nothing (until cleared, or for
    /// the duration).
    Stall(Option<Duration>),
    /// `disconnect`: the TCP connection drops without a close frame.
    Disconnect,
    /// `close=<code>[:<reason>]`: a close frame with this code and reason.
    Close {
        /// The close code (1000-4999, one a server may send).
        code: u16,
        /// The reason, at most 123 bytes.
        reason: String,
    },
    /// `malformed=<kind>`: one malformed frame.
    Malformed(Malformed),
    /// `token-expiry`: every token issued so far stops being valid now.
    TokenExpiry,
    /// `session-timeout` (Mosaic): the session times out; the next keepalive reply is all zeros.
    SessionTimeout,
    /// `controller-restart` (Mosaic): a new session key in every later keepalive reply.
    ControllerRestart,
    /// `revoke-token` (WebMACS): every token issued so far is revoked (as by logout).
    RevokeToken,
    /// `restart[=<dur>]`: every client dropped without a close frame, the port closed, and
    /// the same port accepting again after the delay.
    Restart(Duration),
}

/// The kinds of `malformed=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Malformed {
    /// A frame cut short.
    Truncated,
    /// Text that is not valid UTF-8.
    BadUtf8,
    /// A binary frame whose type is not what the API sends there.
    WrongType,
    /// A text frame that does not parse as JSON.
    InvalidJson,
}

impl Malformed {
    /// Every kind, in the contract's order.
    pub const ALL: [Malformed; 4] = [
        Malformed::Truncated,
        Malformed::BadUtf8,
        Malformed::WrongType,
        Malformed::InvalidJson,
    ];

    /// Its spelling in a spec.
    pub fn name(self) -> &'static str {
        match self {
            Malformed::Truncated => "truncated",
            Malformed::BadUtf8 => "bad-utf8",
            Malformed::WrongType => "wrong-type",
            Malformed::InvalidJson => "invalid-json",
        }
    }
}

/// Why a fault spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}; accepted faults: {ACCEPTED}")]
pub struct ParseError {
    message: String,
}

impl ParseError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// Every accepted form, for error messages.
pub const ACCEPTED: &str = "latency=<dur>[,jitter=<dur>], drop=<0..1>, duplicate=<0..1>, \
    stall[=<dur>], disconnect, close=<code>[:<reason>], \
    malformed=truncated|bad-utf8|wrong-type|invalid-json, token-expiry, session-timeout, \
    controller-restart, revoke-token, restart[=<dur>] (durations like 250ms or 2s)";

/// Parses a duration like `250ms`, `2s` or `1.5s`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60.0)
    } else {
        return Err(format!(
            "duration '{text}' has no unit: write it like 250ms, 2s or 1m"
        ));
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("duration '{text}' is not a number with a unit like 250ms or 2s"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("duration '{text}' must be zero or more"));
    }
    Duration::try_from_secs_f64(value * scale)
        .map_err(|_| format!("duration '{text}' is too large"))
}

fn bounded(text: &str, what: &str, max: Duration) -> Result<Duration, ParseError> {
    let d = parse_duration(text).map_err(|e| ParseError::new(format!("{what}: {e}")))?;
    if d > max {
        return Err(ParseError::new(format!(
            "{what} {text} is over the maximum of {}",
            format_duration(max)
        )));
    }
    Ok(d)
}

fn fraction(text: &str, what: &str) -> Result<f64, ParseError> {
    match text.trim().parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(ParseError::new(format!(
            "{what}={text}: give a fraction between 0 and 1, like {what}=0.25"
        ))),
    }
}

/// A duration the way specs write it: `250ms`, `2s`.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) && ms > 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

impl FromStr for Fault {
    type Err = ParseError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(ParseError::new("the fault is empty"));
        }
        let (name, value) = match spec.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim())),
            None => (spec, None),
        };
        let no_value = |fault: Fault| match value {
            None => Ok(fault),
            Some(v) => Err(ParseError::new(format!(
                "{name} takes no value (got '{name}={v}')"
            ))),
        };
        let needs = |form: &str| ParseError::new(format!("{name} needs a value: {form}"));
        match name {
            "latency" => {
                let value = value.ok_or_else(|| needs("latency=<dur>[,jitter=<dur>]"))?;
                let (latency, jitter) = match value.split_once(',') {
                    Some((latency, rest)) => {
                        let jitter = rest.trim().strip_prefix("jitter=").ok_or_else(|| {
                            ParseError::new(format!(
                                "after latency={latency}, only ',jitter=<dur>' may follow (got '{rest}')"
                            ))
                        })?;
                        (latency, Some(jitter))
                    }
                    None => (value, None),
                };
                Ok(Fault::Latency {
                    latency: bounded(latency, "latency", MAX_LATENCY)?,
                    jitter: match jitter {
                        Some(j) => bounded(j, "jitter", MAX_LATENCY)?,
                        None => Duration::ZERO,
                    },
                })
            }
            "drop" => Ok(Fault::Drop(fraction(
                value.ok_or_else(|| needs("drop=<fraction 0..1>"))?,
                "drop",
            )?)),
            "duplicate" => Ok(Fault::Duplicate(fraction(
                value.ok_or_else(|| needs("duplicate=<fraction 0..1>"))?,
                "duplicate",
            )?)),
            "stall" => Ok(Fault::Stall(match value {
                Some(v) => Some(bounded(v, "stall", MAX_STALL)?),
                None => None,
            })),
            "disconnect" => no_value(Fault::Disconnect),
            "close" => {
                let value = value.ok_or_else(|| needs("close=<code>[:<reason>]"))?;
                let (code, reason) = match value.split_once(':') {
                    Some((code, reason)) => (code, reason),
                    None => (value, ""),
                };
                let code: u16 = code.trim().parse().map_err(|_| {
                    ParseError::new(format!(
                        "close={value}: the code must be a number like 1011 or 4000"
                    ))
                })?;
                if !sendable_close_code(code) {
                    return Err(ParseError::new(format!(
                        "close code {code} cannot be sent: use 1000-1003, 1007-1014 or 3000-4999"
                    )));
                }
                if reason.len() > 123 {
                    return Err(ParseError::new(format!(
                        "the close reason is {} bytes; a close frame holds at most 123",
                        reason.len()
                    )));
                }
                Ok(Fault::Close {
                    code,
                    reason: reason.to_owned(),
                })
            }
            "malformed" => {
                let value = value
                    .ok_or_else(|| needs("malformed=truncated|bad-utf8|wrong-type|invalid-json"))?;
                Malformed::ALL
                    .into_iter()
                    .find(|m| m.name() == value)
                    .map(Fault::Malformed)
                    .ok_or_else(|| {
                        ParseError::new(format!(
                            "unknown malformed kind '{value}': use truncated, bad-utf8, wrong-type or invalid-json"
                        ))
                    })
            }
            "token-expiry" => no_value(Fault::TokenExpiry),
            "session-timeout" => no_value(Fault::SessionTimeout),
            "controller-restart" => no_value(Fault::ControllerRestart),
            "revoke-token" => no_value(Fault::RevokeToken),
            "restart" => Ok(Fault::Restart(match value {
                Some(v) => bounded(v, "restart", MAX_RESTART)?,
                None => DEFAULT_RESTART,
            })),
            other => Err(ParseError::new(format!("unknown fault '{other}'"))),
        }
    }
}

/// Whether a server may put `code` in a close frame (RFC 6455 §7.4).
fn sendable_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Latency { latency, jitter } if jitter.is_zero() => {
                write!(f, "latency={}", format_duration(*latency))
            }
            Fault::Latency { latency, jitter } => write!(
                f,
                "latency={},jitter={}",
                format_duration(*latency),
                format_duration(*jitter)
            ),
            Fault::Drop(p) => write!(f, "drop={p}"),
            Fault::Duplicate(p) => write!(f, "duplicate={p}"),
            Fault::Stall(None) => f.write_str("stall"),
            Fault::Stall(Some(d)) => write!(f, "stall={}", format_duration(*d)),
            Fault::Disconnect => f.write_str("disconnect"),
            Fault::Close { code, reason } if reason.is_empty() => write!(f, "close={code}"),
            Fault::Close { code, reason } => write!(f, "close={code}:{reason}"),
            Fault::Malformed(kind) => write!(f, "malformed={}", kind.name()),
            Fault::TokenExpiry => f.write_str("token-expiry"),
            Fault::SessionTimeout => f.write_str("session-timeout"),
            Fault::ControllerRestart => f.write_str("controller-restart"),
            Fault::RevokeToken => f.write_str("revoke-token"),
            Fault::Restart(d) => write!(f, "restart={}", format_duration(*d)),
        }
    }
}

impl Fault {
    /// Its name, as the catalog lists it.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::Latency { .. } => "latency",
            Fault::Drop(_) => "drop",
            Fault::Duplicate(_) => "duplicate",
            Fault::Stall(_) => "stall",
            Fault::Disconnect => "disconnect",
            Fault::Close { .. } => "close",
            Fault::Malformed(_) => "malformed",
            Fault::TokenExpiry => "token-expiry",
            Fault::SessionTimeout => "session-timeout",
            Fault::ControllerRestart => "controller-restart",
            Fault::RevokeToken => "revoke-token",
            Fault::Restart(_) => "restart",
        }
    }

    /// Whether it lasts until cleared (a connection setting) rather than acting once.
    pub fn is_lasting(&self) -> bool {
        matches!(
            self,
            Fault::Latency { .. } | Fault::Drop(_) | Fault::Duplicate(_) | Fault::Stall(_)
        )
    }

    /// Whether it acts on the whole server of an API rather than on connections, so it
    /// takes no `client` and cannot be a startup fault.
    pub fn is_server_wide(&self) -> bool {
        matches!(
            self,
            Fault::TokenExpiry | Fault::ControllerRestart | Fault::RevokeToken | Fault::Restart(_)
        )
    }

    /// Whether `api` has this fault; the error says why not and what it has instead.
    pub fn check(&self, api: Api) -> Result<(), String> {
        if !catalog(api).iter().any(|entry| entry.name == self.name()) {
            return Err(format!(
                "{api} has no {} fault: {}",
                self.name(),
                match self {
                    Fault::SessionTimeout | Fault::ControllerRestart => "it is a Mosaic fault",
                    Fault::RevokeToken => "it is a WebMACS fault",
                    _ => "see GET /_telewire/faults for the list",
                }
            ));
        }
        if let Fault::Malformed(kind) = self
            && !malformed::kinds(api).contains(kind)
        {
            return Err(format!(
                "{api} has no malformed={}: {} (its kinds: {})",
                kind.name(),
                malformed::why_not(api, *kind),
                malformed::kinds(api)
                    .iter()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(())
    }

    /// The connection setting this lasting fault changes.
    pub fn shape_change(&self) -> Option<ShapeChange> {
        Some(match self {
            Fault::Latency { latency, jitter } => ShapeChange::Latency {
                latency: *latency,
                jitter: *jitter,
            },
            Fault::Drop(p) => ShapeChange::Drop(shape::per_million(*p)),
            Fault::Duplicate(p) => ShapeChange::Duplicate(shape::per_million(*p)),
            Fault::Stall(d) => ShapeChange::Stall(*d),
            _ => return None,
        })
    }
}

/// One catalog line: what the admin API and `telewire fault --list` show.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CatalogEntry {
    /// The fault's name.
    pub name: &'static str,
    /// How to write it.
    pub usage: &'static str,
    /// What a client sees.
    pub description: &'static str,
}

const COMMON: [CatalogEntry; 9] = [
    CatalogEntry {
        name: "latency",
        usage: "latency=<dur>[,jitter=<dur>]",
        description: "every outbound frame is delayed by the latency plus a uniform share of the jitter; frames keep their order",
    },
    CatalogEntry {
        name: "drop",
        usage: "drop=<fraction 0..1>",
        description: "that share of data frames (telemetry, pushes) is never sent; replies and closes still are",
    },
    CatalogEntry {
        name: "duplicate",
        usage: "duplicate=<fraction 0..1>",
        description: "that share of data frames is sent twice in a row",
    },
    CatalogEntry {
        name: "stall",
        usage: "stall[=<dur>]",
        description: "the connection stays open and sends nothing (until cleared, or for the duration); frames meanwhile are dropped and counted",
    },
    CatalogEntry {
        name: "disconnect",
        usage: "disconnect",
        description: "the TCP connection drops without a close frame",
    },
    CatalogEntry {
        name: "close",
        usage: "close=<code>[:<reason>]",
        description: "the server closes with this code and reason",
    },
    CatalogEntry {
        name: "malformed",
        usage: "malformed=truncated|bad-utf8|wrong-type|invalid-json",
        description: "one malformed frame (see the README for what each kind is on this API)",
    },
    CatalogEntry {
        name: "token-expiry",
        usage: "token-expiry",
        description: "every token issued so far stops being valid now; live sessions react as the API does when a token expires",
    },
    CatalogEntry {
        name: "restart",
        usage: "restart[=<dur>]",
        description: "every client dropped without a close frame, the port closed, and the same port accepting again after the delay (default 2s)",
    },
];

const MOSAIC: [CatalogEntry; 2] = [
    CatalogEntry {
        name: "session-timeout",
        usage: "session-timeout",
        description: "the session times out: the next keepalive reply is 16 zero bytes",
    },
    CatalogEntry {
        name: "controller-restart",
        usage: "controller-restart",
        description: "the controller gets a new session key: later keepalive replies carry it",
    },
];

const WEBMACS: [CatalogEntry; 1] = [CatalogEntry {
    name: "revoke-token",
    usage: "revoke-token",
    description: "every token issued so far is revoked (as by logout); live sockets close with 1008 \"Token has been revoked\"",
}];

/// The faults `api` has, in the order the admin API lists them.
pub fn catalog(api: Api) -> Vec<CatalogEntry> {
    let mut out = COMMON.to_vec();
    match api {
        Api::Mosaic => out.extend(MOSAIC),
        Api::Webmacs => out.extend(WEBMACS),
        Api::Molecule | Api::Valtronics | Api::Robot => {}
    }
    out
}

/// Parses `<api>:<spec>` (the form of `--fault`).
pub fn parse_targeted(text: &str) -> Result<(Api, Fault), String> {
    let (api, spec) = text.split_once(':').ok_or_else(|| {
        format!("--fault {text}: write it as <api>:<fault>, for example webmacs:latency=200ms")
    })?;
    let api: Api = api.parse()?;
    let fault: Fault = spec
        .parse()
        .map_err(|e: ParseError| format!("--fault {text}: {e}"))?;
    fault
        .check(api)
        .map_err(|e| format!("--fault {text}: {e}"))?;
    if fault.is_server_wide() {
        return Err(format!(
            "--fault {text}: {} acts once on the running server; trigger it with `telewire fault {api} {fault}`",
            fault.name()
        ));
    }
    Ok((api, fault))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(spec: &str) -> Fault {
        spec.parse().unwrap()
    }

    fn refused(spec: &str) -> String {
        spec.parse::<Fault>().unwrap_err().to_string()
    }

    #[test]
    fn every_form_of_the_contract_parses_and_prints_back() {
        for spec in [
            "latency=250ms",
            "latency=2s,jitter=100ms",
            "drop=0.25",
            "duplicate=1",
            "stall",
            "stall=3s",
            "disconnect",
            "close=4000:going away",
            "close=1011",
            "malformed=truncated",
            "malformed=bad-utf8",
            "malformed=wrong-type",
            "malformed=invalid-json",
            "token-expiry",
            "session-timeout",
            "controller-restart",
            "revoke-token",
            "restart=500ms",
        ] {
            assert_eq!(parse(spec).to_string(), spec);
        }
        assert_eq!(parse("restart"), Fault::Restart(DEFAULT_RESTART));
        assert_eq!(
            parse("latency=1.5s"),
            Fault::Latency {
                latency: Duration::from_millis(1500),
                jitter: Duration::ZERO
            }
        );
        assert_eq!(
            parse("close=4001:a:b"),
            Fault::Close {
                code: 4001,
                reason: "a:b".into()
            }
        );
    }

    #[test]
    fn bad_specs_say_what_was_wrong_and_list_the_forms() {
        for (spec, says) in [
            ("", "empty"),
            ("latency", "needs a value"),
            ("latency=200", "no unit"),
            ("latency=abcms", "not a number"),
            ("latency=2m", "maximum"),
            ("latency=1s,spread=2s", "jitter"),
            ("drop=1.5", "between 0 and 1"),
            ("duplicate=x", "between 0 and 1"),
            ("close=1005", "cannot be sent"),
            ("close=abc", "number"),
            ("malformed=weird", "unknown malformed kind"),
            ("disconnect=now", "takes no value"),
            ("explode", "unknown fault 'explode'"),
        ] {
            let text = refused(spec);
            assert!(text.contains(says), "{spec}: {text}");
            assert!(text.contains("accepted faults: latency=<dur>"), "{text}");
        }
        assert!(refused(&format!("close=4000:{}", "x".repeat(124))).contains("123"));
    }

    #[test]
    fn each_api_has_its_own_faults_and_malformed_kinds() {
        assert!(Fault::SessionTimeout.check(Api::Mosaic).is_ok());
        assert!(Fault::ControllerRestart.check(Api::Mosaic).is_ok());
        assert!(
            Fault::SessionTimeout
                .check(Api::Webmacs)
                .unwrap_err()
                .contains("Mosaic")
        );
        assert!(Fault::RevokeToken.check(Api::Webmacs).is_ok());
        assert!(
            Fault::RevokeToken
                .check(Api::Robot)
                .unwrap_err()
                .contains("WebMACS")
        );
        let wrong = Fault::Malformed(Malformed::WrongType);
        assert!(wrong.check(Api::Molecule).is_ok());
        assert!(wrong.check(Api::Mosaic).is_ok());
        for api in [Api::Valtronics, Api::Webmacs, Api::Robot] {
            assert!(
                wrong.check(api).unwrap_err().contains("wrong-type"),
                "{api}"
            );
            assert!(Fault::Malformed(Malformed::InvalidJson).check(api).is_ok());
        }
        for api in Api::ALL {
            assert!(catalog(api).iter().any(|e| e.name == "latency"));
        }
        assert_eq!(catalog(Api::Mosaic).len(), 11);
        assert_eq!(catalog(Api::Webmacs).len(), 10);
        assert_eq!(catalog(Api::Robot).len(), 9);
    }

    #[test]
    fn startup_faults_name_their_api_and_act_on_connections() {
        assert_eq!(
            parse_targeted("webmacs:drop=0.5").unwrap(),
            (Api::Webmacs, Fault::Drop(0.5))
        );
        assert!(
            parse_targeted("drop=0.5")
                .unwrap_err()
                .contains("<api>:<fault>")
        );
        assert!(
            parse_targeted("nope:drop=0.5")
                .unwrap_err()
                .contains("unknown API")
        );
        assert!(
            parse_targeted("robot:restart")
                .unwrap_err()
                .contains("telewire fault robot restart")
        );
        assert!(parse_targeted("robot:revoke-token").is_err());
    }
}
