//! Step 5, "Receive Telemetry": data frames `[messageType][reserved][UTF-8 payload][0x00?]`.

use std::fmt;

use crate::codec::Reader;

use super::error::DecodeError;
use super::error::Field;
use super::telemetry::Telemetry;

/// A data frame's message type (byte 0). An open set: unknown types are kept, and printed
/// in hex, never rejected ("other | Unknown- inspect raw bytes").
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageType(pub u8);

impl MessageType {
    /// 1: command response, "reply to a command you sent". Client to server, the same code
    /// carries the command itself (see [`MessageType::COMMAND`]).
    pub const COMMAND_RESPONSE: Self = Self(1);
    /// 1, client to server: a command for the gateway (MAY, specs README).
    pub const COMMAND: Self = Self(1);
    /// 2: device log, a plain text log line from the gateway.
    pub const DEVICE_LOG: Self = Self(2);
    /// 100: real-time telemetry JSON.
    pub const TELEMETRY: Self = Self(100);

    /// The documented name of the type, when it has one.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "COMMAND_RESPONSE",
            2 => "DEVICE_LOG",
            100 => "TELEMETRY",
            _ => return None,
        })
    }
}

impl fmt::Debug for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({:#04x})", self.0),
            None => write!(f, "{:#04x}", self.0),
        }
    }
}

/// A data frame: message type, reserved byte, payload borrowed from the received bytes,
/// and whether a trailing `0x00` followed the payload ("may have a trailing 0x00 null
/// terminator"), so that a decoded frame re-encodes to identical bytes.
///
/// The payload is not checked when decoding, so frames of unknown types with arbitrary
/// bytes still decode; [`DataFrame::text`] validates UTF-8 as a separate step.
///
/// Invariant: a payload that itself ends in `0x00` is always followed by the trailing null
/// on the wire (otherwise a reader would strip its last byte), so the constructors turn
/// `trailing_null` on for such payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataFrame<'a> {
    message_type: MessageType,
    reserved: u8,
    payload: &'a [u8],
    trailing_null: bool,
}

impl<'a> DataFrame<'a> {
    /// The documented value of the reserved byte.
    pub const RESERVED: u8 = 0;

    /// A frame of `message_type` with reserved byte 0 and no trailing null (unless the
    /// payload ends in `0x00`, see the type's invariant).
    pub fn new(message_type: MessageType, payload: &'a [u8]) -> Self {
        Self {
            message_type,
            reserved: Self::RESERVED,
            payload,
            trailing_null: payload.last() == Some(&0),
        }
    }

    /// A frame carrying UTF-8 `text`.
    pub fn from_text(message_type: MessageType, text: &'a str) -> Self {
        Self::new(message_type, text.as_bytes())
    }

    /// The same frame with the trailing null on or off (kept on for payloads ending in 0).
    pub fn with_trailing_null(mut self, trailing_null: bool) -> Self {
        self.trailing_null = trailing_null || self.payload.last() == Some(&0);
        self
    }

    /// The same frame with another reserved byte (to reproduce a peer's frame).
    pub fn with_reserved(mut self, reserved: u8) -> Self {
        self.reserved = reserved;
        self
    }

    /// Byte 0.
    pub fn message_type(&self) -> MessageType {
        self.message_type
    }

    /// Byte 1.
    pub fn reserved(&self) -> u8 {
        self.reserved
    }

    /// The payload, without the trailing null.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Whether a `0x00` follows the payload.
    pub fn has_trailing_null(&self) -> bool {
        self.trailing_null
    }

    /// Bytes on the wire.
    pub fn encoded_len(&self) -> usize {
        2 + self.payload.len() + usize::from(self.trailing_null)
    }

    /// Whether the encoded frame is 3 bytes ending in `0x04`, which the document's first
    /// client takes for an auth response (`data.length === 3 && data[2] === 0x04`).
    /// Servers must not send such a frame; [`super::MoleculeSession`] adds the trailing
    /// null to it.
    pub fn is_ambiguous(&self) -> bool {
        self.encoded_len() == 3 && !self.trailing_null && self.payload == [0x04]
    }

    /// Decodes a data frame: 2 header bytes, then the payload, minus one trailing `0x00`.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let (Some(message_type), Some(reserved)) = (r.u8(), r.u8()) else {
            return Err(DecodeError::TooShort {
                field: Field::Header,
                needed: 2,
                at: 0,
                available: bytes.len(),
            });
        };
        let rest = r.take_rest();
        let (payload, trailing_null) = match rest.split_last() {
            Some((&0, payload)) => (payload, true),
            _ => (rest, false),
        };
        Ok(Self {
            message_type: MessageType(message_type),
            reserved,
            payload,
            trailing_null,
        })
    }

    /// Appends the encoded frame to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.reserve(self.encoded_len());
        out.push(self.message_type.0);
        out.push(self.reserved);
        out.extend_from_slice(self.payload);
        if self.trailing_null {
            out.push(0);
        }
    }

    /// The encoded frame as a new buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out
    }

    /// The payload as UTF-8 text ("new TextDecoder('utf-8', { fatal: true })"), or where
    /// the first invalid byte is, counted from the start of the frame.
    pub fn text(&self) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.payload).map_err(|e| DecodeError::InvalidUtf8 {
            field: Field::Payload,
            offset: 2 + e.valid_up_to(),
        })
    }

    /// The payload interpreted by message type; unknown types are returned raw.
    pub fn content(&self) -> Result<Content<'a>, DecodeError> {
        Ok(match self.message_type {
            MessageType::TELEMETRY => Content::Telemetry(Telemetry::decode(self.text()?)?),
            MessageType::COMMAND_RESPONSE => Content::CommandResponse(self.text()?),
            MessageType::DEVICE_LOG => Content::DeviceLog(self.text()?),
            other => Content::Unknown {
                message_type: other,
                payload: self.payload,
            },
        })
    }
}

/// A data frame's payload, interpreted by its message type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content<'a> {
    /// Type 100: telemetry items.
    Telemetry(Telemetry<'a>),
    /// Type 1: the reply to a command.
    CommandResponse(&'a str),
    /// Type 2: one log line from the gateway.
    DeviceLog(&'a str),
    /// Any other type: the raw payload ("inspect raw bytes").
    Unknown {
        /// The message type.
        message_type: MessageType,
        /// The payload, not validated.
        payload: &'a [u8],
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_types_print_name_and_hex() {
        assert_eq!(MessageType::TELEMETRY.to_string(), "TELEMETRY (0x64)");
        assert_eq!(format!("{:?}", MessageType(0x37)), "0x37");
    }

    #[test]
    fn trailing_null_is_stripped_once_and_remembered() {
        let bytes = [100, 0, b'[', b']', 0];
        let frame = DataFrame::decode(&bytes).unwrap();
        assert_eq!(frame.payload(), b"[]");
        assert!(frame.has_trailing_null());
        assert_eq!(frame.to_bytes(), bytes);

        let bytes = [2, 0, b'a', 0, 0];
        let frame = DataFrame::decode(&bytes).unwrap();
        assert_eq!(frame.payload(), b"a\0");
        assert_eq!(frame.to_bytes(), bytes);
    }

    #[test]
    fn payload_is_borrowed() {
        let bytes = [2, 0, b'l', b'o', b'g'];
        let frame = DataFrame::decode(&bytes).unwrap();
        assert!(std::ptr::eq(frame.payload().as_ptr(), bytes[2..].as_ptr()));
    }

    #[test]
    fn payload_ending_in_null_forces_the_trailing_null() {
        let frame = DataFrame::new(MessageType::DEVICE_LOG, b"a\0").with_trailing_null(false);
        assert!(frame.has_trailing_null());
        assert_eq!(DataFrame::decode(&frame.to_bytes()).unwrap(), frame);
    }

    #[test]
    fn unknown_types_and_bad_utf8_still_decode() {
        let bytes = [0x37, 9, 0xff, 0xfe];
        let frame = DataFrame::decode(&bytes).unwrap();
        assert_eq!(frame.message_type(), MessageType(0x37));
        assert_eq!(frame.reserved(), 9);
        assert_eq!(
            frame.text(),
            Err(DecodeError::InvalidUtf8 {
                field: Field::Payload,
                offset: 2
            })
        );
        assert_eq!(
            frame.content(),
            Ok(Content::Unknown {
                message_type: MessageType(0x37),
                payload: &[0xff, 0xfe]
            })
        );
    }

    #[test]
    fn header_is_required() {
        assert_eq!(
            DataFrame::decode(&[100]),
            Err(DecodeError::TooShort {
                field: Field::Header,
                needed: 2,
                at: 0,
                available: 1
            })
        );
        let empty = DataFrame::decode(&[2, 0]).unwrap();
        assert_eq!(empty.text(), Ok(""));
    }

    #[test]
    fn three_byte_frames_ending_in_4_are_ambiguous() {
        assert!(DataFrame::new(MessageType::DEVICE_LOG, &[4]).is_ambiguous());
        assert!(
            !DataFrame::new(MessageType::DEVICE_LOG, &[4])
                .with_trailing_null(true)
                .is_ambiguous()
        );
        assert!(!DataFrame::new(MessageType::DEVICE_LOG, &[5]).is_ambiguous());
    }
}
