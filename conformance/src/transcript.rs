//! The bounded record of frames a scenario exchanged, rendered with secrets redacted.

use std::fmt::Write as _;

/// Entries kept per scenario; later ones are counted, not kept.
pub const MAX_ENTRIES: usize = 40;
/// Characters of one text frame kept in the transcript.
pub const MAX_TEXT: usize = 400;
/// Bytes of one binary frame kept in the transcript.
pub const MAX_BINARY: usize = 96;

/// Which way a frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Client to server.
    Sent,
    /// Server to client.
    Received,
    /// A note from the harness (connect, upgrade result, timeout).
    Note,
}

/// What was exchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// A text frame or note.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

/// One exchanged frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Which way.
    pub direction: Direction,
    /// The connection's name (`stream`, `controller`, `socket`).
    pub connection: String,
    /// What.
    pub payload: Payload,
}

/// The frames of one scenario, at most [`MAX_ENTRIES`].
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    entries: Vec<Entry>,
    dropped: usize,
}

impl Transcript {
    /// Records one entry (or counts it when the transcript is full).
    pub fn push(&mut self, direction: Direction, connection: &str, payload: Payload) {
        if self.entries.len() >= MAX_ENTRIES {
            self.dropped += 1;
            return;
        }
        self.entries.push(Entry {
            direction,
            connection: connection.to_owned(),
            payload,
        });
    }

    /// One line per entry, secrets replaced by `<redacted>`.
    pub fn render(&self, redactor: &Redactor) -> Vec<String> {
        let mut lines: Vec<String> = self
            .entries
            .iter()
            .map(|entry| {
                let arrow = match entry.direction {
                    Direction::Sent => "->",
                    Direction::Received => "<-",
                    Direction::Note => "--",
                };
                let body = match &entry.payload {
                    Payload::Text(text) => redactor.text(&truncate(text)),
                    Payload::Binary(bytes) => format!("binary {}", redactor.binary(bytes)),
                };
                format!("{arrow} {} {body}", entry.connection)
            })
            .collect();
        if self.dropped > 0 {
            lines.push(format!("... {} more frame(s) not kept", self.dropped));
        }
        lines
    }
}

fn truncate(text: &str) -> String {
    if text.chars().count() <= MAX_TEXT {
        return text.to_owned();
    }
    let kept: String = text.chars().take(MAX_TEXT).collect();
    format!("{kept}... ({} chars)", text.chars().count())
}

/// Replaces configured secrets and anything that looks like a JWT by `<redacted>`.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

/// The replacement text.
pub const REDACTED: &str = "<redacted>";

impl Redactor {
    /// A redactor for these secrets (empty ones are ignored).
    pub fn new<I: IntoIterator<Item = String>>(secrets: I) -> Self {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| s.len() >= 3).collect();
        // Longest first, so that a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Self { secrets }
    }

    /// `text` with secrets and JWT-looking strings replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), REDACTED);
        }
        redact_jwts(&out)
    }

    /// Hex of `bytes`, with secret or JWT-looking byte runs replaced.
    pub fn binary(&self, bytes: &[u8]) -> String {
        let mut spans = Vec::new();
        for secret in &self.secrets {
            let needle = secret.as_bytes();
            let mut at = 0;
            while let Some(found) = find(&bytes[at..], needle) {
                spans.push((at + found, at + found + needle.len()));
                at += found + needle.len();
            }
        }
        spans.extend(jwt_spans(bytes));
        spans.sort_unstable();
        let mut out = String::new();
        let mut i = 0;
        let shown = bytes.len().min(MAX_BINARY);
        while i < shown {
            if let Some(&(_, end)) = spans.iter().find(|(start, end)| *start <= i && i < *end) {
                out.push_str(REDACTED);
                out.push(' ');
                i = end;
                continue;
            }
            let _ = write!(out, "{:02x} ", bytes[i]);
            i += 1;
        }
        if bytes.len() > shown {
            let _ = write!(out, "... ({} bytes)", bytes.len());
        }
        out.trim_end().to_owned()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Byte ranges of `eyJ...` runs of the shape `header.payload.signature`.
fn jwt_spans(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i + 3 <= bytes.len() {
        if &bytes[i..i + 3] == b"eyJ" && (i == 0 || !is_b64url(bytes[i - 1])) {
            let mut end = i;
            let mut dots = 0;
            while end < bytes.len() && (is_b64url(bytes[end]) || bytes[end] == b'.') {
                if bytes[end] == b'.' {
                    dots += 1;
                }
                end += 1;
            }
            if dots >= 1 {
                spans.push((i, end));
                i = end;
                continue;
            }
        }
        i += 1;
    }
    spans
}

fn redact_jwts(text: &str) -> String {
    let bytes = text.as_bytes();
    let spans = jwt_spans(bytes);
    if spans.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in spans {
        out.push_str(&text[at..start]);
        out.push_str(REDACTED);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.abc_DEF-123";

    #[test]
    fn jwts_and_secrets_are_redacted_in_text() {
        let r = Redactor::new(["hunter22".to_owned()]);
        let out = r.text(&format!("ws://h/ws?token={JWT}&p=hunter22"));
        assert_eq!(out, "ws://h/ws?token=<redacted>&p=<redacted>");
    }

    #[test]
    fn binary_frames_hide_the_token_bytes() {
        let r = Redactor::new(["opaque-token".to_owned()]);
        let mut frame = vec![1, 2];
        frame.extend_from_slice(b"opaque-token");
        frame.extend_from_slice(&[1, 4]);
        assert_eq!(r.binary(&frame), "01 02 <redacted> 01 04");
        let mut frame = vec![0, 9];
        frame.extend_from_slice(JWT.as_bytes());
        assert_eq!(r.binary(&frame), "00 09 <redacted>");
    }

    #[test]
    fn the_transcript_is_bounded() {
        let mut t = Transcript::default();
        for _ in 0..MAX_ENTRIES + 5 {
            t.push(Direction::Sent, "socket", Payload::Text("x".into()));
        }
        let lines = t.render(&Redactor::default());
        assert_eq!(lines.len(), MAX_ENTRIES + 1);
        assert!(lines.last().unwrap().contains("5 more"));
    }
}
