//! The codec vocabulary shared by every API module: a cursor over borrowed bytes and JSON errors.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A cursor over a borrowed byte slice, in the manner of rustls' `msgs::codec::Reader`.
///
/// Every read either succeeds and advances, or returns `None` and leaves the cursor where
/// it was, so a decoder can report the exact offset at which input ran out.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, offset: 0 }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Bytes left to read.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.offset)
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.offset..).unwrap_or_default()
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.offset.checked_add(n)?;
        let bytes = self.buf.get(self.offset..end)?;
        self.offset = end;
        Some(bytes)
    }

    /// Takes every unread byte.
    pub fn take_rest(&mut self) -> &'a [u8] {
        let rest = self.rest();
        self.offset = self.buf.len();
        rest
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Option<u8> {
        self.take(1).and_then(|b| b.first().copied())
    }

    /// Reads a big-endian `u16`.
    pub fn u16_be(&mut self) -> Option<u16> {
        let bytes = self.take(2)?;
        let hi = *bytes.first()?;
        let lo = *bytes.get(1)?;
        Some(u16::from_be_bytes([hi, lo]))
    }
}

/// What kind of JSON failure occurred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonErrorKind {
    /// The text is not JSON.
    Syntax,
    /// The text ended in the middle of a value.
    Eof,
    /// The JSON is well formed but does not have the documented shape.
    Data,
}

/// A JSON document that failed to decode: where (line and column, 1-based) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?} error at line {line}, column {column}: {message}")]
pub struct JsonError {
    /// Syntax, premature end, or wrong shape.
    pub kind: JsonErrorKind,
    /// 1-based line of the failure (0 when unknown).
    pub line: usize,
    /// 1-based column of the failure (0 when unknown).
    pub column: usize,
    /// serde_json's description, naming the field or value at fault.
    pub message: String,
}

impl From<serde_json::Error> for JsonError {
    fn from(err: serde_json::Error) -> Self {
        use serde_json::error::Category;
        let kind = match err.classify() {
            Category::Syntax | Category::Io => JsonErrorKind::Syntax,
            Category::Eof => JsonErrorKind::Eof,
            Category::Data => JsonErrorKind::Data,
        };
        // serde_json appends " at line L column C" to its Display; keep the bare message.
        let full = err.to_string();
        let message = match full.rfind(" at line ") {
            Some(cut) => full.get(..cut).unwrap_or(&full).to_owned(),
            None => full,
        };
        Self {
            kind,
            line: err.line(),
            column: err.column(),
            message,
        }
    }
}

/// Parses `text` as `T`, mapping failures to [`JsonError`].
pub fn decode_json<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    serde_json::from_str(text).map_err(JsonError::from)
}

/// Parses UTF-8 `bytes` as `T`, mapping failures to [`JsonError`].
pub fn decode_json_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    serde_json::from_slice(bytes).map_err(JsonError::from)
}

/// Appends the compact JSON encoding of `value` to `out`.
///
/// The message types of this crate serialize infallibly (derived `Serialize`, string map
/// keys), so a failure is impossible; should one ever happen, `out` is restored to its
/// previous length rather than left holding half a document.
pub fn encode_json<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    let before = out.len();
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.truncate(before);
    }
}

/// The compact JSON encoding of `value` as a `String`.
pub fn encode_json_string<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    encode_json(value, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_reads_and_stops_at_end() {
        let mut r = Reader::new(&[1, 2, 3, 4]);
        assert_eq!(r.u8(), Some(1));
        assert_eq!(r.u16_be(), Some(0x0203));
        assert_eq!(r.offset(), 3);
        assert_eq!(r.u16_be(), None);
        assert_eq!(r.offset(), 3, "a failed read consumes nothing");
        assert_eq!(r.take_rest(), &[4]);
        assert!(r.is_empty());
        assert_eq!(r.take(usize::MAX), None);
    }

    #[test]
    fn json_error_says_where() {
        let err = decode_json::<serde_json::Value>("{\n  \"a\": tru }").unwrap_err();
        assert_eq!(err.kind, JsonErrorKind::Syntax);
        assert_eq!(err.line, 2);
        assert!(err.column > 0);
        assert!(!err.message.contains(" at line "));
    }
}
