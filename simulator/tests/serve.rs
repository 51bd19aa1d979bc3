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
    assert_eq!(running.apis.len(), Api::ALL.len());
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

/// The Molecule handshake of the spec's `buildHandshake`.
fn handshake(token: &str) -> Vec<u8> {
    let mut buf = vec![0x01, 0x02];
    for field in ["demo-gateway".as_bytes(), token.as_bytes()] {
        buf.extend_from_slice(&u16::try_from(field.len()).unwrap().to_be_bytes());
        buf.extend_from_slice(field);
    }
    buf.extend_from_slice(&[0x01, 0x04]);
    buf
}

/// Sends the handshake and expects the 3-byte "authenticated" response.
async fn authenticate<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>, token: &str)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    ws.send(Message::binary(handshake(token))).await.unwrap();
    let reply = timeout(WAIT, ws.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(reply.into_data().as_ref(), &[2, 1, 4], "the auth response");
}

#[tokio::test]
async fn shutdown_closes_every_client_with_1001() {
    let running = start(&[Api::Molecule], ServeOptions::ephemeral())
        .await
        .unwrap();
    let token = running.apis[0].info.token.clone();
    let url = format!("ws://{}/ws", running.addr(Api::Molecule).unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    // The auth response proves the connection is being served before we shut down.
    authenticate(&mut ws, &token).await;
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
    let running = start(&[Api::Molecule], opts).await.unwrap();
    let addr = running.addr(Api::Molecule).unwrap();
    let info = &running.apis[0].info;
    assert!(
        info.ws_urls.iter().all(|u| u.starts_with("wss://")),
        "{info:?}"
    );
    let connector = tls_connector(&pem.cert_pem);
    let name = ServerName::try_from("localhost").unwrap();

    // https://: the token endpoint issues a token.
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = connector.connect(name.clone(), tcp).await.unwrap();
    let body = "grant_type=password&username=demo&password=demo&client_id=molecule-api";
    let request = format!(
        "POST /connect/token HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = timeout(WAIT, tls.read_to_end(&mut response)).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("access_token"), "{response}");
    let json = &response[response.find("\r\n\r\n").unwrap() + 4..];
    let json = &json[json.find('{').unwrap()..=json.rfind('}').unwrap()];
    let data: serde_json::Value = serde_json::from_str(json).unwrap();
    let token = data["access_token"].as_str().unwrap();

    // wss://: the binary handshake over the TLS stream is answered.
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let tls = connector.connect(name, tcp).await.unwrap();
    let url = format!("wss://localhost:{}/ws", addr.port());
    let (mut ws, _) = tokio_tungstenite::client_async(url, tls).await.unwrap();
    authenticate(&mut ws, token).await;

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

#[tokio::test]
async fn a_client_close_is_answered_with_a_close_frame() {
    let running = start(&[Api::Molecule], ServeOptions::ephemeral())
        .await
        .unwrap();
    let token = running.apis[0].info.token.clone();
    let url = format!("ws://{}/ws", running.addr(Api::Molecule).unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    authenticate(&mut ws, &token).await;
    ws.send(Message::Close(None)).await.unwrap();
    // The server completes the closing handshake: a close frame, then the end of stream,
    // never a reset without one.
    let mut echoed = false;
    for _ in 0..1_000 {
        match timeout(WAIT, ws.next()).await.unwrap() {
            Some(Ok(Message::Close(_))) => echoed = true,
            Some(Ok(_)) => continue,
            None => break,
            Some(Err(err)) => panic!("closing handshake not completed: {err}"),
        }
    }
    assert!(echoed, "no close frame came back");
    running.shutdown().await;
}

#[tokio::test]
async fn tls_reads_the_certificate_and_key_files_and_names_a_bad_one() {
    let pem = self_signed().unwrap();
    let dir = std::env::temp_dir().join(format!("telewire-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, &pem.cert_pem).unwrap();
    std::fs::write(&key, &pem.key_pem).unwrap();
    let with_files = |cert: std::path::PathBuf, key: std::path::PathBuf| ServeOptions {
        tls: Some(TlsSettings {
            cert: Some(cert),
            key: Some(key),
            pem: None,
        }),
        ..ServeOptions::ephemeral()
    };
    let running = start(&[Api::Molecule], with_files(cert.clone(), key.clone()))
        .await
        .unwrap();
    let addr = running.addr(Api::Molecule).unwrap();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    tls_connector(&pem.cert_pem)
        .connect(name, tcp)
        .await
        .expect("the served certificate is the one in the file");
    running.shutdown().await;

    let missing = dir.join("missing.pem");
    let err = start(&[Api::Molecule], with_files(missing, key.clone()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("missing.pem"), "{err}");
    // A key that does not belong to the certificate is refused before serving.
    let other = self_signed().unwrap();
    std::fs::write(&key, &other.key_pem).unwrap();
    let err = start(&[Api::Molecule], with_files(cert, key))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("do not match"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
