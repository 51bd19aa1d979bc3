//! Step 3, "Send the Handshake": `[0x01][0x02][idLen][gatewayId][tokLen][token][0x01][0x04]`.

use std::fmt;

use crate::codec::Reader;

use super::error::DecodeError;
use super::error::Field;

/// The client connection marker that opens a handshake.
pub const MARKER: [u8; 2] = [0x01, 0x02];
/// The end-of-message sentinel that closes a handshake.
pub const SENTINEL: [u8; 2] = [0x01, 0x04];
/// The longest gateway id or token a u16 length field can describe.
pub const MAX_FIELD_LEN: usize = u16::MAX as usize;
/// Bytes of a handshake besides the gateway id and the token: marker, two lengths, sentinel.
pub const HANDSHAKE_OVERHEAD: usize = 8;

/// A gateway id or token too long for its u16 length field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{field} is {len} bytes; a handshake field holds at most 65535")]
pub struct FieldTooLong {
    /// [`Field::GatewayId`] or [`Field::Token`].
    pub field: Field,
    /// The field's length in bytes.
    pub len: usize,
}

/// The binary handshake: which gateway to relay, and the JWT that proves who asks.
///
/// Both strings borrow from the decoded frame. A `Handshake` always holds fields of at most
/// 65 535 bytes (construction checks it), so encoding cannot truncate. Its `Debug` output
/// shows the token's length, never the token ("Never log or store the raw JWT").
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Handshake<'a> {
    gateway_id: &'a str,
    token: &'a str,
}

impl<'a> Handshake<'a> {
    /// A handshake for `gateway_id` carrying `token`, or which field is too long.
    pub fn new(gateway_id: &'a str, token: &'a str) -> Result<Self, FieldTooLong> {
        check_len(Field::GatewayId, gateway_id)?;
        check_len(Field::Token, token)?;
        Ok(Self { gateway_id, token })
    }

    /// The gateway id.
    pub fn gateway_id(&self) -> &'a str {
        self.gateway_id
    }

    /// The JWT.
    pub fn token(&self) -> &'a str {
        self.token
    }

    /// The encoded length: 8 bytes plus both fields.
    pub fn encoded_len(&self) -> usize {
        HANDSHAKE_OVERHEAD + self.gateway_id.len() + self.token.len()
    }

    /// Decodes a complete handshake frame, rejecting trailing bytes.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let marker = fixed2(&mut r, Field::Marker)?;
        if marker != MARKER {
            return Err(DecodeError::BadMarker { found: marker });
        }
        let gateway_id = length_prefixed(&mut r, Field::GatewayIdLength, Field::GatewayId)?;
        let token = length_prefixed(&mut r, Field::TokenLength, Field::Token)?;
        let at = r.offset();
        let sentinel = match r.take(2) {
            Some(&[a, b]) => [a, b],
            _ => {
                return Err(DecodeError::MissingSentinel {
                    at,
                    found: r.rest().first().copied(),
                });
            }
        };
        if sentinel != SENTINEL {
            return Err(DecodeError::BadSentinel {
                found: sentinel,
                at,
            });
        }
        if !r.is_empty() {
            return Err(DecodeError::TrailingBytes {
                at: r.offset(),
                count: r.remaining(),
            });
        }
        Ok(Self { gateway_id, token })
    }

    /// Appends the encoded handshake to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.reserve(self.encoded_len());
        out.extend_from_slice(&MARKER);
        put_field(out, self.gateway_id);
        put_field(out, self.token);
        out.extend_from_slice(&SENTINEL);
    }

    /// The encoded handshake as a new buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out
    }
}

impl fmt::Debug for Handshake<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handshake")
            .field("gateway_id", &self.gateway_id)
            .field("token", &format_args!("<{} bytes>", self.token.len()))
            .finish()
    }
}

/// The document's `buildHandshake(gatewayId, token)`: the encoded handshake, or a typed
/// error when a field does not fit its u16 length (the JavaScript silently truncates it).
pub fn build_handshake(gateway_id: &str, token: &str) -> Result<Vec<u8>, FieldTooLong> {
    Ok(Handshake::new(gateway_id, token)?.to_bytes())
}

fn check_len(field: Field, value: &str) -> Result<(), FieldTooLong> {
    if value.len() > MAX_FIELD_LEN {
        return Err(FieldTooLong {
            field,
            len: value.len(),
        });
    }
    Ok(())
}

fn put_field(out: &mut Vec<u8>, value: &str) {
    // `Handshake::new` and `decode` guarantee the length fits; saturating keeps this total.
    let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value.as_bytes());
}

fn fixed2(r: &mut Reader<'_>, field: Field) -> Result<[u8; 2], DecodeError> {
    match r.take(2) {
        Some(&[a, b]) => Ok([a, b]),
        _ => Err(DecodeError::TooShort {
            field,
            needed: 2,
            at: r.offset(),
            available: r.remaining(),
        }),
    }
}

fn length_prefixed<'a>(
    r: &mut Reader<'a>,
    len_field: Field,
    field: Field,
) -> Result<&'a str, DecodeError> {
    let len_at = r.offset();
    let len = r.u16_be().ok_or(DecodeError::TooShort {
        field: len_field,
        needed: 2,
        at: len_at,
        available: r.remaining(),
    })?;
    let at = r.offset();
    let declared = usize::from(len);
    let bytes = r.take(declared).ok_or(DecodeError::LengthMismatch {
        field,
        declared,
        at,
        available: r.remaining(),
    })?;
    std::str::from_utf8(bytes).map_err(|e| DecodeError::InvalidUtf8 {
        field,
        offset: at + e.valid_up_to(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(id: &[u8], token: &[u8]) -> Vec<u8> {
        let mut out = MARKER.to_vec();
        out.extend_from_slice(&(id.len() as u16).to_be_bytes());
        out.extend_from_slice(id);
        out.extend_from_slice(&(token.len() as u16).to_be_bytes());
        out.extend_from_slice(token);
        out.extend_from_slice(&SENTINEL);
        out
    }

    #[test]
    fn decodes_the_documented_layout_and_borrows() {
        let bytes = frame(b"gw-1", b"a.b.c");
        let hs = Handshake::decode(&bytes).unwrap();
        assert_eq!(hs.gateway_id(), "gw-1");
        assert_eq!(hs.token(), "a.b.c");
        assert!(std::ptr::eq(hs.gateway_id().as_ptr(), bytes[4..].as_ptr()));
        assert_eq!(hs.to_bytes(), bytes);
        assert_eq!(hs.encoded_len(), bytes.len());
    }

    #[test]
    fn too_short_says_which_field_and_where() {
        assert_eq!(
            Handshake::decode(&[0x01]),
            Err(DecodeError::TooShort {
                field: Field::Marker,
                needed: 2,
                at: 0,
                available: 1
            })
        );
        assert_eq!(
            Handshake::decode(&[0x01, 0x02, 0x00]),
            Err(DecodeError::TooShort {
                field: Field::GatewayIdLength,
                needed: 2,
                at: 2,
                available: 1
            })
        );
        assert_eq!(
            Handshake::decode(&[0x01, 0x02, 0x00, 0x01, b'g']),
            Err(DecodeError::TooShort {
                field: Field::TokenLength,
                needed: 2,
                at: 5,
                available: 0
            })
        );
    }

    #[test]
    fn wrong_marker() {
        let mut bytes = frame(b"g", b"t");
        bytes[1] = 0x03;
        assert_eq!(
            Handshake::decode(&bytes),
            Err(DecodeError::BadMarker { found: [1, 3] })
        );
    }

    #[test]
    fn lengths_inconsistent_with_the_frame() {
        let mut bytes = frame(b"gw", b"tok");
        bytes[3] = 40;
        assert_eq!(
            Handshake::decode(&bytes),
            Err(DecodeError::LengthMismatch {
                field: Field::GatewayId,
                declared: 40,
                at: 4,
                available: 9
            })
        );
        let mut bytes = frame(b"gw", b"tok");
        bytes[7] = 9;
        assert_eq!(
            Handshake::decode(&bytes),
            Err(DecodeError::LengthMismatch {
                field: Field::Token,
                declared: 9,
                at: 8,
                available: 5
            })
        );
    }

    #[test]
    fn invalid_utf8_names_field_and_offset() {
        let bytes = frame(b"ok", b"t\xffk");
        assert_eq!(
            Handshake::decode(&bytes),
            Err(DecodeError::InvalidUtf8 {
                field: Field::Token,
                offset: 9
            })
        );
        let bytes = frame(b"\xc3", b"t");
        assert_eq!(
            Handshake::decode(&bytes),
            Err(DecodeError::InvalidUtf8 {
                field: Field::GatewayId,
                offset: 4
            })
        );
    }

    #[test]
    fn sentinel_missing_wrong_and_trailing_bytes() {
        let mut bytes = frame(b"g", b"t");
        bytes.truncate(bytes.len() - 2);
        assert_eq!(
            Handshake::decode(&bytes),
            Err(DecodeError::MissingSentinel { at: 8, found: None })
        );
        let mut bytes = frame(b"g", b"t");
        bytes.pop();
        assert_eq!(
            Handshake::decode(&bytes),
            Err(DecodeError::MissingSentinel {
                at: 8,
                found: Some(1)
            })
        );
        let mut bytes = frame(b"g", b"t");
        let last = bytes.len() - 1;
        bytes[last] = 0x05;
        assert_eq!(
            Handshake::decode(&bytes),
            Err(DecodeError::BadSentinel {
                found: [1, 5],
                at: 8
            })
        );
        let mut bytes = frame(b"g", b"t");
        bytes.extend_from_slice(&[0, 0, 0]);
        assert_eq!(
            Handshake::decode(&bytes),
            Err(DecodeError::TrailingBytes { at: 10, count: 3 })
        );
    }

    #[test]
    fn fields_over_65535_bytes_are_typed_errors() {
        let long = "x".repeat(MAX_FIELD_LEN + 1);
        assert_eq!(
            Handshake::new(&long, "t"),
            Err(FieldTooLong {
                field: Field::GatewayId,
                len: 65_536
            })
        );
        assert_eq!(
            build_handshake("g", &long),
            Err(FieldTooLong {
                field: Field::Token,
                len: 65_536
            })
        );
        let max = "y".repeat(MAX_FIELD_LEN);
        let bytes = build_handshake(&max, "").unwrap();
        assert_eq!(&bytes[2..4], &[0xff, 0xff]);
        assert_eq!(Handshake::decode(&bytes).unwrap().gateway_id(), max);
    }

    #[test]
    fn debug_hides_the_token() {
        let hs = Handshake::new("gw", "secret.jwt.value").unwrap();
        let shown = format!("{hs:?}");
        assert!(!shown.contains("secret"));
        assert!(shown.contains("<16 bytes>"));
    }
}
