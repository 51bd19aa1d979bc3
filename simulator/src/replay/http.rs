//! One HTTP/1.1 request over `http://` or `https://`: the login requests of `telewire record`.

use std::time::Duration;

use rustls_pki_types::ServerName;
use tokio::io::AsyncRead;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWrite;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::wsclient::Trust;

/// How long one request may take, connection included.
const WAIT: Duration = Duration::from_secs(10);

/// The largest answer read.
const MAX_ANSWER: u64 = 1 << 20;

/// One HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The body, as text.
    pub body: String,
}

/// Sends one request with `Connection: close` and reads the whole answer.
pub async fn request(
    url: &str,
    method: &str,
    headers: &[(&str, &str)],
    body: &str,
    trust: &Trust,
) -> Result<Answer, String> {
    let (tls, rest) = if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else {
        return Err(format!(
            "{url}: the login URL must start with http:// or https://"
        ));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (rest.get(..i).unwrap_or(rest), rest.get(i..).unwrap_or("/")),
        None => (rest, "/"),
    };
    let target = crate::wsclient::parse_url(&format!(
        "{}://{authority}/",
        if tls { "wss" } else { "ws" }
    ))
    .map_err(|e| format!("{url}: {e}"))?;
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let exchange = async {
        let tcp = TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(|e| format!("cannot connect to {authority}: {e}"))?;
        let raw = if tls {
            let name = ServerName::try_from(target.host.clone())
                .map_err(|e| format!("server name {}: {e}", target.host))?;
            let connector = tokio_rustls::TlsConnector::from(trust.rustls_config());
            let stream = connector
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS with {authority}: {e}"))?;
            exchange(stream, head.as_bytes()).await?
        } else {
            exchange(tcp, head.as_bytes()).await?
        };
        parse_answer(&raw)
    };
    tokio::time::timeout(WAIT, exchange)
        .await
        .map_err(|_| format!("no HTTP answer from {authority} within {WAIT:?}"))?
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: &[u8],
) -> Result<Vec<u8>, String> {
    stream
        .write_all(request)
        .await
        .map_err(|e| format!("sending the request: {e}"))?;
    let mut raw = Vec::new();
    // A TLS peer that closes without close_notify still delivered the whole answer.
    if let Err(err) = (&mut stream).take(MAX_ANSWER).read_to_end(&mut raw).await
        && raw.is_empty()
    {
        return Err(format!("reading the answer: {err}"));
    }
    Ok(raw)
}

fn parse_answer(raw: &[u8]) -> Result<Answer, String> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or("the HTTP answer has no header end")?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("the HTTP answer has no status")?;
    let chunked = head.lines().any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("transfer-encoding")
                && value.to_ascii_lowercase().contains("chunked")
        })
    });
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_owned()
    };
    Ok(Answer { status, body })
}

fn dechunk(mut body: &str) -> Result<String, String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body
            .split_once("\r\n")
            .ok_or("a chunked answer ends early")?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| "a chunk size is not hexadecimal")?;
        if size == 0 {
            return Ok(out);
        }
        out.push_str(rest.get(..size).ok_or("a chunk is shorter than its size")?);
        body = rest.get(size..).unwrap_or("").trim_start_matches("\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_plain_and_chunked() {
        let plain = parse_answer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}").unwrap();
        assert_eq!((plain.status, plain.body.as_str()), (200, "{}"));
        let chunked = parse_answer(
            b"HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((chunked.status, chunked.body.as_str()), (401, "abcde"));
        assert!(parse_answer(b"garbage").is_err());
    }
}
