//! robot.txt "Connecting to the WebSocket" from the client's side: the URL and the three messages.

use crate::frame::Close;
use crate::frame::CloseCode;

use super::codes::Topic;
use super::http::ErrorBody;
use super::http::STATUS_UNAUTHORIZED;
use super::http::TOKEN_PARAM;
use super::messages::ClientMessage;
use super::messages::EmbeddedPayload;
use super::messages::Payload;
use super::messages::PublishData;

/// The URL to open: `endpoint` (`wss://<ROBOT_IP>/wss`, or `ws://host:8001/` as the
/// official client uses) with `token=<token>` appended to its query, the token
/// percent-encoded (a JWT passes unchanged).
pub fn connect_url(endpoint: &str, token: &str) -> String {
    let separator = if !endpoint.contains('?') {
        "?"
    } else if endpoint.ends_with('?') || endpoint.ends_with('&') {
        ""
    } else {
        "&"
    };
    format!(
        "{endpoint}{separator}{TOKEN_PARAM}={}",
        crate::urlencoded::encode_query_value(token)
    )
}

/// `{"action":"subscribe","topic":<topic>}`.
pub fn subscribe(topic: impl Into<Topic>) -> ClientMessage {
    ClientMessage::Subscribe {
        topic: topic.into(),
    }
}

/// `{"action":"unsubscribe","topic":<topic>}`.
pub fn unsubscribe(topic: impl Into<Topic>) -> ClientMessage {
    ClientMessage::Unsubscribe {
        topic: topic.into(),
    }
}

/// `{"action":"publish","topic":<topic>,"data":"<payload as a JSON string>"}`: the payload
/// stringified, as the official client sends it.
pub fn publish(topic: impl Into<Topic>, payload: Payload) -> ClientMessage {
    ClientMessage::Publish {
        topic: topic.into(),
        data: PublishData::Text(EmbeddedPayload::new(payload)),
    }
}

/// `{"action":"publish","topic":<topic>,"data":{name, type, data}}`: the form robot.txt
/// prints.
pub fn publish_object(topic: impl Into<Topic>, payload: Payload) -> ClientMessage {
    ClientMessage::Publish {
        topic: topic.into(),
        data: PublishData::Object(payload),
    }
}

/// How a server refused a connection's token. The README allows either, so a client must
/// recognise both (MUST).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// HTTP 401 before the upgrade; the body when it was the documented JSON.
    Unauthorized(Option<ErrorBody>),
    /// Close 1008 after the upgrade, with its reason.
    PolicyClose(String),
}

impl Refusal {
    /// The refusal an HTTP response to the upgrade request is, if it is one (status 401).
    pub fn from_http(status: u16, body: &str) -> Option<Self> {
        (status == STATUS_UNAUTHORIZED).then(|| Self::Unauthorized(ErrorBody::decode(body).ok()))
    }

    /// The refusal a close frame is, if it is one (code 1008).
    pub fn from_close(close: &Close) -> Option<Self> {
        (close.code == CloseCode::POLICY_VIOLATION).then(|| Self::PolicyClose(close.reason.clone()))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn url_appends_the_encoded_token() {
        assert_eq!(
            connect_url("wss://10.0.0.2/wss", "eyJhbGciOi.J9.x-y_z"),
            "wss://10.0.0.2/wss?token=eyJhbGciOi.J9.x-y_z"
        );
        assert_eq!(
            connect_url("ws://robot:8001/", "a b&c"),
            "ws://robot:8001/?token=a%20b%26c"
        );
        assert_eq!(
            connect_url("ws://robot:8001/?v=2", "t"),
            "ws://robot:8001/?v=2&token=t"
        );
        assert_eq!(connect_url("ws://r/?", "t"), "ws://r/?token=t");
        assert_eq!(connect_url("ws://r/?v=1&", "t"), "ws://r/?v=1&token=t");
    }

    #[test]
    fn messages_match_the_official_client() {
        assert_eq!(
            subscribe("server_logs").to_text(),
            r#"{"action":"subscribe","topic":"server_logs"}"#
        );
        assert_eq!(
            unsubscribe("some_topic").to_text(),
            r#"{"action":"unsubscribe","topic":"some_topic"}"#
        );
        let payload = Payload::new("name_of_data", "type_of_data", json!("your_data_here"));
        assert_eq!(
            publish("some_topic", payload.clone()).to_text(),
            r#"{"action":"publish","topic":"some_topic","data":"{\"name\":\"name_of_data\",\"type\":\"type_of_data\",\"data\":\"your_data_here\"}"}"#
        );
        assert_eq!(
            publish_object("some_topic", payload).to_text(),
            r#"{"action":"publish","topic":"some_topic","data":{"name":"name_of_data","type":"type_of_data","data":"your_data_here"}}"#
        );
    }

    #[test]
    fn both_refusals_are_recognised() {
        assert_eq!(
            Refusal::from_http(401, r#"{"detail":"token has expired"}"#),
            Some(Refusal::Unauthorized(Some(ErrorBody::new(
                "token has expired"
            ))))
        );
        assert_eq!(
            Refusal::from_http(401, "Unauthorized"),
            Some(Refusal::Unauthorized(None))
        );
        assert_eq!(Refusal::from_http(404, ""), None);
        let close = Close::new(CloseCode::POLICY_VIOLATION, "no token provided");
        assert_eq!(
            Refusal::from_close(&close),
            Some(Refusal::PolicyClose("no token provided".into()))
        );
        assert_eq!(
            Refusal::from_close(&Close::new(CloseCode::NORMAL, "")),
            None
        );
    }
}
