//! When each recorded frame is served: at its recorded offset divided by the speed, from
//! the instant the client authenticated, on the runtime timer.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use telewire_protocols::frame::Outbound;
use tokio::time::Instant;

use super::format::Recording;

/// The shortest loop period: a recording whose frames all sit at 0 ms still advances.
const MIN_PERIOD: Duration = Duration::from_millis(1);

/// How to replay: `--speed` and `--loop`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplaySettings {
    /// Offsets are divided by this (2 plays twice as fast); finite and above 0.
    pub speed: f64,
    /// Start over at the end of the recording, instead of falling quiet.
    pub looping: bool,
}

impl Default for ReplaySettings {
    fn default() -> Self {
        Self {
            speed: 1.0,
            looping: false,
        }
    }
}

impl ReplaySettings {
    /// Checks `speed`.
    pub fn new(speed: f64, looping: bool) -> Result<Self, String> {
        if !speed.is_finite() || speed <= 0.0 {
            return Err(format!(
                "--speed {speed}: give a number above 0 (2 plays twice as fast, 0.5 half as fast)"
            ));
        }
        Ok(Self { speed, looping })
    }
}

/// The frames of a recording with their due times, shared by every replaying connection.
#[derive(Debug, Clone)]
pub struct Schedule {
    frames: Arc<[(Duration, Outbound)]>,
    period: Duration,
    looping: bool,
}

/// `ms` milliseconds divided by `speed`, to the nanosecond.
fn scaled(ms: u64, speed: f64) -> Duration {
    let nanos = (ms as f64 * 1_000_000.0 / speed).round();
    if nanos >= u64::MAX as f64 {
        Duration::from_nanos(u64::MAX)
    } else {
        Duration::from_nanos(nanos as u64)
    }
}

impl Schedule {
    /// The server data frames of `recording`, due at offset / speed. With looping, a round
    /// lasts until the recording's last line (at least 1 ms).
    pub fn new(recording: &Recording, settings: ReplaySettings) -> Self {
        let frames: Vec<(Duration, Outbound)> = recording
            .entries
            .iter()
            .filter_map(|e| e.replayable().map(|f| (scaled(e.ms, settings.speed), f)))
            .collect();
        let last = recording.entries.last().map_or(0, |e| e.ms);
        Self {
            frames: frames.into(),
            period: scaled(last, settings.speed).max(MIN_PERIOD),
            looping: settings.looping,
        }
    }

    /// The frames and when each is due after the start of a round.
    pub fn frames(&self) -> &[(Duration, Outbound)] {
        &self.frames
    }

    /// How long a round lasts when looping.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Hands every frame to `deliver` at `start` + its due time (+ one period per earlier
    /// round when looping), in order; stops when `deliver` returns false. A frame that is
    /// late (a slow consumer) does not delay the due times of the next ones.
    pub async fn play<F, Fut>(&self, start: Instant, mut deliver: F)
    where
        F: FnMut(Outbound) -> Fut,
        Fut: Future<Output = bool>,
    {
        let mut round_start = start;
        loop {
            for (due, frame) in self.frames.iter() {
                tokio::time::sleep_until(round_start + *due).await;
                if !deliver(frame.clone()).await {
                    return;
                }
            }
            if !self.looping || self.frames.is_empty() {
                return;
            }
            round_start += self.period;
        }
    }
}
