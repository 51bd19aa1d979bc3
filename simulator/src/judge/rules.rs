//! The client rules of the five documents: id, level, the sentence each one rests on, and
//! what a conforming client does.

use crate::serve::Api;

/// How binding a rule is (specs/README.md "Conformance levels").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// The document states it.
    Must,
    /// The document's own examples or real clients depend on it.
    Should,
    /// The simulator defines it where the document is silent (informational).
    May,
}

impl Level {
    /// `MUST`, `SHOULD` or `MAY`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        }
    }
}

/// One documented rule about clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The stable id, the same as the tag of its `@client` scenario.
    pub id: &'static str,
    /// How binding it is.
    pub level: Level,
    /// The document's sentence (or example) the rule rests on.
    pub spec: &'static str,
    /// What a conforming client does.
    pub expected: &'static str,
}

/// Molecule: the handshake is the first frame and decodes as documented.
pub const MOLECULE_HANDSHAKE: Rule = Rule {
    id: "molecule.client.handshake",
    level: Level::Must,
    spec: "Immediately after the connection opens, send a binary handshake packet. \
           [0x01][0x02][idLen Hi][idLen Lo][gatewayId bytes][tokLen Hi][tokLen Lo][token bytes][0x01][0x04]",
    expected: "the first frame is a binary handshake that decodes as documented",
};

/// Molecule: frames of an undocumented type are inspected, not rejected.
pub const MOLECULE_UNKNOWN: Rule = Rule {
    id: "molecule.client.unknown-type",
    level: Level::Must,
    spec: "| other | Unknown- inspect raw bytes |",
    expected: "the client stays connected and keeps working after a frame of an undocumented type",
};

/// Molecule: reconnect with a delay that starts at 1 s and grows.
pub const MOLECULE_BACKOFF: Rule = Rule {
    id: "molecule.client.reconnect-backoff",
    level: Level::Should,
    spec: "Reconnection with backoff: const delay = Math.min(1000 * 2 ** attempt, 30000); // cap at 30s",
    expected: "after a connection ends other than by a 1000 close, the next one comes no sooner \
               than the minimum backoff and no sooner than the previous delay",
};

/// Molecule: a refused token is replaced before the next attempt.
pub const MOLECULE_REAUTH: Rule = Rule {
    id: "molecule.client.reauthenticate",
    level: Level::Should,
    spec: "| Auth response success = 0 | Re-authenticate and retry | \
           | ws.onclose with code 1008 | Token rejected- re-authenticate |",
    expected: "after the handshake's token was refused, the next handshake from the same \
               address carries a different token",
};

/// Valtronics: the auth message has the documented shape and a token the server accepts.
pub const VALTRONICS_AUTH_FORMAT: Rule = Rule {
    id: "valtronics.client.auth-format",
    level: Level::Must,
    spec: "After connection, authenticate with JWT token: { \"type\": \"auth\", \"token\": \"jwt-token-string\" }",
    expected: "an {\"type\":\"auth\",\"token\":...} message that decodes as documented and is accepted",
};

/// Valtronics: nothing but auth (or ping) before a successful auth.
pub const VALTRONICS_AUTH_FIRST: Rule = Rule {
    id: "valtronics.client.auth-first",
    level: Level::Must,
    spec: "After connection, authenticate with JWT token (step 2), then subscribe to specific data channels (step 3).",
    expected: "no message other than auth or ping before the auth_response with success true",
};

/// Valtronics: the documented message limits.
pub const VALTRONICS_LIMITS: Rule = Rule {
    id: "valtronics.client.message-limits",
    level: Level::Must,
    spec: "Maximum 100 messages per second per connection. Maximum 1KB message size. \
           Batch messages limited to 50 items.",
    expected: "at most 100 messages in any second, none over 1024 bytes, no batch over 50 items",
};

/// Valtronics: at most 10 new connections per minute.
pub const VALTRONICS_RATE: Rule = Rule {
    id: "valtronics.client.connection-rate",
    level: Level::Must,
    spec: "Connection rate limited to 10 per minute",
    expected: "at most 10 connections from one address in any minute",
};

/// Valtronics: reconnect after a growing delay.
pub const VALTRONICS_BACKOFF: Rule = Rule {
    id: "valtronics.client.reconnect-backoff",
    level: Level::Should,
    spec: "setTimeout(() => { this.connect(); }, this.reconnectInterval * this.reconnectAttempts); \
           with reconnectInterval = 1000",
    expected: "after a connection ends other than by a 1000 close, the next one comes no sooner \
               than the minimum backoff and no sooner than the previous delay",
};

/// Valtronics: messages of an unknown type are logged, not fatal.
pub const VALTRONICS_UNKNOWN: Rule = Rule {
    id: "valtronics.client.unknown-type",
    level: Level::Should,
    spec: "default: console.log('Unknown message type:', data.type);",
    expected: "the client stays connected and keeps working after a message of an unknown type",
};

/// WebMACS: the token travels as `?token=` and is valid.
pub const WEBMACS_TOKEN: Rule = Rule {
    id: "webmacs.client.token-query",
    level: Level::Must,
    spec: "All WebSocket endpoints require a valid JWT token passed as a query parameter: \
           ws://your-host/ws/controller/telemetry?token=<jwt>",
    expected: "a ?token= query parameter holding a token the server accepts",
};

/// WebMACS: controller batches of at most 500 datapoints.
pub const WEBMACS_BATCH: Rule = Rule {
    id: "webmacs.client.batch-limit",
    level: Level::Must,
    spec: "| datapoints | array | Yes | Batch of readings (max 500 items) | \
           The controller automatically chunks large batches via WEBMACS_MAX_BATCH_SIZE.",
    expected: "no batch with more than 500 datapoints",
};

/// WebMACS: an undocumented message type is tolerated (the document is silent).
pub const WEBMACS_UNKNOWN: Rule = Rule {
    id: "webmacs.client.unknown-type",
    level: Level::May,
    spec: "(the document does not say; the simulator checks that a client tolerates a message \
           of an undocumented type)",
    expected: "the client stays connected and keeps working after a message of an undocumented type",
};

/// Mosaic: a message about every 10 s.
pub const MOSAIC_KEEPALIVE: Rule = Rule {
    id: "mosaic.client.keepalive",
    level: Level::Should,
    spec: "A message should be sent every ~10 seconds to keep the connection alive. \
           A keepalive message may be an empty JSON object.",
    expected: "no silence longer than 1.5 keepalive intervals while connected",
};

/// Mosaic: with security on, requests and subscriptions carry the token.
pub const MOSAIC_TOKEN: Rule = Rule {
    id: "mosaic.client.token",
    level: Level::Must,
    spec: "The token attribute must be added to the transmitted JSON with the bearer token \
           received from authenticating a user.",
    expected: "every request and subscribe message carries a token attribute (security on)",
};

/// Mosaic: an all-zero keepalive reply ends the connection.
pub const MOSAIC_TIMEOUT: Rule = Rule {
    id: "mosaic.client.session-timeout",
    level: Level::Should,
    spec: "If the response contains a binary object of all zeros, that indicates that the session \
           has timed out. You should close the WebSocket and re-authenticate",
    expected: "after an all-zero keepalive reply the client sends nothing more and closes the \
               WebSocket (within the grace period)",
};

/// Mosaic: an undocumented message is tolerated (the document is silent).
pub const MOSAIC_UNKNOWN: Rule = Rule {
    id: "mosaic.client.unknown-type",
    level: Level::May,
    spec: "(the document does not say; the simulator checks that a client tolerates a message \
           of an undocumented shape)",
    expected: "the client stays connected and keeps working after a message of an undocumented shape",
};

/// Robot: the token travels as `?token=` and is valid.
pub const ROBOT_TOKEN: Rule = Rule {
    id: "robot.client.token-query",
    level: Level::Must,
    spec: "To connect to the WebSocket, use the WebSocket URL and include the JWT token in the \
           initial request as a query parameter.",
    expected: "a ?token= query parameter holding a token the server accepts",
};

/// Robot: only the three documented messages.
pub const ROBOT_MESSAGES: Rule = Rule {
    id: "robot.client.message-format",
    level: Level::Must,
    spec: "To subscribe to a topic: { \"action\": \"subscribe\", \"topic\": \"some_topic\" } \
           (likewise unsubscribe, and publish with data {name, type, data})",
    expected: "every message is a documented subscribe, unsubscribe or publish",
};

/// Robot: an undocumented message is tolerated (the document is silent).
pub const ROBOT_UNKNOWN: Rule = Rule {
    id: "robot.client.unknown-type",
    level: Level::May,
    spec: "(the document does not say; the simulator checks that a client tolerates a message \
           of an undocumented shape)",
    expected: "the client stays connected and keeps working after a message of an undocumented shape",
};

/// Every client rule of `api`.
pub fn of(api: Api) -> &'static [Rule] {
    match api {
        Api::Molecule => &[
            MOLECULE_HANDSHAKE,
            MOLECULE_REAUTH,
            MOLECULE_UNKNOWN,
            MOLECULE_BACKOFF,
        ],
        Api::Valtronics => &[
            VALTRONICS_AUTH_FORMAT,
            VALTRONICS_AUTH_FIRST,
            VALTRONICS_LIMITS,
            VALTRONICS_RATE,
            VALTRONICS_BACKOFF,
            VALTRONICS_UNKNOWN,
        ],
        Api::Webmacs => &[WEBMACS_TOKEN, WEBMACS_BATCH, WEBMACS_UNKNOWN],
        Api::Mosaic => &[
            MOSAIC_KEEPALIVE,
            MOSAIC_TOKEN,
            MOSAIC_TIMEOUT,
            MOSAIC_UNKNOWN,
        ],
        Api::Robot => &[ROBOT_TOKEN, ROBOT_MESSAGES, ROBOT_UNKNOWN],
    }
}

/// The rule on tolerating an undocumented frame, for `api`.
pub fn unknown_type(api: Api) -> Rule {
    match api {
        Api::Molecule => MOLECULE_UNKNOWN,
        Api::Valtronics => VALTRONICS_UNKNOWN,
        Api::Webmacs => WEBMACS_UNKNOWN,
        Api::Mosaic => MOSAIC_UNKNOWN,
        Api::Robot => ROBOT_UNKNOWN,
    }
}

/// The reconnection rule of `api`, where its document gives a backoff.
pub fn backoff(api: Api) -> Option<Rule> {
    match api {
        Api::Molecule => Some(MOLECULE_BACKOFF),
        Api::Valtronics => Some(VALTRONICS_BACKOFF),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_named_for_their_api() {
        let mut seen = std::collections::HashSet::new();
        for api in Api::ALL {
            for rule in of(api) {
                assert!(rule.id.starts_with(&format!("{}.client.", api.name())));
                assert!(seen.insert(rule.id), "duplicate {}", rule.id);
                assert!(!rule.spec.is_empty() && !rule.expected.is_empty());
            }
            assert!(of(api).contains(&unknown_type(api)));
        }
    }
}
