//! A minimal RFC 6455 client over plain TCP (`ws://` only), for the simulated controller.
//!
//! The simulator's dependencies include a WebSocket server (axum) but no client, so the
//! controller speaks the framing itself: the upgrade request (§4.1), masked client frames
//! (§5.3), unmasked server frames with fragmentation (§5.4), ping/pong and close (§5.5).
//! `Sec-WebSocket-Accept` is not verified (that needs SHA-1); the `101` status and the
//! `Upgrade: websocket` header are.

use std::io;

use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::tcp::OwnedWriteHalf;

use crate::prng::Prng;

/// The largest response head accepted during the upgrade.
const MAX_HEAD: usize = 16 << 10;
/// The largest message accepted from the server.
const MAX_MESSAGE: usize = 16 << 20;

const OP_CONTINUATION: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

/// Why the socket failed.
#[derive(Debug, thiserror::Error)]
pub enum WsError {
    /// The TCP connection failed or broke.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The server answered the upgrade with another status.
    #[error("upgrade answered with HTTP {0}")]
    Status(u16),
    /// The server's answer was not an HTTP upgrade response.
    #[error("bad upgrade response: {0}")]
    Handshake(&'static str),
    /// The server broke the framing rules.
    #[error("protocol error: {0}")]
    Protocol(&'static str),
}

/// Where to connect: host, port and the request target (path and query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Path and query, starting with `/`.
    pub resource: String,
}

impl Target {
    /// `Host` header value.
    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Splits a `ws://host[:port][/path][?query]` URL. `Err` names what is wrong.
pub fn parse_url(url: &str) -> Result<Target, &'static str> {
    let rest = if let Some(rest) = strip_prefix_ci(url, "ws://") {
        rest
    } else if strip_prefix_ci(url, "wss://").is_some() {
        return Err("wss:// is not supported");
    } else {
        return Err("the URL must start with ws://");
    };
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
            None if after.is_empty() => 80,
            None => return Err("unexpected text after the host"),
        };
        (host.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (
                host.to_owned(),
                port.parse().map_err(|_| "the port is not a number")?,
            ),
            None => (authority.to_owned(), 80),
        }
    };
    if host.is_empty() {
        return Err("the URL has no host");
    }
    Ok(Target {
        host,
        port,
        resource,
    })
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

/// A message from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping; answer with [`WsWriter::pong`].
    Ping(Vec<u8>),
    /// A pong.
    Pong,
    /// A close frame, with its code and reason when present.
    Close(Option<(u16, String)>),
}

/// The reading half.
#[derive(Debug)]
pub struct WsReader {
    half: OwnedReadHalf,
    buf: Vec<u8>,
    partial: Option<(u8, Vec<u8>)>,
}

/// The writing half.
#[derive(Debug)]
pub struct WsWriter {
    half: OwnedWriteHalf,
    masks: Prng,
}

/// Opens the TCP connection and performs the upgrade.
pub async fn connect(target: &Target, prng: &mut Prng) -> Result<(WsReader, WsWriter), WsError> {
    let stream = TcpStream::connect((target.host.as_str(), target.port)).await?;
    stream.set_nodelay(true)?;
    let (mut read, mut write) = stream.into_split();
    let key = base64(&prng.bytes16());
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n",
        target.resource,
        target.authority()
    );
    write.write_all(request.as_bytes()).await?;
    let mut buf = Vec::with_capacity(1024);
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err(WsError::Handshake("response head too large"));
        }
        if read.read_buf(&mut buf).await? == 0 {
            return Err(WsError::Handshake("connection closed during the upgrade"));
        }
    };
    let head = String::from_utf8_lossy(buf.get(..head_end).unwrap_or_default()).into_owned();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(WsError::Handshake("no status line"))?;
    if status != 101 {
        return Err(WsError::Status(status));
    }
    let upgraded = head.lines().any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("upgrade")
                && value.trim().eq_ignore_ascii_case("websocket")
        })
    });
    if !upgraded {
        return Err(WsError::Handshake("no Upgrade: websocket header"));
    }
    let rest = buf.split_off(head_end);
    let masks = Prng::new(prng.next_u64());
    Ok((
        WsReader {
            half: read,
            buf: rest,
            partial: None,
        },
        WsWriter { half: write, masks },
    ))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Standard base64 with padding (RFC 4648 §4), for the upgrade key.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let idx = ((n >> (18 - 6 * i)) & 0x3f) as usize;
                out.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One parsed frame and the bytes it took.
struct Frame {
    fin: bool,
    opcode: u8,
    payload: Vec<u8>,
}

/// Parses one frame from the start of `buf`: `Ok(None)` when more bytes are needed.
fn parse_frame(buf: &[u8]) -> Result<Option<(Frame, usize)>, WsError> {
    let (Some(&b0), Some(&b1)) = (buf.first(), buf.get(1)) else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err(WsError::Protocol("reserved bits set"));
    }
    let masked = b1 & 0x80 != 0;
    let (len, mut at) = match b1 & 0x7f {
        126 => match buf.get(2..4).and_then(|b| <[u8; 2]>::try_from(b).ok()) {
            Some(b) => (u64::from(u16::from_be_bytes(b)), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            Some(b) => (u64::from_be_bytes(b), 10),
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    let len = usize::try_from(len).map_err(|_| WsError::Protocol("frame too large"))?;
    if len > MAX_MESSAGE {
        return Err(WsError::Protocol("frame too large"));
    }
    let mask = if masked {
        let Some(m) = buf
            .get(at..at + 4)
            .and_then(|m| <[u8; 4]>::try_from(m).ok())
        else {
            return Ok(None);
        };
        at += 4;
        Some(m)
    } else {
        None
    };
    let Some(body) = buf.get(at..at.saturating_add(len)) else {
        return Ok(None);
    };
    let mut payload = body.to_vec();
    if let Some(mask) = mask {
        for (byte, m) in payload.iter_mut().zip(mask.iter().cycle()) {
            *byte ^= m;
        }
    }
    Ok(Some((
        Frame {
            fin: b0 & 0x80 != 0,
            opcode: b0 & 0x0f,
            payload,
        },
        at + len,
    )))
}

impl WsReader {
    /// The next message. Cancel-safe: the only await is a read into the buffer.
    pub async fn next(&mut self) -> Result<Incoming, WsError> {
        loop {
            while let Some((frame, used)) = parse_frame(&self.buf)? {
                self.buf.drain(..used);
                if let Some(message) = self.assemble(frame)? {
                    return Ok(message);
                }
            }
            if self.half.read_buf(&mut self.buf).await? == 0 {
                return Err(WsError::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed without a close frame",
                )));
            }
        }
    }

    fn assemble(&mut self, frame: Frame) -> Result<Option<Incoming>, WsError> {
        match frame.opcode {
            OP_PING => Ok(Some(Incoming::Ping(frame.payload))),
            OP_PONG => Ok(Some(Incoming::Pong)),
            OP_CLOSE => {
                let code = frame
                    .payload
                    .get(..2)
                    .and_then(|c| <[u8; 2]>::try_from(c).ok());
                let close = match code {
                    Some(code) => Some((
                        u16::from_be_bytes(code),
                        String::from_utf8_lossy(frame.payload.get(2..).unwrap_or_default())
                            .into_owned(),
                    )),
                    None => None,
                };
                Ok(Some(Incoming::Close(close)))
            }
            OP_TEXT | OP_BINARY => {
                if self.partial.is_some() {
                    return Err(WsError::Protocol("new message inside a fragmented one"));
                }
                if frame.fin {
                    finish(frame.opcode, frame.payload).map(Some)
                } else {
                    self.partial = Some((frame.opcode, frame.payload));
                    Ok(None)
                }
            }
            OP_CONTINUATION => {
                let Some((opcode, mut data)) = self.partial.take() else {
                    return Err(WsError::Protocol("continuation without a message"));
                };
                data.extend_from_slice(&frame.payload);
                if data.len() > MAX_MESSAGE {
                    return Err(WsError::Protocol("message too large"));
                }
                if frame.fin {
                    finish(opcode, data).map(Some)
                } else {
                    self.partial = Some((opcode, data));
                    Ok(None)
                }
            }
            _ => Err(WsError::Protocol("unknown opcode")),
        }
    }
}

fn finish(opcode: u8, data: Vec<u8>) -> Result<Incoming, WsError> {
    if opcode == OP_TEXT {
        String::from_utf8(data)
            .map(Incoming::Text)
            .map_err(|_| WsError::Protocol("text message is not UTF-8"))
    } else {
        Ok(Incoming::Binary(data))
    }
}

impl WsWriter {
    /// Sends a text message in one frame.
    pub async fn text(&mut self, text: &str) -> Result<(), WsError> {
        self.frame(OP_TEXT, text.as_bytes()).await
    }

    /// Answers a ping.
    pub async fn pong(&mut self, payload: &[u8]) -> Result<(), WsError> {
        self.frame(OP_PONG, payload).await
    }

    /// Sends a close frame with `code` and `reason`.
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<(), WsError> {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(telewire_protocols::frame::truncate_reason(reason).as_bytes());
        self.frame(OP_CLOSE, &payload).await
    }

    async fn frame(&mut self, opcode: u8, payload: &[u8]) -> Result<(), WsError> {
        let mut out = Vec::with_capacity(payload.len() + 14);
        out.push(0x80 | opcode);
        let len = payload.len();
        if len < 126 {
            out.push(0x80 | len as u8);
        } else if let Ok(short) = u16::try_from(len) {
            out.push(0x80 | 126);
            out.extend_from_slice(&short.to_be_bytes());
        } else {
            out.push(0x80 | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        let mask = (self.masks.next_u64() as u32).to_be_bytes();
        out.extend_from_slice(&mask);
        out.extend(
            payload
                .iter()
                .zip(mask.iter().cycle())
                .map(|(byte, m)| byte ^ m),
        );
        self.half.write_all(&out).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_port_and_resource() {
        assert_eq!(
            parse_url("ws://127.0.0.1:9103/ws/controller/telemetry?x=1"),
            Ok(Target {
                host: "127.0.0.1".into(),
                port: 9103,
                resource: "/ws/controller/telemetry?x=1".into()
            })
        );
        assert_eq!(
            parse_url("WS://lab").map(|t| (t.port, t.resource)),
            Ok((80, "/".into()))
        );
        assert_eq!(parse_url("ws://[::1]:5/").map(|t| t.host), Ok("::1".into()));
        assert!(parse_url("wss://lab").is_err());
        assert!(parse_url("http://lab").is_err());
        assert!(parse_url("ws://lab:x").is_err());
        assert!(parse_url("ws://:80").is_err());
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, output) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), output);
        }
    }

    #[test]
    fn frames_parse_incrementally_and_unmask() {
        let mut frame = vec![0x81, 0x85, 1, 2, 3, 4];
        frame.extend(
            b"hello"
                .iter()
                .zip([1u8, 2, 3, 4].iter().cycle())
                .map(|(b, m)| b ^ m),
        );
        for cut in 0..frame.len() {
            assert!(parse_frame(&frame[..cut]).unwrap().is_none());
        }
        let (parsed, used) = parse_frame(&frame).unwrap().unwrap();
        assert_eq!(
            (parsed.opcode, parsed.fin, used),
            (OP_TEXT, true, frame.len())
        );
        assert_eq!(parsed.payload, b"hello");
        assert!(parse_frame(&[0xC1, 0x00]).is_err(), "reserved bit");
        let mut big = vec![0x82, 127];
        big.extend(u64::MAX.to_be_bytes());
        assert!(parse_frame(&big).is_err());
    }
}
