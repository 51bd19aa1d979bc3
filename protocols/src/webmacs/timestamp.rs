//! `datapoints[].timestamp` of the "Broadcast Messages" table: an ISO 8601 timestamp, kept as sent.

use std::fmt;

use serde::Deserialize;
use serde::Deserializer;
use serde::Serialize;
use serde::Serializer;

use crate::time::Timestamp;

/// An ISO 8601 date and time, `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]`.
///
/// The text is kept exactly as received, so a decoded message re-encodes to the same JSON:
/// the document's example has no offset (`2025-01-15T14:30:00.123456`), the real backend
/// sends `+00:00`, and both decode. A timestamp without an offset is read as UTC.
/// Timestamps this module produces come from [`IsoTimestamp::from_timestamp`]
/// (microseconds and `+00:00`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IsoTimestamp {
    text: String,
    parts: Parts,
}

/// The fields of a parsed timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Parts {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// Offset east of UTC in minutes; `None` for a timestamp without an offset.
    offset_minutes: Option<i32>,
}

impl Parts {
    const EPOCH: Self = Self {
        year: 1970,
        month: 1,
        day: 1,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
        offset_minutes: Some(0),
    };
}

/// Why a string is not an ISO 8601 timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an ISO 8601 timestamp ({what} at byte {at}): {text:?}")]
pub struct TimestampError {
    /// The offending text.
    pub text: String,
    /// Byte offset of the first character that does not fit.
    pub at: usize,
    /// What was expected there.
    pub what: &'static str,
}

impl IsoTimestamp {
    /// Parses `text`, keeping it verbatim.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let parts = Parser::new(text).parts()?;
        Ok(Self {
            text: text.to_owned(),
            parts,
        })
    }

    /// The last instant a four-digit year can write: 9999-12-31T23:59:59.999999Z.
    pub const LATEST: Timestamp = Timestamp::from_unix_micros(253_402_300_799_999_999);

    /// `t` as the backend writes it: UTC with microseconds and `+00:00`
    /// (`2025-01-15T14:30:00.123456+00:00`). Instants after [`IsoTimestamp::LATEST`]
    /// are written as `LATEST`.
    pub fn from_timestamp(t: Timestamp) -> Self {
        let text = t.min(Self::LATEST).to_rfc3339_micros();
        // Every instant up to LATEST formats to text the parser accepts; the fallback
        // only keeps this function total.
        let parts = Parser::new(&text).parts().unwrap_or(Parts::EPOCH);
        Self { text, parts }
    }

    /// The text as received.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the text carries an offset (`Z` or `±HH:MM`).
    pub fn has_offset(&self) -> bool {
        self.parts.offset_minutes.is_some()
    }

    /// The instant, reading a timestamp without offset as UTC; `None` before 1970 (which
    /// [`Timestamp`] cannot hold). Fractions below a microsecond are truncated.
    pub fn to_timestamp(&self) -> Option<Timestamp> {
        let p = &self.parts;
        let days = days_from_civil(p.year, p.month, p.day);
        let secs = days
            .checked_mul(86_400)?
            .checked_add(i64::from(p.hour) * 3_600 + i64::from(p.minute) * 60)?
            .checked_add(i64::from(p.second))?
            .checked_sub(i64::from(p.offset_minutes.unwrap_or(0)) * 60)?;
        let secs = u64::try_from(secs).ok()?;
        let micros = secs
            .checked_mul(1_000_000)?
            .checked_add(u64::from(p.nanos / 1_000))?;
        Some(Timestamp::from_unix_micros(micros))
    }
}

impl From<Timestamp> for IsoTimestamp {
    fn from(t: Timestamp) -> Self {
        Self::from_timestamp(t)
    }
}

impl fmt::Debug for IsoTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IsoTimestamp({:?})", self.text)
    }
}

impl fmt::Display for IsoTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for IsoTimestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for IsoTimestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "IsoTimestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "ISO 8601 `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]`, at most nine \
                fraction digits, a day that exists in its month; without an offset it is read as UTC.",
            "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$",
            "examples": ["2025-01-15T14:30:00.123456+00:00", "2025-01-15T14:30:00.123456"],
        })
    }
}

impl<'de> Deserialize<'de> for IsoTimestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: u32) -> u32 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A byte cursor over the timestamp text.
struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    fn fail(&self, what: &'static str) -> TimestampError {
        TimestampError {
            text: self.text.to_owned(),
            at: self.at,
            what,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn literal(&mut self, byte: u8, what: &'static str) -> Result<(), TimestampError> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.fail(what))
        }
    }

    /// Exactly `n` ASCII digits, then checks the value lies in `range`.
    fn number(
        &mut self,
        n: usize,
        range: std::ops::RangeInclusive<u32>,
        what: &'static str,
    ) -> Result<u32, TimestampError> {
        let start = self.at;
        let mut value: u32 = 0;
        for _ in 0..n {
            match self.peek() {
                Some(b @ b'0'..=b'9') => {
                    value = value * 10 + u32::from(b - b'0');
                    self.at += 1;
                }
                _ => return Err(self.fail(what)),
            }
        }
        if range.contains(&value) {
            Ok(value)
        } else {
            self.at = start;
            Err(self.fail(what))
        }
    }

    fn parts(mut self) -> Result<Parts, TimestampError> {
        let year = i64::from(self.number(4, 0..=9999, "a four-digit year")?);
        self.literal(b'-', "'-'")?;
        let month = self.number(2, 1..=12, "a month 01-12")?;
        self.literal(b'-', "'-'")?;
        let day_at = self.at;
        let day = self.number(2, 1..=31, "a day 01-31")?;
        if day > days_in_month(year, month) {
            self.at = day_at;
            return Err(self.fail("a day that exists in that month"));
        }
        self.literal(b'T', "'T'")?;
        let hour = self.number(2, 0..=23, "an hour 00-23")?;
        self.literal(b':', "':'")?;
        let minute = self.number(2, 0..=59, "a minute 00-59")?;
        self.literal(b':', "':'")?;
        let second = self.number(2, 0..=59, "a second 00-59")?;
        let mut nanos = 0;
        if self.peek() == Some(b'.') {
            self.at += 1;
            let mut digits = 0u32;
            while let Some(b @ b'0'..=b'9') = self.peek() {
                if digits == 9 {
                    return Err(self.fail("at most nine fraction digits"));
                }
                nanos = nanos * 10 + u32::from(b - b'0');
                digits += 1;
                self.at += 1;
            }
            if digits == 0 {
                return Err(self.fail("a fraction digit"));
            }
            nanos *= 10u32.pow(9 - digits);
        }
        let offset_minutes = match self.peek() {
            None => None,
            Some(b'Z') => {
                self.at += 1;
                Some(0)
            }
            Some(sign @ (b'+' | b'-')) => {
                self.at += 1;
                let h = self.number(2, 0..=23, "an offset hour 00-23")?;
                self.literal(b':', "':' in the offset")?;
                let m = self.number(2, 0..=59, "an offset minute 00-59")?;
                let total = i32::try_from(h * 60 + m).unwrap_or(0);
                Some(if sign == b'-' { -total } else { total })
            }
            Some(_) => return Err(self.fail("'.', 'Z', an offset or the end")),
        };
        if self.at != self.bytes.len() {
            return Err(self.fail("the end of the timestamp"));
        }
        Ok(Parts {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
            offset_minutes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_documented_forms_parse() {
        let doc = IsoTimestamp::parse("2025-01-15T14:30:00.123456").unwrap();
        let real = IsoTimestamp::parse("2025-01-15T14:30:00.123456+00:00").unwrap();
        assert!(!doc.has_offset());
        assert!(real.has_offset());
        let t = Timestamp::from_unix_micros(1_736_951_400_123_456);
        assert_eq!(doc.to_timestamp(), Some(t));
        assert_eq!(real.to_timestamp(), Some(t));
        assert_eq!(IsoTimestamp::from_timestamp(t), real);
        let last = IsoTimestamp::from_timestamp(Timestamp::from_unix_micros(u64::MAX));
        assert_eq!(last.as_str(), "9999-12-31T23:59:59.999999+00:00");
        assert_eq!(last.to_timestamp(), Some(IsoTimestamp::LATEST));
    }

    #[test]
    fn offsets_shift_the_instant() {
        let plus = IsoTimestamp::parse("2025-01-15T16:30:00+02:00").unwrap();
        let zulu = IsoTimestamp::parse("2025-01-15T14:30:00Z").unwrap();
        let minus = IsoTimestamp::parse("2025-01-15T09:00:00-05:30").unwrap();
        assert_eq!(plus.to_timestamp(), zulu.to_timestamp());
        assert_eq!(minus.to_timestamp(), zulu.to_timestamp());
        assert_eq!(
            IsoTimestamp::parse("1969-12-31T23:59:59Z")
                .unwrap()
                .to_timestamp(),
            None
        );
    }

    #[test]
    fn malformed_text_says_where() {
        for (text, at) in [
            ("", 0),
            ("2025-13-01T00:00:00", 5),
            ("2025-02-29T00:00:00", 8),
            ("2025-01-15 14:30:00", 10),
            ("2025-01-15T24:00:00", 11),
            ("2025-01-15T14:30:00.", 20),
            ("2025-01-15T14:30:00.1234567890", 29),
            ("2025-01-15T14:30:00+0000", 22),
            ("2025-01-15T14:30:00Zjunk", 20),
            ("2025-01-15T14:30:00+00:00 ", 25),
        ] {
            let err = IsoTimestamp::parse(text).unwrap_err();
            assert_eq!(err.at, at, "{text:?}: {err}");
        }
        assert!(IsoTimestamp::parse("2024-02-29T00:00:00").is_ok());
    }
}
