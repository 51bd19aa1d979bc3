//! A minimal RFC 6455 client over plain TCP (`ws://` only): what the robot publisher needs.
//!
//! The opening handshake (§4.1), masked client frames (§5.3), unmasked server frames with
//! fragmentation (§5.4) and the control frames (§5.5). No extensions, no TLS.

use std::io;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::prng::Prng;

/// Largest message accepted from the server.
const MAX_MESSAGE: usize = 16 * 1024 * 1024;
/// Largest HTTP response head accepted.
const MAX_HEAD: usize = 16 * 1024;
/// Largest error body kept from a refused handshake.
const MAX_BODY: usize = 4 * 1024;
/// How long a refused handshake's body may take to arrive.
const BODY_WAIT: Duration = Duration::from_secs(2);

/// A parsed `ws://host[:port][/path][?query]` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsUrl {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port (80 when absent).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub target: String,
}

impl WsUrl {
    /// Parses `url`; the error says what is wrong.
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = if let Some(rest) = url.strip_prefix("ws://") {
            rest
        } else if url.starts_with("wss://") {
            return Err("wss:// is not supported by the publisher; use ws://".into());
        } else {
            return Err("the URL must start with ws://".into());
        };
        let (authority, target) = match rest.find(['/', '?']) {
            Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i..).unwrap_or("/")),
            None => (rest, "/"),
        };
        let target = if target.starts_with('?') {
            format!("/{target}")
        } else {
            target.to_owned()
        };
        if authority.is_empty() {
            return Err("the URL has no host".into());
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| "unclosed '[' in the host".to_owned())?;
            let port = match after.strip_prefix(':') {
                Some(p) => parse_port(p)?,
                None if after.is_empty() => 80,
                None => return Err(format!("unexpected '{after}' after the host")),
            };
            (host.to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, p)) => (host.to_owned(), parse_port(p)?),
                None => (authority.to_owned(), 80),
            }
        };
        if host.is_empty() {
            return Err("the URL has no host".into());
        }
        Ok(Self { host, port, target })
    }

    fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

fn parse_port(p: &str) -> Result<u16, String> {
    p.parse().map_err(|_| format!("'{p}' is not a port number"))
}

/// Why the opening handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// The TCP connection failed or broke.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The server answered with another status than 101.
    #[error("HTTP {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The start of the response body.
        body: String,
    },
    /// The response is not a WebSocket handshake, or none came in time.
    #[error("handshake failed: {0}")]
    Malformed(String),
}

/// A message or control frame from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping (answer with a pong).
    Ping(Vec<u8>),
    /// A pong.
    Pong,
    /// A close frame, with its code and reason when it has them.
    Close(Option<(u16, String)>),
}

/// Server frames parsed out of the bytes received so far (sans-IO).
#[derive(Debug, Default)]
pub struct FrameReader {
    buf: Vec<u8>,
    partial: Option<(u8, Vec<u8>)>,
}

/// One client connection.
#[derive(Debug)]
pub struct WsClient {
    stream: TcpStream,
    reader: FrameReader,
    masks: Prng,
}

impl WsClient {
    /// Opens `url` and performs the opening handshake; `seed` feeds the key and masks.
    pub async fn connect(url: &WsUrl, seed: u64) -> Result<Self, HandshakeError> {
        let mut stream = TcpStream::connect((url.host.as_str(), url.port)).await?;
        let mut masks = Prng::derive(seed, "robot/publisher/masks");
        let key = base64(&masks.bytes16());
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n",
            url.target,
            url.host_header()
        );
        stream.write_all(request.as_bytes()).await?;
        let mut buf = Vec::new();
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i;
            }
            if buf.len() > MAX_HEAD {
                return Err(HandshakeError::Malformed("response head too large".into()));
            }
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(HandshakeError::Malformed(
                    "connection closed during the handshake".into(),
                ));
            }
            buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        };
        let head = String::from_utf8_lossy(buf.get(..head_end).unwrap_or_default()).into_owned();
        let rest = buf.get(head_end + 4..).unwrap_or_default().to_vec();
        let status = head
            .lines()
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse::<u16>().ok())
            .ok_or_else(|| HandshakeError::Malformed(format!("bad status line in '{head}'")))?;
        if status != 101 {
            let body = read_body(&mut stream, rest).await;
            return Err(HandshakeError::Status { status, body });
        }
        let accept = header(&head, "sec-websocket-accept").unwrap_or_default();
        if accept != accept_key(&key) {
            return Err(HandshakeError::Malformed(format!(
                "Sec-WebSocket-Accept '{accept}' does not answer the key (RFC 6455 §4.1)"
            )));
        }
        Ok(Self {
            stream,
            reader: FrameReader {
                buf: rest,
                partial: None,
            },
            masks,
        })
    }

    /// Reads once from the socket into the buffer; returns how many bytes (0: closed).
    /// Cancel-safe: use it in `select!` and then drain [`WsClient::next_frame`].
    pub async fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk).await?;
        self.reader.push(chunk.get(..n).unwrap_or_default());
        Ok(n)
    }

    /// The next complete frame received, if any.
    pub fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        self.reader.next_frame()
    }

    /// Sends a text message.
    pub async fn send_text(&mut self, text: &str) -> io::Result<()> {
        self.send(0x1, text.as_bytes()).await
    }

    /// Answers a ping.
    pub async fn send_pong(&mut self, data: &[u8]) -> io::Result<()> {
        self.send(0xA, data).await
    }

    /// Sends a close frame with `code` and `reason`.
    pub async fn send_close(&mut self, code: u16, reason: &str) -> io::Result<()> {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(telewire_protocols::frame::truncate_reason(reason).as_bytes());
        self.send(0x8, &payload).await
    }

    async fn send(&mut self, opcode: u8, payload: &[u8]) -> io::Result<()> {
        let bits = self.masks.next_u64().to_be_bytes();
        let mask = [bits[0], bits[1], bits[2], bits[3]];
        self.stream
            .write_all(&encode_frame(opcode, payload, mask))
            .await
    }

    /// Waits (at most `wait`) for the server's close frame after ours; returns its code
    /// and reason when one arrived with them.
    pub async fn linger(&mut self, wait: Duration) -> Option<(u16, String)> {
        tokio::time::timeout(wait, async {
            loop {
                loop {
                    match self.next_frame() {
                        Ok(Some(Frame::Close(close))) => return close,
                        Err(_) => return None,
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                    }
                }
                match self.fill().await {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
            }
        })
        .await
        .ok()
        .flatten()
    }
}

impl FrameReader {
    /// Adds received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, if any; an error for a frame no server may send.
    pub fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        loop {
            let Some((fin, opcode, payload)) = self.take_raw()? else {
                return Ok(None);
            };
            match opcode {
                0x0 => {
                    let Some((first, mut data)) = self.partial.take() else {
                        return Err(invalid("continuation frame without a message"));
                    };
                    data.extend_from_slice(&payload);
                    if data.len() > MAX_MESSAGE {
                        return Err(invalid("message too large"));
                    }
                    if fin {
                        return message(first, data).map(Some);
                    }
                    self.partial = Some((first, data));
                }
                0x1 | 0x2 => {
                    if fin {
                        return message(opcode, payload).map(Some);
                    }
                    self.partial = Some((opcode, payload));
                }
                0x8 => {
                    let close = match payload.as_slice() {
                        [a, b, reason @ ..] => Some((
                            u16::from_be_bytes([*a, *b]),
                            String::from_utf8_lossy(reason).into_owned(),
                        )),
                        _ => None,
                    };
                    return Ok(Some(Frame::Close(close)));
                }
                0x9 => return Ok(Some(Frame::Ping(payload))),
                0xA => return Ok(Some(Frame::Pong)),
                other => return Err(invalid(&format!("unknown opcode {other:#x}"))),
            }
        }
    }

    /// One frame off the buffer: (fin, opcode, payload), or `None` until more bytes arrive.
    fn take_raw(&mut self) -> io::Result<Option<(bool, u8, Vec<u8>)>> {
        let (Some(&b0), Some(&b1)) = (self.buf.first(), self.buf.get(1)) else {
            return Ok(None);
        };
        let fin = b0 & 0x80 != 0;
        let opcode = b0 & 0x0f;
        let masked = b1 & 0x80 != 0;
        let (len, mut at) = match b1 & 0x7f {
            126 => match self.buf.get(2..4).and_then(|b| <[u8; 2]>::try_from(b).ok()) {
                Some(b) => (u64::from(u16::from_be_bytes(b)), 4usize),
                None => return Ok(None),
            },
            127 => match self
                .buf
                .get(2..10)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
            {
                Some(b) => (u64::from_be_bytes(b), 10usize),
                None => return Ok(None),
            },
            n => (u64::from(n), 2usize),
        };
        let len = usize::try_from(len)
            .ok()
            .filter(|l| *l <= MAX_MESSAGE)
            .ok_or_else(|| invalid("frame too large"))?;
        let mask = if masked {
            let Some(m) = self
                .buf
                .get(at..at + 4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
            else {
                return Ok(None);
            };
            at += 4;
            Some(m)
        } else {
            None
        };
        let Some(body) = self.buf.get(at..at + len) else {
            return Ok(None);
        };
        let mut payload = body.to_vec();
        if let Some(mask) = mask {
            apply_mask(&mut payload, mask);
        }
        self.buf.drain(..at + len);
        Ok(Some((fin, opcode, payload)))
    }
}

/// A final client frame of `opcode` carrying `payload`, masked with `mask` (§5.2, §5.3).
pub fn encode_frame(opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 14);
    frame.push(0x80 | (opcode & 0x0f));
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n if n <= usize::from(u16::MAX) => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    let start = frame.len();
    frame.extend_from_slice(payload);
    if let Some(body) = frame.get_mut(start..) {
        apply_mask(body, mask);
    }
    frame
}

fn message(opcode: u8, data: Vec<u8>) -> io::Result<Frame> {
    if opcode == 0x1 {
        String::from_utf8(data)
            .map(Frame::Text)
            .map_err(|_| invalid("text message is not UTF-8"))
    } else {
        Ok(Frame::Binary(data))
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

fn apply_mask(data: &mut [u8], mask: [u8; 4]) {
    for (byte, m) in data.iter_mut().zip(mask.iter().cycle()) {
        *byte ^= m;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The body of a refused handshake: what already arrived plus what follows within
/// [`BODY_WAIT`], up to [`MAX_BODY`] bytes.
async fn read_body(stream: &mut TcpStream, mut body: Vec<u8>) -> String {
    let _ = tokio::time::timeout(BODY_WAIT, async {
        let mut chunk = [0u8; 1024];
        while body.len() < MAX_BODY {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => body.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            }
        }
    })
    .await;
    body.truncate(MAX_BODY);
    String::from_utf8_lossy(&body).trim().to_owned()
}

/// The value of header `name` (lower case) in a response head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then_some(value.trim())
    })
}

/// The `Sec-WebSocket-Accept` a server must answer `key` with (RFC 6455 §4.2.2).
fn accept_key(key: &str) -> String {
    const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    base64(&sha1(format!("{key}{GUID}").as_bytes()))
}

/// SHA-1 (RFC 3174), only for the handshake's accept key.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate().take(16) {
            if let (Some(slot), Ok(bytes)) = (w.get_mut(i), <[u8; 4]>::try_from(word)) {
                *slot = u32::from_be_bytes(bytes);
            }
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (slot, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *slot = slot.wrapping_add(v);
        }
    }
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// Standard base64 with padding (RFC 4648 §4), for the handshake key.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let index = usize::try_from((n >> (18 - 6 * i)) & 0x3f).unwrap_or(0);
                out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_refuse_what_is_not_ws() {
        assert_eq!(
            WsUrl::parse("ws://127.0.0.1:9105/wss?token=a.b").unwrap(),
            WsUrl {
                host: "127.0.0.1".into(),
                port: 9105,
                target: "/wss?token=a.b".into()
            }
        );
        assert_eq!(WsUrl::parse("ws://robot").unwrap().target, "/");
        assert_eq!(
            WsUrl::parse("ws://robot?token=x").unwrap().target,
            "/?token=x"
        );
        assert_eq!(WsUrl::parse("ws://[::1]:8001/").unwrap().host, "::1");
        assert!(
            WsUrl::parse("wss://robot/wss")
                .unwrap_err()
                .contains("wss://")
        );
        assert!(WsUrl::parse("http://robot/").is_err());
        assert!(WsUrl::parse("ws://robot:99999/").is_err());
        assert!(WsUrl::parse("ws:///x").is_err());
    }

    fn unmasked(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut masked = encode_frame(opcode, payload, [0; 4]);
        if let Some(b0) = masked.first_mut() {
            *b0 = if fin { 0x80 | opcode } else { opcode };
        }
        // A zero mask leaves the payload as is; drop the mask bit and key as a server does.
        let header = match payload.len() {
            n if n < 126 => 2,
            n if n <= usize::from(u16::MAX) => 4,
            _ => 10,
        };
        masked[1] &= 0x7f;
        masked.drain(header..header + 4);
        masked
    }

    #[test]
    fn frames_parse_whole_split_fragmented_and_masked() {
        let mut reader = FrameReader::default();
        let mut bytes = unmasked(true, 0x1, b"hello");
        bytes.extend(unmasked(false, 0x1, b"frag"));
        bytes.extend(unmasked(true, 0x9, b"ping"));
        bytes.extend(unmasked(true, 0x0, b"ment"));
        bytes.extend(unmasked(true, 0x2, &[7u8; 300]));
        bytes.extend(unmasked(true, 0x1, &vec![b'a'; 70_000]));
        bytes.extend(encode_frame(0x1, b"masked", [1, 2, 3, 4]));
        bytes.extend(unmasked(true, 0x8, &[0x03, 0xf0, b'b', b'y', b'e']));
        let mut frames = Vec::new();
        for byte in bytes {
            reader.push(&[byte]);
            while let Some(frame) = reader.next_frame().unwrap() {
                frames.push(frame);
            }
        }
        assert_eq!(
            frames,
            [
                Frame::Text("hello".into()),
                Frame::Ping(b"ping".to_vec()),
                Frame::Text("fragment".into()),
                Frame::Binary(vec![7u8; 300]),
                Frame::Text("a".repeat(70_000)),
                Frame::Text("masked".into()),
                Frame::Close(Some((1008, "bye".into()))),
            ]
        );
    }

    #[test]
    fn frames_no_server_may_send_are_errors_never_panics() {
        let mut reader = FrameReader::default();
        reader.push(&unmasked(true, 0x0, b"orphan"));
        assert!(reader.next_frame().is_err());
        let mut reader = FrameReader::default();
        reader.push(&unmasked(true, 0x3, b""));
        assert!(reader.next_frame().is_err());
        let mut reader = FrameReader::default();
        reader.push(&unmasked(true, 0x1, &[0xff, 0xfe]));
        assert!(reader.next_frame().is_err());
        let mut reader = FrameReader::default();
        reader.push(&[0x81, 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert!(reader.next_frame().is_err(), "a length beyond the cap");
        let mut prng = Prng::new(5);
        for _ in 0..5_000 {
            let mut reader = FrameReader::default();
            let len = usize::try_from(prng.below(40)).unwrap();
            let noise: Vec<u8> = (0..len).map(|_| prng.next_u64() as u8).collect();
            reader.push(&noise);
            for _ in 0..8 {
                if !matches!(reader.next_frame(), Ok(Some(_))) {
                    break;
                }
            }
        }
    }

    #[test]
    fn accept_key_matches_rfc_6455() {
        assert_eq!(
            sha1(b"abc"),
            [
                0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e, 0x25, 0x71, 0x78, 0x50,
                0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d
            ]
        );
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        let head =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept:  x= ";
        assert_eq!(header(head, "sec-websocket-accept"), Some("x="));
        assert_eq!(header(head, "connection"), None);
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0u8; 16]).len(), 24);
    }
}
