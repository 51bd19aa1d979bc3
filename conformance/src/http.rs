//! A one-request HTTP/1.1 client (plain `http://` only) for the login endpoints the suites need.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(10);

/// One HTTP answer: status and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Sends one request with `Connection: close` and reads the whole answer.
pub async fn request(
    url: &str,
    method: &str,
    content_type: Option<&str>,
    bearer: Option<&str>,
    body: &str,
) -> Result<Answer, String> {
    let bearer = bearer.map(|token| format!("Bearer {token}"));
    let mut headers = Vec::new();
    if let Some(bearer) = &bearer {
        headers.push(("Authorization", bearer.as_str()));
    }
    if let Some(content_type) = content_type {
        headers.push(("Content-Type", content_type));
    }
    request_with(url, method, &headers, body).await
}

/// [`request`] with any headers.
pub async fn request_with(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Answer, String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        format!("only http:// URLs can be used for login, not {url}; pass a token instead")
    })?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let exchange = async {
        let mut stream = TcpStream::connect(&addr)
            .await
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        let mut head =
            format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream
            .write_all(head.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .await
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text
            .split_once("\r\n\r\n")
            .ok_or("the HTTP answer has no header end")?;
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or("the HTTP answer has no status")?;
        Ok::<_, String>(Answer {
            status,
            body: body.to_owned(),
        })
    };
    tokio::time::timeout(WAIT, exchange)
        .await
        .map_err(|_| format!("no HTTP answer from {addr} within {WAIT:?}"))?
}
