//! Time as the sessions see it: a wall-clock instant passed in by the driver, never read here.

use std::fmt;
use std::ops::Add;
use std::time::Duration;

/// Microseconds since the Unix epoch, UTC.
///
/// Sessions never read a clock: the driver passes `now` into every `handle_*` call, so
/// tests run on explicit, virtual time. The same value serves for deadlines (rate windows,
/// throttles, keepalive timers) and for the wall-clock fields that messages carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Self = Self(0);

    /// From microseconds since the epoch.
    pub const fn from_unix_micros(micros: u64) -> Self {
        Self(micros)
    }

    /// From milliseconds since the epoch (saturating).
    pub const fn from_unix_millis(millis: u64) -> Self {
        Self(millis.saturating_mul(1_000))
    }

    /// From whole seconds since the epoch (saturating).
    pub const fn from_unix_secs(secs: u64) -> Self {
        Self(secs.saturating_mul(1_000_000))
    }

    /// Microseconds since the epoch.
    pub const fn as_unix_micros(self) -> u64 {
        self.0
    }

    /// Milliseconds since the epoch.
    pub const fn as_unix_millis(self) -> u64 {
        self.0 / 1_000
    }

    /// Whole seconds since the epoch.
    pub const fn as_unix_secs(self) -> u64 {
        self.0 / 1_000_000
    }

    /// Time elapsed since `earlier`, or zero when `earlier` is later.
    pub fn saturating_since(self, earlier: Self) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, saturating at the end of representable time.
    pub fn saturating_add(self, d: Duration) -> Self {
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        Self(self.0.saturating_add(micros))
    }

    /// `self - d`, saturating at the epoch.
    pub fn saturating_sub(self, d: Duration) -> Self {
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        Self(self.0.saturating_sub(micros))
    }

    /// RFC 3339 in UTC with whole seconds and a `Z`: `2024-01-01T12:00:00Z`.
    pub fn to_rfc3339_secs(self) -> String {
        let c = Civil::from(self);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }

    /// RFC 3339 in UTC with microseconds and a `+00:00` offset:
    /// `2025-01-15T14:30:00.123456+00:00`.
    pub fn to_rfc3339_micros(self) -> String {
        let c = Civil::from(self);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+00:00",
            c.year, c.month, c.day, c.hour, c.minute, c.second, c.micros
        )
    }
}

impl Add<Duration> for Timestamp {
    type Output = Self;
    fn add(self, d: Duration) -> Self {
        self.saturating_add(d)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339_micros())
    }
}

/// A broken-down UTC date and time.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u64,
    minute: u64,
    second: u64,
    micros: u64,
}

impl From<Timestamp> for Civil {
    fn from(t: Timestamp) -> Self {
        let secs = t.0 / 1_000_000;
        let micros = t.0 % 1_000_000;
        let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX);
        let rem = secs % 86_400;
        // Howard Hinnant's days-to-civil algorithm.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
        let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month,
            day,
            hour: rem / 3_600,
            minute: rem % 3_600 / 60,
            second: rem % 60,
            micros,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        let t = Timestamp::from_unix_secs(1_704_110_400); // 2024-01-01T12:00:00Z
        assert_eq!(t.to_rfc3339_secs(), "2024-01-01T12:00:00Z");
        let t = Timestamp::from_unix_micros(1_736_951_400_123_456);
        assert_eq!(t.to_rfc3339_micros(), "2025-01-15T14:30:00.123456+00:00");
        assert_eq!(Timestamp::EPOCH.to_rfc3339_secs(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::from_unix_secs(951_782_400).to_rfc3339_secs(),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn arithmetic_saturates() {
        let t = Timestamp::from_unix_millis(1_000);
        assert_eq!(
            t + Duration::from_millis(200),
            Timestamp::from_unix_millis(1_200)
        );
        assert_eq!(
            t.saturating_since(t + Duration::from_secs(1)),
            Duration::ZERO
        );
        assert_eq!(t.saturating_sub(Duration::from_secs(5)), Timestamp::EPOCH);
        assert_eq!(
            Timestamp::from_unix_micros(u64::MAX) + Duration::from_secs(1),
            Timestamp::from_unix_micros(u64::MAX)
        );
    }
}
