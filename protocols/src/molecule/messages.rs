//! Step 4's auth response `[2][status][0x04]`, the command frame, and both top-level enums.

use std::fmt;

use super::error::DecodeError;
use super::error::Field;
use super::frames::DataFrame;
use super::frames::MessageType;
use super::handshake::Handshake;
use super::handshake::MARKER;

/// The auth response's status byte. Open: values other than 0 and 1 are kept, and a client
/// treats them as failure (the document tests `success === 1`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuthStatus(pub u8);

impl AuthStatus {
    /// 0: "Authentication failed".
    pub const FAILED: Self = Self(0);
    /// 1: "Authenticated successfully".
    pub const SUCCESS: Self = Self(1);

    /// The documented name of the status, when it has one.
    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            0 => Some("FAILED"),
            1 => Some("SUCCESS"),
            _ => None,
        }
    }
}

impl fmt::Debug for AuthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for AuthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({:#04x})", self.0),
            None => write!(f, "{:#04x}", self.0),
        }
    }
}

/// Step 4, the auth response: exactly 3 bytes, `[requestType=2][status][0x04]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuthResponse {
    /// Byte 1.
    pub status: AuthStatus,
}

impl AuthResponse {
    /// Byte 0: "Remote access response".
    pub const REQUEST_TYPE: u8 = 2;
    /// Byte 2: "End of frame".
    pub const END_OF_FRAME: u8 = 0x04;
    /// The length of every auth response.
    pub const LEN: usize = 3;
    /// `[2][1][0x04]`.
    pub const SUCCESS: Self = Self {
        status: AuthStatus::SUCCESS,
    };
    /// `[2][0][0x04]`.
    pub const FAILED: Self = Self {
        status: AuthStatus::FAILED,
    };

    /// An auth response with `status`.
    pub fn new(status: AuthStatus) -> Self {
        Self { status }
    }

    /// Whether the status is 1.
    pub fn is_success(&self) -> bool {
        self.status == AuthStatus::SUCCESS
    }

    /// Decodes exactly 3 bytes; any other length or shape is an error.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let &[request_type, status, end] = bytes else {
            return Err(DecodeError::WrongLength {
                field: Field::AuthResponse,
                expected: Self::LEN,
                found: bytes.len(),
            });
        };
        if request_type != Self::REQUEST_TYPE {
            return Err(DecodeError::UnexpectedByte {
                field: Field::RequestType,
                at: 0,
                expected: Self::REQUEST_TYPE,
                found: request_type,
            });
        }
        if end != Self::END_OF_FRAME {
            return Err(DecodeError::UnexpectedByte {
                field: Field::EndOfFrame,
                at: 2,
                expected: Self::END_OF_FRAME,
                found: end,
            });
        }
        Ok(Self {
            status: AuthStatus(status),
        })
    }

    /// Appends the 3 bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }

    /// The 3 bytes.
    pub fn to_bytes(&self) -> [u8; 3] {
        [Self::REQUEST_TYPE, self.status.0, Self::END_OF_FRAME]
    }
}

/// A command for the gateway, client to server: `[1][0][UTF-8 command][0x00?]`.
///
/// Not documented in the frame tables; the specs README defines it (MAY) from "Command
/// response- reply to a command you sent". It is answered by a type-1 data frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command<'a> {
    text: &'a str,
    trailing_null: bool,
}

impl<'a> Command<'a> {
    /// A command carrying `text`, without a trailing null (unless `text` ends in NUL).
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            trailing_null: text.ends_with('\0'),
        }
    }

    /// The same command with the trailing null on or off.
    pub fn with_trailing_null(mut self, trailing_null: bool) -> Self {
        self.trailing_null = trailing_null || self.text.ends_with('\0');
        self
    }

    /// The command text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Whether a `0x00` follows the text.
    pub fn has_trailing_null(&self) -> bool {
        self.trailing_null
    }

    /// The command as a data frame.
    pub fn frame(&self) -> DataFrame<'a> {
        DataFrame::from_text(MessageType::COMMAND, self.text).with_trailing_null(self.trailing_null)
    }

    /// Decodes a command frame: type 1, reserved 0, UTF-8 text.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        Self::from_frame(&DataFrame::decode(bytes)?)
    }

    /// The command held by an already decoded frame.
    pub fn from_frame(frame: &DataFrame<'a>) -> Result<Self, DecodeError> {
        if frame.message_type() != MessageType::COMMAND {
            return Err(DecodeError::UnexpectedByte {
                field: Field::MessageType,
                at: 0,
                expected: MessageType::COMMAND.0,
                found: frame.message_type().0,
            });
        }
        if frame.reserved() != DataFrame::RESERVED {
            return Err(DecodeError::UnexpectedByte {
                field: Field::Reserved,
                at: 1,
                expected: DataFrame::RESERVED,
                found: frame.reserved(),
            });
        }
        Ok(Self {
            text: frame.text()?,
            trailing_null: frame.has_trailing_null(),
        })
    }

    /// Appends the encoded frame to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.frame().encode(out);
    }
}

/// Every client-to-server frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientMessage<'a> {
    /// A frame starting with the connection marker `0x01 0x02`.
    Handshake(Handshake<'a>),
    /// A frame starting `[1][0]`: a command (MAY).
    Command(Command<'a>),
    /// Any other `[type][reserved][payload]` frame, kept raw. Never a type-1 frame whose
    /// reserved byte is 0 or 2: those decode as a command or a handshake.
    Other(DataFrame<'a>),
}

impl<'a> ClientMessage<'a> {
    /// Decodes a client frame by its first two bytes.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        if bytes.starts_with(&MARKER) {
            return Handshake::decode(bytes).map(Self::Handshake);
        }
        let frame = DataFrame::decode(bytes)?;
        if frame.message_type() == MessageType::COMMAND && frame.reserved() == DataFrame::RESERVED {
            return Command::from_frame(&frame).map(Self::Command);
        }
        Ok(Self::Other(frame))
    }

    /// Appends the encoded frame to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Handshake(hs) => hs.encode(out),
            Self::Command(cmd) => cmd.encode(out),
            Self::Other(frame) => frame.encode(out),
        }
    }
}

/// Every server-to-client frame.
///
/// Decoding by shape follows the document's first client: 3 bytes ending in `0x04` are an
/// auth response, anything else a data frame. A data frame with that shape (see
/// [`DataFrame::is_ambiguous`]) therefore does not round-trip through this enum; servers
/// never send one. [`super::ClientSession`] tells the two apart by position instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerMessage<'a> {
    /// The 3-byte auth response, always the first frame.
    AuthResponse(AuthResponse),
    /// A data frame from the gateway.
    Data(DataFrame<'a>),
}

impl<'a> ServerMessage<'a> {
    /// Decodes a server frame by its shape.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        if bytes.len() == AuthResponse::LEN && bytes.last() == Some(&AuthResponse::END_OF_FRAME) {
            return AuthResponse::decode(bytes).map(Self::AuthResponse);
        }
        DataFrame::decode(bytes).map(Self::Data)
    }

    /// Appends the encoded frame to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::AuthResponse(resp) => resp.encode(out),
            Self::Data(frame) => frame.encode(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_response_is_exactly_three_bytes() {
        assert_eq!(AuthResponse::decode(&[2, 1, 4]), Ok(AuthResponse::SUCCESS));
        assert_eq!(AuthResponse::decode(&[2, 0, 4]), Ok(AuthResponse::FAILED));
        assert_eq!(
            AuthResponse::decode(&[2, 7, 4]).map(|r| r.status),
            Ok(AuthStatus(7))
        );
        assert_eq!(
            AuthResponse::decode(&[2, 1, 4, 0]),
            Err(DecodeError::WrongLength {
                field: Field::AuthResponse,
                expected: 3,
                found: 4
            })
        );
        assert_eq!(
            AuthResponse::decode(&[3, 1, 4]),
            Err(DecodeError::UnexpectedByte {
                field: Field::RequestType,
                at: 0,
                expected: 2,
                found: 3
            })
        );
        assert_eq!(
            AuthResponse::decode(&[2, 1, 5]),
            Err(DecodeError::UnexpectedByte {
                field: Field::EndOfFrame,
                at: 2,
                expected: 4,
                found: 5
            })
        );
        assert!(!AuthResponse::new(AuthStatus(7)).is_success());
        assert_eq!(format!("{:?}", AuthStatus(7)), "0x07");
    }

    #[test]
    fn client_frames_dispatch_on_their_first_bytes() {
        let hs = Handshake::new("g", "t").unwrap().to_bytes();
        assert!(matches!(
            ClientMessage::decode(&hs),
            Ok(ClientMessage::Handshake(_))
        ));
        let cmd = [1, 0, b'g', b'o', 0];
        let Ok(ClientMessage::Command(c)) = ClientMessage::decode(&cmd) else {
            panic!("command");
        };
        assert_eq!(c.text(), "go");
        assert!(c.has_trailing_null());
        let mut out = Vec::new();
        c.encode(&mut out);
        assert_eq!(out, cmd);
        assert!(matches!(
            ClientMessage::decode(&[9, 0, 1]),
            Ok(ClientMessage::Other(_))
        ));
        assert_eq!(
            ClientMessage::decode(&[1, 0, 0xff]),
            Err(DecodeError::InvalidUtf8 {
                field: Field::Payload,
                offset: 2
            })
        );
    }

    #[test]
    fn command_decode_checks_type_and_reserved() {
        assert_eq!(
            Command::decode(&[2, 0, b'x']),
            Err(DecodeError::UnexpectedByte {
                field: Field::MessageType,
                at: 0,
                expected: 1,
                found: 2
            })
        );
        assert_eq!(
            Command::decode(&[1, 5, b'x']),
            Err(DecodeError::UnexpectedByte {
                field: Field::Reserved,
                at: 1,
                expected: 0,
                found: 5
            })
        );
    }

    #[test]
    fn server_frames_dispatch_on_shape() {
        assert_eq!(
            ServerMessage::decode(&[2, 1, 4]),
            Ok(ServerMessage::AuthResponse(AuthResponse::SUCCESS))
        );
        assert!(matches!(
            ServerMessage::decode(&[100, 0, b'[', b']']),
            Ok(ServerMessage::Data(_))
        ));
        assert!(ServerMessage::decode(&[5, 0, 4]).is_err());
    }
}
