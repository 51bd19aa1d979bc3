//! Prerequisites, "Gateway ID": which gateways a server relays, and who may use them.
//!
//! "Provided by your Molecule account manager": the directory is shared by every
//! connection of one server and consulted once per handshake.

use std::collections::HashMap;
use std::collections::HashSet;
use std::sync::Arc;

/// Why a gateway id was refused ("Auth failed- check gateway ID and token").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum GatewayRejection {
    /// No gateway has this id.
    #[error("unknown gateway")]
    Unknown,
    /// The gateway exists, but the token's subject may not use it.
    #[error("gateway not permitted for this subject")]
    NotPermitted,
}

/// Decides whether `subject` may connect to `gateway_id`.
pub trait GatewayDirectory {
    /// Checks one authenticated subject's access to one gateway.
    fn admit(&self, gateway_id: &str, subject: &str) -> Result<(), GatewayRejection>;
}

impl<T: GatewayDirectory + ?Sized> GatewayDirectory for &T {
    fn admit(&self, gateway_id: &str, subject: &str) -> Result<(), GatewayRejection> {
        (**self).admit(gateway_id, subject)
    }
}

impl<T: GatewayDirectory + ?Sized> GatewayDirectory for Arc<T> {
    fn admit(&self, gateway_id: &str, subject: &str) -> Result<(), GatewayRejection> {
        (**self).admit(gateway_id, subject)
    }
}

/// The directory handle that sessions hold: shared by every connection of a server.
pub type SharedGateways = Arc<dyn GatewayDirectory + Send + Sync>;

/// An in-memory directory: gateway ids, each open to everyone or to listed subjects.
#[derive(Debug, Clone, Default)]
pub struct GatewayTable {
    /// `None`: any authenticated subject; `Some(set)`: only these subjects.
    gateways: HashMap<String, Option<HashSet<String>>>,
}

impl GatewayTable {
    /// An empty directory: every gateway id is unknown.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `gateway_id`, open to every authenticated subject.
    pub fn with(mut self, gateway_id: &str) -> Self {
        self.insert_open(gateway_id);
        self
    }

    /// Adds `gateway_id`, open to every authenticated subject.
    pub fn insert_open(&mut self, gateway_id: &str) {
        self.gateways.insert(gateway_id.to_owned(), None);
    }

    /// Lets `subject` use `gateway_id`, restricting the gateway to its listed subjects.
    pub fn grant(&mut self, gateway_id: &str, subject: &str) {
        self.gateways
            .entry(gateway_id.to_owned())
            .or_insert_with(|| Some(HashSet::new()))
            .get_or_insert_with(HashSet::new)
            .insert(subject.to_owned());
    }

    /// Removes `gateway_id`.
    pub fn remove(&mut self, gateway_id: &str) {
        self.gateways.remove(gateway_id);
    }

    /// Whether `gateway_id` exists.
    pub fn contains(&self, gateway_id: &str) -> bool {
        self.gateways.contains_key(gateway_id)
    }
}

impl GatewayDirectory for GatewayTable {
    fn admit(&self, gateway_id: &str, subject: &str) -> Result<(), GatewayRejection> {
        match self.gateways.get(gateway_id) {
            None => Err(GatewayRejection::Unknown),
            Some(None) => Ok(()),
            Some(Some(subjects)) if subjects.contains(subject) => Ok(()),
            Some(Some(_)) => Err(GatewayRejection::NotPermitted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_admits_open_and_granted_gateways_only() {
        let mut table = GatewayTable::new().with("demo-gateway");
        table.grant("private", "alice");
        assert_eq!(table.admit("demo-gateway", "anyone"), Ok(()));
        assert_eq!(table.admit("private", "alice"), Ok(()));
        assert_eq!(
            table.admit("private", "bob"),
            Err(GatewayRejection::NotPermitted)
        );
        assert_eq!(table.admit("nope", "alice"), Err(GatewayRejection::Unknown));
        table.remove("private");
        assert!(!table.contains("private"));
    }
}
