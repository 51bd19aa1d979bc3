//! The control page's way to a simulator's admin API (`/_telewire/faults`): one HTTP/1.1
//! request over loopback, plain or over TLS when `telewire serve --tls` runs.

use std::net::IpAddr;
use std::net::Ipv4Addr;
use std::net::Ipv6Addr;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::http::HeaderValue;
use axum::http::Method;
use axum::http::Request;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::IntoResponse;
use axum::response::Response;
use hyper_util::rt::TokioIo;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::ServerName;
use serde_json::json;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::serve::RunningApi;

/// The admin API's fault route on every simulator port.
pub const FAULTS_PATH: &str = "/_telewire/faults";

/// Upper bound on one forwarded request, connect to last byte.
const EXCHANGE: Duration = Duration::from_secs(5);

/// Largest answer read from a simulator.
const MAX_ANSWER: usize = 1 << 20;

/// How the admin API of the simulators is reached.
#[derive(Clone, Default)]
pub struct Forwarder {
    tls: Option<TlsConnector>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Forwarder {
    /// Plain HTTP.
    pub fn plain() -> Self {
        Self { tls: None }
    }

    /// HTTPS, trusting `roots` (the certificate chain the simulators serve).
    pub fn tls(roots: Vec<CertificateDer<'static>>) -> Result<Self, String> {
        let mut store = rustls::RootCertStore::empty();
        let (added, _ignored) = store.add_parsable_certificates(roots);
        if added == 0 {
            return Err("the TLS certificate holds no certificate usable as a trust root".into());
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .with_root_certificates(store)
        .with_no_client_auth();
        Ok(Self {
            tls: Some(TlsConnector::from(Arc::new(config))),
        })
    }

    /// Sends `method /_telewire/faults` with JSON `body` to `running`, and answers with the
    /// simulator's status and JSON body (502 with `{"error"}` when it cannot be reached).
    pub async fn send(
        &self,
        running: &RunningApi,
        method: Method,
        body: Option<String>,
    ) -> Response {
        let addr = loopback(running.addr);
        let exchange = self.exchange(addr, method.clone(), body);
        let (status, answer) = match tokio::time::timeout(EXCHANGE, exchange).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(err)) => {
                return bad_gateway(format!(
                    "cannot reach the {} simulator's admin API at {addr}: {err}",
                    running.api
                ));
            }
            Err(_) => {
                return bad_gateway(format!(
                    "the {} simulator's admin API at {addr} did not answer within {EXCHANGE:?}",
                    running.api
                ));
            }
        };
        if serde_json::from_slice::<serde_json::Value>(&answer).is_ok() {
            let mut response = (status, answer).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return response;
        }
        let text = String::from_utf8_lossy(&answer);
        let message = if status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED
        {
            format!(
                "the {} simulator has no admin API at {method} {FAULTS_PATH} (answered {status})",
                running.api
            )
        } else {
            format!(
                "the {} simulator answered {status}: {}",
                running.api,
                text.trim()
            )
        };
        (status, Json(json!({ "error": message }))).into_response()
    }

    async fn exchange(
        &self,
        addr: SocketAddr,
        method: Method,
        body: Option<String>,
    ) -> Result<(StatusCode, Vec<u8>), String> {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connecting: {e}"))?;
        let request = Request::builder()
            .method(method)
            .uri(FAULTS_PATH)
            .header(header::HOST, addr.to_string())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.unwrap_or_default()))
            .map_err(|e| format!("building the request: {e}"))?;
        match &self.tls {
            None => round_trip(TokioIo::new(tcp), request).await,
            Some(connector) => {
                let name = ServerName::try_from("localhost")
                    .map_err(|e| format!("server name: {e}"))?
                    .to_owned();
                let stream = connector
                    .connect(name, tcp)
                    .await
                    .map_err(|e| format!("TLS handshake: {e}"))?;
                round_trip(TokioIo::new(stream), request).await
            }
        }
    }
}

async fn round_trip<IO>(io: IO, request: Request<Body>) -> Result<(StatusCode, Vec<u8>), String>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake::<_, Body>(io)
        .await
        .map_err(|e| format!("HTTP handshake: {e}"))?;
    let connection = tokio::spawn(connection);
    let result = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("sending the request: {e}"))?;
        let status = response.status();
        let bytes = axum::body::to_bytes(Body::new(response.into_body()), MAX_ANSWER)
            .await
            .map_err(|e| format!("reading the answer: {e}"))?;
        Ok((status, bytes.to_vec()))
    }
    .await;
    connection.abort();
    result
}

/// Where to reach a listener bound to `addr` from this host (`0.0.0.0` means loopback).
fn loopback(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

fn bad_gateway(message: String) -> Response {
    (StatusCode::BAD_GATEWAY, Json(json!({ "error": message }))).into_response()
}
