//! "Connection Limits": server-wide accounting shared by every connection of one server.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::PoisonError;
use std::time::Duration;

use crate::limits::CapConfig;
use crate::limits::CapExceeded;
use crate::limits::ConnectionCaps;
use crate::time::Timestamp;

/// "Maximum 1000 total concurrent connections".
pub const MAX_CONNECTIONS: usize = 1000;
/// "Maximum 100 concurrent connections per user".
pub const MAX_CONNECTIONS_PER_USER: usize = 100;
/// "Connection rate limited to 10 per minute" (per user, specs README).
pub const NEW_CONNECTIONS_PER_MINUTE: usize = 10;

/// The connection caps of one server, shared by all its sessions (clone the handle).
///
/// The user is known only once a connection has authenticated, so admission has two steps:
/// [`ConnectionRegistry::open`] on connect counts the connection against the total cap, and
/// [`Admission::identify`] on a successful `auth` counts it against its user's caps (the
/// concurrent cap and the new-connections-per-minute rate). Dropping the [`Admission`]
/// releases whatever it holds, so a connection that vanishes cannot leak a place.
#[derive(Debug, Clone)]
pub struct ConnectionRegistry {
    caps: Arc<Mutex<ConnectionCaps>>,
}

impl ConnectionRegistry {
    /// A registry enforcing `config`.
    pub fn new(config: CapConfig) -> Self {
        Self {
            caps: Arc::new(Mutex::new(ConnectionCaps::new(config))),
        }
    }

    /// The documented limits: 1000 in total, 100 per user, 10 new per user per minute.
    pub fn documented() -> Self {
        Self::new(CapConfig {
            total: Some(MAX_CONNECTIONS),
            per_user: Some(MAX_CONNECTIONS_PER_USER),
            rate: Some((NEW_CONNECTIONS_PER_MINUTE, Duration::from_secs(60))),
        })
    }

    /// No limits (tests, replay).
    pub fn unlimited() -> Self {
        Self::new(CapConfig {
            total: None,
            per_user: None,
            rate: None,
        })
    }

    /// Counts a new, not yet authenticated connection at `now`, or refuses it when the
    /// server is full.
    pub fn open(&self, now: Timestamp) -> Result<Admission, CapExceeded> {
        self.with_caps(|caps| caps.admit(None, now))?;
        Ok(Admission {
            registry: self.clone(),
            user: None,
            held: true,
        })
    }

    /// Connections currently counted.
    pub fn active(&self) -> usize {
        self.with_caps(|caps| caps.active())
    }

    /// Connections currently counted for `user`.
    pub fn active_for(&self, user: &str) -> usize {
        self.with_caps(|caps| caps.active_for(user))
    }

    fn with_caps<R>(&self, f: impl FnOnce(&mut ConnectionCaps) -> R) -> R {
        // The counts stay consistent even if a holder panicked: every update is one call.
        let mut caps = self.caps.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut caps)
    }
}

/// One connection's place in a [`ConnectionRegistry`]; released on drop.
#[derive(Debug)]
pub struct Admission {
    registry: ConnectionRegistry,
    user: Option<String>,
    held: bool,
}

impl Admission {
    /// The user the place is counted for, once identified.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// Counts the connection for `user` at `now` (on a successful auth). On refusal the
    /// connection keeps its anonymous place until it is closed.
    pub fn identify(&mut self, user: &str, now: Timestamp) -> Result<(), CapExceeded> {
        if self.user.as_deref() == Some(user) {
            return Ok(());
        }
        self.registry.with_caps(|caps| {
            if self.held {
                caps.release(self.user.as_deref());
            }
            match caps.admit(Some(user), now) {
                Ok(()) => {
                    self.user = Some(user.to_owned());
                    self.held = true;
                    Ok(())
                }
                Err(refusal) => {
                    // The place just released is free again, so the total cap admits this.
                    self.held = caps.admit(None, now).is_ok();
                    self.user = None;
                    Err(refusal)
                }
            }
        })
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        if self.held {
            self.registry
                .with_caps(|caps| caps.release(self.user.as_deref()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> Timestamp {
        Timestamp::from_unix_secs(secs)
    }

    #[test]
    fn total_cap_refuses_on_open_and_drop_frees_the_place() {
        let registry = ConnectionRegistry::new(CapConfig {
            total: Some(2),
            per_user: None,
            rate: None,
        });
        let a = registry.open(at(0)).unwrap();
        let _b = registry.open(at(0)).unwrap();
        assert_eq!(registry.open(at(0)).unwrap_err(), CapExceeded::Total(2));
        drop(a);
        assert_eq!(registry.active(), 1);
        assert!(registry.open(at(0)).is_ok());
    }

    #[test]
    fn identify_moves_the_place_to_the_user_and_refusal_keeps_it_anonymous() {
        let registry = ConnectionRegistry::new(CapConfig {
            total: Some(10),
            per_user: Some(1),
            rate: None,
        });
        let mut a = registry.open(at(0)).unwrap();
        a.identify("demo", at(0)).unwrap();
        assert_eq!(a.user(), Some("demo"));
        assert_eq!(a.identify("demo", at(0)), Ok(()));
        assert_eq!(registry.active_for("demo"), 1);
        let mut b = registry.open(at(0)).unwrap();
        assert_eq!(b.identify("demo", at(0)), Err(CapExceeded::PerUser(1)));
        assert_eq!(b.user(), None);
        assert_eq!(registry.active(), 2, "b still holds its anonymous place");
        drop(b);
        drop(a);
        assert_eq!(registry.active(), 0);
        assert_eq!(registry.active_for("demo"), 0);
    }

    #[test]
    fn documented_limits_rate_new_connections_per_user_per_minute() {
        let registry = ConnectionRegistry::documented();
        let mut held = Vec::new();
        for i in 0..NEW_CONNECTIONS_PER_MINUTE {
            let mut a = registry.open(at(i as u64)).unwrap();
            a.identify("demo", at(i as u64)).unwrap();
            held.push(a);
        }
        let mut eleventh = registry.open(at(30)).unwrap();
        assert!(matches!(
            eleventh.identify("demo", at(30)),
            Err(CapExceeded::Rate { max: 10, .. })
        ));
        assert_eq!(eleventh.identify("other", at(30)), Ok(()));
        let mut later = registry.open(at(60)).unwrap();
        assert_eq!(
            later.identify("demo", at(60)),
            Ok(()),
            "the first left the window"
        );
    }
}
