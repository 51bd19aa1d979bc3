//! The Molecule document: binary frames on `/ws`, the JWT (OAuth2 password grant) inside
//! the handshake. The binary layouts are described in text; the JSON carried by telemetry
//! frames has the derived schema of [`Telemetry`] (`x-decoded-payload`).

use serde_json::Value;
use serde_json::json;

use super::Action;
use super::Builder;
use super::Example;
use super::Message;
use super::example;
use crate::molecule::OAuthError;
use crate::molecule::Telemetry;
use crate::molecule::TokenRequest;
use crate::molecule::TokenResponse;

/// Every fixture of `fixtures/molecule/`.
pub(super) const EXAMPLES: &[Example] = &[
    example!("molecule", "client-command.bin", Message("command"), binary),
    example!(
        "molecule",
        "client-handshake.bin",
        Message("handshake"),
        binary
    ),
    example!(
        "molecule",
        "http-error-invalid-client.json",
        Schema("OAuthError")
    ),
    example!(
        "molecule",
        "http-error-invalid-grant.json",
        Schema("OAuthError")
    ),
    example!(
        "molecule",
        "http-error-unsupported-grant-type.json",
        Schema("OAuthError")
    ),
    example!(
        "molecule",
        "http-token-request.form",
        Schema("TokenRequest"),
        text
    ),
    example!(
        "molecule",
        "http-token-response.json",
        Schema("TokenResponse")
    ),
    example!(
        "molecule",
        "server-auth-response-failed.bin",
        Message("authResponse"),
        binary
    ),
    example!(
        "molecule",
        "server-auth-response-success.bin",
        Message("authResponse"),
        binary
    ),
    example!(
        "molecule",
        "server-data-command-response.bin",
        Message("commandResponse"),
        binary
    ),
    example!(
        "molecule",
        "server-data-device-log.bin",
        Message("deviceLog"),
        binary
    ),
    example!(
        "molecule",
        "server-data-telemetry-trailing-null.bin",
        Decoded("telemetry"),
        binary
    ),
    example!(
        "molecule",
        "server-data-telemetry.bin",
        Decoded("telemetry"),
        binary
    ),
    example!(
        "molecule",
        "server-data-unknown.bin",
        Message("unknownData"),
        binary
    ),
    example!("molecule", "server-telemetry.json", Decoded("telemetry")),
];

/// The layout shared by every data frame.
const DATA_FRAME: &str = "`[messageType u8][reserved u8 = 0][UTF-8 payload][0x00?]`: \
    the payload may end in one trailing `0x00`, which is not part of it.";

/// The decoded payload of a text frame: its UTF-8 text, without the trailing null.
fn text_payload() -> Value {
    json!({"type": "string", "contentMediaType": "text/plain"})
}

pub(super) fn document() -> Value {
    let mut b = Builder::new(
        "Molecule real-time data WebSocket API",
        "Real-time gateway data over binary WebSocket frames (`binaryType = 'arraybuffer'`). \
         The client obtains a JWT with an OAuth2 password grant from the identity server \
         (`POST /connect/token`, form-urlencoded `TokenRequest`; `TokenResponse` or an RFC \
         6749 `OAuthError`), connects to `/ws` and sends the binary handshake holding the \
         gateway id and the JWT. The server answers with a 3-byte auth response, always its \
         first frame, then forwards the gateway's data frames: telemetry (type 100, a JSON \
         array of `{key, lbl?, val}`), command responses (1), device log lines (2) and \
         other types, kept raw. The token never appears in URLs or HTTP headers.",
        EXAMPLES,
    );
    b.security(
        "oauth2Password",
        json!({
            "type": "oauth2",
            "description": "OAuth2 password grant (`client_id=molecule-api`); the access token \
                travels inside the binary handshake, never in a URL or header.",
            "flows": {
                "password": {
                    "tokenUrl": "https://id.moleculesystems.com/connect/token",
                    "availableScopes": {},
                },
            },
            "scopes": [],
        }),
    );
    b.server(
        "simulator",
        json!({"host": "127.0.0.1:9101", "protocol": "ws", "description": "`telewire serve molecule` (default port; its token endpoint is `POST /connect/token` on the same port)."}),
        &["oauth2Password"],
    );
    b.server(
        "vendor",
        json!({"host": "wsau.moleculesystems.com", "protocol": "wss", "description": "The vendor's WebSocket host."}),
        &["oauth2Password"],
    );
    let _ = b.named_schema::<TokenRequest>();
    let _ = b.named_schema::<TokenResponse>();
    let _ = b.named_schema::<OAuthError>();
    let telemetry = b.schema::<Telemetry>();

    b.message(
        "handshake",
        Message::binary(
            "Handshake",
            "The gateway id and the JWT; the first frame the client sends.",
            "`[0x01][0x02][idLen u16 BE][gatewayId UTF-8][tokLen u16 BE][token UTF-8][0x01][0x04]`: \
             the connection marker, the gateway id and the JWT each after its big-endian \
             length, and the end-of-message sentinel.",
        ),
    );
    b.message(
        "command",
        Message {
            decoded: Some(text_payload()),
            ..Message::binary(
                "Command",
                "A command for the gateway (type 1), answered by a command response.",
                &format!("Type 1. {DATA_FRAME} The payload is the command text."),
            )
        },
    );
    b.message(
        "authResponse",
        Message::binary(
            "Auth response",
            "The answer to the handshake: 3 bytes, always the server's first frame.",
            "`[0x02][status][0x04]`: request type 2 (remote access response), status 1 \
             authenticated or 0 failed (the server then closes), end of frame.",
        ),
    );
    b.message(
        "telemetry",
        Message {
            decoded: Some(telemetry),
            ..Message::binary(
                "Telemetry",
                "Real-time telemetry (type 100): a JSON array of `{key, lbl?, val}`.",
                &format!(
                    "Type 100 (0x64). {DATA_FRAME} The payload is JSON; its schema is \
                     `x-decoded-payload`. `val` is always a string; `lbl` is sent only \
                     periodically."
                ),
            )
        },
    );
    b.message(
        "commandResponse",
        Message {
            decoded: Some(text_payload()),
            ..Message::binary(
                "Command response",
                "The reply to a command (type 1).",
                &format!("Type 1. {DATA_FRAME} The payload is the reply text."),
            )
        },
    );
    b.message(
        "deviceLog",
        Message {
            decoded: Some(text_payload()),
            ..Message::binary(
                "Device log",
                "One plain-text log line from the gateway (type 2).",
                &format!("Type 2. {DATA_FRAME} The payload is the log line."),
            )
        },
    );
    b.message(
        "unknownData",
        Message::binary(
            "Other data frame",
            "A data frame of any other type: inspect the raw bytes.",
            &format!("Any type but 1, 2 and 100. {DATA_FRAME}"),
        ),
    );
    b.channel(
        "ws",
        "/ws",
        "The real-time data endpoint; every frame is binary.",
        &[
            "handshake",
            "command",
            "authResponse",
            "telemetry",
            "commandResponse",
            "deviceLog",
            "unknownData",
        ],
        None,
    );
    b.operation(
        "receiveHandshake",
        Action::Receive,
        "ws",
        "Authenticate and choose the gateway.",
        &["handshake"],
        &["authResponse"],
    );
    b.operation(
        "receiveCommand",
        Action::Receive,
        "ws",
        "Relay a command to the gateway.",
        &["command"],
        &["commandResponse"],
    );
    b.operation(
        "sendTelemetry",
        Action::Send,
        "ws",
        "Forward the gateway's telemetry.",
        &["telemetry"],
        &[],
    );
    b.operation(
        "sendDeviceLog",
        Action::Send,
        "ws",
        "Forward the gateway's log lines.",
        &["deviceLog"],
        &[],
    );
    b.operation(
        "sendUnknownData",
        Action::Send,
        "ws",
        "Forward other data frames unchanged.",
        &["unknownData"],
        &[],
    );
    b.finish()
}
