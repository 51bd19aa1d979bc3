//! Wall-clock time for the sans-IO sessions, derived from tokio's (pausable) clock.

use std::time::SystemTime;
use std::time::UNIX_EPOCH;

use telewire_protocols::time::Timestamp;
use tokio::time::Instant;

/// Maps tokio's monotonic clock onto wall-clock [`Timestamp`]s.
///
/// The wall time is read once, at construction; after that `now` advances with tokio's
/// clock, so tests that pause time (`tokio::time::pause`) see sessions advance exactly as far
/// as the test advances time.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    wall_at_start: Timestamp,
    start: Instant,
}

impl Clock {
    /// A clock reading the system time now.
    pub fn system() -> Self {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        Self::starting_at(Timestamp::from_unix_micros(micros))
    }

    /// A clock whose `now` is `wall` at this instant of tokio's clock.
    pub fn starting_at(wall: Timestamp) -> Self {
        Self {
            wall_at_start: wall,
            start: Instant::now(),
        }
    }

    /// The current wall-clock time.
    pub fn now(&self) -> Timestamp {
        self.wall_at_start.saturating_add(self.start.elapsed())
    }

    /// The tokio instant at which the wall clock reads `at` (now, if `at` is past).
    pub fn instant_at(&self, at: Timestamp) -> Instant {
        self.start + at.saturating_since(self.wall_at_start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn follows_paused_time() {
        let clock = Clock::starting_at(Timestamp::from_unix_secs(1_000));
        tokio::time::advance(Duration::from_millis(1_500)).await;
        assert_eq!(clock.now(), Timestamp::from_unix_millis(1_001_500));
        let at = Timestamp::from_unix_secs(1_002);
        assert_eq!(clock.instant_at(at) - clock.start, Duration::from_secs(2));
    }
}
