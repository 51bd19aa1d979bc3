//! The WebSocket client of the simulated devices (`telewire device ...`): `ws://` and
//! `wss://` (rustls, with the web PKI roots plus any CA certificate the user trusts, such
//! as the one `telewire serve --tls` generated).

use std::path::Path;
use std::sync::Arc;

use futures_util::SinkExt;
use futures_util::StreamExt;
use futures_util::stream::SplitSink;
use futures_util::stream::SplitStream;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::ServerName;
use rustls_pki_types::pem::PemObject;
use tokio::io::AsyncRead;
use tokio::io::AsyncWrite;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// The largest message accepted from the server.
const MAX_MESSAGE: usize = 16 << 20;

/// Why the socket failed.
#[derive(Debug, thiserror::Error)]
pub enum WsError {
    /// The TCP connection failed or broke.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The TLS handshake failed (untrusted certificate, wrong name, ...).
    #[error("TLS: {0}")]
    Tls(String),
    /// The server answered the upgrade with another status.
    #[error("upgrade answered with HTTP {status} {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The response body, as text (empty when there was none).
        body: String,
    },
    /// The WebSocket layer failed.
    #[error("{0}")]
    WebSocket(String),
}

impl From<tungstenite::Error> for WsError {
    fn from(err: tungstenite::Error) -> Self {
        match err {
            tungstenite::Error::Http(response) => WsError::Status {
                status: response.status().as_u16(),
                body: response
                    .body()
                    .as_deref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default(),
            },
            tungstenite::Error::Io(io) => WsError::Io(io),
            other => WsError::WebSocket(other.to_string()),
        }
    }
}

/// Where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL as given.
    pub url: String,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Path and query, starting with `/`.
    pub resource: String,
    /// `wss://`.
    pub tls: bool,
}

/// Splits a `ws[s]://host[:port][/path][?query]` URL. `Err` names what is wrong.
pub fn parse_url(url: &str) -> Result<Target, &'static str> {
    let (rest, tls) = if let Some(rest) = strip_prefix_ci(url, "ws://") {
        (rest, false)
    } else if let Some(rest) = strip_prefix_ci(url, "wss://") {
        (rest, true)
    } else {
        return Err("the URL must start with ws:// or wss://");
    };
    let default_port = if tls { 443 } else { 80 };
    let (authority, resource) = match rest.find(['/', '?']) {
        Some(i) => (
            rest.get(..i).unwrap_or_default(),
            rest.get(i..).unwrap_or("/"),
        ),
        None => (rest, "/"),
    };
    let resource = if resource.starts_with('?') {
        format!("/{resource}")
    } else {
        resource.to_owned()
    };
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let (host, after) = inner.split_once(']').ok_or("unclosed [ in the host")?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| "the port is not a number")?,
            None if after.is_empty() => default_port,
            None => return Err("unexpected text after the host"),
        };
        (host.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (
                host.to_owned(),
                port.parse().map_err(|_| "the port is not a number")?,
            ),
            None => (authority.to_owned(), default_port),
        }
    };
    if host.is_empty() {
        return Err("the URL has no host");
    }
    Ok(Target {
        url: url.to_owned(),
        host,
        port,
        resource,
        tls,
    })
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

/// Which servers a `wss://` connection trusts.
#[derive(Debug, Clone)]
pub struct Trust {
    config: Arc<rustls::ClientConfig>,
}

impl Trust {
    /// The web PKI roots and, when given, the CA certificates in `extra_pem`.
    pub fn new(extra_pem: Option<&[u8]>) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(pem) = extra_pem {
            let mut added = 0;
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| format!("reading the CA certificate: {e}"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("adding the CA certificate: {e}"))?;
                added += 1;
            }
            if added == 0 {
                return Err("the CA file holds no CERTIFICATE block".into());
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS versions: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
        })
    }

    /// The rustls settings, for other TLS clients of the same run (login requests).
    pub fn rustls_config(&self) -> Arc<rustls::ClientConfig> {
        self.config.clone()
    }

    /// The web PKI roots and the CA certificates in the PEM file at `path`.
    pub fn with_ca_file(path: &Path) -> Result<Self, String> {
        let pem = std::fs::read(path)
            .map_err(|e| format!("reading the CA certificate {}: {e}", path.display()))?;
        Self::new(Some(&pem))
    }
}

/// A TCP or TLS stream.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Opens a TCP connection to `host:port`, with TLS over it when given a `tls` trust.
pub async fn open(host: &str, port: u16, tls: Option<&Trust>) -> Result<Box<dyn Io>, WsError> {
    let tcp = TcpStream::connect((host, port)).await?;
    tcp.set_nodelay(true)?;
    let Some(trust) = tls else {
        return Ok(Box::new(tcp));
    };
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| WsError::Tls(format!("server name {host}: {e}")))?;
    let connector = tokio_rustls::TlsConnector::from(trust.config.clone());
    let stream = connector
        .connect(name, tcp)
        .await
        .map_err(|e| WsError::Tls(e.to_string()))?;
    Ok(Box::new(stream))
}

type Socket = WebSocketStream<Box<dyn Io>>;

/// A message from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping (answered automatically).
    Ping,
    /// A pong.
    Pong,
    /// A close frame, with its code and reason when present.
    Close(Option<(u16, String)>),
}

/// The reading half.
pub struct WsReader {
    half: SplitStream<Socket>,
}

impl std::fmt::Debug for WsReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WsReader")
    }
}

/// The writing half.
pub struct WsWriter {
    half: SplitSink<Socket, Message>,
}

impl std::fmt::Debug for WsWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WsWriter")
    }
}

/// Opens the TCP (and TLS) connection and performs the upgrade.
pub async fn connect(target: &Target, trust: &Trust) -> Result<(WsReader, WsWriter), WsError> {
    let stream = open(&target.host, target.port, target.tls.then_some(trust)).await?;
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let (socket, _) =
        tokio_tungstenite::client_async_with_config(target.url.as_str(), stream, Some(config))
            .await?;
    let (half_tx, half_rx) = socket.split();
    Ok((WsReader { half: half_rx }, WsWriter { half: half_tx }))
}

impl WsReader {
    /// The next message; pings are answered by the WebSocket layer on the next write.
    pub async fn next(&mut self) -> Result<Incoming, WsError> {
        match self.half.next().await {
            Some(Ok(Message::Text(text))) => Ok(Incoming::Text(text.as_str().to_owned())),
            Some(Ok(Message::Binary(bytes))) => Ok(Incoming::Binary(bytes.to_vec())),
            Some(Ok(Message::Ping(_))) => Ok(Incoming::Ping),
            Some(Ok(Message::Pong(_))) => Ok(Incoming::Pong),
            Some(Ok(Message::Close(frame))) => {
                Ok(Incoming::Close(frame.map(|f| {
                    (u16::from(f.code), f.reason.as_str().to_owned())
                })))
            }
            Some(Ok(Message::Frame(_))) => Ok(Incoming::Pong),
            Some(Err(err)) => Err(err.into()),
            None => Err(WsError::Io(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ))),
        }
    }
}

impl WsReader {
    /// Waits up to `wait` for the server's close frame (after sending ours); its code and
    /// reason when one came.
    pub async fn linger(&mut self, wait: std::time::Duration) -> Option<(u16, String)> {
        tokio::time::timeout(wait, async {
            loop {
                match self.next().await {
                    Ok(Incoming::Close(close)) => return close,
                    Ok(_) => {}
                    Err(_) => return None,
                }
            }
        })
        .await
        .ok()
        .flatten()
    }
}

impl WsWriter {
    /// Sends a text message.
    pub async fn text(&mut self, text: &str) -> Result<(), WsError> {
        Ok(self.half.send(Message::text(text)).await?)
    }

    /// Sends a binary message.
    pub async fn binary(&mut self, bytes: Vec<u8>) -> Result<(), WsError> {
        Ok(self.half.send(Message::binary(bytes)).await?)
    }

    /// Flushes pending control frames (a ping's pong).
    pub async fn flush(&mut self) -> Result<(), WsError> {
        Ok(self.half.flush().await?)
    }

    /// Sends a close frame with `code` and `reason`.
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<(), WsError> {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        Ok(self.half.send(Message::Close(Some(frame))).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_port_and_resource() {
        let t = parse_url("ws://127.0.0.1:9103/ws/x?token=a").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.resource.as_str(), t.tls),
            ("127.0.0.1", 9103, "/ws/x?token=a", false)
        );
        let t = parse_url("WSS://[::1]?a=b").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.resource.as_str(), t.tls),
            ("::1", 443, "/?a=b", true)
        );
        assert_eq!(parse_url("wss://example.com").unwrap().port, 443);
        assert!(parse_url("http://h").is_err());
        assert!(parse_url("ws://:80").is_err());
        assert!(parse_url("ws://h:port").is_err());
        assert!(parse_url("ws://[::1").is_err());
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        assert!(Trust::new(Some(b"not a pem")).is_err());
        let generated = crate::tls::self_signed().unwrap();
        assert!(Trust::new(Some(generated.cert_pem.as_bytes())).is_ok());
    }
}
