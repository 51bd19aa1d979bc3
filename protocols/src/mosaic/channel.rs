//! WebSocket functions: the channel names and what each allows (request, subscribe).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::Serialize;

/// A channel name as it appears in `request`, `subscribe` and `broadcast`.
///
/// Open: a name outside the documented table is kept as received (and answered with an
/// error reply by the server session), never lost. The spelling is kept too, so a reply
/// echoes exactly what the client sent; [`Channel::kind`] maps both spellings of the
/// remote device channel (`remote_device`, `remote-device`) to one [`ChannelKind`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct Channel(pub Cow<'static, str>);

macro_rules! channels {
    ($($(#[$doc:meta])* $konst:ident = $kind:ident, $name:literal, request: $req:literal, subscribe: $sub:literal;)*) => {
        impl Channel {
            $($(#[$doc])* pub const $konst: Self = Self(Cow::Borrowed($name));)*
        }

        /// The documented channels, one per row of the function table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ChannelKind {
            $($(#[$doc])* $kind,)*
        }

        impl ChannelKind {
            /// Every documented channel, in table order.
            pub const ALL: &'static [ChannelKind] = &[$(ChannelKind::$kind,)*];

            /// The canonical wire name.
            pub fn name(self) -> &'static str {
                match self {
                    $(ChannelKind::$kind => $name,)*
                }
            }

            /// The canonical channel.
            pub fn channel(self) -> Channel {
                match self {
                    $(ChannelKind::$kind => Channel::$konst,)*
                }
            }

            /// Whether the channel answers requests and accepts subscriptions (the table's
            /// "Request" and "Subscribe" columns).
            pub fn capability(self) -> Capability {
                match self {
                    $(ChannelKind::$kind => Capability { request: $req, subscribe: $sub },)*
                }
            }

            fn from_canonical(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(ChannelKind::$kind),)*
                    _ => None,
                }
            }
        }
    };
}

channels! {
    /// `network_adapters`: the controller's network adapters.
    NETWORK_ADAPTERS = NetworkAdapters, "network_adapters", request: true, subscribe: false;
    /// `timeline`: timeline states.
    TIMELINE = Timeline, "timeline", request: true, subscribe: true;
    /// `scene`: scene states.
    SCENE = Scene, "scene", request: true, subscribe: true;
    /// `group`: group master levels.
    GROUP = Group, "group", request: true, subscribe: true;
    /// `content_target`: content target master levels.
    CONTENT_TARGET = ContentTarget, "content_target", request: true, subscribe: true;
    /// `remote_device`: remote devices (also spelled `remote-device`).
    REMOTE_DEVICE = RemoteDevice, "remote_device", request: true, subscribe: true;
    /// `beacon`: the beacon flashing or not.
    BEACON = Beacon, "beacon", request: false, subscribe: true;
    /// `log`: the controller log.
    LOG = Log, "log", request: true, subscribe: true;
    /// `lua`: Lua variables pushed by the project's scripts.
    LUA = Lua, "lua", request: false, subscribe: true;
    /// `io_module`: IO modules and their instances' status.
    IO_MODULE = IoModule, "io_module", request: false, subscribe: true;
    /// `system`: the System endpoint's data.
    SYSTEM = System, "system", request: true, subscribe: false;
    /// `current_time`: the Time endpoint's data.
    CURRENT_TIME = CurrentTime, "current_time", request: true, subscribe: false;
    /// `project`: the Project endpoint's data.
    PROJECT = Project, "project", request: true, subscribe: false;
    /// `controller`: the Controller endpoint's data.
    CONTROLLER = Controller, "controller", request: true, subscribe: false;
    /// `text_slot`: the Text Slots endpoint's data.
    TEXT_SLOT = TextSlot, "text_slot", request: true, subscribe: false;
    /// `temperature`: the Temperature endpoint's data.
    TEMPERATURE = Temperature, "temperature", request: true, subscribe: false;
    /// `fan_speed`: the Fan Speed endpoint's data.
    FAN_SPEED = FanSpeed, "fan_speed", request: true, subscribe: false;
    /// `protocol`: the Protocol endpoint's data.
    PROTOCOL = Protocol, "protocol", request: true, subscribe: false;
    /// `output`: the Output endpoint's data.
    OUTPUT = Output, "output", request: true, subscribe: false;
    /// `input`: the Input endpoint's data.
    INPUT = Input, "input", request: true, subscribe: false;
    /// `trigger`: the Trigger endpoint's data.
    TRIGGER = Trigger, "trigger", request: true, subscribe: false;
    /// `dali_interface`: the DALI interface data.
    DALI_INTERFACE = DaliInterface, "dali_interface", request: true, subscribe: false;
    /// `replication`: the Replication endpoint's data.
    REPLICATION = Replication, "replication", request: true, subscribe: false;
    /// `config`: the Config endpoint's data.
    CONFIG = Config, "config", request: true, subscribe: false;
    /// `playback_group`: the Playback Group endpoint's data.
    PLAYBACK_GROUP = PlaybackGroup, "playback_group", request: true, subscribe: false;
}

impl Channel {
    /// The spelling of the remote device channel in the document's table.
    pub const REMOTE_DEVICE_HYPHEN: Self = Self(Cow::Borrowed("remote-device"));

    /// A channel with any name.
    pub fn new(name: impl Into<String>) -> Self {
        Self(Cow::Owned(name.into()))
    }

    /// The name as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The documented channel this name denotes, or `None` for an unknown name.
    pub fn kind(&self) -> Option<ChannelKind> {
        match self.as_str() {
            "remote-device" => Some(ChannelKind::RemoteDevice),
            name => ChannelKind::from_canonical(name),
        }
    }

    /// What the channel allows; `None` for an unknown name.
    pub fn capability(&self) -> Option<Capability> {
        self.kind().map(ChannelKind::capability)
    }

    /// Whether `self` and `other` denote the same channel (same kind, or the same
    /// unknown name), whatever the spelling.
    pub fn same_as(&self, other: &Channel) -> bool {
        match (self.kind(), other.kind()) {
            (Some(a), Some(b)) => a == b,
            _ => self == other,
        }
    }
}

impl From<ChannelKind> for Channel {
    fn from(kind: ChannelKind) -> Self {
        kind.channel()
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a channel allows: the "Request" and "Subscribe" columns of the function table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Capability {
    /// `{"request": channel}` is answered with the channel's data.
    pub request: bool,
    /// `{"subscribe": channel}` starts broadcasts of the channel.
    pub subscribe: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_every_channel_with_its_capability() {
        assert_eq!(ChannelKind::ALL.len(), 25);
        let subscribable: Vec<_> = ChannelKind::ALL
            .iter()
            .filter(|k| k.capability().subscribe)
            .map(|k| k.name())
            .collect();
        assert_eq!(
            subscribable,
            [
                "timeline",
                "scene",
                "group",
                "content_target",
                "remote_device",
                "beacon",
                "log",
                "lua",
                "io_module"
            ]
        );
        let not_requestable: Vec<_> = ChannelKind::ALL
            .iter()
            .filter(|k| !k.capability().request)
            .map(|k| k.name())
            .collect();
        assert_eq!(not_requestable, ["beacon", "lua", "io_module"]);
        for kind in ChannelKind::ALL {
            assert_eq!(Channel::new(kind.name()).kind(), Some(*kind));
            assert_eq!(kind.channel().as_str(), kind.name());
        }
    }

    #[test]
    fn both_remote_device_spellings_are_one_channel() {
        assert_eq!(
            Channel::REMOTE_DEVICE_HYPHEN.kind(),
            Some(ChannelKind::RemoteDevice)
        );
        assert!(Channel::REMOTE_DEVICE_HYPHEN.same_as(&Channel::REMOTE_DEVICE));
        assert_ne!(Channel::REMOTE_DEVICE_HYPHEN, Channel::REMOTE_DEVICE);
    }

    #[test]
    fn unknown_names_are_kept() {
        let ch = Channel::new("time");
        assert_eq!(ch.kind(), None);
        assert_eq!(ch.capability(), None);
        assert_eq!(ch.to_string(), "time");
        assert!(ch.same_as(&Channel::new("time")));
        assert!(!ch.same_as(&Channel::CURRENT_TIME));
    }
}
