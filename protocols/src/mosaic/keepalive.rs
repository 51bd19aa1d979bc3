//! Keep Alive and Detecting Disconnect: the 16-byte binary reply and the session key.

use std::fmt;

use crate::codec::Reader;

use super::error::BinaryProblem;
use super::error::DecodeError;

/// The server-wide session key sent in reply to a keepalive while the session is valid:
/// 16 bytes, never all zero. It stays the same until the controller restarts.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionKey([u8; SessionKey::LEN]);

impl SessionKey {
    /// The key's length, and so the keepalive reply's length, in bytes.
    pub const LEN: usize = 16;

    /// A key from its bytes, or `None` for all zeros (which means "timed out" on the wire).
    pub fn new(bytes: [u8; Self::LEN]) -> Option<Self> {
        (bytes != [0; Self::LEN]).then_some(Self(bytes))
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    /// A key derived from `seed`: deterministic, never all zero, and different for
    /// different seeds (each half is a bijective mix of the seed).
    pub fn from_seed(seed: u64) -> Self {
        let lo = mix(seed).to_le_bytes();
        let hi = mix(seed ^ 0xA5A5_A5A5_A5A5_A5A5).to_le_bytes();
        let mut bytes = [0u8; Self::LEN];
        for (dst, src) in bytes.iter_mut().zip(lo.iter().chain(hi.iter())) {
            *dst = *src;
        }
        // The low half is zero for exactly one seed; the high half then is not.
        Self(bytes)
    }

    /// The key a restart produces: derived from this one, and always different from it.
    pub fn next(&self) -> Self {
        let mut lo = [0u8; 8];
        for (dst, src) in lo.iter_mut().zip(self.0.iter()) {
            *dst = *src;
        }
        let mut seed = u64::from_le_bytes(lo).wrapping_add(0x9E37_79B9_7F4A_7C15);
        loop {
            let key = Self::from_seed(seed);
            if key != *self {
                return key;
            }
            seed = seed.wrapping_add(1);
        }
    }
}

/// splitmix64's finaliser: a bijection on `u64`.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKey(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// The binary reply to a keepalive when controller security is enabled.
///
/// "If the response contains a binary object of all zeros, that indicates that the session
/// has timed out. [...] If the response binary object is non-zero, it is a session key and
/// indicates the session is still valid." With security off the reply is the text `{}`
/// instead ([`super::ServerMessage::KeepaliveAck`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeepaliveReply {
    /// 16 zero bytes: the session timed out; close and re-authenticate.
    TimedOut,
    /// A non-zero session key: the session is valid.
    SessionKey(SessionKey),
}

impl KeepaliveReply {
    /// Decodes a binary frame of exactly [`SessionKey::LEN`] bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(bytes);
        let key = reader
            .take(SessionKey::LEN)
            .and_then(|b| <[u8; SessionKey::LEN]>::try_from(b).ok())
            .ok_or(DecodeError::Binary {
                offset: bytes.len(),
                field: "session_key",
                problem: BinaryProblem::Truncated {
                    needed: SessionKey::LEN,
                },
            })?;
        if !reader.is_empty() {
            return Err(DecodeError::Binary {
                offset: reader.offset(),
                field: "end of frame",
                problem: BinaryProblem::TrailingBytes(reader.remaining()),
            });
        }
        Ok(SessionKey::new(key).map_or(Self::TimedOut, Self::SessionKey))
    }

    /// Appends the 16 bytes of the reply to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }

    /// The 16 bytes of the reply.
    pub fn to_bytes(&self) -> [u8; SessionKey::LEN] {
        match self {
            Self::TimedOut => [0; SessionKey::LEN],
            Self::SessionKey(key) => *key.as_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_mean_timed_out_and_anything_else_is_a_key() {
        assert_eq!(
            KeepaliveReply::decode(&[0; 16]),
            Ok(KeepaliveReply::TimedOut)
        );
        let mut bytes = [0; 16];
        bytes[15] = 1;
        let reply = KeepaliveReply::decode(&bytes).unwrap();
        assert_eq!(
            reply,
            KeepaliveReply::SessionKey(SessionKey::new(bytes).unwrap())
        );
        assert_eq!(reply.to_bytes(), bytes);
        assert_eq!(SessionKey::new([0; 16]), None);
    }

    #[test]
    fn other_lengths_are_refused_with_the_offset() {
        assert_eq!(
            KeepaliveReply::decode(&[1; 15]),
            Err(DecodeError::Binary {
                offset: 15,
                field: "session_key",
                problem: BinaryProblem::Truncated { needed: 16 }
            })
        );
        assert_eq!(
            KeepaliveReply::decode(&[]),
            Err(DecodeError::Binary {
                offset: 0,
                field: "session_key",
                problem: BinaryProblem::Truncated { needed: 16 }
            })
        );
        assert_eq!(
            KeepaliveReply::decode(&[1; 17]),
            Err(DecodeError::Binary {
                offset: 16,
                field: "end of frame",
                problem: BinaryProblem::TrailingBytes(1)
            })
        );
    }

    #[test]
    fn derived_keys_are_non_zero_distinct_and_stable() {
        let a = SessionKey::from_seed(0);
        assert_eq!(a, SessionKey::from_seed(0));
        assert_ne!(a.as_bytes(), &[0; 16]);
        assert_ne!(a, SessionKey::from_seed(1));
        let b = a.next();
        assert_ne!(a, b);
        assert_ne!(b, b.next());
        assert_eq!(
            format!("{:?}", SessionKey::new([0xab; 16]).unwrap()),
            "SessionKey(abababababababababababababababab)"
        );
    }
}
