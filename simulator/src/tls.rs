//! `--tls`: serve `wss://` and `https://` with a generated self-signed certificate or one's own.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::serve::ListenerExt as _;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::shutdown::Shutdown;

/// Where the certificate comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// PEM certificate chain (`--cert`); generated self-signed when absent.
    pub cert: Option<PathBuf>,
    /// PEM private key (`--key`); required with `cert`.
    pub key: Option<PathBuf>,
    /// A certificate and key given as PEM text (embedding, tests); takes precedence.
    pub pem: Option<SelfSigned>,
}

/// A generated self-signed certificate for `localhost` and `127.0.0.1`, as PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfSigned {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The private key, PEM.
    pub key_pem: String,
}

/// Generates a self-signed certificate valid for `localhost`, `127.0.0.1` and `::1`.
pub fn self_signed() -> Result<SelfSigned, String> {
    let names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let certified = rcgen::generate_simple_self_signed(names)
        .map_err(|e| format!("generating a certificate: {e}"))?;
    Ok(SelfSigned {
        cert_pem: certified.cert.pem(),
        key_pem: certified.signing_key.serialize_pem(),
    })
}

/// The TLS acceptor for `settings`.
pub fn acceptor(settings: &TlsSettings) -> Result<TlsAcceptor, String> {
    if let Some(pem) = &settings.pem {
        return acceptor_from_pem(pem.cert_pem.as_bytes(), pem.key_pem.as_bytes());
    }
    let (cert_pem, key_pem) =
        match (&settings.cert, &settings.key) {
            (Some(cert), Some(key)) => (
                std::fs::read(cert)
                    .map_err(|e| format!("reading certificate {}: {e}", cert.display()))?,
                std::fs::read(key).map_err(|e| format!("reading key {}: {e}", key.display()))?,
            ),
            (None, None) => {
                let generated = self_signed()?;
                (
                    generated.cert_pem.into_bytes(),
                    generated.key_pem.into_bytes(),
                )
            }
            _ => return Err(
                "--cert and --key go together: pass both, or neither for a self-signed certificate"
                    .into(),
            ),
        };
    acceptor_from_pem(&cert_pem, &key_pem)
}

/// The TLS acceptor for a PEM certificate chain and key.
pub fn acceptor_from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<TlsAcceptor, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("parsing the certificate PEM: {e}"))?;
    if certs.is_empty() {
        return Err("the certificate file holds no CERTIFICATE block".into());
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| format!("parsing the private key PEM: {e}"))?;
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS versions: {e}"))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| format!("certificate and key do not match: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `router` on `listener`, over TLS when `tls` is given, until `shutdown` fires.
/// Handlers can read the peer address through `ConnectInfo<SocketAddr>` either way.
pub fn spawn_server(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    shutdown: Shutdown,
) -> JoinHandle<()> {
    let mut signal = shutdown;
    tokio::spawn(serve_until(listener, router, tls, async move {
        signal.wait().await;
    }))
}

/// Serves `router` on `listener` until `stop` completes, then closes the listener (the
/// port stops accepting); connections already upgraded live on.
pub async fn serve_until<F>(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    stop: F,
) where
    F: Future<Output = ()> + Send + 'static,
{
    match tls {
        None => {
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            let listener = listener.tap_io(|tcp| set_nodelay(tcp));
            let result = axum::serve(listener, service)
                .with_graceful_shutdown(stop)
                .await;
            if let Err(err) = result {
                tracing::error!(%err, "server stopped");
            }
        }
        Some(acceptor) => serve_tls(listener, router, acceptor, stop).await,
    }
}

/// Sends small frames at once: with Nagle's algorithm a push written while an earlier one
/// is unacknowledged waits for the client's delayed ACK (up to 40 ms on Linux), which the
/// fan-out load measured as tens of milliseconds of p99 latency.
fn set_nodelay(tcp: &tokio::net::TcpStream) {
    if let Err(err) = tcp.set_nodelay(true) {
        tracing::debug!(%err, "TCP_NODELAY not set");
    }
}

async fn serve_tls<F>(listener: TcpListener, router: Router, acceptor: TlsAcceptor, stop: F)
where
    F: Future<Output = ()> + Send,
{
    tokio::pin!(stop);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    tracing::warn!(%err, "accept failed");
                    continue;
                }
            },
            () = &mut stop => return,
        };
        set_nodelay(&tcp);
        let acceptor = acceptor.clone();
        let router = router.clone().layer(axum::Extension(ConnectInfo(peer)));
        tokio::spawn(async move {
            let stream = match acceptor.accept(tcp).await {
                Ok(stream) => stream,
                Err(err) => {
                    tracing::debug!(%peer, %err, "TLS handshake failed");
                    return;
                }
            };
            let service = TowerToHyperService::new(router);
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            if let Err(err) = conn.await {
                tracing::debug!(%peer, %err, "connection ended with an error");
            }
        });
    }
}
