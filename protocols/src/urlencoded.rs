//! `application/x-www-form-urlencoded` bodies and `?query` values, shared by every API.
//!
//! Molecule's token request (molecule.txt step 1, written by `URLSearchParams`), Mosaic's
//! form login, and the `?token=` of WebMACS and the robot API all go through here.
//!
//! The serializer is the WHATWG URL Standard's: bytes `A-Z a-z 0-9 * - . _` stay as they
//! are, space becomes `+`, every other byte becomes `%XX` (upper-case hex). The parser
//! splits on `&` (skipping empty sequences) and the first `=`, turns `+` into space and
//! decodes `%XX`; unlike the lenient WHATWG parser it reports a malformed escape and text
//! that is not UTF-8 after decoding, with the byte offset.

/// A form-urlencoded body that does not decode into the expected fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// A `%` not followed by two hex digits.
    #[error("malformed percent escape at offset {offset}")]
    BadEscape {
        /// Offset of the `%`.
        offset: usize,
    },
    /// A name or value that is not UTF-8 once its escapes are decoded.
    #[error("name or value at offset {offset} is not UTF-8 once decoded")]
    InvalidUtf8 {
        /// Offset of the name or value in the body.
        offset: usize,
    },
    /// A required field is absent.
    #[error("missing field {0:?}")]
    MissingField(&'static str),
    /// A field appears twice ("parameters MUST NOT be included more than once", RFC 6749 §3.2).
    #[error("field {0:?} appears more than once")]
    DuplicateField(String),
}

/// Appends `pairs` to `out`, form-urlencoded and joined by `&`.
pub fn encode_form<'p>(pairs: impl IntoIterator<Item = (&'p str, &'p str)>, out: &mut Vec<u8>) {
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        encode_component(name, out);
        out.push(b'=');
        encode_component(value, out);
    }
}

/// Decodes a form body into its name/value pairs, in order.
pub fn decode_form(body: &str) -> Result<Vec<(String, String)>, FormError> {
    let mut pairs = Vec::new();
    let mut start = 0;
    for sequence in body.split('&') {
        let seq_start = start;
        start += sequence.len() + 1;
        if sequence.is_empty() {
            continue;
        }
        let (name, value, value_start) = match sequence.split_once('=') {
            Some((name, value)) => (name, value, seq_start + name.len() + 1),
            None => (sequence, "", seq_start + sequence.len()),
        };
        pairs.push((
            decode_component(name, seq_start)?,
            decode_component(value, value_start)?,
        ));
    }
    Ok(pairs)
}

/// Appends one form component: `A-Z a-z 0-9 * - . _` as they are, space as `+`, the rest
/// `%XX`.
pub fn encode_component(text: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(b),
            b' ' => out.push(b'+'),
            _ => {
                let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
                let lo = HEX.get(usize::from(b & 0x0f)).copied().unwrap_or(b'0');
                out.extend_from_slice(&[b'%', hi, lo]);
            }
        }
    }
}

/// Decodes one form component strictly: `+` is a space, `%XX` a byte, and a malformed
/// escape or non-UTF-8 result is an error; `offset` is where `text` starts in its body.
pub fn decode_component(text: &str, offset: usize) -> Result<String, FormError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|&h| hex_value(h));
                let lo = bytes.get(i + 2).and_then(|&l| hex_value(l));
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(FormError::BadEscape { offset: offset + i });
                };
                out.push((hi << 4) | lo);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| FormError::InvalidUtf8 { offset })
}

/// Percent-encodes `value` for a URL query (RFC 3986 §2.1): unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`) are kept, every other UTF-8 byte becomes `%XX`. A JWT (base64url
/// and dots) passes unchanged.
pub fn encode_query_value(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.extend(HEX.get(usize::from(b >> 4)).map(|&h| char::from(h)));
            out.extend(HEX.get(usize::from(b & 0x0f)).map(|&h| char::from(h)));
        }
    }
    out
}

/// Decodes a query component leniently, as browsers and web frameworks do: `%XX` becomes
/// the byte and `+` a space; a `%` not followed by two hex digits is kept literally, and
/// bytes that are not UTF-8 become U+FFFD.
pub fn decode_lenient(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = match (b, bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&hi), Some(&lo)) => {
                hex_value(hi).zip(hex_value(lo)).map(|(h, l)| (h << 4) | l)
            }
            _ => None,
        };
        match escaped {
            Some(decoded) => {
                out.push(decoded);
                i += 3;
            }
            None => {
                out.push(if b == b'+' { b' ' } else { b });
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The values of parameter `name` in a query string (without the `?`), leniently decoded,
/// in order of appearance.
pub fn query_values<'q>(query: &'q str, name: &'q str) -> impl Iterator<Item = String> + 'q {
    query.split('&').filter_map(move |pair| {
        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode_lenient(n) == name).then(|| decode_lenient(v))
    })
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(pairs: &[(&str, &str)]) -> String {
        let mut out = Vec::new();
        encode_form(pairs.iter().copied(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn encodes_like_url_search_params() {
        assert_eq!(
            encoded(&[
                ("username", "user@example.com"),
                ("password", "p&ss w=rd~é")
            ]),
            "username=user%40example.com&password=p%26ss+w%3Drd%7E%C3%A9"
        );
        assert_eq!(encoded(&[("a*-._", "")]), "a*-._=");
    }

    #[test]
    fn decodes_plus_escapes_and_bare_names() {
        let pairs = decode_form("a=1+2%2B3&&b&c=%C3%A9&d=x=y").unwrap();
        let pairs: Vec<_> = pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(pairs, [("a", "1 2+3"), ("b", ""), ("c", "é"), ("d", "x=y")]);
        assert_eq!(decode_form("").unwrap(), []);
    }

    #[test]
    fn reports_bad_escapes_and_bad_utf8_with_offsets() {
        assert_eq!(
            decode_form("a=1&b=%4"),
            Err(FormError::BadEscape { offset: 6 })
        );
        assert_eq!(
            decode_form("ab=%zz"),
            Err(FormError::BadEscape { offset: 3 })
        );
        assert_eq!(
            decode_form("x=1&n%FF=v"),
            Err(FormError::InvalidUtf8 { offset: 4 })
        );
    }

    #[test]
    fn query_values_are_decoded_leniently_in_order() {
        assert_eq!(encode_query_value("a b/é~"), "a%20b%2F%C3%A9~");
        assert_eq!(decode_lenient("a%20b+c%2x%"), "a b c%2x%");
        assert_eq!(decode_lenient("%FF"), "\u{FFFD}");
        let found: Vec<_> = query_values("token=a&x=1&to%6Ben=b%2Bc", "token").collect();
        assert_eq!(found, ["a", "b+c"]);
    }
}
