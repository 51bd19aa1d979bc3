//! `telewire fault`: trigger a fault on a running `telewire serve` through its admin API.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::Value;
use serde_json::json;
use telewire_simulator::faults::Fault;
use telewire_simulator::serve::Api;
use telewire_simulator::wsclient;
use telewire_simulator::wsclient::Trust;
use telewire_simulator::wsclient::WsError;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;

/// How long one admin request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    telewire fault webmacs latency=200ms,jitter=50ms\n  \
    telewire fault robot disconnect --client 3\n  \
    telewire fault mosaic session-timeout\n  \
    telewire fault webmacs --list\n  \
    telewire fault webmacs clear\n\n\
Exits 0 when applied, 1 when the server refuses or does not answer, 2 on usage errors.")]
pub struct FaultArgs {
    /// The API whose server gets the fault: molecule, valtronics, webmacs, mosaic, robot.
    #[arg(value_name = "API")]
    api: Api,
    /// The fault, for example latency=200ms, drop=0.5, stall, disconnect, close=4000:bye,
    /// malformed=truncated, token-expiry, restart=2s; or `clear` to clear the lasting ones.
    #[arg(value_name = "FAULT", required_unless_present = "list")]
    fault: Option<String>,
    /// Apply it to this connection id only (see --list); default: every client.
    #[arg(long, value_name = "ID")]
    client: Option<u64>,
    /// The server's port on 127.0.0.1 (default: the API's default port).
    #[arg(long, conflicts_with = "url")]
    port: Option<u16>,
    /// The server's address as http://host:port, or https://host:port for `serve --tls`.
    #[arg(long)]
    url: Option<String>,
    /// Trust this PEM CA certificate for https:// (such as the one given `serve --tls --cert`).
    #[arg(long, value_name = "PEM")]
    ca_cert: Option<std::path::PathBuf>,
    /// List the API's faults, the ones in effect and the connected clients.
    #[arg(long, conflicts_with_all = ["fault", "client"])]
    list: bool,
}

/// A failure: its message and exit code.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    fn refused(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }
}

/// Runs `telewire fault`; the exit code says what happened.
pub async fn run(args: FaultArgs) -> ExitCode {
    match apply(&args).await {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

async fn apply(args: &FaultArgs) -> Result<String, Failure> {
    let target = Target::of(args)?;
    if args.list {
        let faults = target.request("GET", "/_telewire/faults", "").await?;
        let clients = target.request("GET", "/_telewire/clients", "").await?;
        return Ok(listing(args.api, &faults, &clients));
    }
    let Some(spec) = args.fault.as_deref() else {
        return Err(Failure::usage("name a fault, or pass --list"));
    };
    if spec == "clear" {
        if args.client.is_some() {
            return Err(Failure::usage(
                "clear acts on every client of the API: leave out --client",
            ));
        }
        let reply = target.request("DELETE", "/_telewire/faults", "").await?;
        let n = reply["cleared"].as_u64().unwrap_or(0);
        return Ok(format!(
            "cleared {n} lasting fault(s) on {}: its clients are back to normal",
            args.api
        ));
    }
    let fault: Fault = spec.parse().map_err(|e| Failure::usage(format!("{e}")))?;
    let mut body = json!({ "fault": fault.to_string() });
    if let Some(id) = args.client {
        body["client"] = json!(id);
    }
    let reply = target
        .request("POST", "/_telewire/faults", &body.to_string())
        .await?;
    let applied = reply["applied"].as_str().unwrap_or(spec);
    let clients: Vec<String> = reply["clients"]
        .as_array()
        .map(|ids| ids.iter().map(Value::to_string).collect())
        .unwrap_or_default();
    let reached = if clients.is_empty() {
        "no client connected now".to_owned()
    } else {
        format!("client(s) {}", clients.join(", "))
    };
    let later = if fault.is_lasting() && args.client.is_none() {
        "; clients that connect later get it too, until `telewire fault {api} clear`"
    } else {
        ""
    };
    Ok(format!(
        "applied {applied} on {api} ({reached}){}",
        later.replace("{api}", args.api.name()),
        api = args.api
    ))
}

fn listing(api: Api, faults: &Value, clients: &Value) -> String {
    let mut out = format!("faults of {api}:\n");
    for entry in faults["faults"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  {:<52} {}\n",
            entry["usage"].as_str().unwrap_or_default(),
            entry["description"].as_str().unwrap_or_default()
        ));
    }
    let active = faults["active"].as_array().cloned().unwrap_or_default();
    out.push_str(if active.is_empty() {
        "in effect: none
"
    } else {
        "in effect:
"
    });
    for entry in &active {
        let client = match entry["client"].as_u64() {
            Some(id) => format!("client {id}"),
            None => "every client".to_owned(),
        };
        out.push_str(&format!(
            "  {} ({client})\n",
            entry["fault"].as_str().unwrap_or_default()
        ));
    }
    let clients = clients["clients"].as_array().cloned().unwrap_or_default();
    out.push_str(if clients.is_empty() {
        "clients: none connected"
    } else {
        "clients (id, address, path, authentication):"
    });
    for client in &clients {
        out.push_str(&format!(
            "\n  {:>4}  {}  {}  {}",
            client["id"],
            client["peer"].as_str().unwrap_or_default(),
            client["path"].as_str().unwrap_or_default(),
            client["auth"].as_str().unwrap_or_default()
        ));
    }
    out
}

/// Where the server's admin API answers.
struct Target {
    api: Api,
    host: String,
    port: u16,
    /// The trust for https://, or `None` for plain HTTP.
    tls: Option<Trust>,
}

impl Target {
    fn of(args: &FaultArgs) -> Result<Self, Failure> {
        let Some(url) = &args.url else {
            if args.ca_cert.is_some() {
                return Err(Failure::usage(
                    "--ca-cert goes with an https:// --url (a server started with --tls)",
                ));
            }
            return Ok(Self {
                api: args.api,
                host: "127.0.0.1".to_owned(),
                port: args.port.unwrap_or_else(|| args.api.default_port()),
                tls: None,
            });
        };
        let (rest, tls) = if let Some(rest) = url.strip_prefix("http://") {
            (rest, None)
        } else if let Some(rest) = url.strip_prefix("https://") {
            let trust = match &args.ca_cert {
                Some(path) => Trust::with_ca_file(path),
                None => Trust::new(None),
            }
            .map_err(Failure::usage)?;
            (rest, Some(trust))
        } else {
            return Err(Failure::usage(format!(
                "--url {url}: give the server as http://host:port, or https://host:port for a server started with --tls"
            )));
        };
        let authority = rest.trim_end_matches('/');
        let (host, port) = authority.rsplit_once(':').ok_or_else(|| {
            Failure::usage(format!(
                "--url {url}: the port is missing, as in http://127.0.0.1:9103"
            ))
        })?;
        let port = port
            .parse()
            .map_err(|_| Failure::usage(format!("--url {url}: '{port}' is not a port")))?;
        Ok(Self {
            api: args.api,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port,
            tls,
        })
    }

    /// One request; the JSON reply of a 2xx, or the server's error as a failure.
    async fn request(&self, method: &str, path: &str, body: &str) -> Result<Value, Failure> {
        let (status, reply) =
            tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(method, path, body))
                .await
                .map_err(|_| {
                    Failure::refused(format!(
                        "{}:{} did not answer within {REQUEST_TIMEOUT:?}",
                        self.host, self.port
                    ))
                })??;
        let json: Value = serde_json::from_str(&reply).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(json);
        }
        let message = json["error"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| reply.trim().to_owned());
        Err(Failure::refused(match status {
            404 if json.is_null() => format!(
                "{}:{} has no admin API (HTTP 404): is it a telewire {} simulator?",
                self.host, self.port, self.api
            ),
            _ => format!("the {} server refused (HTTP {status}): {message}", self.api),
        }))
    }

    async fn exchange(
        &self,
        method: &str,
        path: &str,
        body: &str,
    ) -> Result<(u16, String), Failure> {
        let addr = format!("{}:{}", self.host, self.port);
        let mut stream = wsclient::open(&self.host, self.port, self.tls.as_ref())
            .await
            .map_err(|err| match err {
                WsError::Tls(reason) => Failure::refused(format!(
                    "TLS with {addr} failed ({reason}): pass the server's certificate with --ca-cert"
                )),
                other => Failure::refused(format!(
                    "nothing answers on {addr} ({other}): is `telewire serve {api}` running? \
                     (pass --port or --url if it listens elsewhere)",
                    api = self.api
                )),
            })?;
        let host = if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            addr.clone()
        };
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let io = |err: std::io::Error| Failure::refused(format!("talking to {addr}: {err}"));
        stream.write_all(request.as_bytes()).await.map_err(io)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.map_err(io)?;
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| {
            Failure::refused(format!(
                "{addr} did not answer with HTTP: is it a telewire simulator?"
            ))
        })?;
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Failure::refused(format!("{addr} sent no HTTP status line")))?;
        Ok((status, body.to_owned()))
    }
}
