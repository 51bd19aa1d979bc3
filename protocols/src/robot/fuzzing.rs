//! Fuzz entry points for robot.txt "Messages" and "System logs": round trips and routing through the broker.
//!
//! Each function is the body of a one-line fuzz target and returns the first broken
//! property; the stable test suite runs them over the committed seeds.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::SharedVerifier;
use crate::auth::TokenTable;
use crate::frame::Outbound;
use crate::fuzzing::Harness;
use crate::fuzzing::PropertyFailure;
use crate::fuzzing::START;
use crate::fuzzing::Step;
use crate::fuzzing::check;
use crate::fuzzing::json_frame;
use crate::fuzzing::round_trips;

use super::Broker;
use super::ClientMessage;
use super::ConnectionId;
use super::Event;
use super::LogLevel;
use super::RobotSession;
use super::Routed;
use super::ServerMessage;
use super::SessionConfig;
use super::Topic;

/// The token both fuzzed connections present; it expires an hour after the start.
pub const GOOD_TOKEN: &str = "good-token";

/// Any text that decodes as a client message (the server's inbound decoder) re-encodes
/// to text that decodes to the same message; the same for server messages.
pub fn message(data: &[u8]) -> Result<(), PropertyFailure> {
    let Ok(text) = std::str::from_utf8(data) else {
        return Ok(());
    };
    round_trips(
        "client message round trip",
        text,
        ClientMessage::decode,
        ClientMessage::to_text,
    )?;
    round_trips(
        "server message round trip",
        text,
        ServerMessage::decode,
        ServerMessage::to_text,
    )?;
    Ok(())
}

fn check_frame(frame: &Outbound) -> Result<(), String> {
    json_frame(frame, ServerMessage::decode, ServerMessage::to_text)
}

/// One connection: its session, its broker id and the topics its client believes it is
/// subscribed to (a subscribe or unsubscribe that got no error reply).
struct Client {
    id: ConnectionId,
    harness: Harness<RobotSession>,
    topics: BTreeSet<Topic>,
}

impl Client {
    fn learn(&mut self, message: Option<ClientMessage>, frames: &[Outbound]) {
        let refused = frames.iter().any(|f| match f {
            Outbound::Text(t) => matches!(ServerMessage::decode(t), Ok(ServerMessage::Error(_))),
            Outbound::Close(_) => true,
            Outbound::Binary(_) => false,
        });
        if refused {
            return;
        }
        match message {
            Some(ClientMessage::Subscribe { topic }) => {
                self.topics.insert(topic);
            }
            Some(ClientMessage::Unsubscribe { topic }) => {
                self.topics.remove(&topic);
            }
            _ => {}
        }
    }
}

/// Two connections on one [`Broker`] (the second with acknowledgements on); each step goes
/// to client `side % 2`, and every event is routed as the driver would, with one server
/// log line per step. Besides the shared invariants: a publish is routed to exactly the
/// open connections whose client subscribed to the topic (never to another one), each
/// of them receives it once as the `{name, type, data}` that was published, and the
/// published payload is the one the client sent.
pub fn two_clients(steps: &[(u8, Step<'_>)]) -> Result<(), PropertyFailure> {
    let verifier: SharedVerifier =
        Arc::new(TokenTable::new().with(GOOD_TOKEN, "fuzz", START + Duration::from_secs(3_600)));
    let mut broker = Broker::default();
    let mut clients = Vec::new();
    for acks in [false, true] {
        let config = SessionConfig {
            acks,
            ..SessionConfig::DEFAULT
        };
        let id = broker
            .connect(Some("fuzz"), START)
            .map_err(|e| PropertyFailure {
                property: "the broker admits two connections",
                detail: format!("{e:?}"),
            })?;
        let session = RobotSession::connect(Some(GOOD_TOKEN), verifier.clone(), config, START);
        clients.push(Client {
            id,
            harness: Harness::new(session, START, check_frame)?,
            topics: BTreeSet::new(),
        });
    }
    let mut now = START;
    for (side, step) in steps {
        for client in &mut clients {
            // The driver calls handle_timeout on every connection whose deadline passed.
            client.harness.now = now;
            client.harness.advance(Duration::ZERO);
            client.harness.drain()?;
            client.harness.events();
            if client.harness.closed() && broker.disconnect(client.id) {
                client.topics.clear();
            }
        }
        let Some(client) = clients.get_mut(usize::from(side % 2)) else {
            continue;
        };
        let message = match step {
            Step::Text(text) if !client.harness.closed() => ClientMessage::decode(text).ok(),
            _ => None,
        };
        let frames = client.harness.step(step)?;
        now = client.harness.now;
        let id = client.id;
        let events = client.harness.events();
        client.learn(message.clone(), &frames);
        if client.harness.closed() {
            client.topics.clear();
            broker.disconnect(id);
        }
        let mut routed = Vec::new();
        for event in &events {
            if let Event::Published { topic, payload } = event {
                let sent = match &message {
                    Some(ClientMessage::Publish { topic: t, data }) => {
                        t == topic && data.payload() == payload
                    }
                    _ => false,
                };
                check(
                    sent,
                    "a published payload is the one the client sent",
                    || format!("{event:?} for {message:?}"),
                )?;
            }
            if broker.is_connected(id) {
                routed.extend(broker.apply(id, event));
            }
        }
        routed.push(broker.server_log(now, LogLevel::Info, "fuzz step"));
        for r in &routed {
            deliver(&mut clients, r)?;
        }
    }
    Ok(())
}

fn deliver(clients: &mut [Client], routed: &Routed) -> Result<(), PropertyFailure> {
    let topic = routed.delivery.topic();
    let expected: Vec<ConnectionId> = clients
        .iter()
        .filter(|c| c.topics.contains(topic))
        .map(|c| c.id)
        .collect();
    check(
        routed.recipients == expected,
        "a publish is routed to exactly the topic's subscribers",
        || {
            format!(
                "{topic}: routed to {:?}, subscribers {expected:?}",
                routed.recipients
            )
        },
    )?;
    for client in clients.iter_mut() {
        let queued = client.harness.session.deliver(&routed.delivery);
        let frames = client.harness.drain()?;
        let subscribed = client.topics.contains(topic);
        check(
            queued == subscribed && frames.len() == usize::from(queued),
            "only a subscriber receives a publish, once",
            || {
                format!(
                    "{} on {topic}: queued {queued}, subscribed {subscribed}",
                    client.id
                )
            },
        )?;
        if let [Outbound::Text(text)] = frames.as_slice() {
            let got = ServerMessage::decode(text);
            check(
                got.as_ref() == Ok(&ServerMessage::Data(routed.delivery.payload().clone())),
                "a subscriber receives the payload as published",
                || text.clone(),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_hold() {
        let steps = [
            (0, Step::Text(r#"{"action":"subscribe","topic":"arm"}"#)),
            (
                1,
                Step::Text(r#"{"action":"subscribe","topic":"server_logs"}"#),
            ),
            (
                1,
                Step::Text(
                    r#"{"action":"publish","topic":"arm","data":{"name":"pos","type":"f64","data":1.5}}"#,
                ),
            ),
            (0, Step::Text(r#"{"action":"unsubscribe","topic":"arm"}"#)),
            (0, Step::Binary(b"\x00")),
            (1, Step::Advance(3_600_000)),
            (1, Step::Text(r#"{"action":"subscribe","topic":"x"}"#)),
        ];
        assert_eq!(two_clients(&steps), Ok(()));
        assert_eq!(message(br#"{"action":"subscribe","topic":"arm"}"#), Ok(()));
    }
}
