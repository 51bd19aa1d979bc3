//! Real HS256 JWTs for every simulated API: issued by the token endpoints, checked by the sessions.

use std::collections::HashSet;
use std::sync::RwLock;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::EncodingKey;
use jsonwebtoken::Header;
use jsonwebtoken::Validation;
use serde::Deserialize;
use serde::Serialize;
use telewire_protocols::auth::AccessLevel;
use telewire_protocols::auth::Principal;
use telewire_protocols::auth::TokenRejection;
use telewire_protocols::auth::TokenVerifier;
use telewire_protocols::time::Timestamp;

/// The claims of a simulator token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Subject: the user name, e-mail or API key owner.
    pub sub: String,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Expires at, seconds since the epoch.
    pub exp: u64,
    /// Token id, the handle for revocation.
    pub jti: String,
    /// Issuer: `telewire-<api>`.
    pub iss: String,
    /// Access level (Mosaic): `admin`, `control` or `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
}

/// Issues and verifies the tokens of one simulated API.
///
/// Verification checks the signature and the algorithm with `jsonwebtoken`, then `exp`
/// against the `now` the session passes in (so virtual time works), then revocation and
/// whether the subject still exists.
pub struct JwtAuthority {
    issuer: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
    revoked: RwLock<HashSet<String>>,
    deleted_subjects: RwLock<HashSet<String>>,
    next_id: std::sync::atomic::AtomicU64,
    /// Tokens numbered below this have expired (the `token-expiry` fault).
    expired_below: std::sync::atomic::AtomicU64,
    /// Tokens numbered below this are revoked (the `revoke-token` fault).
    revoked_below: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for JwtAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtAuthority")
            .field("issuer", &self.issuer)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl JwtAuthority {
    /// An authority for `issuer` signing with `secret`, issuing tokens that live `ttl`.
    pub fn new(issuer: &str, secret: &[u8], ttl: Duration) -> Self {
        Self {
            issuer: issuer.to_owned(),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl,
            revoked: RwLock::new(HashSet::new()),
            deleted_subjects: RwLock::new(HashSet::new()),
            next_id: std::sync::atomic::AtomicU64::new(1),
            expired_below: std::sync::atomic::AtomicU64::new(0),
            revoked_below: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// How long issued tokens live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Issues a token for `subject` with `access`, valid from `now` for the authority's ttl.
    pub fn issue(&self, subject: &str, access: AccessLevel, now: Timestamp) -> String {
        self.issue_for(subject, access, now, self.ttl)
    }

    /// Issues a token for `subject` valid for `ttl` from `now` (a zero ttl gives an expired one).
    pub fn issue_for(
        &self,
        subject: &str,
        access: AccessLevel,
        now: Timestamp,
        ttl: Duration,
    ) -> String {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let claims = Claims {
            sub: subject.to_owned(),
            iat: now.as_unix_secs(),
            exp: now.saturating_add(ttl).as_unix_secs(),
            jti: format!("{}-{id}-{}", self.issuer, now.as_unix_micros()),
            iss: self.issuer.clone(),
            access: Some(access_name(access).to_owned()),
        };
        // HS256 signing of a plain struct cannot fail; an empty string would be rejected later.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_default()
    }

    /// The claims of `token` if its signature verifies, whatever its expiry.
    pub fn claims(&self, token: &str) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.set_issuer(&[self.issuer.as_str()]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }

    /// Revokes `token` (logout). Returns false when it does not verify.
    pub fn revoke(&self, token: &str) -> bool {
        match self.claims(token) {
            Some(claims) => {
                if let Ok(mut revoked) = self.revoked.write() {
                    revoked.insert(claims.jti);
                }
                true
            }
            None => false,
        }
    }

    /// Every token issued so far expires now (the `token-expiry` fault); later ones do not.
    pub fn expire_issued(&self) {
        let next = self.next_id.load(std::sync::atomic::Ordering::Relaxed);
        self.expired_below
            .fetch_max(next, std::sync::atomic::Ordering::Relaxed);
    }

    /// Every token issued so far is revoked (the `revoke-token` fault), as by logout.
    pub fn revoke_issued(&self) {
        let next = self.next_id.load(std::sync::atomic::Ordering::Relaxed);
        self.revoked_below
            .fetch_max(next, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the token numbered in `jti` is below `limit`.
    fn numbered_below(&self, jti: &str, limit: &std::sync::atomic::AtomicU64) -> bool {
        let limit = limit.load(std::sync::atomic::Ordering::Relaxed);
        // `jti` is `<issuer>-<number>-<micros>`; the issuer may hold dashes.
        limit > 0
            && jti
                .rsplit('-')
                .nth(1)
                .and_then(|n| n.parse::<u64>().ok())
                .is_some_and(|n| n < limit)
    }

    /// Marks `subject` deleted: its tokens are refused as [`TokenRejection::UnknownSubject`].
    pub fn delete_subject(&self, subject: &str) {
        if let Ok(mut deleted) = self.deleted_subjects.write() {
            deleted.insert(subject.to_owned());
        }
    }
}

fn access_name(access: AccessLevel) -> &'static str {
    match access {
        AccessLevel::Status => "status",
        AccessLevel::Control => "control",
        AccessLevel::Admin => "admin",
    }
}

fn access_from(name: Option<&str>) -> AccessLevel {
    match name {
        Some("status") => AccessLevel::Status,
        Some("control") => AccessLevel::Control,
        _ => AccessLevel::Admin,
    }
}

/// A verifier that takes expired tokens as valid for another hour (a deliberate fault,
/// `telewire serve --break`): every other check of the wrapped verifier still applies.
pub struct AcceptExpired(pub telewire_protocols::auth::SharedVerifier);

impl std::fmt::Debug for AcceptExpired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AcceptExpired")
    }
}

impl TokenVerifier for AcceptExpired {
    fn verify(&self, token: &str, now: Timestamp) -> Result<Principal, TokenRejection> {
        match self.0.verify(token, now) {
            Err(TokenRejection::Expired) => {
                let mut principal = self.0.verify(token, Timestamp::from_unix_secs(0))?;
                principal.expires_at = now + Duration::from_secs(3600);
                Ok(principal)
            }
            other => other,
        }
    }
}

impl TokenVerifier for JwtAuthority {
    fn verify(&self, token: &str, now: Timestamp) -> Result<Principal, TokenRejection> {
        if token.is_empty() {
            return Err(TokenRejection::Missing);
        }
        let claims = self.claims(token).ok_or(TokenRejection::Invalid)?;
        if self
            .revoked
            .read()
            .map(|r| r.contains(&claims.jti))
            .unwrap_or(false)
            || self.numbered_below(&claims.jti, &self.revoked_below)
        {
            return Err(TokenRejection::Revoked);
        }
        if now.as_unix_secs() >= claims.exp || self.numbered_below(&claims.jti, &self.expired_below)
        {
            return Err(TokenRejection::Expired);
        }
        if self
            .deleted_subjects
            .read()
            .map(|d| d.contains(&claims.sub))
            .unwrap_or(false)
        {
            return Err(TokenRejection::UnknownSubject);
        }
        Ok(Principal {
            subject: claims.sub,
            access: access_from(claims.access.as_deref()),
            expires_at: Timestamp::from_unix_secs(claims.exp),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: u64) -> Timestamp {
        Timestamp::from_unix_secs(secs)
    }

    #[test]
    fn issued_tokens_verify_until_they_expire() {
        let jwt = JwtAuthority::new("telewire-test", b"secret", Duration::from_secs(60));
        let token = jwt.issue("demo", AccessLevel::Status, t(1_000));
        let p = jwt.verify(&token, t(1_059)).unwrap();
        assert_eq!(p.subject, "demo");
        assert_eq!(p.access, AccessLevel::Status);
        assert_eq!(jwt.verify(&token, t(1_060)), Err(TokenRejection::Expired));
    }

    #[test]
    fn tampered_foreign_revoked_and_deleted_tokens_are_refused() {
        let jwt = JwtAuthority::new("telewire-test", b"secret", Duration::from_secs(60));
        let token = jwt.issue("demo", AccessLevel::Admin, t(0));
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(jwt.verify(&tampered, t(1)), Err(TokenRejection::Invalid));
        let other = JwtAuthority::new("telewire-test", b"other", Duration::from_secs(60));
        assert_eq!(
            jwt.verify(&other.issue("demo", AccessLevel::Admin, t(0)), t(1)),
            Err(TokenRejection::Invalid)
        );
        assert_eq!(jwt.verify("", t(1)), Err(TokenRejection::Missing));
        assert_eq!(jwt.verify("not.a.jwt", t(1)), Err(TokenRejection::Invalid));
        assert!(jwt.revoke(&token));
        assert_eq!(jwt.verify(&token, t(1)), Err(TokenRejection::Revoked));
        let second = jwt.issue("ghost", AccessLevel::Admin, t(0));
        jwt.delete_subject("ghost");
        assert_eq!(
            jwt.verify(&second, t(1)),
            Err(TokenRejection::UnknownSubject)
        );
    }

    #[test]
    fn issued_tokens_expire_or_are_revoked_on_demand_and_later_ones_are_not() {
        let jwt = JwtAuthority::new("telewire-test-api", b"secret", Duration::from_secs(60));
        let early = jwt.issue("demo", AccessLevel::Admin, t(1_000));
        jwt.expire_issued();
        assert_eq!(jwt.verify(&early, t(1_001)), Err(TokenRejection::Expired));
        let later = jwt.issue("demo", AccessLevel::Admin, t(1_000));
        assert!(jwt.verify(&later, t(1_001)).is_ok());
        jwt.revoke_issued();
        assert_eq!(jwt.verify(&later, t(1_001)), Err(TokenRejection::Revoked));
        let last = jwt.issue("demo", AccessLevel::Admin, t(1_000));
        assert!(jwt.verify(&last, t(1_001)).is_ok());
    }

    #[test]
    fn the_accept_expired_fault_takes_only_expired_tokens() {
        let jwt = std::sync::Arc::new(JwtAuthority::new(
            "telewire-test",
            b"secret",
            Duration::from_secs(60),
        ));
        let faulty = AcceptExpired(jwt.clone());
        let token = jwt.issue("demo", AccessLevel::Admin, t(1_000));
        let p = faulty.verify(&token, t(5_000)).unwrap();
        assert_eq!(p.subject, "demo");
        assert_eq!(p.expires_at, t(8_600));
        assert_eq!(
            faulty.verify("not.a.jwt", t(1)),
            Err(TokenRejection::Invalid)
        );
        assert!(jwt.revoke(&token));
        assert_eq!(
            faulty.verify(&token, t(5_000)),
            Err(TokenRejection::Revoked)
        );
    }
}
