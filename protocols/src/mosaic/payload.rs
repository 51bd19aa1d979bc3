//! The `data` of replies and broadcasts, typed by channel (the vendor's channel table).

use serde::Serialize;
use serde::Serializer;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::channel::Channel;
use super::channel::ChannelKind;
use super::data::Beacon;
use super::data::ContentTargets;
use super::data::CurrentTime;
use super::data::GroupStatus;
use super::data::IoModules;
use super::data::Log;
use super::data::LuaVariables;
use super::data::NetworkAdapters;
use super::data::RemoteDevices;
use super::data::SceneStatus;
use super::data::SystemInfo;
use super::data::TimelineStatus;
use super::error::DecodeError;

/// The `data` of a reply to a request.
///
/// Channels whose reply the documents type get a typed variant; the others (timeline,
/// scene and group lists, and every channel that "returns the same data as the HTTP
/// endpoint", and unknown channels) keep the JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyData {
    /// `network_adapters`.
    NetworkAdapters(NetworkAdapters),
    /// `content_target`.
    ContentTargets(ContentTargets),
    /// `remote_device` (either spelling).
    RemoteDevices(RemoteDevices),
    /// `log`.
    Log(Log),
    /// `system` (boxed: by far the largest payload).
    System(Box<SystemInfo>),
    /// `current_time`.
    CurrentTime(CurrentTime),
    /// Any other channel: the matching HTTP endpoint's data, as JSON.
    Endpoint(Value),
}

/// The `data` of a broadcast to subscribers.
///
/// Subscribable channels get a typed variant; a broadcast on any other channel (which a
/// conforming server does not send) keeps the JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum BroadcastData {
    /// `timeline`: one timeline's state.
    Timeline(TimelineStatus),
    /// `scene`: one scene's state.
    Scene(SceneStatus),
    /// `group`: one group's level.
    Group(GroupStatus),
    /// `content_target`.
    ContentTargets(ContentTargets),
    /// `remote_device` (either spelling).
    RemoteDevices(RemoteDevices),
    /// `beacon`.
    Beacon(Beacon),
    /// `log`.
    Log(Log),
    /// `lua`.
    Lua(LuaVariables),
    /// `io_module`.
    IoModule(IoModules),
    /// A channel that is not subscribable, or unknown.
    Other(Value),
}

/// Which variant a channel's data takes; the single source for decoding and checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    NetworkAdapters,
    ContentTargets,
    RemoteDevices,
    Log,
    System,
    CurrentTime,
    Timeline,
    Scene,
    Group,
    Beacon,
    Lua,
    IoModule,
    Untyped,
}

fn reply_shape(channel: &Channel) -> Shape {
    match channel.kind() {
        Some(ChannelKind::NetworkAdapters) => Shape::NetworkAdapters,
        Some(ChannelKind::ContentTarget) => Shape::ContentTargets,
        Some(ChannelKind::RemoteDevice) => Shape::RemoteDevices,
        Some(ChannelKind::Log) => Shape::Log,
        Some(ChannelKind::System) => Shape::System,
        Some(ChannelKind::CurrentTime) => Shape::CurrentTime,
        _ => Shape::Untyped,
    }
}

fn broadcast_shape(channel: &Channel) -> Shape {
    match channel.kind() {
        Some(ChannelKind::Timeline) => Shape::Timeline,
        Some(ChannelKind::Scene) => Shape::Scene,
        Some(ChannelKind::Group) => Shape::Group,
        Some(ChannelKind::ContentTarget) => Shape::ContentTargets,
        Some(ChannelKind::RemoteDevice) => Shape::RemoteDevices,
        Some(ChannelKind::Beacon) => Shape::Beacon,
        Some(ChannelKind::Log) => Shape::Log,
        Some(ChannelKind::Lua) => Shape::Lua,
        Some(ChannelKind::IoModule) => Shape::IoModule,
        _ => Shape::Untyped,
    }
}

fn typed<T: DeserializeOwned>(channel: &Channel, data: Value) -> Result<T, DecodeError> {
    serde_json::from_value(data).map_err(|e| DecodeError::Data {
        channel: channel.clone(),
        source: e.into(),
    })
}

impl ReplyData {
    /// Decodes the `data` of a reply for `channel`.
    pub fn decode_for(channel: &Channel, data: Value) -> Result<Self, DecodeError> {
        Ok(match reply_shape(channel) {
            Shape::NetworkAdapters => Self::NetworkAdapters(typed(channel, data)?),
            Shape::ContentTargets => Self::ContentTargets(typed(channel, data)?),
            Shape::RemoteDevices => Self::RemoteDevices(typed(channel, data)?),
            Shape::Log => Self::Log(typed(channel, data)?),
            Shape::System => Self::System(typed(channel, data)?),
            Shape::CurrentTime => Self::CurrentTime(typed(channel, data)?),
            _ => Self::Endpoint(data),
        })
    }

    /// Whether this is the variant a reply for `channel` decodes as.
    pub fn fits(&self, channel: &Channel) -> bool {
        self.shape() == reply_shape(channel)
    }

    fn shape(&self) -> Shape {
        match self {
            Self::NetworkAdapters(_) => Shape::NetworkAdapters,
            Self::ContentTargets(_) => Shape::ContentTargets,
            Self::RemoteDevices(_) => Shape::RemoteDevices,
            Self::Log(_) => Shape::Log,
            Self::System(_) => Shape::System,
            Self::CurrentTime(_) => Shape::CurrentTime,
            Self::Endpoint(_) => Shape::Untyped,
        }
    }
}

impl BroadcastData {
    /// Decodes the `data` of a broadcast on `channel`.
    pub fn decode_for(channel: &Channel, data: Value) -> Result<Self, DecodeError> {
        Ok(match broadcast_shape(channel) {
            Shape::Timeline => Self::Timeline(typed(channel, data)?),
            Shape::Scene => Self::Scene(typed(channel, data)?),
            Shape::Group => Self::Group(typed(channel, data)?),
            Shape::ContentTargets => Self::ContentTargets(typed(channel, data)?),
            Shape::RemoteDevices => Self::RemoteDevices(typed(channel, data)?),
            Shape::Beacon => Self::Beacon(typed(channel, data)?),
            Shape::Log => Self::Log(typed(channel, data)?),
            Shape::Lua => Self::Lua(typed(channel, data)?),
            Shape::IoModule => Self::IoModule(typed(channel, data)?),
            _ => Self::Other(data),
        })
    }

    /// Whether this is the variant a broadcast on `channel` decodes as.
    pub fn fits(&self, channel: &Channel) -> bool {
        self.shape() == broadcast_shape(channel)
    }

    fn shape(&self) -> Shape {
        match self {
            Self::Timeline(_) => Shape::Timeline,
            Self::Scene(_) => Shape::Scene,
            Self::Group(_) => Shape::Group,
            Self::ContentTargets(_) => Shape::ContentTargets,
            Self::RemoteDevices(_) => Shape::RemoteDevices,
            Self::Beacon(_) => Shape::Beacon,
            Self::Log(_) => Shape::Log,
            Self::Lua(_) => Shape::Lua,
            Self::IoModule(_) => Shape::IoModule,
            Self::Other(_) => Shape::Untyped,
        }
    }
}

impl Serialize for ReplyData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::NetworkAdapters(d) => d.serialize(s),
            Self::ContentTargets(d) => d.serialize(s),
            Self::RemoteDevices(d) => d.serialize(s),
            Self::Log(d) => d.serialize(s),
            Self::System(d) => d.serialize(s),
            Self::CurrentTime(d) => d.serialize(s),
            Self::Endpoint(d) => d.serialize(s),
        }
    }
}

impl Serialize for BroadcastData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Timeline(d) => d.serialize(s),
            Self::Scene(d) => d.serialize(s),
            Self::Group(d) => d.serialize(s),
            Self::ContentTargets(d) => d.serialize(s),
            Self::RemoteDevices(d) => d.serialize(s),
            Self::Beacon(d) => d.serialize(s),
            Self::Log(d) => d.serialize(s),
            Self::Lua(d) => d.serialize(s),
            Self::IoModule(d) => d.serialize(s),
            Self::Other(d) => d.serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_typed_by_channel_and_checked() {
        let data =
            serde_json::json!({"num": 1, "state": "running", "onstage": true, "position": 1500});
        let push = BroadcastData::decode_for(&Channel::TIMELINE, data.clone()).unwrap();
        assert!(matches!(push, BroadcastData::Timeline(_)));
        assert!(push.fits(&Channel::TIMELINE));
        assert!(!push.fits(&Channel::SCENE));
        let err = BroadcastData::decode_for(&Channel::SCENE, data.clone()).unwrap_err();
        assert!(
            matches!(&err, DecodeError::Data { channel, .. } if *channel == Channel::SCENE),
            "{err}"
        );
        // The timeline request returns the endpoint's list, not the push shape.
        let reply = ReplyData::decode_for(&Channel::TIMELINE, data).unwrap();
        assert!(matches!(reply, ReplyData::Endpoint(_)));
        assert!(reply.fits(&Channel::new("time")));
    }

    #[test]
    fn bad_state_names_the_member() {
        let data = serde_json::json!({"num": 1, "state": "stopped", "onstage": true});
        let err = BroadcastData::decode_for(&Channel::SCENE, data).unwrap_err();
        assert!(err.to_string().contains("stopped"), "{err}");
    }
}
