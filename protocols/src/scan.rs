//! A minimal JSON scanner for the hot paths: documented message shapes read in one pass,
//! borrowing from the text.
//!
//! Every method returns `None` on anything outside the subset it reads (escapes in strings,
//! unexpected bytes); the caller then takes its general serde decoder, which decides and
//! words the error. Fast paths built on it are proptested against those decoders.

/// A cursor over JSON text.
pub(crate) struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `text`.
    pub(crate) fn new(text: &'a str) -> Self {
        Self { text, pos: 0 }
    }

    fn skip_ws(&mut self) {
        let rest = self.text.as_bytes().get(self.pos..).unwrap_or_default();
        self.pos += rest
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .count();
    }

    /// The next byte after whitespace, without consuming it.
    pub(crate) fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.text.as_bytes().get(self.pos).copied()
    }

    /// The next byte after whitespace, consumed.
    pub(crate) fn next_byte(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    /// Consumes `want` (after whitespace), or fails.
    pub(crate) fn expect(&mut self, want: u8) -> Option<()> {
        (self.next_byte()? == want).then_some(())
    }

    /// Consumes `want` (after whitespace) when it is next; whether it was.
    pub(crate) fn eat(&mut self, want: u8) -> bool {
        let next = self.peek() == Some(want);
        if next {
            self.pos += 1;
        }
        next
    }

    /// Whether only whitespace is left.
    pub(crate) fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos == self.text.len()
    }

    /// A string without escapes or control characters, borrowed.
    pub(crate) fn string(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let start = self.pos;
        let rest = self.text.as_bytes().get(start..)?;
        let len = string_end(rest)?;
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        self.pos = start + len + 1;
        self.text.get(start..start + len)
    }

    /// A number token of the JSON grammar (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`),
    /// borrowed, and whether it has a fraction or an exponent.
    pub(crate) fn number(&mut self) -> Option<(&'a str, bool)> {
        self.skip_ws();
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut at = start;
        let digits = |at: &mut usize| {
            let from = *at;
            while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
                *at += 1;
            }
            *at > from
        };
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        match bytes.get(at) {
            Some(b'0') => at += 1,
            Some(b'1'..=b'9') => {
                digits(&mut at);
            }
            _ => return None,
        }
        let mut real = false;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            if !digits(&mut at) {
                return None;
            }
            real = true;
        }
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            at += 1;
            if matches!(bytes.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            if !digits(&mut at) {
                return None;
            }
            real = true;
        }
        self.pos = at;
        self.text.get(start..at).map(|token| (token, real))
    }
}

/// The `f64` serde_json (with `float_roundtrip`) reads from a number token the scanner
/// accepted, or `None` where it fails (out of range).
///
/// Integers go through `u64`/`i64` as serde_json reads them (so `-0` is `-0.0` and large
/// integers round once); every conversion is correctly rounded either way.
pub(crate) fn json_f64(token: &str, real: bool) -> Option<f64> {
    if !real {
        if let Ok(n) = token.parse::<u64>() {
            return Some(n as f64);
        }
        if let Ok(n) = token.parse::<i64>()
            && n != 0
        {
            return Some(n as f64);
        }
    }
    token.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// The index of the first byte of `bytes` that ends a plain JSON string: a quote, a
/// backslash or a control character. Eight bytes at a time: in each word, a byte equal to
/// `"` or `\\`, or below 0x20, sets its high bit in the mask (the lowest set bit is exact;
/// borrows can only set bits above it).
fn string_end(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for word in words.by_ref() {
        let mut le = [0u8; 8];
        le.copy_from_slice(word);
        let v = u64::from_le_bytes(le);
        let hits = zero_byte(v ^ (ONES * u64::from(b'"')))
            | zero_byte(v ^ (ONES * u64::from(b'\\')))
            | (v.wrapping_sub(ONES * 0x20) & !v & HIGHS);
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = words.remainder();
    tail.iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| at + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The word-at-a-time search finds the same first quote, backslash or control
        /// byte as a plain byte loop, at every offset and alignment.
        #[test]
        fn string_end_matches_a_byte_loop(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::Just(b'"'),
                    proptest::prelude::Just(b'\\'),
                    0u8..0x20,
                    0x20u8..=0xff,
                    0x20u8..=0xff,
                    0x20u8..=0xff,
                ],
                0..40,
            ),
            skip in 0usize..8,
        ) {
            let bytes = bytes.get(skip.min(bytes.len())..).unwrap_or_default();
            let expected = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            proptest::prop_assert_eq!(string_end(bytes), expected);
        }

        /// A number token the scanner accepts is the `f64` serde_json reads from it, or
        /// out of range for both.
        #[test]
        fn numbers_read_as_serde_json_reads_them(
            token in "-?(0|[1-9][0-9]{0,24})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?",
        ) {
            let mut s = Scanner::new(&token);
            let (scanned, real) = s.number().unwrap();
            proptest::prop_assert_eq!(scanned, token.as_str());
            proptest::prop_assert!(s.at_end());
            let ours = json_f64(scanned, real);
            let theirs = serde_json::from_str::<serde_json::Value>(&token)
                .ok()
                .and_then(|v| v.as_f64());
            proptest::prop_assert_eq!(ours.map(f64::to_bits), theirs.map(f64::to_bits));
        }
    }

    #[test]
    fn number_tokens_outside_the_grammar_are_refused() {
        for bad in ["", "-", "01", "1.", ".5", "1e", "1e+", "+1", "-a"] {
            let mut s = Scanner::new(bad);
            let whole = s.number().is_some() && s.at_end();
            assert!(!whole, "{bad:?}");
        }
        assert_eq!(
            json_f64("-0", false).map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(json_f64("1e400", true), None);
    }
}
