//! What a recording never holds: tokens, passwords, API keys and session keys, wherever
//! they appear (README "Record and replay", "What is redacted").

use serde_json::Value;

use super::format::REDACTED;

/// JSON keys whose string values are always secrets.
const SECRET_KEYS: &[&str] = &[
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "password",
    "api_key",
    "apikey",
    "x-api-key",
    "secret",
    "session_key",
    "jwt",
    "authorization",
];

/// Query parameters whose values are secrets.
const SECRET_PARAMS: &[&str] = &["token", "access_token", "api_key", "apikey", "key", "jwt"];

/// Replaces the secrets of one recording session.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// A redactor for these known secrets (the token, password and API key in use), on top
    /// of the secret keys, query parameters and JWTs it always finds.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        // Longest first, so that a secret holding another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { secrets }
    }

    /// Adds a secret learnt during the session (a token obtained by logging in).
    pub fn add(&mut self, secret: &str) {
        if !secret.is_empty() && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_owned());
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// A text frame with its secrets replaced; the original text, byte for byte, when it
    /// holds none.
    pub fn text(&self, text: &str) -> String {
        if let Ok(mut value) = serde_json::from_str::<Value>(text)
            && (value.is_object() || value.is_array())
        {
            if self.value(&mut value) {
                return value.to_string();
            }
            return text.to_owned();
        }
        self.plain(text).unwrap_or_else(|| text.to_owned())
    }

    /// Binary bytes with every known secret replaced, when one occurs.
    pub fn binary(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let mut out = bytes.to_vec();
        let mut changed = false;
        for secret in &self.secrets {
            let needle = secret.as_bytes();
            let mut i = 0;
            let mut next = Vec::with_capacity(out.len());
            while i < out.len() {
                if out.get(i..i + needle.len()) == Some(needle) {
                    next.extend_from_slice(REDACTED.as_bytes());
                    i += needle.len();
                    changed = true;
                } else if let Some(b) = out.get(i) {
                    next.push(*b);
                    i += 1;
                }
            }
            out = next;
        }
        changed.then_some(out)
    }

    /// `url` with the values of token-like query parameters, and any known secret,
    /// redacted.
    pub fn url(&self, url: &str) -> String {
        let (base, query) = match url.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (url, None),
        };
        let mut out = self.plain(base).unwrap_or_else(|| base.to_owned());
        if let Some(query) = query {
            out.push('?');
            let parts: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _))
                        if SECRET_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(name)) =>
                    {
                        format!("{name}={REDACTED}")
                    }
                    _ => self.plain(pair).unwrap_or_else(|| pair.to_owned()),
                })
                .collect();
            out.push_str(&parts.join("&"));
        }
        out
    }

    /// Redacts inside a JSON value; whether anything changed.
    fn value(&self, value: &mut Value) -> bool {
        match value {
            Value::String(s) => match self.plain(s) {
                Some(redacted) => {
                    *s = redacted;
                    true
                }
                None => false,
            },
            Value::Array(items) => {
                // Every item is visited: no short circuit.
                let mut changed = false;
                for item in items {
                    changed |= self.value(item);
                }
                changed
            }
            Value::Object(map) => {
                let mut changed = false;
                for (key, item) in map.iter_mut() {
                    let secret_key = SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key));
                    if secret_key && item.is_string() {
                        if item.as_str() != Some(REDACTED) {
                            *item = Value::String(REDACTED.to_owned());
                            changed = true;
                        }
                    } else {
                        changed |= self.value(item);
                    }
                }
                changed
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }

    /// Free text with known secrets and JWTs replaced; `None` when it holds none.
    fn plain(&self, text: &str) -> Option<String> {
        let mut out = replace_jwts(text);
        for secret in &self.secrets {
            if out.as_deref().unwrap_or(text).contains(secret.as_str()) {
                out = Some(
                    out.as_deref()
                        .unwrap_or(text)
                        .replace(secret.as_str(), REDACTED),
                );
            }
        }
        out
    }
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// The length of the JWT (`eyJ...` `.` `...` `.` `...`) starting at `bytes[0]`, if one does.
fn jwt_len(bytes: &[u8]) -> Option<usize> {
    if !bytes.starts_with(b"eyJ") {
        return None;
    }
    let segment = |from: usize| {
        bytes
            .get(from..)
            .map_or(0, |rest| rest.iter().take_while(|b| is_b64url(**b)).count())
    };
    let header = segment(0);
    if bytes.get(header) != Some(&b'.') {
        return None;
    }
    let payload = segment(header + 1);
    if payload == 0 || bytes.get(header + 1 + payload) != Some(&b'.') {
        return None;
    }
    let signature = segment(header + payload + 2);
    Some(header + payload + 2 + signature)
}

/// `text` with every JWT replaced; `None` when it holds none.
fn replace_jwts(text: &str) -> Option<String> {
    if !text.contains("eyJ") {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    let mut found = false;
    while i < bytes.len() {
        let at_boundary = i == 0 || bytes.get(i - 1).is_none_or(|b| !is_b64url(*b));
        match bytes.get(i..).filter(|_| at_boundary).and_then(jwt_len) {
            Some(len) => {
                out.push_str(text.get(copied..i)?);
                out.push_str(REDACTED);
                i += len;
                copied = i;
                found = true;
            }
            None => i += 1,
        }
    }
    if !found {
        return None;
    }
    out.push_str(text.get(copied..)?);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl";

    #[test]
    fn secret_keys_jwts_and_known_secrets_are_replaced() {
        let r = Redactor::new(["hunter22".to_owned()]);
        assert_eq!(
            r.text(r#"{"type":"auth","token":"abc"}"#),
            r#"{"token":"<redacted>","type":"auth"}"#
        );
        assert_eq!(
            r.text(&format!(r#"{{"log":"user hunter22 sent Bearer {JWT}!"}}"#)),
            r#"{"log":"user <redacted> sent Bearer <redacted>!"}"#
        );
        // Untouched frames stay byte for byte (key order, number forms).
        let data = r#"{"z":1.50,"a":[1,2]}"#;
        assert_eq!(r.text(data), data);
        assert_eq!(r.text("plain hunter22"), "plain <redacted>");
        assert_eq!(
            r.url(&format!("ws://h:1/ws?x=1&token={JWT}")),
            "ws://h:1/ws?x=1&token=<redacted>"
        );
        assert_eq!(
            r.binary(b"\x01hunter22\x02").unwrap(),
            b"\x01<redacted>\x02".to_vec()
        );
        assert_eq!(r.binary(b"nothing"), None);
        assert_eq!(replace_jwts("eyJ.not"), None);
        assert_eq!(replace_jwts("xeyJa.b.c"), None, "not at a boundary");
    }
}
