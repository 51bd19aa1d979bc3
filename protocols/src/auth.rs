//! Bearer-token checks shared by every API: the session asks, the application decides.
//!
//! Sessions never parse or sign JWTs themselves; they hold a [`TokenVerifier`] supplied by
//! the application (the simulator's HS256 keys, or a [`TokenTable`] in tests) and map a
//! [`TokenRejection`] to the reply or close code their spec documents.

use std::collections::HashMap;
use std::collections::HashSet;

use crate::time::Timestamp;

/// Access levels (Mosaic documents Admin > Control > Status; the other APIs grant Admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum AccessLevel {
    /// Read-only status access: the minimum for a Mosaic WebSocket.
    Status,
    /// Control access.
    Control,
    /// Full access.
    #[default]
    Admin,
}

/// Who a valid token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's subject (user name, e-mail or API key owner).
    pub subject: String,
    /// The access level the token grants.
    pub access: AccessLevel,
    /// When the token stops being valid.
    pub expires_at: Timestamp,
}

/// Why a token was refused. Each API maps these to its documented wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum TokenRejection {
    /// No token was presented.
    #[error("no token provided")]
    Missing,
    /// The token does not decode or its signature does not verify.
    #[error("token is malformed or its signature is invalid")]
    Invalid,
    /// The token's `exp` is in the past.
    #[error("token has expired")]
    Expired,
    /// The token was revoked (logout, admin action).
    #[error("token has been revoked")]
    Revoked,
    /// The token is valid but its subject no longer exists.
    #[error("token subject not found")]
    UnknownSubject,
}

/// Decides whether a presented token is acceptable at `now`.
pub trait TokenVerifier {
    /// Checks `token` at `now`.
    fn verify(&self, token: &str, now: Timestamp) -> Result<Principal, TokenRejection>;
}

impl<T: TokenVerifier + ?Sized> TokenVerifier for &T {
    fn verify(&self, token: &str, now: Timestamp) -> Result<Principal, TokenRejection> {
        (**self).verify(token, now)
    }
}

impl<T: TokenVerifier + ?Sized> TokenVerifier for std::sync::Arc<T> {
    fn verify(&self, token: &str, now: Timestamp) -> Result<Principal, TokenRejection> {
        (**self).verify(token, now)
    }
}

/// The verifier handle that sessions hold: shared by every connection of a server.
pub type SharedVerifier = std::sync::Arc<dyn TokenVerifier + Send + Sync>;

/// An in-memory token table: opaque token strings mapped to principals, with revocation.
/// Used by tests, fuzz targets and replay, where real JWTs add nothing.
#[derive(Debug, Clone, Default)]
pub struct TokenTable {
    tokens: HashMap<String, Principal>,
    revoked: HashSet<String>,
    deleted_subjects: HashSet<String>,
}

impl TokenTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `token` for `subject`, valid until `expires_at`, with admin access.
    pub fn with(mut self, token: &str, subject: &str, expires_at: Timestamp) -> Self {
        self.insert(token, subject, AccessLevel::Admin, expires_at);
        self
    }

    /// Registers `token` for `subject` with `access`, valid until `expires_at`.
    pub fn insert(
        &mut self,
        token: &str,
        subject: &str,
        access: AccessLevel,
        expires_at: Timestamp,
    ) {
        self.tokens.insert(
            token.to_owned(),
            Principal {
                subject: subject.to_owned(),
                access,
                expires_at,
            },
        );
    }

    /// Revokes `token`.
    pub fn revoke(&mut self, token: &str) {
        self.revoked.insert(token.to_owned());
    }

    /// Marks `subject` as deleted: its tokens verify as [`TokenRejection::UnknownSubject`].
    pub fn delete_subject(&mut self, subject: &str) {
        self.deleted_subjects.insert(subject.to_owned());
    }
}

impl TokenVerifier for TokenTable {
    fn verify(&self, token: &str, now: Timestamp) -> Result<Principal, TokenRejection> {
        if token.is_empty() {
            return Err(TokenRejection::Missing);
        }
        let principal = self.tokens.get(token).ok_or(TokenRejection::Invalid)?;
        if self.revoked.contains(token) {
            return Err(TokenRejection::Revoked);
        }
        if now >= principal.expires_at {
            return Err(TokenRejection::Expired);
        }
        if self.deleted_subjects.contains(&principal.subject) {
            return Err(TokenRejection::UnknownSubject);
        }
        Ok(principal.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_reports_each_rejection() {
        let exp = Timestamp::from_unix_secs(100);
        let mut table = TokenTable::new()
            .with("good", "demo", exp)
            .with("old", "demo", exp);
        table.insert("gone", "ghost", AccessLevel::Status, exp);
        table.revoke("old");
        table.delete_subject("ghost");
        let now = Timestamp::from_unix_secs(50);
        assert_eq!(
            table.verify("good", now).map(|p| p.subject),
            Ok("demo".into())
        );
        assert_eq!(table.verify("", now), Err(TokenRejection::Missing));
        assert_eq!(table.verify("nope", now), Err(TokenRejection::Invalid));
        assert_eq!(table.verify("old", now), Err(TokenRejection::Revoked));
        assert_eq!(
            table.verify("gone", now),
            Err(TokenRejection::UnknownSubject)
        );
        assert_eq!(
            table.verify("good", Timestamp::from_unix_secs(100)),
            Err(TokenRejection::Expired)
        );
    }
}
