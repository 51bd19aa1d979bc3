//! Rate limits, connection caps and throttles, shared by every API that documents one.
//!
//! All of them take `now` as an argument and never read a clock.

use std::collections::HashMap;
use std::collections::VecDeque;
use std::hash::Hash;
use std::time::Duration;

use crate::time::Timestamp;

/// At most `max` events in any window of length `window` (a sliding log).
///
/// Used for "100 messages per second per connection" and "10 new connections per minute".
#[derive(Debug, Clone)]
pub struct SlidingWindow {
    max: usize,
    window: Duration,
    events: VecDeque<Timestamp>,
}

impl SlidingWindow {
    /// A window admitting `max` events per `window`.
    pub fn new(max: usize, window: Duration) -> Self {
        Self {
            max,
            window,
            events: VecDeque::with_capacity(max.min(1024)),
        }
    }

    /// Records an event at `now` if the limit allows it; returns whether it was admitted.
    /// A refused event is not recorded.
    pub fn try_acquire(&mut self, now: Timestamp) -> bool {
        self.expire(now);
        if self.events.len() >= self.max {
            return false;
        }
        self.events.push_back(now);
        true
    }

    /// Events admitted within the window ending at `now`.
    pub fn count(&mut self, now: Timestamp) -> usize {
        self.expire(now);
        self.events.len()
    }

    /// When the oldest event in the window leaves it, freeing a place.
    pub fn next_free(&self) -> Option<Timestamp> {
        if self.events.len() < self.max {
            return None;
        }
        self.events.front().map(|t| *t + self.window)
    }

    fn expire(&mut self, now: Timestamp) {
        while let Some(front) = self.events.front() {
            if now.saturating_since(*front) >= self.window {
                self.events.pop_front();
            } else {
                break;
            }
        }
    }
}

/// Which connection limit refused a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CapExceeded {
    /// The server holds its maximum number of connections.
    #[error("maximum of {0} concurrent connections reached")]
    Total(usize),
    /// This user holds their maximum number of connections.
    #[error("maximum of {0} concurrent connections per user reached")]
    PerUser(usize),
    /// This user opened too many connections recently.
    #[error("connection rate limited to {max} per {window:?}")]
    Rate {
        /// Connections admitted per window.
        max: usize,
        /// The window.
        window: Duration,
    },
}

/// The limits a [`ConnectionCaps`] enforces. `None` means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapConfig {
    /// Concurrent connections in total.
    pub total: Option<usize>,
    /// Concurrent connections per user.
    pub per_user: Option<usize>,
    /// New connections per user per window.
    pub rate: Option<(usize, Duration)>,
}

/// Server-wide connection accounting: concurrent caps in total and per user, and a
/// per-user connection rate. Admit on connect (or on auth, where the user is known
/// only then), release on disconnect.
#[derive(Debug, Clone)]
pub struct ConnectionCaps {
    config: CapConfig,
    total: usize,
    per_user: HashMap<String, usize>,
    rates: HashMap<String, SlidingWindow>,
}

impl ConnectionCaps {
    /// Accounting with `config`'s limits and no connections.
    pub fn new(config: CapConfig) -> Self {
        Self {
            config,
            total: 0,
            per_user: HashMap::new(),
            rates: HashMap::new(),
        }
    }

    /// The configured limits.
    pub fn config(&self) -> CapConfig {
        self.config
    }

    /// Connections currently admitted.
    pub fn active(&self) -> usize {
        self.total
    }

    /// Connections currently admitted for `user`.
    pub fn active_for(&self, user: &str) -> usize {
        self.per_user.get(user).copied().unwrap_or(0)
    }

    /// Admits a connection for `user` (or an anonymous one) at `now`, or says which limit
    /// refused it. A refused connection changes no count.
    pub fn admit(&mut self, user: Option<&str>, now: Timestamp) -> Result<(), CapExceeded> {
        if let Some(max) = self.config.total
            && self.total >= max
        {
            return Err(CapExceeded::Total(max));
        }
        if let Some(user) = user {
            if let Some(max) = self.config.per_user
                && self.active_for(user) >= max
            {
                return Err(CapExceeded::PerUser(max));
            }
            if let Some((max, window)) = self.config.rate {
                let rate = self
                    .rates
                    .entry(user.to_owned())
                    .or_insert_with(|| SlidingWindow::new(max, window));
                if !rate.try_acquire(now) {
                    return Err(CapExceeded::Rate { max, window });
                }
            }
            *self.per_user.entry(user.to_owned()).or_insert(0) += 1;
        }
        self.total += 1;
        Ok(())
    }

    /// Releases a connection admitted for `user`.
    pub fn release(&mut self, user: Option<&str>) {
        self.total = self.total.saturating_sub(1);
        if let Some(user) = user
            && let Some(n) = self.per_user.get_mut(user)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_user.remove(user);
            }
        }
    }
}

/// At most one pass per key per `interval`; what arrives in between is refused (and not
/// deferred). WebMACS throttles broadcasts this way, per event, across all clients.
#[derive(Debug, Clone)]
pub struct KeyedThrottle<K> {
    interval: Duration,
    last: HashMap<K, Timestamp>,
}

impl<K: Eq + Hash + Clone> KeyedThrottle<K> {
    /// A throttle allowing one pass per key per `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            last: HashMap::new(),
        }
    }

    /// The configured interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Whether `key` may pass at `now`; a pass is recorded, a refusal is not.
    pub fn allow(&mut self, key: &K, now: Timestamp) -> bool {
        match self.last.get(key) {
            Some(last) if now.saturating_since(*last) < self.interval => false,
            _ => {
                self.last.insert(key.clone(), now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Timestamp {
        Timestamp::from_unix_millis(n)
    }

    #[test]
    fn sliding_window_admits_max_then_frees_a_place_per_expiry() {
        let mut w = SlidingWindow::new(3, Duration::from_secs(1));
        assert!(w.try_acquire(ms(0)));
        assert!(w.try_acquire(ms(10)));
        assert!(w.try_acquire(ms(20)));
        assert!(!w.try_acquire(ms(999)));
        assert_eq!(w.next_free(), Some(ms(1000)));
        assert!(w.try_acquire(ms(1000)));
        assert!(!w.try_acquire(ms(1009)));
        assert!(w.try_acquire(ms(1010)));
    }

    #[test]
    fn caps_refuse_per_user_total_and_rate() {
        let mut caps = ConnectionCaps::new(CapConfig {
            total: Some(3),
            per_user: Some(2),
            rate: Some((3, Duration::from_secs(60))),
        });
        assert_eq!(caps.admit(Some("a"), ms(0)), Ok(()));
        assert_eq!(caps.admit(Some("a"), ms(1)), Ok(()));
        assert_eq!(caps.admit(Some("a"), ms(2)), Err(CapExceeded::PerUser(2)));
        assert_eq!(caps.admit(None, ms(3)), Ok(()));
        assert_eq!(caps.admit(Some("b"), ms(4)), Err(CapExceeded::Total(3)));
        caps.release(Some("a"));
        assert_eq!(caps.active(), 2);
        assert_eq!(
            caps.admit(Some("a"), ms(5)),
            Ok(()),
            "third connection this minute"
        );
        caps.release(Some("a"));
        assert_eq!(
            caps.admit(Some("a"), ms(6)),
            Err(CapExceeded::Rate {
                max: 3,
                window: Duration::from_secs(60)
            }),
            "fourth connection this minute"
        );
        assert_eq!(
            caps.admit(Some("a"), ms(60_000)),
            Ok(()),
            "the first one left the window"
        );
    }

    #[test]
    fn throttle_passes_once_per_interval_per_key() {
        let mut t = KeyedThrottle::new(Duration::from_millis(200));
        assert!(t.allow(&"e1", ms(0)));
        assert!(t.allow(&"e2", ms(50)));
        assert!(!t.allow(&"e1", ms(199)));
        assert!(t.allow(&"e1", ms(200)));
        assert!(!t.allow(&"e2", ms(249)));
    }
}
