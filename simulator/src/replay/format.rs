//! The recording file: JSON Lines, a header line then one line per frame (README "Record
//! and replay").

use std::io::Write;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde::Serialize;
use telewire_protocols::frame::Outbound;

use crate::serve::Api;

/// The `format` value of every header line.
pub const FORMAT_NAME: &str = "telewire-recording";

/// The format version this build writes, and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// What a redacted secret is replaced with, in text and in place of a binary frame's bytes.
pub const REDACTED: &str = "<redacted>";

/// The first line of a recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// The format version ([`FORMAT_VERSION`] when written by this build).
    pub version: u32,
    /// The API recorded (`molecule`, `valtronics`, `webmacs`, `mosaic`, `robot`).
    pub api: String,
    /// The WebSocket URL connected to, with any token in it redacted.
    pub url: String,
    /// When the connection was opened, RFC 3339 UTC.
    pub started: String,
    /// The same instant in Unix milliseconds.
    pub started_unix_ms: u64,
    /// The telewire version that wrote the file.
    pub telewire: String,
}

/// Which side sent a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The server (received by the recorder).
    Server,
    /// The client (sent by the recorder).
    Client,
}

/// A recorded frame's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
    /// A binary frame whose bytes were a secret (a session key): not kept.
    RedactedBinary,
    /// A close frame.
    Close {
        /// The close code (1005 when the frame had none).
        code: u16,
        /// The reason.
        reason: String,
    },
}

/// One recorded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Milliseconds since the connection opened.
    pub ms: u64,
    /// Who sent it.
    pub from: Side,
    /// Whether it is data a dashboard shows (a server frame that is no auth reply, ack,
    /// keepalive reply, pong, error reply or close): only these are replayed.
    pub data: bool,
    /// What it held.
    pub content: Content,
}

impl Entry {
    /// The frame to replay, for a server data frame.
    pub fn replayable(&self) -> Option<Outbound> {
        if self.from != Side::Server || !self.data {
            return None;
        }
        match &self.content {
            Content::Text(text) => Some(Outbound::Text(text.clone())),
            Content::Binary(bytes) => Some(Outbound::Binary(bytes.clone())),
            Content::RedactedBinary | Content::Close { .. } => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Text,
    Binary,
    Close,
}

/// A frame line as written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    ms: u64,
    from: Side,
    kind: Kind,
    #[serde(default)]
    data: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl From<&Entry> for Line {
    fn from(entry: &Entry) -> Self {
        let mut line = Line {
            ms: entry.ms,
            from: entry.from,
            kind: Kind::Text,
            data: entry.data,
            text: None,
            base64: None,
            code: None,
            reason: None,
        };
        match &entry.content {
            Content::Text(text) => line.text = Some(text.clone()),
            Content::Binary(bytes) => {
                line.kind = Kind::Binary;
                line.base64 = Some(BASE64.encode(bytes));
            }
            Content::RedactedBinary => {
                line.kind = Kind::Binary;
                line.base64 = Some(REDACTED.to_owned());
            }
            Content::Close { code, reason } => {
                line.kind = Kind::Close;
                line.code = Some(*code);
                line.reason = Some(reason.clone());
            }
        }
        line
    }
}

impl TryFrom<Line> for Entry {
    type Error = String;

    fn try_from(line: Line) -> Result<Self, String> {
        let content = match line.kind {
            Kind::Text => Content::Text(line.text.ok_or("a text frame needs \"text\"")?),
            Kind::Binary => match line.base64.as_deref() {
                None => return Err("a binary frame needs \"base64\"".into()),
                Some(REDACTED) => Content::RedactedBinary,
                Some(b64) => Content::Binary(
                    BASE64
                        .decode(b64)
                        .map_err(|e| format!("\"base64\" is not base64: {e}"))?,
                ),
            },
            Kind::Close => Content::Close {
                code: line.code.ok_or("a close frame needs \"code\"")?,
                reason: line.reason.unwrap_or_default(),
            },
        };
        Ok(Entry {
            ms: line.ms,
            from: line.from,
            data: line.data,
            content,
        })
    }
}

/// Why a recording cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordingError {
    /// The file holds nothing.
    #[error("the recording is empty: record one with `telewire record <api> --url ... --out FILE`")]
    Empty,
    /// A line does not parse.
    #[error("line {line}: {reason}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// Written by a newer telewire.
    #[error(
        "the recording has format version {found}, newer than the {FORMAT_VERSION} this telewire reads: upgrade telewire"
    )]
    NewerVersion {
        /// The file's version.
        found: u32,
    },
    /// A recording of another API.
    #[error(
        "the recording is of the {found} API, not {expected}: replay it with `telewire serve {found} --replay FILE`"
    )]
    OtherApi {
        /// The file's API.
        found: String,
        /// The API being served.
        expected: Api,
    },
    /// Nothing to replay.
    #[error(
        "the recording holds no data frames from the server: record a session that received data"
    )]
    NoData,
}

/// A parsed recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// Its header.
    pub header: Header,
    /// Its frames, in file order.
    pub entries: Vec<Entry>,
}

impl Recording {
    /// Parses the text of a recording file. Blank lines are skipped; every other line must
    /// parse, and frame offsets must not go back in time.
    pub fn parse(text: &str) -> Result<Self, RecordingError> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, line)| (i + 1, line))
            .filter(|(_, line)| !line.trim().is_empty());
        let (first, header_line) = lines.next().ok_or(RecordingError::Empty)?;
        let header = parse_header(header_line).map_err(|reason| RecordingError::Malformed {
            line: first,
            reason,
        })?;
        if header.version > FORMAT_VERSION {
            return Err(RecordingError::NewerVersion {
                found: header.version,
            });
        }
        if header.api.parse::<Api>().is_err() {
            return Err(RecordingError::Malformed {
                line: first,
                reason: format!("unknown API \"{}\"", header.api),
            });
        }
        let mut entries = Vec::new();
        let mut last_ms = 0;
        for (number, text) in lines {
            let malformed = |reason: String| RecordingError::Malformed {
                line: number,
                reason,
            };
            let line: Line = serde_json::from_str(text)
                .map_err(|e| malformed(format!("not a frame line: {e}")))?;
            let entry = Entry::try_from(line).map_err(malformed)?;
            if entry.ms < last_ms {
                return Err(malformed(format!(
                    "offset {} ms is before the previous line's {last_ms} ms",
                    entry.ms
                )));
            }
            last_ms = entry.ms;
            entries.push(entry);
        }
        Ok(Self { header, entries })
    }

    /// Reads and parses the recording at `path`, and checks that it is one of `api`
    /// with data to replay.
    pub fn load_for(path: &std::path::Path, api: Api) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the recording {}: {e}", path.display()))?;
        let recording =
            Self::parse(&text).map_err(|e| format!("recording {}: {e}", path.display()))?;
        recording
            .check_for(api)
            .map_err(|e| format!("recording {}: {e}", path.display()))?;
        Ok(recording)
    }

    /// The API the header names.
    pub fn api(&self) -> Option<Api> {
        self.header.api.parse().ok()
    }

    /// Checks that this is a recording of `api` with at least one data frame to replay.
    pub fn check_for(&self, api: Api) -> Result<(), RecordingError> {
        if self.api() != Some(api) {
            return Err(RecordingError::OtherApi {
                found: self.header.api.clone(),
                expected: api,
            });
        }
        if !self.entries.iter().any(|e| e.replayable().is_some()) {
            return Err(RecordingError::NoData);
        }
        Ok(())
    }
}

fn parse_header(text: &str) -> Result<Header, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("the header is not JSON: {e}"))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT_NAME) {
        return Err(format!(
            "not a telewire recording: the first line must be a header with \"format\":\"{FORMAT_NAME}\""
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("bad header: {e}"))
}

/// Writes a recording line by line.
#[derive(Debug)]
pub struct Writer<W: Write> {
    out: W,
}

impl<W: Write> Writer<W> {
    /// Writes `header` as the first line.
    pub fn new(mut out: W, header: &Header) -> std::io::Result<Self> {
        serde_json::to_writer(&mut out, header)?;
        out.write_all(b"\n")?;
        Ok(Self { out })
    }

    /// Appends one frame line.
    pub fn entry(&mut self, entry: &Entry) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, &Line::from(entry))?;
        self.out.write_all(b"\n")
    }

    /// Flushes what is buffered.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// The underlying output.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(api: &str, version: u32) -> Header {
        Header {
            format: FORMAT_NAME.into(),
            version,
            api: api.into(),
            url: "ws://h/ws".into(),
            started: "2026-01-01T00:00:00Z".into(),
            started_unix_ms: 0,
            telewire: "0.1.0".into(),
        }
    }

    #[test]
    fn entries_round_trip_through_the_writer() {
        let entries = vec![
            Entry {
                ms: 0,
                from: Side::Client,
                data: false,
                content: Content::Text("{\"type\":\"auth\"}".into()),
            },
            Entry {
                ms: 5,
                from: Side::Server,
                data: true,
                content: Content::Binary(vec![100, 0, 1, 2, 255]),
            },
            Entry {
                ms: 6,
                from: Side::Server,
                data: false,
                content: Content::RedactedBinary,
            },
            Entry {
                ms: 9,
                from: Side::Server,
                data: false,
                content: Content::Close {
                    code: 1000,
                    reason: "bye".into(),
                },
            },
        ];
        let mut writer = Writer::new(Vec::new(), &header("molecule", 1)).unwrap();
        for e in &entries {
            writer.entry(e).unwrap();
        }
        let text = String::from_utf8(writer.into_inner()).unwrap();
        let parsed = Recording::parse(&text).unwrap();
        assert_eq!(parsed.entries, entries);
        assert_eq!(parsed.header, header("molecule", 1));
        assert!(parsed.check_for(Api::Molecule).is_ok());
        assert!(matches!(
            parsed.check_for(Api::Robot),
            Err(RecordingError::OtherApi { .. })
        ));
        let replayed: Vec<_> = parsed
            .entries
            .iter()
            .filter_map(Entry::replayable)
            .collect();
        assert_eq!(replayed, vec![Outbound::Binary(vec![100, 0, 1, 2, 255])]);
    }

    #[test]
    fn bad_files_name_the_line() {
        let head = serde_json::to_string(&header("robot", 1)).unwrap();
        let text = format!("{head}\n\n{{\"ms\":1,\"from\":\"server\",\"kind\":\"text\"}}\n");
        assert_eq!(
            Recording::parse(&text),
            Err(RecordingError::Malformed {
                line: 3,
                reason: "a text frame needs \"text\"".into()
            })
        );
        let newer = serde_json::to_string(&header("robot", 2)).unwrap();
        assert_eq!(
            Recording::parse(&newer),
            Err(RecordingError::NewerVersion { found: 2 })
        );
        assert!(matches!(
            Recording::parse("{\"hello\":1}"),
            Err(RecordingError::Malformed { line: 1, .. })
        ));
        assert_eq!(Recording::parse("\n"), Err(RecordingError::Empty));
    }
}
