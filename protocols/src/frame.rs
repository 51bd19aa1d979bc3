//! WebSocket frames as the sessions see them (RFC 6455 §5.6 data frames, §7.4 close codes).

use std::fmt;

/// A WebSocket close code (RFC 6455 §7.4). Unknown codes are kept, never lost.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: normal closure.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the endpoint is going away (server shutdown).
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: protocol error.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1006: closed without a close frame (never sent on the wire).
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: data inconsistent with the message type (for example bad UTF-8 in text).
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: policy violation (authentication failures, rate limits).
    pub const POLICY_VIOLATION: Self = Self(1008);
    /// 1009: message too big.
    pub const MESSAGE_TOO_BIG: Self = Self(1009);
    /// 1011: internal server error.
    pub const INTERNAL_ERROR: Self = Self(1011);
    /// 1013: try again later.
    pub const TRY_AGAIN_LATER: Self = Self(1013);

    /// The registered name of the code, when it has one.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1000 => "normal closure",
            1001 => "going away",
            1002 => "protocol error",
            1003 => "unsupported data",
            1006 => "abnormal closure",
            1007 => "invalid payload data",
            1008 => "policy violation",
            1009 => "message too big",
            1011 => "internal error",
            1013 => "try again later",
            _ => return None,
        })
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({name})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// A close frame: code and UTF-8 reason (at most 123 bytes on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    /// The close code.
    pub code: CloseCode,
    /// The reason text.
    pub reason: String,
}

/// The longest close reason RFC 6455 §5.5 allows: 125 payload bytes less the 2-byte code.
pub const MAX_CLOSE_REASON: usize = 123;

impl Close {
    /// A close frame with `code` and `reason`, the reason cut to [`MAX_CLOSE_REASON`] bytes
    /// on a character boundary so that it always fits the wire.
    pub fn new(code: CloseCode, reason: impl Into<String>) -> Self {
        let mut reason = reason.into();
        reason.truncate(truncated_len(&reason));
        Self { code, reason }
    }
}

/// `reason` cut to [`MAX_CLOSE_REASON`] bytes on a character boundary.
pub fn truncate_reason(reason: &str) -> &str {
    reason.get(..truncated_len(reason)).unwrap_or_default()
}

fn truncated_len(reason: &str) -> usize {
    let mut end = reason.len().min(MAX_CLOSE_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// A data frame received from the peer. Control frames (ping, pong, close) stay with the
/// WebSocket layer; sessions see only text and binary messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbound<'a> {
    /// A text message (already valid UTF-8).
    Text(&'a str),
    /// A binary message.
    Binary(&'a [u8]),
}

impl Inbound<'_> {
    /// The message's length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Inbound::Text(t) => t.len(),
            Inbound::Binary(b) => b.len(),
        }
    }

    /// Whether the message is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A frame for the driver to write to the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// Close the connection with this code and reason; nothing follows it.
    Close(Close),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes_print_name_and_number() {
        assert_eq!(
            CloseCode::POLICY_VIOLATION.to_string(),
            "1008 (policy violation)"
        );
        assert_eq!(CloseCode(4321).to_string(), "4321");
    }

    #[test]
    fn close_reasons_are_cut_to_fit_on_a_char_boundary() {
        let long = "é".repeat(100);
        let close = Close::new(CloseCode::NORMAL, long.clone());
        assert_eq!(close.reason.len(), 122);
        assert_eq!(truncate_reason(&long).len(), 122);
        assert_eq!(Close::new(CloseCode::NORMAL, "short").reason, "short");
    }
}
