//! "WebSocket Endpoints": the primary `/ws` endpoint and the four specialised ones.

use std::fmt;

use super::codes::Channel;

/// A WebSocket endpoint of the API.
///
/// A specialised endpoint behaves as `/ws` already subscribed to its channel, without
/// filters, once the connection has authenticated (specs README, MUST).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `/ws`: the primary endpoint, no channel until the client subscribes.
    Primary,
    /// `/ws/telemetry`: telemetry stream.
    Telemetry,
    /// `/ws/alerts`: alert notifications.
    Alerts,
    /// `/ws/system`: system status.
    System,
    /// `/ws/devices`: device status.
    Devices,
}

impl Endpoint {
    /// Every endpoint, in document order.
    pub const ALL: [Self; 5] = [
        Self::Primary,
        Self::Telemetry,
        Self::Alerts,
        Self::System,
        Self::Devices,
    ];

    /// The endpoint serving a request path. The query string and one trailing slash are
    /// ignored; any other path is not an endpoint of this API.
    pub fn from_path(path: &str) -> Option<Self> {
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        let path = path.strip_suffix('/').unwrap_or(path);
        Self::ALL.into_iter().find(|e| e.path() == path)
    }

    /// The endpoint's path.
    pub fn path(self) -> &'static str {
        match self {
            Self::Primary => "/ws",
            Self::Telemetry => "/ws/telemetry",
            Self::Alerts => "/ws/alerts",
            Self::System => "/ws/system",
            Self::Devices => "/ws/devices",
        }
    }

    /// The channel a specialised endpoint is subscribed to once authenticated.
    pub fn channel(self) -> Option<Channel> {
        match self {
            Self::Primary => None,
            Self::Telemetry => Some(Channel::TELEMETRY),
            Self::Alerts => Some(Channel::ALERTS),
            Self::System => Some(Channel::SYSTEM),
            Self::Devices => Some(Channel::DEVICES),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_to_endpoints_and_back() {
        for e in Endpoint::ALL {
            assert_eq!(Endpoint::from_path(e.path()), Some(e));
        }
        assert_eq!(Endpoint::from_path("/ws/"), Some(Endpoint::Primary));
        assert_eq!(
            Endpoint::from_path("/ws/alerts?x=1"),
            Some(Endpoint::Alerts)
        );
        assert_eq!(Endpoint::from_path("/"), None);
        assert_eq!(Endpoint::from_path("/ws/weather"), None);
        assert_eq!(Endpoint::from_path("/wss"), None);
        assert_eq!(Endpoint::Devices.channel(), Some(Channel::DEVICES));
        assert_eq!(Endpoint::Primary.channel(), None);
    }
}
