//! `telewire record <api>`: connect to a server as a dashboard of that API would, and write
//! every frame of the session with its offset, secrets redacted.

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use telewire_protocols::frame::Close;
use telewire_protocols::frame::CloseCode;
use telewire_protocols::frame::Outbound;
use telewire_protocols::molecule;
use telewire_protocols::mosaic;
use telewire_protocols::robot;
use telewire_protocols::valtronics;
use tokio::time::Instant;

use super::dashboard::Dashboard;
use super::dashboard::content_of;
use super::dashboard::default_path;
use super::format::Content;
use super::format::Entry;
use super::format::FORMAT_NAME;
use super::format::FORMAT_VERSION;
use super::format::Header;
use super::format::Side;
use super::format::Writer;
use super::http;
use super::redact::Redactor;
use crate::clock::Clock;
use crate::context::Credentials;
use crate::serve::Api;
use crate::wsclient;
use crate::wsclient::Incoming;
use crate::wsclient::Trust;
use crate::wsclient::WsError;

/// How long opening the WebSocket (TCP, TLS, upgrade) may take.
const CONNECT_WAIT: Duration = Duration::from_secs(10);

/// How long to wait for the server's close frame after sending ours.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// What to record and how to log in.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// The API.
    pub api: Api,
    /// The server's WebSocket URL: the full endpoint URL, or `ws[s]://host:port` for the
    /// API's dashboard endpoint.
    pub url: String,
    /// Base of the login endpoints (default: the URL's scheme and authority, `ws` made
    /// `http`).
    pub http_url: Option<String>,
    /// A token the server accepts; without one, the recorder logs in with `credentials`.
    pub token: Option<String>,
    /// Login credentials (user, password, e-mail, gateway id, API key).
    pub credentials: Credentials,
    /// The channels or topics to subscribe to (default: every one the API offers).
    pub subscribe: Vec<String>,
    /// Extra CA certificates (PEM) to trust for `wss://` and `https://`.
    pub ca_cert: Option<Vec<u8>>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Stop after this many data frames from the server.
    pub frames: Option<u64>,
}

impl RecordOptions {
    /// Options for `api` at `url` with the demo credentials and no limits.
    pub fn new(api: Api, url: impl Into<String>) -> Self {
        Self {
            api,
            url: url.into(),
            http_url: None,
            token: None,
            credentials: Credentials::default(),
            subscribe: Vec::new(),
            ca_cert: None,
            duration: None,
            frames: None,
        }
    }
}

/// Why the recording stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// Asked to (Ctrl-C).
    Interrupted,
    /// `--duration` passed.
    Duration,
    /// `--frames` data frames arrived.
    Frames,
    /// The server closed the connection (recorded), with this code when it sent one.
    ServerClosed(Option<u16>),
}

/// What was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Frame lines written (both directions).
    pub frames: u64,
    /// Server data frames among them (what a replay serves).
    pub data_frames: u64,
    /// Why it stopped.
    pub stopped: Stopped,
}

/// Progress so far, reported after every frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Frame lines written.
    pub frames: u64,
    /// Server data frames among them.
    pub data_frames: u64,
}

/// The `http[s]://host:port` base of `url`.
fn http_base_of(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, rest)) if s.eq_ignore_ascii_case("wss") => ("https", rest),
        Some((_, rest)) => ("http", rest),
        None => ("http", url),
    };
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    format!("{scheme}://{authority}")
}

/// Logs in the documented way of `api`; the token back.
async fn login(opts: &RecordOptions, trust: &Trust) -> Result<String, String> {
    let base = opts
        .http_url
        .clone()
        .unwrap_or_else(|| http_base_of(&opts.url));
    let base = base.trim_end_matches('/');
    let creds = &opts.credentials;
    let json = ("Content-Type", "application/json");
    let (path, headers, body) = match opts.api {
        Api::Molecule => (
            molecule::http::TOKEN_PATH,
            vec![("Content-Type", molecule::http::FORM_CONTENT_TYPE)],
            molecule::TokenRequest::password_grant(&creds.username, &creds.password).to_text(),
        ),
        Api::Valtronics => (
            valtronics::http::LOGIN_PATH,
            vec![json],
            serde_json::json!({"username": creds.username, "password": creds.password}).to_string(),
        ),
        Api::Webmacs => (
            telewire_protocols::webmacs::http::LOGIN_PATH,
            vec![json],
            serde_json::json!({"email": creds.email, "password": creds.password}).to_string(),
        ),
        Api::Mosaic => (
            mosaic::http::AUTHENTICATE_PATH,
            vec![json],
            serde_json::json!({"username": creds.username, "password": creds.password}).to_string(),
        ),
        Api::Robot => (
            robot::AUTH_PATH,
            vec![(robot::API_KEY_HEADER, creds.api_key.as_str())],
            String::new(),
        ),
    };
    let method = if opts.api == Api::Robot {
        "GET"
    } else {
        "POST"
    };
    let url = format!("{base}{path}");
    let answer = http::request(&url, method, &headers, &body, trust)
        .await
        .map_err(|e| {
            format!("cannot log in at {url}: {e}; is the server running? check --url (and --http-url), or pass --token")
        })?;
    if answer.status != 200 {
        let what = match opts.api {
            Api::Robot => "the API key (--api-key)",
            Api::Webmacs => "--email and --password",
            _ => "--username and --password",
        };
        return Err(format!(
            "login refused at {url} with HTTP {}: check {what}, or pass --token",
            answer.status
        ));
    }
    let value: serde_json::Value = serde_json::from_str(&answer.body)
        .map_err(|e| format!("the login answer of {url} is not JSON: {e}"))?;
    let key = match opts.api {
        Api::Mosaic | Api::Robot => "token",
        _ => "access_token",
    };
    value
        .get(key)
        .and_then(|t| t.as_str())
        .map(str::to_owned)
        .ok_or_else(|| format!("the login answer of {url} has no \"{key}\""))
}

/// The WebSocket URL to open: the default path added, and the token in the query for the
/// APIs that take it there.
fn connect_url(opts: &RecordOptions, token: &str) -> Result<String, String> {
    let target = wsclient::parse_url(&opts.url).map_err(|e| {
        format!(
            "--url {}: {e} (for example ws://127.0.0.1:{}{})",
            opts.url,
            opts.api.default_port(),
            default_path(opts.api)
        )
    })?;
    let mut url = opts.url.clone();
    if target.resource == "/" {
        // Robot: the official client's `/` stays; the other APIs get their endpoint.
        let path = if opts.api == Api::Robot {
            "/"
        } else {
            default_path(opts.api)
        };
        url = format!("{}{path}", url.trim_end_matches('/'));
    } else if target.resource.starts_with("/?") && !url.contains("/?") {
        url = url.replacen('?', "/?", 1);
    }
    let takes_query = matches!(opts.api, Api::Webmacs | Api::Robot);
    let has_token = target
        .resource
        .split_once('?')
        .is_some_and(|(_, q)| q.split('&').any(|p| p.starts_with("token=")));
    if takes_query && !has_token {
        let sep = if url.contains('?') { '&' } else { '?' };
        url = format!(
            "{url}{sep}token={}",
            telewire_protocols::urlencoded::encode_query_value(token)
        );
    }
    Ok(url)
}

/// The token given in the URL's query, if any.
fn token_in_url(url: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    query
        .split('&')
        .find_map(|p| p.strip_prefix("token="))
        .map(str::to_owned)
}

/// What a connection failure means for the person recording.
fn connect_error(err: WsError, url: &str, api: Api) -> String {
    match err {
        WsError::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "nothing is listening at {url}: start the server (for example `telewire serve {api}`) or fix --url"
        ),
        WsError::Status {
            status: 401 | 403,
            body,
        } => format!(
            "the server refused the token with HTTP {status_text}: check the credentials, or pass a fresh --token",
            status_text = if body.is_empty() {
                "401/403".to_owned()
            } else {
                body
            }
        ),
        WsError::Status { status, body } => format!(
            "the server answered the upgrade with HTTP {status} {body}: check the path in --url (the {api} dashboard endpoint is {})",
            default_path(api)
        ),
        other => format!("cannot connect to {url}: {other}"),
    }
}

fn unix_ms_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Records one session of `opts.api` into `out` until `stop` completes, the duration or
/// frame limit is reached, or the server closes; reports each frame to `progress`.
///
/// Everything received up to a refused login is written before the refusal is returned.
pub async fn record<W, S, P>(
    opts: RecordOptions,
    out: W,
    stop: S,
    mut progress: P,
) -> Result<Summary, String>
where
    W: Write,
    S: Future<Output = ()>,
    P: FnMut(Progress),
{
    let api = opts.api;
    let trust = Trust::new(opts.ca_cert.as_deref())?;
    wsclient::parse_url(&opts.url).map_err(|e| format!("--url {}: {e}", opts.url))?;
    let token = match &opts.token {
        Some(token) => token.clone(),
        None => match token_in_url(&opts.url) {
            Some(token) if matches!(api, Api::Webmacs | Api::Robot) => token,
            _ => login(&opts, &trust).await?,
        },
    };
    let mut redactor = Redactor::new([
        token.clone(),
        opts.credentials.password.clone(),
        opts.credentials.api_key.clone(),
    ]);
    if let Some(token) = token_in_url(&opts.url) {
        redactor.add(&token);
        redactor.add(&telewire_protocols::urlencoded::encode_query_value(&token));
    }
    redactor.add(&telewire_protocols::urlencoded::encode_query_value(&token));
    let url = connect_url(&opts, &token)?;
    let target = wsclient::parse_url(&url).map_err(|e| format!("--url {url}: {e}"))?;
    let shown_url = redactor.url(&url);
    let (mut reader, mut writer) =
        tokio::time::timeout(CONNECT_WAIT, wsclient::connect(&target, &trust))
            .await
            .map_err(|_| {
                format!("no answer from {shown_url} within {CONNECT_WAIT:?}: check --url")
            })?
            .map_err(|e| connect_error(e, &shown_url, api))?;
    let start = Instant::now();
    let clock = Clock::system();
    let header = Header {
        format: FORMAT_NAME.to_owned(),
        version: FORMAT_VERSION,
        api: api.name().to_owned(),
        url: shown_url,
        started: clock.now().to_rfc3339_micros(),
        started_unix_ms: unix_ms_now(),
        telewire: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let io = |e: std::io::Error| format!("cannot write the recording: {e}");
    let mut file = Writer::new(out, &header).map_err(io)?;
    let mut dashboard = Dashboard::new(api, &token, &opts, clock.now())?;
    let mut counts = Progress {
        frames: 0,
        data_frames: 0,
    };
    let ms = || u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    let until = opts.duration.map(|d| start + d);
    tokio::pin!(stop);
    let stopped = loop {
        // Send what the dashboard queued, recording each frame as it goes.
        while let Some(frame) = dashboard.queue.pop_front() {
            let content = dashboard.sent_content(&frame, &redactor);
            let closing = matches!(frame, Outbound::Close(_));
            let sent = match frame {
                Outbound::Text(text) => writer.text(&text).await,
                Outbound::Binary(bytes) => writer.binary(bytes).await,
                Outbound::Close(close) => writer.close(close.code.0, &close.reason).await,
            };
            file.entry(&Entry {
                ms: ms(),
                from: Side::Client,
                data: false,
                content,
            })
            .map_err(io)?;
            counts.frames += 1;
            progress(counts);
            if sent.is_err() {
                break;
            }
            if closing {
                if let Some(close) = reader.linger(CLOSE_LINGER).await {
                    record_close(&mut file, ms(), Some(close), &redactor).map_err(io)?;
                    counts.frames += 1;
                    progress(counts);
                }
                file.flush().map_err(io)?;
                let reason = dashboard
                    .refused
                    .clone()
                    .unwrap_or_else(|| "the client closed the connection".to_owned());
                return Err(reason);
            }
        }
        if opts.frames.is_some_and(|n| counts.data_frames >= n) {
            break Stopped::Frames;
        }
        let deadline = dashboard.deadline(&clock);
        tokio::select! {
            () = &mut stop => break Stopped::Interrupted,
            () = sleep_until_opt(until) => break Stopped::Duration,
            () = sleep_until_opt(deadline) => dashboard.on_deadline(clock.now()),
            incoming = reader.next() => {
                let incoming = match incoming {
                    Ok(incoming) => incoming,
                    Err(err) => {
                        file.flush().map_err(io)?;
                        return Err(format!(
                            "the connection broke after {} frames (recorded): {err}",
                            counts.frames
                        ));
                    }
                };
                let data = dashboard.on_frame(clock.now(), &incoming);
                let Some(content) = dashboard.received_content(&incoming, &redactor) else {
                    // A ping: answered by the WebSocket layer on the next write.
                    let _ = writer.flush().await;
                    continue;
                };
                file.entry(&Entry { ms: ms(), from: Side::Server, data, content })
                    .map_err(io)?;
                counts.frames += 1;
                if data {
                    counts.data_frames += 1;
                }
                progress(counts);
                if let Incoming::Close(close) = incoming {
                    let code = close.as_ref().map(|(code, _)| *code);
                    // Answer the close, as RFC 6455 asks; the answer is not recorded.
                    let _ = writer.close(code.unwrap_or(1000), "").await;
                    file.flush().map_err(io)?;
                    if code == Some(CloseCode::POLICY_VIOLATION.0) && counts.data_frames == 0 {
                        return Err(dashboard.refused.clone().unwrap_or_else(|| {
                            format!(
                                "the server closed with 1008 ({}): the token was refused; check the credentials, or pass a fresh --token",
                                close.map(|(_, r)| r).unwrap_or_default()
                            )
                        }));
                    }
                    break Stopped::ServerClosed(code);
                }
            }
        }
    };
    if !matches!(stopped, Stopped::ServerClosed(_)) {
        let close = Close::new(CloseCode::NORMAL, "recording finished");
        file.entry(&Entry {
            ms: ms(),
            from: Side::Client,
            data: false,
            content: content_of(&Outbound::Close(close.clone()), &redactor),
        })
        .map_err(io)?;
        counts.frames += 1;
        if writer.close(close.code.0, &close.reason).await.is_ok() {
            let answer = reader.linger(CLOSE_LINGER).await;
            if answer.is_some() {
                record_close(&mut file, ms(), answer, &redactor).map_err(io)?;
                counts.frames += 1;
            }
        }
        progress(counts);
    }
    file.flush().map_err(io)?;
    Ok(Summary {
        frames: counts.frames,
        data_frames: counts.data_frames,
        stopped,
    })
}

fn record_close<W: Write>(
    file: &mut Writer<W>,
    ms: u64,
    close: Option<(u16, String)>,
    redactor: &Redactor,
) -> std::io::Result<()> {
    let (code, reason) = close.unwrap_or((1005, String::new()));
    file.entry(&Entry {
        ms,
        from: Side::Server,
        data: false,
        content: Content::Close {
            code,
            reason: redactor.text(&reason),
        },
    })
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_get_the_default_path_and_the_token() {
        let opts = RecordOptions::new(Api::Webmacs, "ws://127.0.0.1:9103");
        assert_eq!(
            connect_url(&opts, "a b").unwrap(),
            "ws://127.0.0.1:9103/ws/datapoints/stream?token=a%20b"
        );
        let opts = RecordOptions::new(Api::Valtronics, "ws://h:1/ws/alerts");
        assert_eq!(connect_url(&opts, "t").unwrap(), "ws://h:1/ws/alerts");
        let opts = RecordOptions::new(Api::Robot, "ws://h:1/wss?token=given");
        assert_eq!(connect_url(&opts, "t").unwrap(), "ws://h:1/wss?token=given");
        let opts = RecordOptions::new(Api::Robot, "ws://h:1");
        assert_eq!(connect_url(&opts, "t").unwrap(), "ws://h:1/?token=t");
        assert!(connect_url(&RecordOptions::new(Api::Robot, "http://h"), "t").is_err());
        assert_eq!(http_base_of("wss://h:9/x?y"), "https://h:9");
    }
}
