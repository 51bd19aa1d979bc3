//! `telewire serve` as a whole: the table, bind errors, TLS (wss:// and https://), Ctrl-C (1001).

use std::sync::Arc;
use std::time::Duration;

use futures_util::SinkExt;
use futures_util::StreamExt;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::ServerName;
use rustls_pki_types::pem::PemObject;
use telewire_simulator::serve::Api;
use telewire_simulator::serve::ServeError;
use telewire_simulator::serve::ServeOptions;
use telewire_simulator::serve::start;
use telewire_simulator::tls::TlsSettings;
use telewire_simulator::tls::self_signed;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn the_table_names_every_api_with_urls_credentials_and_a_token() {
    let running = start(&[], ServeOptions::ephemeral()).await.unwrap();
    let table = running.table();
    for api in Api::ALL {
        let addr = running.addr(api).unwrap();
        assert!(table.contains(api.name()), "{table}");
        assert!(table.contains(&addr.to_string()), "{table}");
    }
    for info in running.apis.iter().map(|r| &r.info) {
        assert!(!info.ws_urls.is_empty(), "{info:?}");
        assert!(!info.http.is_empty(), "{info:?}");
        assert!(!info.credentials.is_empty(), "{info:?}");
        assert!(!info.token.is_empty(), "{info:?}");
    }
    running.shutdown().await;
}

#[tokio::test]
async fn a_taken_port_is_a_clear_error() {
    let first = start(&[Api::Robot], ServeOptions::ephemeral())
        .await
        .unwrap();
    let port = first.addr(Api::Robot).unwrap().port();
    let opts = ServeOptions {
        ports: vec![(Api::Robot, port)],
        ..ServeOptions::ephemeral()
    };
    let err = start(&[Api::Robot], opts).await.unwrap_err();
    assert!(matches!(
        err,
        ServeError::Bind {
            api: Api::Robot,
            ..
        }
    ));
    let text = err.to_string();
    assert!(
        text.contains(&port.to_string()) && text.contains("--port"),
        "{text}"
    );
    first.shutdown().await;
}

async fn ping_pong<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    ws.send(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
    let pong = timeout(WAIT, ws.next()).await.unwrap().unwrap().unwrap();
    assert!(pong.to_text().unwrap().contains("pong"), "{pong:?}");
}

#[tokio::test]
async fn shutdown_closes_every_client_with_1001() {
    let running = start(&[Api::Valtronics], ServeOptions::ephemeral())
        .await
        .unwrap();
    let url = format!("ws://{}/ws", running.addr(Api::Valtronics).unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    // A ping round trip proves the connection is being served before we shut down.
    ping_pong(&mut ws).await;
    let stopping = tokio::spawn(running.shutdown());
    let close = loop {
        match timeout(WAIT, ws.next()).await.unwrap() {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(close.map(|f| f.code), Some(CloseCode::Away));
    drop(ws);
    timeout(WAIT, stopping).await.unwrap().unwrap();
}

fn tls_connector(cert_pem: &str) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(cert_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[tokio::test]
async fn tls_serves_wss_and_https_with_the_given_certificate() {
    let pem = self_signed().unwrap();
    let opts = ServeOptions {
        tls: Some(TlsSettings {
            pem: Some(pem.clone()),
            ..TlsSettings::default()
        }),
        ..ServeOptions::ephemeral()
    };
    let running = start(&[Api::Valtronics], opts).await.unwrap();
    let addr = running.addr(Api::Valtronics).unwrap();
    let info = &running.apis[0].info;
    assert!(
        info.ws_urls.iter().all(|u| u.starts_with("wss://")),
        "{info:?}"
    );
    let connector = tls_connector(&pem.cert_pem);
    let name = ServerName::try_from("localhost").unwrap();

    // wss://: a WebSocket over the TLS stream answers a ping.
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let tls = connector.connect(name.clone(), tcp).await.unwrap();
    let url = format!("wss://localhost:{}/ws", addr.port());
    let (mut ws, _) = tokio_tungstenite::client_async(url, tls).await.unwrap();
    ping_pong(&mut ws).await;

    // https://: the login endpoint issues a token.
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    let body = r#"{"username":"demo","password":"demo"}"#;
    let request = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = timeout(WAIT, tls.read_to_end(&mut response)).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("access_token"), "{response}");

    // A client that does not trust the certificate is refused.
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let stranger = tls_connector(&self_signed().unwrap().cert_pem);
    let refused = stranger
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await;
    assert!(refused.is_err());
    drop(ws);
    running.shutdown().await;
}
