//! What a run checks: a real server described by configuration, or the in-process simulator.

use std::time::Duration;

use telewire_protocols::auth::AccessLevel;
use telewire_protocols::time::Timestamp;
use telewire_simulator::context::Credentials;
use telewire_simulator::jwt::JwtAuthority;
use telewire_simulator::serve;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::Running;
use telewire_simulator::serve::ServeOptions;

use crate::http;
use crate::suite::Suite;

/// Where to run a suite.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    /// Start the simulator of the suite's API in-process, on an ephemeral port.
    InProcess,
    /// A server described by configuration.
    Remote(Box<Target>),
}

/// A server under test and what it provides.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// Molecule: the full WebSocket URL (`wss://host/ws`). WebMACS: the base
    /// (`ws://host:port`); the endpoints' paths are appended.
    pub url: String,
    /// A token that the server accepts.
    pub token: Option<String>,
    /// Login user name (Molecule), or e-mail (WebMACS, same as [`Target::email`]).
    pub username: Option<String>,
    /// Login password.
    pub password: Option<String>,
    /// WebMACS login e-mail.
    pub email: Option<String>,
    /// Login endpoint base (`http://host:port`); default: derived from the URL.
    pub http_base: Option<String>,
    /// Molecule gateway id.
    pub gateway_id: Option<String>,
    /// Molecule: the gateway streams data frames while a client is connected.
    pub expect_data: bool,
    /// WebMACS: public ids of enabled events readings may be pushed for.
    pub events: Vec<String>,
    /// WebMACS: a token whose user was deleted after it was issued.
    pub deleted_user_token: Option<String>,
    /// A correctly signed token that has expired.
    pub expired_token: Option<String>,
    /// A PEM file of CA certificates trusted for `wss://` besides the web PKI roots.
    pub ca_file: Option<std::path::PathBuf>,
    /// Robot: the API key `GET /api/v1/auth/` exchanges for a token (`X-API-Key`).
    pub api_key: Option<String>,
    /// Mosaic: controller security is off (no token; keepalive answered with `{}`).
    pub security_off: bool,
    /// Mosaic: the controller's cap on simultaneous HTTP connections (8 or 16), when no
    /// other client holds one during the run.
    pub max_connections: Option<usize>,
    /// Mosaic: a token of a user with the Status access level (the minimum).
    pub status_token: Option<String>,
}

fn env(suite: Suite, name: &str) -> Option<String> {
    let key = format!("TELEWIRE_{}_{name}", suite.name().to_ascii_uppercase());
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

impl Target {
    /// The target configured by `TELEWIRE_<API>_*` variables; `None` when `_URL` is unset.
    pub fn from_env(suite: Suite) -> Option<Self> {
        let url = env(suite, "URL")?;
        Some(Self {
            url,
            token: env(suite, "TOKEN"),
            username: env(suite, "USERNAME"),
            password: env(suite, "PASSWORD"),
            email: env(suite, "EMAIL"),
            http_base: env(suite, "HTTP_URL"),
            gateway_id: env(suite, "GATEWAY_ID"),
            expect_data: env(suite, "EXPECT_DATA").is_some_and(|v| v == "1" || v == "true"),
            events: env(suite, "EVENTS")
                .map(|v| split_list(&v))
                .unwrap_or_default(),
            deleted_user_token: env(suite, "DELETED_USER_TOKEN"),
            expired_token: env(suite, "EXPIRED_TOKEN"),
            ca_file: env(suite, "CA_FILE").map(Into::into),
            api_key: env(suite, "API_KEY"),
            security_off: env(suite, "SECURITY").is_some_and(|v| v == "off" || v == "0"),
            max_connections: env(suite, "MAX_CONNECTIONS").and_then(|v| v.parse().ok()),
            status_token: env(suite, "STATUS_TOKEN"),
        })
    }

    /// The base of the HTTP endpoints: [`Target::http_base`], else the URL's scheme and
    /// authority with `ws` turned into `http`.
    pub fn http_base(&self) -> String {
        if let Some(base) = &self.http_base {
            return base.trim_end_matches('/').to_owned();
        }
        let (scheme, rest) = match self.url.split_once("://") {
            Some(("wss", rest)) => ("https", rest),
            Some((_, rest)) => ("http", rest),
            None => ("http", self.url.as_str()),
        };
        let authority = rest.split(['/', '?']).next().unwrap_or(rest);
        format!("{scheme}://{authority}")
    }

    /// The WebMACS login e-mail: [`Target::email`], else [`Target::username`].
    pub fn login_email(&self) -> Option<&str> {
        self.email.as_deref().or(self.username.as_deref())
    }

    /// Why a scenario needing `need` cannot run against this target, if it cannot.
    pub fn missing(&self, suite: Suite, need: &str) -> Option<String> {
        let var = |name: &str| format!("TELEWIRE_{}_{name}", suite.name().to_ascii_uppercase());
        match need {
            "data" if suite == Suite::Valtronics && !self.expect_data => Some(format!(
                "needs devices that push telemetry: set {}=1",
                var("EXPECT_DATA")
            )),
            "data" if !self.expect_data => Some(format!(
                "needs a gateway that streams data: set {}=1",
                var("EXPECT_DATA")
            )),
            "events" if self.events.len() < 2 => Some(format!(
                "needs two enabled event ids to push readings for: set {} (comma-separated)",
                var("EVENTS")
            )),
            "login" if !self.http_base().starts_with("http://") => Some(format!(
                "needs a plain http:// login endpoint: set {}",
                var("HTTP_URL")
            )),
            "login" if self.login_email().is_none() || self.password.is_none() => Some(format!(
                "needs login credentials to obtain and revoke a token: set {} and {}",
                var("EMAIL"),
                var("PASSWORD")
            )),
            "deleted_user_token" if self.deleted_user_token.is_none() => Some(format!(
                "needs a token of a deleted user: set {}",
                var("DELETED_USER_TOKEN")
            )),
            "http" if !self.http_base().starts_with("http://") => Some(format!(
                "needs a plain http:// REST base: set {}",
                var("HTTP_URL")
            )),
            "api_key" if !self.http_base().starts_with("http://") => Some(format!(
                "needs a plain http:// token endpoint: set {}",
                var("HTTP_URL")
            )),
            "api_key" if self.api_key.is_none() => Some(format!(
                "needs an API key for GET /api/v1/auth/: set {}",
                var("API_KEY")
            )),
            "expired_token" if self.expired_token.is_none() => Some(format!(
                "needs a correctly signed, expired token: set {}",
                var("EXPIRED_TOKEN")
            )),
            "broadcasts" if !self.expect_data => Some(format!(
                "needs a controller whose show changes while a client is subscribed: set {}=1",
                var("EXPECT_DATA")
            )),
            "security" if self.security_off => Some(format!(
                "needs controller security enabled: unset {}",
                var("SECURITY")
            )),
            "no_security" if !self.security_off => Some(format!(
                "needs controller security disabled: set {}=off",
                var("SECURITY")
            )),
            "max_connections" if self.max_connections.is_none() => Some(format!(
                "needs the controller's connection cap and no other client: set {} (8 or 16)",
                var("MAX_CONNECTIONS")
            )),
            "status_token" if self.status_token.is_none() => Some(format!(
                "needs a token of a user with the Status access level: set {}",
                var("STATUS_TOKEN")
            )),
            _ => None,
        }
    }

    /// Checks the configuration and obtains a token when only credentials were given.
    pub async fn resolve(mut self, suite: Suite) -> Result<Self, String> {
        telewire_simulator::wsclient::parse_url(&self.url)
            .map_err(|e| format!("--url {}: {e}", self.url))?;
        self.trust()?;
        if suite == Suite::Molecule && self.gateway_id.is_none() {
            return Err("the Molecule suite needs a gateway id (TELEWIRE_MOLECULE_GATEWAY_ID or --gateway-id)".into());
        }
        if self.token.is_none() && !(suite == Suite::Mosaic && self.security_off) {
            self.token = Some(self.login(suite).await?);
        }
        Ok(self)
    }

    /// Logs in with the configured credentials; the access token back.
    pub async fn login(&self, suite: Suite) -> Result<String, String> {
        if suite == Suite::Robot {
            return self.robot_token().await;
        }
        let Some(password) = self.password.as_deref() else {
            return Err("no token and no password: give a token, or credentials to log in".into());
        };
        let answer = match suite {
            Suite::Molecule => {
                let user = self
                    .username
                    .as_deref()
                    .ok_or("no user name to log in with")?;
                let request =
                    telewire_protocols::molecule::TokenRequest::password_grant(user, password);
                let url = format!(
                    "{}{}",
                    self.http_base(),
                    telewire_protocols::molecule::http::TOKEN_PATH
                );
                http::request(
                    &url,
                    "POST",
                    Some(telewire_protocols::molecule::http::FORM_CONTENT_TYPE),
                    None,
                    &request.to_text(),
                )
                .await?
            }
            Suite::Robot => return self.robot_token().await,
            Suite::Webmacs => {
                let email = self.login_email().ok_or("no e-mail to log in with")?;
                let body = serde_json::json!({"email": email, "password": password}).to_string();
                let url = format!(
                    "{}{}",
                    self.http_base(),
                    telewire_protocols::webmacs::http::LOGIN_PATH
                );
                http::request(&url, "POST", Some("application/json"), None, &body).await?
            }
            Suite::Mosaic => {
                let user = self
                    .username
                    .as_deref()
                    .ok_or("no user name to log in with")?;
                let request = telewire_protocols::mosaic::http::AuthenticateRequest {
                    username: user.to_owned(),
                    password: password.to_owned(),
                };
                let url = format!(
                    "{}{}",
                    self.http_base(),
                    telewire_protocols::mosaic::http::AUTHENTICATE_PATH
                );
                let answer = http::request(
                    &url,
                    "POST",
                    Some("application/json"),
                    None,
                    &request.to_text(),
                )
                .await?;
                if answer.status != 200 {
                    return Err(format!("login refused with HTTP {}", answer.status));
                }
                return telewire_protocols::mosaic::http::AuthenticateResponse::decode(
                    &answer.body,
                )
                .map(|r| r.token)
                .map_err(|e| format!("the login answer is not {{\"token\": ...}}: {e}"));
            }
            Suite::Valtronics => {
                let user = self
                    .username
                    .as_deref()
                    .ok_or("no user name to log in with")?;
                let request = telewire_protocols::valtronics::http::LoginRequest {
                    username: user.to_owned(),
                    password: password.to_owned(),
                };
                let url = format!(
                    "{}{}",
                    self.http_base(),
                    telewire_protocols::valtronics::http::LOGIN_PATH
                );
                http::request(
                    &url,
                    "POST",
                    Some("application/json"),
                    None,
                    &request.to_text(),
                )
                .await?
            }
        };
        if answer.status != 200 {
            return Err(format!("login refused with HTTP {}", answer.status));
        }
        let value: serde_json::Value = serde_json::from_str(&answer.body)
            .map_err(|e| format!("the login answer is not JSON: {e}"))?;
        value["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "the login answer has no access_token".to_owned())
    }

    /// Robot: a token from `GET /api/v1/auth/` for the configured API key.
    pub async fn robot_token(&self) -> Result<String, String> {
        let key = self
            .api_key
            .as_deref()
            .ok_or("no token and no API key: give a token, or an API key to obtain one")?;
        use telewire_protocols::robot::{API_KEY_HEADER, AUTH_PATH, TokenResponse};
        let url = format!("{}{AUTH_PATH}", self.http_base());
        let answer = http::request_with(&url, "GET", &[(API_KEY_HEADER, key)], "").await?;
        if answer.status != 200 {
            return Err(format!(
                "the token endpoint answered HTTP {}",
                answer.status
            ));
        }
        TokenResponse::decode(&answer.body)
            .map(|t| t.token)
            .map_err(|e| format!("the token endpoint's answer is not {{\"token\"}}: {e}"))
    }

    /// The certificates `wss://` connections trust.
    pub fn trust(&self) -> Result<telewire_simulator::wsclient::Trust, String> {
        match &self.ca_file {
            Some(path) => telewire_simulator::wsclient::Trust::with_ca_file(path),
            None => telewire_simulator::wsclient::Trust::new(None),
        }
    }

    /// Every secret a report must not show.
    pub fn secrets(&self) -> Vec<String> {
        [
            &self.token,
            &self.password,
            &self.deleted_user_token,
            &self.expired_token,
            &self.api_key,
            &self.status_token,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
    }
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Starts the simulator of `suite`'s API and describes it as a target. WebMACS runs with
/// its built-in controller off, so that only what a scenario pushes reaches the stream.
pub async fn start_in_process(suite: Suite) -> Result<(Target, Running), String> {
    start_in_process_with(suite, |_| {}).await
}

/// As [`start_in_process`], with the options changed by `configure` before the start (for
/// example a broken profile applied with [`ServeOptions::apply_break`]).
pub async fn start_in_process_with(
    suite: Suite,
    configure: impl FnOnce(&mut ServeOptions),
) -> Result<(Target, Running), String> {
    let mut opts = ServeOptions::ephemeral();
    opts.scenario.webmacs.rate = 0.0;
    // Mosaic: a show event (timeline, scene, beacon, remote device) on about every tick,
    // so that each event-driven channel broadcasts well within a scenario's time bound.
    opts.scenario.mosaic.rates.event_ms = opts.scenario.mosaic.rates.tick_ms;
    in_process_valtronics(&mut opts.scenario.valtronics);
    configure(&mut opts);
    let credentials = Credentials::default();
    let mosaic_model = opts.scenario.mosaic.model;
    let events: Vec<String> = opts
        .scenario
        .webmacs
        .events
        .iter()
        .filter(|e| e.enabled)
        .map(|e| e.public_id.clone())
        .collect();
    let api = match suite {
        Suite::Molecule => Api::Molecule,
        Suite::Webmacs => Api::Webmacs,
        Suite::Robot => Api::Robot,
        Suite::Mosaic => Api::Mosaic,
        Suite::Valtronics => Api::Valtronics,
    };
    // A token of the simulator's own issuer and secret that expired an hour ago.
    let secret = opts.jwt_secret.clone().unwrap_or_default();
    let now = Timestamp::from_unix_micros(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
            .unwrap_or_default(),
    );
    let subject = match suite {
        Suite::Molecule | Suite::Valtronics => credentials.username.clone(),
        Suite::Webmacs => credentials.email.clone(),
        Suite::Robot => credentials.username.clone(),
        Suite::Mosaic => credentials.username.clone(),
    };
    let authority = JwtAuthority::new(
        &format!("telewire-{}", suite.name()),
        secret.as_bytes(),
        Duration::from_secs(60),
    );
    // A live token of the lowest access level (Mosaic needs at least Status).
    let status_token = authority.issue_for(
        &subject,
        AccessLevel::Status,
        now,
        Duration::from_secs(3600),
    );
    let expired_token = authority.issue_for(
        &subject,
        AccessLevel::Admin,
        now.saturating_sub(Duration::from_secs(3600)),
        Duration::from_secs(60),
    );
    let running = serve::start(&[api], opts)
        .await
        .map_err(|e| e.to_string())?;
    let addr = running.addr(api).ok_or("the simulator did not start")?;
    let info = &running
        .apis
        .first()
        .ok_or("the simulator did not start")?
        .info;
    let target = match suite {
        Suite::Molecule => Target {
            url: info
                .ws_urls
                .first()
                .cloned()
                .unwrap_or_else(|| format!("ws://{addr}/ws")),
            token: Some(info.token.clone()),
            username: Some(credentials.username.clone()),
            password: Some(credentials.password.clone()),
            gateway_id: Some(credentials.gateway_id.clone()),
            expect_data: true,
            expired_token: Some(expired_token),
            ..Target::default()
        },
        Suite::Webmacs => Target {
            url: format!("ws://{addr}"),
            token: Some(info.token.clone()),
            email: Some(credentials.email.clone()),
            password: Some(credentials.password.clone()),
            events,
            deleted_user_token: info
                .notes
                .iter()
                .find(|n| n.starts_with("token of a deleted user"))
                .and_then(|n| n.rsplit(' ').next())
                .map(str::to_owned),
            expired_token: Some(expired_token),
            ..Target::default()
        },
        Suite::Valtronics => Target {
            url: format!("ws://{addr}"),
            token: Some(info.token.clone()),
            username: Some(credentials.username.clone()),
            password: Some(credentials.password.clone()),
            expect_data: true,
            expired_token: Some(expired_token),
            ..Target::default()
        },
        Suite::Robot => Target {
            url: format!("ws://{addr}{}", telewire_protocols::robot::WS_PATHS[0]),
            token: Some(info.token.clone()),
            api_key: Some(credentials.api_key.clone()),
            expired_token: Some(expired_token),
            ..Target::default()
        },
        Suite::Mosaic => Target {
            url: info
                .ws_urls
                .first()
                .cloned()
                .unwrap_or_else(|| format!("ws://{addr}/query")),
            token: Some(info.token.clone()),
            username: Some(credentials.username.clone()),
            password: Some(credentials.password.clone()),
            expect_data: true,
            expired_token: Some(expired_token),
            max_connections: Some(mosaic_model.controller_model().max_connections()),
            status_token: Some(status_token),
            ..Target::default()
        },
    };
    Ok((target, running))
}

/// The in-process Valtronics simulator: fast telemetry and system ticks and flapping
/// devices that flap often, so that a scenario waits milliseconds for a push, and no cap
/// on new connections per minute (the suite opens more than ten; `conformance/README.md`
/// says how to run it against a real server).
pub fn in_process_valtronics(scenario: &mut telewire_simulator::valtronics::Scenario) {
    scenario.interval_ms = 50;
    scenario.system_interval_ms = 100;
    scenario.limits.new_connections_per_minute = 10_000;
    for device in &mut scenario.devices {
        if device.flap_every > 0 {
            device.flap_every = 4;
            device.offline_ticks = 2;
        }
    }
}
