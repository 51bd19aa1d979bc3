//! robot.txt "Messages" and "System logs": the server-wide topic table that routes each publish.

use std::collections::BTreeSet;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::limits::ConnectionCaps;
use crate::time::Timestamp;

use super::auth::Rejection;
use super::codes::LogLevel;
use super::codes::Topic;
use super::config::BrokerConfig;
use super::messages::Payload;
use super::messages::ServerMessage;
use super::session::Event;

/// A connection's id, unique among the live connections of one [`Broker`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(pub u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A payload on its way to a topic's subscribers, encoded once for all of them.
///
/// Cheap to clone (shared), so the driver can queue one per recipient; each recipient's
/// session hands it to [`super::RobotSession::deliver`].
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery(Arc<DeliveryInner>);

#[derive(Debug, PartialEq)]
struct DeliveryInner {
    topic: Topic,
    payload: Payload,
    text: String,
}

impl Delivery {
    /// `payload`, published on `topic`.
    pub fn new(topic: Topic, payload: Payload) -> Self {
        let text = ServerMessage::Data(payload.clone()).to_text();
        Self(Arc::new(DeliveryInner {
            topic,
            payload,
            text,
        }))
    }

    /// The topic it was published on.
    pub fn topic(&self) -> &Topic {
        &self.0.topic
    }

    /// The `{name, type, data}` payload.
    pub fn payload(&self) -> &Payload {
        &self.0.payload
    }

    /// The text frame every subscriber receives.
    pub fn text(&self) -> &str {
        &self.0.text
    }
}

/// A delivery and the connections to hand it to (ascending ids; possibly none).
#[derive(Debug, Clone, PartialEq)]
pub struct Routed {
    /// What to deliver.
    pub delivery: Delivery,
    /// To whom: the topic's subscribers at the moment of routing.
    pub recipients: Vec<ConnectionId>,
}

/// The payload of one server log line on `server_logs` (MAY: the document names the
/// topic, not the shape): `{"name": "server_logs", "type": "<level>", "data":
/// "<RFC 3339 time> <line>"}`, for example `{"name":"server_logs","type":"info",
/// "data":"2024-01-01T12:00:00Z client #3 subscribed to some_topic"}`.
///
/// The `name` equals the topic so a client routing on `name` (as the official one does)
/// can tell log lines from its own data; `data` is a string, like the document's example.
pub fn server_log(now: Timestamp, level: LogLevel, line: &str) -> Payload {
    Payload::new(
        Topic::SERVER_LOGS.as_str(),
        level.as_str(),
        Value::String(format!("{} {line}", now.to_rfc3339_secs())),
    )
}

#[derive(Debug)]
struct Member {
    user: Option<String>,
    topics: BTreeSet<Topic>,
}

/// The state every connection of one robot server shares (sans-IO): connection ids and
/// caps, and which connection is subscribed to which topic.
///
/// Routing rules (SHOULD, from the README: "Subscribers of a topic receive each published
/// message"): a publish reaches exactly the topic's current subscribers, never another
/// connection; the publisher receives its own message when it is itself subscribed to the
/// topic (MAY: like any other subscriber); an unsubscribe or a disconnect stops delivery at
/// once. The broker mirrors what each session reports ([`Broker::apply`]); per-connection
/// limits are the session's.
#[derive(Debug)]
pub struct Broker {
    caps: ConnectionCaps,
    next_id: u64,
    members: HashMap<ConnectionId, Member>,
    topics: HashMap<Topic, BTreeSet<ConnectionId>>,
}

impl Broker {
    /// An empty broker with `config`'s caps.
    pub fn new(config: BrokerConfig) -> Self {
        Self {
            caps: ConnectionCaps::new(config.caps),
            next_id: 1,
            members: HashMap::new(),
            topics: HashMap::new(),
        }
    }

    /// Admits a connection for `user` (the token's subject) at `now` and gives it an id,
    /// or refuses it: the caller answers 503 before the upgrade, or builds
    /// [`super::RobotSession::refused`] (close 1013) after it.
    pub fn connect(
        &mut self,
        user: Option<&str>,
        now: Timestamp,
    ) -> Result<ConnectionId, Rejection> {
        self.caps.admit(user, now)?;
        let mut id = ConnectionId(self.next_id);
        while self.members.contains_key(&id) {
            id = ConnectionId(id.0.wrapping_add(1));
        }
        self.next_id = id.0.wrapping_add(1);
        self.members.insert(
            id,
            Member {
                user: user.map(str::to_owned),
                topics: BTreeSet::new(),
            },
        );
        Ok(id)
    }

    /// Removes `id` from every topic and releases its place; returns whether it was connected.
    pub fn disconnect(&mut self, id: ConnectionId) -> bool {
        let Some(member) = self.members.remove(&id) else {
            return false;
        };
        for topic in &member.topics {
            self.remove_subscriber(topic, id);
        }
        self.caps.release(member.user.as_deref());
        true
    }

    /// Subscribes `id` to `topic`; returns whether that changed anything (false when
    /// already subscribed or not connected).
    pub fn subscribe(&mut self, id: ConnectionId, topic: &Topic) -> bool {
        let Some(member) = self.members.get_mut(&id) else {
            return false;
        };
        if !member.topics.insert(topic.clone()) {
            return false;
        }
        self.topics.entry(topic.clone()).or_default().insert(id);
        true
    }

    /// Unsubscribes `id` from `topic`; returns whether it was subscribed.
    pub fn unsubscribe(&mut self, id: ConnectionId, topic: &Topic) -> bool {
        let removed = self
            .members
            .get_mut(&id)
            .is_some_and(|m| m.topics.remove(topic));
        if removed {
            self.remove_subscriber(topic, id);
        }
        removed
    }

    fn remove_subscriber(&mut self, topic: &Topic, id: ConnectionId) {
        if let Some(subs) = self.topics.get_mut(topic) {
            subs.remove(&id);
            if subs.is_empty() {
                self.topics.remove(topic);
            }
        }
    }

    /// The current subscribers of `topic`, ascending.
    pub fn recipients(&self, topic: &Topic) -> Vec<ConnectionId> {
        self.topics
            .get(topic)
            .map(|subs| subs.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Routes `payload` published on `topic` to its subscribers.
    pub fn publish(&self, topic: Topic, payload: Payload) -> Routed {
        let recipients = self.recipients(&topic);
        Routed {
            delivery: Delivery::new(topic, payload),
            recipients,
        }
    }

    /// Routes one of the server's own log lines to the subscribers of `server_logs`
    /// (MUST: "Some system logs are published by the WebSocket server on the
    /// "server_logs" topic"; the shape is [`server_log`]'s).
    pub fn server_log(&self, now: Timestamp, level: LogLevel, line: &str) -> Routed {
        self.publish(Topic::SERVER_LOGS, server_log(now, level, line))
    }

    /// Mirrors what the session of `id` reported: a subscription change updates the table,
    /// a publish is routed. Other events need no routing.
    pub fn apply(&mut self, id: ConnectionId, event: &Event) -> Option<Routed> {
        match event {
            Event::Subscribed { topic } => {
                self.subscribe(id, topic);
                None
            }
            Event::Unsubscribed { topic } => {
                self.unsubscribe(id, topic);
                None
            }
            Event::Published { topic, payload } => {
                Some(self.publish(topic.clone(), payload.clone()))
            }
            Event::Refused(_) => None,
        }
    }

    /// Whether `id` is connected.
    pub fn is_connected(&self, id: ConnectionId) -> bool {
        self.members.contains_key(&id)
    }

    /// Live connections.
    pub fn connections(&self) -> usize {
        self.members.len()
    }

    /// Topics with at least one subscriber.
    pub fn topic_count(&self) -> usize {
        self.topics.len()
    }

    /// The topics `id` is subscribed to, in order.
    pub fn topics_of(&self, id: ConnectionId) -> Vec<Topic> {
        self.members
            .get(&id)
            .map(|m| m.topics.iter().cloned().collect())
            .unwrap_or_default()
    }
}

impl Default for Broker {
    fn default() -> Self {
        Self::new(BrokerConfig::DEFAULT)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::limits::CapConfig;
    use crate::limits::CapExceeded;

    fn t(name: &str) -> Topic {
        Topic::new(name)
    }

    fn now() -> Timestamp {
        Timestamp::from_unix_secs(1_704_110_400)
    }

    #[test]
    fn publish_reaches_exactly_the_topic_subscribers() {
        let mut broker = Broker::default();
        let a = broker.connect(Some("demo"), now()).unwrap();
        let b = broker.connect(Some("demo"), now()).unwrap();
        let c = broker.connect(None, now()).unwrap();
        assert_ne!(a, b);
        assert!(broker.subscribe(a, &t("arm")));
        assert!(broker.subscribe(c, &t("arm")));
        assert!(broker.subscribe(b, &t("wheels")));
        assert!(!broker.subscribe(a, &t("arm")), "idempotent");
        let routed = broker.publish(t("arm"), Payload::new("pos", "f64", json!(1.5)));
        assert_eq!(routed.recipients, [a, c]);
        assert_eq!(
            routed.delivery.text(),
            r#"{"name":"pos","type":"f64","data":1.5}"#
        );
        assert_eq!(
            broker
                .publish(t("arms"), Payload::new("", "", Value::Null))
                .recipients,
            []
        );
        assert_eq!(broker.recipients(&t("wheels")), [b]);
    }

    #[test]
    fn unsubscribe_and_disconnect_stop_delivery() {
        let mut broker = Broker::default();
        let a = broker.connect(None, now()).unwrap();
        let b = broker.connect(None, now()).unwrap();
        for topic in ["x", "y", "z"] {
            broker.subscribe(a, &t(topic));
            broker.subscribe(b, &t(topic));
        }
        assert!(broker.unsubscribe(a, &t("x")));
        assert!(!broker.unsubscribe(a, &t("x")));
        assert_eq!(broker.recipients(&t("x")), [b]);
        assert_eq!(broker.topics_of(a), [t("y"), t("z")]);
        assert!(broker.disconnect(b));
        assert!(!broker.disconnect(b));
        assert_eq!(broker.recipients(&t("x")), []);
        assert_eq!(broker.recipients(&t("y")), [a]);
        assert_eq!(broker.topic_count(), 2, "x has no subscriber left");
        assert!(
            !broker.subscribe(b, &t("y")),
            "a gone connection cannot subscribe"
        );
        assert!(!broker.is_connected(b));
        assert_eq!(broker.connections(), 1);
    }

    #[test]
    fn connection_cap_refuses_and_frees_on_disconnect() {
        let mut broker = Broker::new(BrokerConfig {
            caps: CapConfig {
                total: Some(2),
                per_user: Some(1),
                rate: None,
            },
        });
        let a = broker.connect(Some("u"), now()).unwrap();
        assert_eq!(
            broker.connect(Some("u"), now()),
            Err(Rejection::Capacity(CapExceeded::PerUser(1)))
        );
        let b = broker.connect(Some("v"), now()).unwrap();
        assert_eq!(
            broker.connect(Some("w"), now()),
            Err(Rejection::Capacity(CapExceeded::Total(2)))
        );
        broker.disconnect(a);
        let c = broker.connect(Some("u"), now()).unwrap();
        assert!(
            c != a && c != b,
            "ids are not reused while live: {a} {b} {c}"
        );
    }

    #[test]
    fn server_logs_go_to_server_logs_subscribers_only() {
        let mut broker = Broker::default();
        let logs = broker.connect(None, now()).unwrap();
        let other = broker.connect(None, now()).unwrap();
        broker.subscribe(logs, &Topic::SERVER_LOGS);
        broker.subscribe(other, &t("some_topic"));
        let routed = broker.server_log(now(), LogLevel::Info, "client #2 connected");
        assert_eq!(routed.recipients, [logs]);
        assert_eq!(routed.delivery.topic(), &Topic::SERVER_LOGS);
        assert_eq!(
            routed.delivery.text(),
            r#"{"name":"server_logs","type":"info","data":"2024-01-01T12:00:00Z client #2 connected"}"#
        );
    }

    #[test]
    fn apply_mirrors_session_events() {
        let mut broker = Broker::default();
        let a = broker.connect(None, now()).unwrap();
        let sub = Event::Subscribed { topic: t("q") };
        assert_eq!(broker.apply(a, &sub), None);
        assert_eq!(broker.recipients(&t("q")), [a]);
        let publish = Event::Published {
            topic: t("q"),
            payload: Payload::new("n", "k", json!("v")),
        };
        let routed = broker.apply(a, &publish).unwrap();
        assert_eq!(
            routed.recipients,
            [a],
            "a subscribed publisher hears itself"
        );
        assert_eq!(
            broker.apply(a, &Event::Unsubscribed { topic: t("q") }),
            None
        );
        assert_eq!(broker.apply(a, &publish).unwrap().recipients, []);
    }
}
