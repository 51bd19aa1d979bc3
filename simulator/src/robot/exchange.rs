//! robot.txt "Messages" and "System logs" for a whole server: the topic table, fan-out, `server_logs`.

use std::collections::HashMap;
use std::sync::Mutex;

use telewire_protocols::robot::Broker;
use telewire_protocols::robot::BrokerConfig;
use telewire_protocols::robot::ConnectionId;
use telewire_protocols::robot::Delivery;
use telewire_protocols::robot::Event;
use telewire_protocols::robot::LogLevel;
use telewire_protocols::robot::Payload;
use telewire_protocols::robot::Rejection;
use telewire_protocols::robot::Routed;
use telewire_protocols::robot::Topic;

use crate::clock::Clock;
use crate::hub::ConnId;
use crate::hub::Hub;

/// The longest log line written, in bytes.
pub const MAX_LOG_LINE: usize = 512;

/// `line` cut to at most `max` bytes on a character boundary, marked with `…` when cut.
fn clip(line: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if line.len() <= max {
        return line.into();
    }
    let mut end = max;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", line.get(..end).unwrap_or_default()).into()
}

/// The broker's table and the hub queue of each connection, kept in step under one lock.
#[derive(Debug)]
struct Table {
    broker: Broker,
    links: HashMap<ConnectionId, ConnId>,
}

/// Everything the connections of one robot server share: who is subscribed to what
/// (the protocol's [`Broker`]), and a bounded queue per connection ([`Hub`]) that
/// deliveries travel through. The server's own log lines go through it too, so
/// `server_logs` subscribers see connections, subscriptions and publishes as they happen.
#[derive(Debug)]
pub struct Exchange {
    table: Mutex<Table>,
    hub: Hub<Delivery>,
    clock: Clock,
    server_logs: bool,
    leak_publishes: bool,
}

impl Exchange {
    /// An exchange with `config`'s connection caps, queueing at most `queue` deliveries per
    /// connection.
    pub fn new(config: BrokerConfig, queue: usize, clock: Clock) -> Self {
        Self {
            table: Mutex::new(Table {
                broker: Broker::new(config),
                links: HashMap::new(),
            }),
            hub: Hub::new(queue),
            clock,
            server_logs: true,
            leak_publishes: false,
        }
    }

    /// The same exchange, publishing nothing on `server_logs` (a deliberate fault: the
    /// lines still go to the tracing log).
    pub fn without_server_logs(mut self) -> Self {
        self.server_logs = false;
        self
    }

    /// The same exchange, also handing each client's publish to every other connection
    /// that is subscribed to some other topic (a deliberate fault: "Subscribers of a topic
    /// receive each published message", and only they).
    pub fn leaking_publishes(mut self) -> Self {
        self.leak_publishes = true;
        self
    }

    /// Admits a connection for `user`: its id and the queue its deliveries arrive on, or the
    /// refusal (server full).
    pub fn connect(
        &self,
        user: Option<&str>,
    ) -> Result<(ConnectionId, crate::hub::Receiver<Delivery>), Rejection> {
        let now = self.clock.now();
        let Ok(mut table) = self.table.lock() else {
            return Err(Rejection::Capacity(
                telewire_protocols::limits::CapExceeded::Total(0),
            ));
        };
        let id = table.broker.connect(user, now)?;
        let (link, rx) = self.hub.register();
        table.links.insert(id, link);
        Ok((id, rx))
    }

    /// Removes `id` from every topic and drops its queue.
    pub fn disconnect(&self, id: ConnectionId) {
        let link = match self.table.lock() {
            Ok(mut table) => {
                table.broker.disconnect(id);
                table.links.remove(&id)
            }
            Err(_) => None,
        };
        if let Some(link) = link {
            self.hub.unregister(link);
        }
    }

    /// Mirrors what the session of `id` reported; a publish is delivered to the topic's
    /// subscribers. Returns how many connections a publish was queued for.
    pub fn apply(&self, id: ConnectionId, event: &Event) -> usize {
        let (routed, leaked) = match self.table.lock() {
            Ok(mut table) => {
                let routed = table.broker.apply(id, event);
                let leaked = match &routed {
                    Some(routed) if self.leak_publishes => leaks(&table, id, routed),
                    _ => Vec::new(),
                };
                (routed, leaked)
            }
            Err(_) => (None, Vec::new()),
        };
        let queued = routed.map(|r| self.deliver(r)).unwrap_or(0);
        queued + leaked.into_iter().map(|r| self.deliver(r)).sum::<usize>()
    }

    /// Publishes `payload` on `topic` as the server (the simulated robot does); returns how
    /// many connections it was queued for.
    pub fn publish(&self, topic: Topic, payload: Payload) -> usize {
        let routed = match self.table.lock() {
            Ok(table) => table.broker.publish(topic, payload),
            Err(_) => return 0,
        };
        self.deliver(routed)
    }

    /// Writes one of the server's log lines: to the process log (`tracing`) and to the
    /// subscribers of `server_logs`.
    /// Lines longer than [`MAX_LOG_LINE`] bytes are cut (a refused message may quote a
    /// client's input).
    pub fn log(&self, level: LogLevel, line: &str) {
        let line = clip(line, MAX_LOG_LINE);
        match level {
            LogLevel::Debug => tracing::debug!("{line}"),
            LogLevel::Info => tracing::info!("{line}"),
            LogLevel::Warning => tracing::warn!("{line}"),
            LogLevel::Error => tracing::error!("{line}"),
        }
        if !self.server_logs {
            return;
        }
        let routed = match self.table.lock() {
            Ok(table) => table.broker.server_log(self.clock.now(), level, &line),
            Err(_) => return,
        };
        self.deliver(routed);
    }

    /// Whether anyone is subscribed to `topic`.
    pub fn has_subscribers(&self, topic: &Topic) -> bool {
        self.table
            .lock()
            .map(|t| !t.broker.recipients(topic).is_empty())
            .unwrap_or(false)
    }

    /// Live connections.
    pub fn connections(&self) -> usize {
        self.table
            .lock()
            .map(|t| t.broker.connections())
            .unwrap_or(0)
    }

    /// The same exchange with `overflow` as its slow-consumer policy.
    #[must_use]
    pub fn with_overflow(mut self, overflow: crate::hub::Overflow) -> Self {
        self.hub = self.hub.with_overflow(overflow);
        self
    }

    /// Deliveries dropped so far because a connection's queue was full.
    pub fn dropped(&self) -> u64 {
        self.hub.dropped()
    }

    fn deliver(&self, routed: Routed) -> usize {
        if routed.recipients.is_empty() {
            return 0;
        }
        let links: Vec<ConnId> = match self.table.lock() {
            Ok(table) => routed
                .recipients
                .iter()
                .filter_map(|id| table.links.get(id).copied())
                .collect(),
            Err(_) => return 0,
        };
        links
            .into_iter()
            .filter(|link| self.hub.send_to(*link, routed.delivery.clone()))
            .count()
    }
}

/// The fault of [`Exchange::leaking_publishes`]: `routed` (published by `from`) once more
/// for each other connection that is not a recipient and is subscribed to a topic other
/// than `server_logs`, addressed to that topic so that its session lets it through.
fn leaks(table: &Table, from: ConnectionId, routed: &Routed) -> Vec<Routed> {
    table
        .links
        .keys()
        .filter(|id| **id != from && !routed.recipients.contains(id))
        .filter_map(|id| {
            let topic = table
                .broker
                .topics_of(*id)
                .into_iter()
                .find(|t| *t != Topic::SERVER_LOGS)?;
            Some(Routed {
                delivery: Delivery::new(topic, routed.delivery.payload().clone()),
                recipients: vec![*id],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use telewire_protocols::time::Timestamp;

    use super::*;

    fn exchange() -> Exchange {
        Exchange::new(
            BrokerConfig::DEFAULT,
            8,
            Clock::starting_at(Timestamp::from_unix_secs(1_704_110_400)),
        )
    }

    #[tokio::test]
    async fn publish_reaches_subscribers_and_logs_reach_server_logs() {
        let ex = exchange();
        let (a, mut ra) = ex.connect(Some("demo")).unwrap();
        let (b, mut rb) = ex.connect(Some("demo")).unwrap();
        ex.apply(a, &Event::Subscribed { topic: "t".into() });
        ex.apply(
            b,
            &Event::Subscribed {
                topic: Topic::SERVER_LOGS,
            },
        );
        assert!(ex.has_subscribers(&"t".into()));
        let published = Event::Published {
            topic: "t".into(),
            payload: Payload::new("n", "k", json!(1)),
        };
        assert_eq!(ex.apply(b, &published), 1);
        assert_eq!(
            ra.recv().await.unwrap().text(),
            r#"{"name":"n","type":"k","data":1}"#
        );
        ex.log(LogLevel::Info, "hello");
        let log = rb.recv().await.unwrap();
        assert_eq!(log.payload().name, "server_logs");
        assert_eq!(log.payload().data, json!("2024-01-01T12:00:00Z hello"));
        ex.log(LogLevel::Warning, &"é".repeat(400));
        let long = rb.recv().await.unwrap();
        let text = long.payload().data.as_str().unwrap().to_owned();
        assert!(
            text.ends_with('…') && text.len() < MAX_LOG_LINE + 40,
            "{text}"
        );
        ex.disconnect(a);
        assert_eq!(ex.publish("t".into(), Payload::new("n", "k", json!(2))), 0);
        assert_eq!(ex.connections(), 1);
    }

    #[tokio::test]
    async fn the_leak_fault_reaches_clients_subscribed_elsewhere_only() {
        let ex = exchange().leaking_publishes();
        let (publisher, _) = ex.connect(Some("demo")).unwrap();
        let (elsewhere, mut r_elsewhere) = ex.connect(Some("demo")).unwrap();
        let (logs_only, mut r_logs) = ex.connect(Some("demo")).unwrap();
        let (_idle, mut r_idle) = ex.connect(Some("demo")).unwrap();
        ex.apply(elsewhere, &Event::Subscribed { topic: "b".into() });
        ex.apply(
            logs_only,
            &Event::Subscribed {
                topic: Topic::SERVER_LOGS,
            },
        );
        let published = Event::Published {
            topic: "a".into(),
            payload: Payload::new("n", "k", json!(1)),
        };
        assert_eq!(ex.apply(publisher, &published), 1);
        let leaked = r_elsewhere.recv().await.unwrap();
        assert_eq!(leaked.topic(), &Topic::from("b"));
        assert_eq!(leaked.text(), r#"{"name":"n","type":"k","data":1}"#);
        assert!(r_logs.try_recv().is_none());
        assert!(r_idle.try_recv().is_none());
    }
}
