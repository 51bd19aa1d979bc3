//! Error handling: malformed frames (Steps 3 to 5) and the "Error Handling" table's close codes.

use std::fmt;

use crate::auth::TokenRejection;
use crate::codec::JsonError;
use crate::frame::Close;
use crate::frame::CloseCode;

use super::form::FormError;
use super::messages::AuthResponse;

/// A named field of a Molecule binary frame, for error messages that say where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Handshake bytes 0..2: the client connection marker `0x01 0x02`.
    Marker,
    /// Handshake `idLen`: the gateway id length, u16 big-endian.
    GatewayIdLength,
    /// Handshake `gatewayId`: UTF-8 gateway id.
    GatewayId,
    /// Handshake `tokLen`: the token length, u16 big-endian.
    TokenLength,
    /// Handshake `token`: UTF-8 JWT.
    Token,
    /// Handshake end-of-message sentinel `0x01 0x04`.
    Sentinel,
    /// A whole 3-byte auth response.
    AuthResponse,
    /// Auth response byte 0: the request type, 2.
    RequestType,
    /// Auth response byte 2: the end-of-frame byte, `0x04`.
    EndOfFrame,
    /// Data frame bytes 0..2: message type and reserved byte.
    Header,
    /// Data frame byte 0: the message type.
    MessageType,
    /// Data frame byte 1: the reserved byte.
    Reserved,
    /// Data frame bytes 2..: the UTF-8 payload.
    Payload,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Marker => "client connection marker",
            Field::GatewayIdLength => "gateway id length",
            Field::GatewayId => "gateway id",
            Field::TokenLength => "token length",
            Field::Token => "token",
            Field::Sentinel => "end-of-message sentinel",
            Field::AuthResponse => "auth response",
            Field::RequestType => "request type",
            Field::EndOfFrame => "end-of-frame byte",
            Field::Header => "frame header",
            Field::MessageType => "message type",
            Field::Reserved => "reserved byte",
            Field::Payload => "payload",
        })
    }
}

/// A Molecule message that failed to decode: what was malformed and where.
///
/// Binary offsets count from the first byte of the frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The frame ended before a fixed-size field.
    #[error("frame too short: {field} needs {needed} byte(s) at offset {at}, {available} left")]
    TooShort {
        /// The field that could not be read.
        field: Field,
        /// Bytes the field needs.
        needed: usize,
        /// Offset of the field.
        at: usize,
        /// Bytes left at that offset.
        available: usize,
    },
    /// The handshake does not start with the client connection marker `0x01 0x02`.
    #[error("wrong client connection marker {found:02x?} at offset 0, expected [01, 02]")]
    BadMarker {
        /// The two bytes found.
        found: [u8; 2],
    },
    /// A length field declares more bytes than the frame holds.
    #[error(
        "{field} is declared as {declared} byte(s) at offset {at}, but only {available} remain"
    )]
    LengthMismatch {
        /// The variable-length field (gateway id or token).
        field: Field,
        /// The length its length field declares.
        declared: usize,
        /// Offset of the field's first byte.
        at: usize,
        /// Bytes left from that offset.
        available: usize,
    },
    /// A text field is not valid UTF-8.
    #[error("{field} is not valid UTF-8: invalid byte at offset {offset}")]
    InvalidUtf8 {
        /// The field holding the bad bytes.
        field: Field,
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The handshake ends before its end-of-message sentinel.
    #[error("end-of-message sentinel missing at offset {at} (found {found:02x?})")]
    MissingSentinel {
        /// Where the sentinel should start.
        at: usize,
        /// The one byte present there, if any.
        found: Option<u8>,
    },
    /// The handshake's end-of-message sentinel is not `0x01 0x04`.
    #[error("wrong end-of-message sentinel {found:02x?} at offset {at}, expected [01, 04]")]
    BadSentinel {
        /// The two bytes found.
        found: [u8; 2],
        /// Offset of the sentinel.
        at: usize,
    },
    /// Bytes follow the end of the message.
    #[error("{count} trailing byte(s) at offset {at}")]
    TrailingBytes {
        /// Offset of the first extra byte.
        at: usize,
        /// Number of extra bytes.
        count: usize,
    },
    /// A fixed-size message has the wrong length.
    #[error("{field} must be exactly {expected} bytes, found {found}")]
    WrongLength {
        /// The message.
        field: Field,
        /// The documented length.
        expected: usize,
        /// The length received.
        found: usize,
    },
    /// A byte with one documented value holds another.
    #[error("{field} at offset {at} is {found:#04x}, expected {expected:#04x}")]
    UnexpectedByte {
        /// The field.
        field: Field,
        /// Its offset.
        at: usize,
        /// The documented value.
        expected: u8,
        /// The value received.
        found: u8,
    },
    /// A JSON body or telemetry payload does not parse or has the wrong shape.
    #[error("invalid JSON: {0}")]
    Json(#[from] JsonError),
    /// A form-urlencoded body is malformed.
    #[error("invalid form body: {0}")]
    Form(#[from] FormError),
}

/// What the wire gets for a [`Violation`]: an optional auth response, then a close frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireReply {
    /// `[2][0][0x04]`, sent first when the violation answers a handshake.
    pub auth_response: Option<AuthResponse>,
    /// The close frame that ends the connection.
    pub close: Close,
}

/// A broken protocol rule, one variant per rule; each doc comment quotes the rule.
///
/// Variants that answer a handshake ([`Violation::MalformedHandshake`],
/// [`Violation::NotAHandshake`], [`Violation::UnknownGateway`],
/// [`Violation::GatewayNotPermitted`], [`Violation::TokenRejected`]) send auth status 0
/// first, because "the auth response must always be the first frame"; the others only close.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// "ws.onclose with code 1009 | Handshake too large" (MUST; the cap is a setting,
    /// 8 KiB by default). Closed with 1009 and no auth response, so that the client sees
    /// the documented code rather than racing its own close after a status 0.
    #[error("handshake of {len} bytes exceeds the {max}-byte cap")]
    HandshakeTooLarge {
        /// The handshake's length.
        len: usize,
        /// The configured cap.
        max: usize,
    },
    /// "A handshake that does not parse gets auth response status 0" (MUST, specs README);
    /// then close 1002 naming the failure (MAY).
    #[error("malformed handshake: {0}")]
    MalformedHandshake(DecodeError),
    /// "binaryType = 'arraybuffer'; // required- all frames are binary": a text frame where
    /// the handshake was expected. Auth status 0, then close 1003 (MAY).
    #[error("text frame instead of the binary handshake")]
    NotAHandshake,
    /// "Auth failed- check gateway ID and token": the gateway id is unknown. Auth status 0
    /// (MUST), then close 1008 "unknown gateway" (MAY).
    #[error("unknown gateway {gateway_id:?}")]
    UnknownGateway {
        /// The gateway id presented.
        gateway_id: String,
    },
    /// "Auth failed- check gateway ID and token": the gateway exists but the token's
    /// subject may not use it. Auth status 0 (MUST), then close 1008 (MAY).
    #[error("gateway {gateway_id:?} is not permitted for {subject:?}")]
    GatewayNotPermitted {
        /// The gateway id presented.
        gateway_id: String,
        /// The token's subject.
        subject: String,
    },
    /// "ws.onclose with code 1008 | Token rejected- re-authenticate": the token is
    /// missing, invalid, expired or revoked. Auth status 0, then close 1008 "token rejected".
    #[error("token rejected: {0}")]
    TokenRejected(TokenRejection),
    /// "Immediately after the connection opens, send a binary handshake packet": none came
    /// within the configured time. Close 1002 (MAY).
    #[error("no handshake within the handshake timeout")]
    HandshakeTimeout,
    /// "Tokens have a limited lifetime": with `close_on_token_expiry` set, the token of an
    /// authenticated session expired. Close 1008 "token expired" (MAY).
    #[error("token expired during the session")]
    TokenExpired,
    /// The handshake is sent once, "immediately after the connection opens": a second one
    /// closes with 1002 (MAY).
    #[error("handshake after the session was authenticated")]
    RepeatedHandshake,
    /// "all frames are binary": a text frame after authentication. Close 1003 (MAY).
    #[error("text frame; all frames are binary")]
    TextFrame,
    /// A frame after authentication larger than the frame cap. Close 1009 (MAY).
    #[error("frame of {len} bytes exceeds the {max}-byte cap")]
    FrameTooLarge {
        /// The frame's length.
        len: usize,
        /// The configured cap.
        max: usize,
    },
    /// A client frame after authentication that does not decode (shorter than the
    /// `[type][reserved]` header, or a command that is not UTF-8). Close 1007 for bad
    /// UTF-8, 1002 otherwise (MAY).
    #[error("malformed frame: {0}")]
    MalformedFrame(DecodeError),
}

impl Violation {
    /// Whether the wire gets auth status 0 before the close frame.
    pub fn answers_handshake(&self) -> bool {
        matches!(
            self,
            Violation::MalformedHandshake(_)
                | Violation::NotAHandshake
                | Violation::UnknownGateway { .. }
                | Violation::GatewayNotPermitted { .. }
                | Violation::TokenRejected(_)
        )
    }

    /// The close frame that ends the connection.
    pub fn close(&self) -> Close {
        let (code, reason) = match self {
            Violation::HandshakeTooLarge { .. } => {
                (CloseCode::MESSAGE_TOO_BIG, "handshake too large".to_owned())
            }
            Violation::MalformedHandshake(err) => (
                CloseCode::PROTOCOL_ERROR,
                format!("malformed handshake: {err}"),
            ),
            Violation::NotAHandshake => (
                CloseCode::UNSUPPORTED_DATA,
                "binary handshake expected".to_owned(),
            ),
            Violation::UnknownGateway { .. } => {
                (CloseCode::POLICY_VIOLATION, "unknown gateway".to_owned())
            }
            Violation::GatewayNotPermitted { .. } => (
                CloseCode::POLICY_VIOLATION,
                "gateway not permitted".to_owned(),
            ),
            Violation::TokenRejected(_) => {
                (CloseCode::POLICY_VIOLATION, "token rejected".to_owned())
            }
            Violation::HandshakeTimeout => {
                (CloseCode::PROTOCOL_ERROR, "handshake timeout".to_owned())
            }
            Violation::TokenExpired => (CloseCode::POLICY_VIOLATION, "token expired".to_owned()),
            Violation::RepeatedHandshake => {
                (CloseCode::PROTOCOL_ERROR, "repeated handshake".to_owned())
            }
            Violation::TextFrame => (
                CloseCode::UNSUPPORTED_DATA,
                "all frames are binary".to_owned(),
            ),
            Violation::FrameTooLarge { .. } => {
                (CloseCode::MESSAGE_TOO_BIG, "frame too large".to_owned())
            }
            Violation::MalformedFrame(err @ DecodeError::InvalidUtf8 { .. }) => (
                CloseCode::INVALID_PAYLOAD,
                format!("malformed frame: {err}"),
            ),
            Violation::MalformedFrame(err) => {
                (CloseCode::PROTOCOL_ERROR, format!("malformed frame: {err}"))
            }
        };
        Close::new(code, reason)
    }

    /// Everything the wire gets for this violation, in order.
    pub fn reply(&self) -> WireReply {
        WireReply {
            auth_response: self.answers_handshake().then_some(AuthResponse::FAILED),
            close: self.close(),
        }
    }
}

impl From<&Violation> for Close {
    fn from(violation: &Violation) -> Self {
        violation.close()
    }
}

impl From<&Violation> for WireReply {
    fn from(violation: &Violation) -> Self {
        violation.reply()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::MAX_CLOSE_REASON;

    #[test]
    fn long_decode_errors_still_fit_a_close_frame() {
        let err = DecodeError::Json(JsonError {
            kind: crate::codec::JsonErrorKind::Data,
            line: 1,
            column: 1,
            message: "x".repeat(500),
        });
        let close = Violation::MalformedHandshake(err).close();
        assert!(close.reason.len() <= MAX_CLOSE_REASON);
        assert!(close.reason.starts_with("malformed handshake: "));
    }
}
