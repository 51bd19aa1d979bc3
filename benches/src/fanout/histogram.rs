//! A log-linear latency histogram (about 1.6 % resolution) that many tasks record into at once.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

/// Values below this are their own bucket.
const LINEAR: u64 = 128;
/// Buckets per power of two above [`LINEAR`].
const SUB: u64 = 64;
/// Powers of two covered above [`LINEAR`]: up to 2^44 ns, about 4.9 hours.
const OCTAVES: u64 = 38;

/// Counts of nanosecond values in log-linear buckets; `record` is lock-free.
#[derive(Debug)]
pub struct Histogram {
    buckets: Box<[AtomicU64]>,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        let len = (LINEAR + OCTAVES * SUB) as usize;
        Self {
            buckets: (0..len).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn index(value: u64) -> usize {
        if value < LINEAR {
            return value as usize;
        }
        // `value >> shift` lies in [SUB, 2 * SUB).
        let shift = u64::from(63 - value.leading_zeros()) - 6;
        let idx = LINEAR + (shift - 1) * SUB + ((value >> shift) - SUB);
        (idx as usize).min((LINEAR + OCTAVES * SUB) as usize - 1)
    }

    /// The middle of bucket `idx`, in nanoseconds.
    fn value_at(idx: usize) -> u64 {
        let idx = idx as u64;
        if idx < LINEAR {
            return idx;
        }
        let shift = (idx - LINEAR) / SUB + 1;
        let low = (SUB + (idx - LINEAR) % SUB) << shift;
        low + (1 << shift) / 2
    }

    /// Counts one value, in nanoseconds.
    pub fn record(&self, nanos: u64) {
        if let Some(bucket) = self.buckets.get(Self::index(nanos)) {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// The value at quantile `q` (0..=1), in nanoseconds; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (idx, bucket) in self.buckets.iter().enumerate() {
            seen += bucket.load(Ordering::Relaxed);
            if seen >= rank {
                return Some(Self::value_at(idx));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_two_percent() {
        let h = Histogram::new();
        for v in 1..=100_000u64 {
            h.record(v * 1_000);
        }
        let p50 = h.quantile(0.5).unwrap() as f64;
        let p99 = h.quantile(0.99).unwrap() as f64;
        assert!((p50 / 50_000_000.0 - 1.0).abs() < 0.02, "{p50}");
        assert!((p99 / 99_000_000.0 - 1.0).abs() < 0.02, "{p99}");
        assert_eq!(h.count(), 100_000);
    }

    #[test]
    fn buckets_round_trip_their_values() {
        for v in [0u64, 5, 127, 128, 129, 1_000, 65_535, 1 << 30, u64::MAX] {
            let idx = Histogram::index(v);
            let mid = Histogram::value_at(idx);
            if v < (1 << 44) {
                assert_eq!(Histogram::index(mid), idx, "{v}");
            }
        }
    }
}
