//! Endpoint caution: connection caps per controller model, and the server-wide session key.

use crate::limits::CapConfig;
use crate::limits::CapExceeded;
use crate::limits::ConnectionCaps;
use crate::time::Timestamp;

use super::keepalive::SessionKey;

/// The controller hardware, which sets the connection cap (a simulator setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ControllerModel {
    /// MSC: "a maximum of 8 simultaneous HTTP connections".
    #[default]
    Msc,
    /// MSC X: "a maximum of 16 connections".
    MscX,
    /// Atlas: "a maximum of 16 connections".
    Atlas,
}

impl ControllerModel {
    /// Simultaneous HTTP connections, WebSockets included, the model accepts.
    pub const fn max_connections(self) -> usize {
        match self {
            Self::Msc => 8,
            Self::MscX | Self::Atlas => 16,
        }
    }
}

/// Proof that one connection was admitted; hand it back to [`Controller::release`].
///
/// A permit from before a [`Controller::restart`] releases nothing: the restart already
/// dropped every connection.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "release the permit when the connection ends"]
pub struct ConnectionPermit {
    epoch: u64,
}

/// State shared by every connection of one controller: the connection cap and the
/// session key. Sans-IO: the driver holds one (behind its own lock), admits each HTTP
/// or WebSocket connection before serving it, and gives each session the current key.
#[derive(Debug, Clone)]
pub struct Controller {
    model: ControllerModel,
    caps: ConnectionCaps,
    key: SessionKey,
    epoch: u64,
}

impl Controller {
    /// A freshly booted controller whose session key derives from `seed`.
    pub fn new(model: ControllerModel, seed: u64) -> Self {
        Self::with_session_key(model, SessionKey::from_seed(seed))
    }

    /// A freshly booted controller with session key `key`.
    pub fn with_session_key(model: ControllerModel, key: SessionKey) -> Self {
        Self {
            model,
            caps: Self::caps_for(model),
            key,
            epoch: 0,
        }
    }

    fn caps_for(model: ControllerModel) -> ConnectionCaps {
        ConnectionCaps::new(CapConfig {
            total: Some(model.max_connections()),
            per_user: None,
            rate: None,
        })
    }

    /// The controller model.
    pub fn model(&self) -> ControllerModel {
        self.model
    }

    /// The session key that keepalive replies carry until the next restart.
    pub fn session_key(&self) -> SessionKey {
        self.key
    }

    /// Admits one more connection at `now`, or refuses it above the model's cap
    /// ("once the maximum is reached the controller will not accept further HTTP
    /// connections"): the driver then refuses the connection.
    pub fn admit(&mut self, now: Timestamp) -> Result<ConnectionPermit, CapExceeded> {
        self.caps.admit(None, now)?;
        Ok(ConnectionPermit { epoch: self.epoch })
    }

    /// Releases a connection admitted by [`Controller::admit`].
    pub fn release(&mut self, permit: ConnectionPermit) {
        if permit.epoch == self.epoch {
            self.caps.release(None);
        }
    }

    /// Connections currently admitted.
    pub fn active_connections(&self) -> usize {
        self.caps.active()
    }

    /// A new session key, as after a restart, for connections that live on (a simulator
    /// fault: the connection cap keeps counting them).
    pub fn rekey(&mut self) -> SessionKey {
        self.key = self.key.next();
        self.key
    }

    /// Restarts the controller: a new session key (never the old one) and no
    /// connections. The driver ends every session of the old boot; to model a key change
    /// seen on a live socket instead, it calls [`super::MosaicSession::set_session_key`].
    pub fn restart(&mut self) -> SessionKey {
        self.key = self.key.next();
        self.caps = Self::caps_for(self.model);
        self.epoch = self.epoch.wrapping_add(1);
        self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msc_admits_eight_connections() {
        let mut c = Controller::new(ControllerModel::Msc, 1);
        let now = Timestamp::from_unix_secs(1);
        let permits: Vec<_> = (0..8).map(|_| c.admit(now).unwrap()).collect();
        assert_eq!(c.admit(now), Err(CapExceeded::Total(8)));
        let mut permits = permits.into_iter();
        c.release(permits.next().unwrap());
        assert_eq!(c.active_connections(), 7);
        assert!(c.admit(now).is_ok());
    }

    #[test]
    fn msc_x_and_atlas_admit_sixteen() {
        for model in [ControllerModel::MscX, ControllerModel::Atlas] {
            let mut c = Controller::new(model, 1);
            let now = Timestamp::from_unix_secs(1);
            for _ in 0..16 {
                let _permit = c.admit(now).unwrap();
            }
            assert_eq!(c.admit(now), Err(CapExceeded::Total(16)));
        }
    }

    #[test]
    fn key_is_stable_until_restart() {
        let mut c = Controller::new(ControllerModel::Atlas, 7);
        let key = c.session_key();
        assert_eq!(c.session_key(), key);
        let old = c.admit(Timestamp::EPOCH).unwrap();
        let new_key = c.restart();
        assert_ne!(new_key, key);
        assert_eq!(c.session_key(), new_key);
        assert_eq!(c.active_connections(), 0);
        let fresh = c.admit(Timestamp::EPOCH).unwrap();
        c.release(old);
        assert_eq!(
            c.active_connections(),
            1,
            "a permit of the old boot releases nothing"
        );
        c.release(fresh);
        assert_eq!(c.active_connections(), 0);
    }
}
