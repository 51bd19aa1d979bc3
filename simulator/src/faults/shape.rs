//! The lasting faults of one connection, applied where its driver writes: latency and
//! jitter through a delay queue (frames keep their order), seeded drop and duplicate of
//! data frames, and a stall that sends nothing and keeps nothing.

use std::collections::VecDeque;
use std::time::Duration;

use telewire_protocols::frame::Outbound;
use tokio::time::Instant;

use crate::prng::Prng;

/// Frames a connection may hold back for latency before data frames are dropped (and
/// counted) instead: a latency fault must not make memory grow either.
pub const MAX_DELAYED: usize = 4096;

/// A change to a connection's lasting faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeChange {
    /// Delay every outbound frame by `latency` plus up to `jitter`.
    Latency {
        /// The fixed delay.
        latency: Duration,
        /// The most added on top, uniformly.
        jitter: Duration,
    },
    /// Drop this many data frames per million.
    Drop(u32),
    /// Send this many data frames per million twice.
    Duplicate(u32),
    /// Send nothing, until cleared (`None`) or for this long.
    Stall(Option<Duration>),
    /// Back to no lasting fault.
    Clear,
}

/// A fraction as parts per million (clamped to 0..=1).
pub fn per_million(fraction: f64) -> u32 {
    // A fraction in 0..=1 scaled to 0..=1e6 fits a u32; the float-to-int cast saturates.
    (fraction.clamp(0.0, 1.0) * 1_000_000.0).round() as u32
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stall {
    Off,
    UntilCleared,
    Until(Instant),
}

/// What happened to a frame handed to [`Outgoing::route`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Routed {
    /// Frames dropped (drop fault, stall, or the delay queue full).
    pub dropped: u64,
}

/// One connection's outbound path under its lasting faults.
#[derive(Debug)]
pub struct Outgoing {
    latency: Duration,
    jitter: Duration,
    drop: u32,
    duplicate: u32,
    stall: Stall,
    prng: Prng,
    ready: VecDeque<Outbound>,
    delayed: VecDeque<(Instant, Outbound)>,
    last_due: Option<Instant>,
}

impl Outgoing {
    /// No fault yet; drop and duplicate draw from a generator seeded with `seed`, so a
    /// run repeats.
    pub fn new(seed: u64) -> Self {
        Self {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            drop: 0,
            duplicate: 0,
            stall: Stall::Off,
            prng: Prng::derive(seed, "faults/outgoing"),
            ready: VecDeque::new(),
            delayed: VecDeque::new(),
            last_due: None,
        }
    }

    /// Applies `change` at `now`.
    pub fn apply(&mut self, change: ShapeChange, now: Instant) {
        match change {
            ShapeChange::Latency { latency, jitter } => {
                self.latency = latency;
                self.jitter = jitter;
            }
            ShapeChange::Drop(ppm) => self.drop = ppm,
            ShapeChange::Duplicate(ppm) => self.duplicate = ppm,
            ShapeChange::Stall(None) => self.stall = Stall::UntilCleared,
            ShapeChange::Stall(Some(d)) => self.stall = Stall::Until(now + d),
            ShapeChange::Clear => {
                self.latency = Duration::ZERO;
                self.jitter = Duration::ZERO;
                self.drop = 0;
                self.duplicate = 0;
                self.stall = Stall::Off;
            }
        }
    }

    /// Whether the connection is stalled at `now` (a timed stall ends by itself).
    pub fn stalled(&mut self, now: Instant) -> bool {
        match self.stall {
            Stall::Off => false,
            Stall::UntilCleared => true,
            Stall::Until(end) if now < end => true,
            Stall::Until(_) => {
                self.stall = Stall::Off;
                false
            }
        }
    }

    /// Hands `frame` to the path at `now`; `data` marks telemetry and pushes (the only
    /// frames drop and duplicate apply to). Close frames are never dropped: see
    /// [`Outgoing::close`].
    pub fn route(&mut self, frame: Outbound, data: bool, now: Instant) -> Routed {
        if self.stalled(now) {
            return Routed { dropped: 1 };
        }
        if data && self.drop > 0 && self.prng.below(1_000_000) < u64::from(self.drop) {
            return Routed { dropped: 1 };
        }
        let twice =
            data && self.duplicate > 0 && self.prng.below(1_000_000) < u64::from(self.duplicate);
        let mut routed = Routed::default();
        if twice {
            routed.dropped += self.enqueue(frame.clone(), data, now);
        }
        routed.dropped += self.enqueue(frame, data, now);
        routed
    }

    fn enqueue(&mut self, frame: Outbound, data: bool, now: Instant) -> u64 {
        if self.latency.is_zero() && self.jitter.is_zero() && self.delayed.is_empty() {
            self.ready.push_back(frame);
            return 0;
        }
        if data && self.delayed.len() >= MAX_DELAYED {
            return 1;
        }
        let extra = if self.jitter.is_zero() {
            Duration::ZERO
        } else {
            self.jitter.mul_f64(self.prng.next_f64())
        };
        let mut due = now + self.latency + extra;
        // Order is kept: a frame never overtakes the one before it.
        if let Some(last) = self.last_due
            && due < last
        {
            due = last;
        }
        self.last_due = Some(due);
        self.delayed.push_back((due, frame));
        0
    }

    /// A close frame: it goes after everything already on its way, never dropped.
    pub fn close(&mut self, frame: Outbound, now: Instant) {
        if self.delayed.is_empty() {
            self.ready.push_back(frame);
        } else {
            let due = self.last_due.map_or(now, |last| last.max(now));
            self.delayed.push_back((due, frame));
        }
    }

    /// The next frame to write now, if any: ready ones first, then delayed ones due by `now`.
    pub fn next_ready(&mut self, now: Instant) -> Option<Outbound> {
        if let Some(frame) = self.ready.pop_front() {
            return Some(frame);
        }
        match self.delayed.front() {
            Some((due, _)) if *due <= now => self.delayed.pop_front().map(|(_, f)| f),
            _ => None,
        }
    }

    /// When the next delayed frame is due, if one waits.
    pub fn next_due(&self) -> Option<Instant> {
        if !self.ready.is_empty() {
            return None;
        }
        self.delayed.front().map(|(due, _)| *due)
    }

    /// When the last frame held back falls due, if any is.
    pub fn last_due(&self) -> Option<Instant> {
        self.delayed.back().map(|(due, _)| *due)
    }

    /// Whether frames still wait to be written.
    pub fn is_empty(&self) -> bool {
        self.ready.is_empty() && self.delayed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Outbound {
        Outbound::Text(s.to_owned())
    }

    fn drain(out: &mut Outgoing, now: Instant) -> Vec<Outbound> {
        std::iter::from_fn(|| out.next_ready(now)).collect()
    }

    #[test]
    fn without_faults_frames_pass_at_once() {
        let now = Instant::now();
        let mut out = Outgoing::new(1);
        assert_eq!(out.route(text("a"), true, now), Routed::default());
        assert_eq!(drain(&mut out, now), vec![text("a")]);
        assert!(out.is_empty());
    }

    #[test]
    fn latency_holds_frames_until_due_and_keeps_their_order() {
        let now = Instant::now();
        let mut out = Outgoing::new(1);
        out.apply(
            ShapeChange::Latency {
                latency: Duration::from_millis(100),
                jitter: Duration::from_millis(50),
            },
            now,
        );
        for s in ["a", "b", "c"] {
            out.route(text(s), true, now);
        }
        out.close(text("close"), now);
        assert!(drain(&mut out, now).is_empty());
        let due = out.next_due().unwrap();
        assert!(due >= now + Duration::from_millis(100));
        let later = now + Duration::from_millis(150);
        assert_eq!(
            drain(&mut out, later),
            vec![text("a"), text("b"), text("c"), text("close")]
        );
    }

    #[test]
    fn drop_duplicate_and_stall_touch_data_frames_only_where_they_should() {
        let now = Instant::now();
        let mut out = Outgoing::new(1);
        out.apply(ShapeChange::Drop(per_million(1.0)), now);
        assert_eq!(out.route(text("data"), true, now).dropped, 1);
        assert_eq!(out.route(text("reply"), false, now).dropped, 0);
        assert_eq!(drain(&mut out, now), vec![text("reply")]);
        out.apply(ShapeChange::Drop(0), now);
        out.apply(ShapeChange::Duplicate(per_million(1.0)), now);
        out.route(text("d"), true, now);
        out.route(text("r"), false, now);
        assert_eq!(drain(&mut out, now), vec![text("d"), text("d"), text("r")]);
        out.apply(ShapeChange::Stall(Some(Duration::from_secs(1))), now);
        assert_eq!(out.route(text("r"), false, now).dropped, 1);
        assert!(out.is_empty(), "a stall keeps nothing");
        let after = now + Duration::from_secs(1);
        out.apply(ShapeChange::Duplicate(0), after);
        assert_eq!(out.route(text("x"), true, after).dropped, 0);
        out.apply(ShapeChange::Stall(None), after);
        assert!(out.stalled(after + Duration::from_secs(3600)));
        out.apply(ShapeChange::Clear, after);
        assert!(!out.stalled(after));
    }

    #[test]
    fn the_same_seed_drops_the_same_frames() {
        let now = Instant::now();
        let run = |seed| {
            let mut out = Outgoing::new(seed);
            out.apply(ShapeChange::Drop(per_million(0.5)), now);
            (0..64)
                .map(|i| out.route(text(&i.to_string()), true, now).dropped)
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        let dropped: u64 = run(7).iter().sum();
        assert!((10..54).contains(&dropped), "{dropped}");
    }

    #[test]
    fn a_full_delay_queue_drops_data_instead_of_growing() {
        let now = Instant::now();
        let mut out = Outgoing::new(1);
        out.apply(
            ShapeChange::Latency {
                latency: Duration::from_secs(10),
                jitter: Duration::ZERO,
            },
            now,
        );
        let dropped: u64 = (0..MAX_DELAYED + 10)
            .map(|_| out.route(text("d"), true, now).dropped)
            .sum();
        assert_eq!(dropped, 10);
    }
}
