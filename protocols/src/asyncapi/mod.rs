//! AsyncAPI 3.0 documents of the five APIs (feature `schema`).
//!
//! The message payload schemas are generated with `schemars` from the same types the
//! decoders of this crate produce, so a shape is written once. What types cannot say is
//! written here: servers, channels, operations, security schemes, the envelopes of the
//! hand-written decoders, and the examples, which are the files of `fixtures/<api>/`.
//!
//! [`Api::document`] builds a document as a JSON value; [`to_yaml`] writes it as YAML.

mod molecule;
mod mosaic;
mod robot;
mod valtronics;
mod webmacs;
mod yaml;

use schemars::JsonSchema;
use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use serde_json::Map;
use serde_json::Value;
use serde_json::json;

pub use yaml::to_yaml;

/// The AsyncAPI version the documents follow.
pub const ASYNCAPI_VERSION: &str = "3.0.0";

/// The path at which each simulator serves its API's document.
pub const HTTP_PATH: &str = "/asyncapi.yaml";

/// The content type of the served document.
pub const YAML_CONTENT_TYPE: &str = "application/yaml";

/// Where the message schemas live inside a document.
const SCHEMAS: &str = "#/components/schemas/";

/// One of the five APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    /// Molecule: binary frames, JWT from an OAuth2 password grant inside the handshake.
    Molecule,
    /// Valtronics: JSON, JWT in the first message.
    Valtronics,
    /// WebMACS: JSON, JWT in the `token` query parameter.
    Webmacs,
    /// Mosaic: JSON and a binary keepalive reply, optional bearer token in every message.
    Mosaic,
    /// Robot pub/sub: JSON, JWT in the `token` query parameter.
    Robot,
}

impl Api {
    /// Every API, in port order.
    pub const ALL: [Self; 5] = [
        Self::Molecule,
        Self::Valtronics,
        Self::Webmacs,
        Self::Mosaic,
        Self::Robot,
    ];

    /// The API's name as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Molecule => "molecule",
            Self::Valtronics => "valtronics",
            Self::Webmacs => "webmacs",
            Self::Mosaic => "mosaic",
            Self::Robot => "robot",
        }
    }

    /// The API named `name` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|api| api.name().eq_ignore_ascii_case(name))
    }

    /// The AsyncAPI 3.0 document.
    pub fn document(self) -> Value {
        match self {
            Self::Molecule => molecule::document(),
            Self::Valtronics => valtronics::document(),
            Self::Webmacs => webmacs::document(),
            Self::Mosaic => mosaic::document(),
            Self::Robot => robot::document(),
        }
    }

    /// The AsyncAPI 3.0 document as YAML.
    pub fn yaml(self) -> String {
        to_yaml(&self.document())
    }

    /// The document as a running simulator serves it: its `simulator` server at `host`
    /// (`address:port`) over `protocol` (`ws`, or `wss` with TLS).
    pub fn document_for_simulator(self, protocol: &str, host: &str) -> Value {
        let mut document = self.document();
        if let Some(Value::Object(server)) = document.pointer_mut("/servers/simulator") {
            server.insert("host".into(), json!(host));
            server.insert("protocol".into(), json!(protocol));
        }
        document
    }

    /// Every fixture of `fixtures/<api>/` and what it is an example of.
    pub fn examples(self) -> &'static [Example] {
        match self {
            Self::Molecule => molecule::EXAMPLES,
            Self::Valtronics => valtronics::EXAMPLES,
            Self::Webmacs => webmacs::EXAMPLES,
            Self::Mosaic => mosaic::EXAMPLES,
            Self::Robot => robot::EXAMPLES,
        }
    }
}

impl std::fmt::Display for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A fixture file used as a documented example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Example {
    /// The file name inside `fixtures/<api>/`.
    pub fixture: &'static str,
    /// What the file is an example of.
    pub of: ExampleOf,
    /// The file's contents.
    pub body: Body,
}

/// What a fixture is an example of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExampleOf {
    /// The payload of `components.messages.<id>`.
    Message(&'static str),
    /// The decoded JSON payload (`x-decoded-payload`) of the binary `components.messages.<id>`.
    Decoded(&'static str),
    /// An HTTP body described by `components.schemas.<name>` (token endpoints).
    Schema(&'static str),
}

/// A fixture's contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// A JSON text.
    Json(&'static str),
    /// A text that is not JSON (an empty frame, a form body).
    Text(&'static str),
    /// Binary frame bytes.
    Binary(&'static [u8]),
}

impl Body {
    /// The value a document shows as the example: parsed JSON, the text, or the bytes in
    /// lowercase hex. `None` for JSON that does not parse.
    pub fn example_value(self) -> Option<Value> {
        match self {
            Self::Json(text) => serde_json::from_str(text).ok(),
            Self::Text(text) => Some(Value::String(text.to_owned())),
            Self::Binary(bytes) => Some(Value::String(hex(bytes))),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        for nibble in [byte >> 4, byte & 0x0f] {
            out.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

/// Declares a fixture example: `example!(api, "file.json", Message("id"))`.
macro_rules! example {
    ($api:literal, $file:literal, $of:ident($target:literal)) => {
        $crate::asyncapi::Example {
            fixture: $file,
            of: $crate::asyncapi::ExampleOf::$of($target),
            body: $crate::asyncapi::Body::Json(include_str!(concat!(
                "../../../fixtures/",
                $api,
                "/",
                $file
            ))),
        }
    };
    ($api:literal, $file:literal, $of:ident($target:literal), text) => {
        $crate::asyncapi::Example {
            fixture: $file,
            of: $crate::asyncapi::ExampleOf::$of($target),
            body: $crate::asyncapi::Body::Text(include_str!(concat!(
                "../../../fixtures/",
                $api,
                "/",
                $file
            ))),
        }
    };
    ($api:literal, $file:literal, $of:ident($target:literal), binary) => {
        $crate::asyncapi::Example {
            fixture: $file,
            of: $crate::asyncapi::ExampleOf::$of($target),
            body: $crate::asyncapi::Body::Binary(include_bytes!(concat!(
                "../../../fixtures/",
                $api,
                "/",
                $file
            ))),
        }
    };
}
pub(crate) use example;

/// Who sends a message, seen from the server the document describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// The server sends it (server to client).
    Send,
    /// The server receives it (client to server).
    Receive,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::Receive => "receive",
        }
    }
}

/// One message of a document.
pub(crate) struct Message {
    /// Human title.
    pub title: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// The payload schema.
    pub payload: Value,
    /// `application/json` unless set.
    pub content_type: Option<&'static str>,
    /// For a binary message whose payload carries JSON: the schema of that JSON.
    pub decoded: Option<Value>,
}

impl Message {
    /// A JSON message.
    pub fn json(title: &'static str, summary: &'static str, payload: Value) -> Self {
        Self {
            title,
            summary,
            payload,
            content_type: None,
            decoded: None,
        }
    }

    /// A binary message whose layout `layout` describes.
    pub fn binary(title: &'static str, summary: &'static str, layout: &str) -> Self {
        Self {
            title,
            summary,
            payload: json!({
                "type": "string",
                "format": "binary",
                "description": format!(
                    "{layout}\n\nExamples show the frame bytes in lowercase hex."
                ),
            }),
            content_type: Some("application/octet-stream"),
            decoded: None,
        }
    }
}

/// Assembles one document; each API module fills it in.
pub(crate) struct Builder {
    generator: SchemaGenerator,
    examples: &'static [Example],
    root: Map<String, Value>,
    servers: Map<String, Value>,
    channels: Map<String, Value>,
    operations: Map<String, Value>,
    messages: Map<String, Value>,
    security: Map<String, Value>,
}

impl Builder {
    /// A document titled `title` whose examples come from `examples`.
    pub fn new(title: &str, description: &str, examples: &'static [Example]) -> Self {
        let generator = SchemaSettings::draft07()
            .with(|s| {
                s.definitions_path = "/components/schemas".into();
                s.meta_schema = None;
            })
            .into_generator();
        let mut root = Map::new();
        root.insert("asyncapi".into(), json!(ASYNCAPI_VERSION));
        root.insert(
            "info".into(),
            json!({
                "title": title,
                "version": env!("CARGO_PKG_VERSION"),
                "description": description,
                "license": {"name": "MIT OR Apache-2.0"},
            }),
        );
        root.insert("defaultContentType".into(), json!("application/json"));
        Self {
            generator,
            examples,
            root,
            servers: Map::new(),
            channels: Map::new(),
            operations: Map::new(),
            messages: Map::new(),
            security: Map::new(),
        }
    }

    /// The schema of `T`: a `$ref` into `components.schemas` for named types.
    pub fn schema<T: JsonSchema>(&mut self) -> Value {
        self.generator.subschema_for::<T>().to_value()
    }

    /// Adds `T` to `components.schemas` (an HTTP body) and returns its name there.
    pub fn named_schema<T: JsonSchema>(&mut self) -> String {
        let schema = self.schema::<T>();
        match schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix(SCHEMAS))
        {
            Some(name) => name.to_owned(),
            None => {
                let name = T::schema_name().into_owned();
                self.generator
                    .definitions_mut()
                    .insert(name.clone(), schema);
                name
            }
        }
    }

    /// A security scheme.
    pub fn security(&mut self, id: &str, scheme: Value) {
        self.security.insert(id.into(), scheme);
    }

    /// A server; `security` names security schemes.
    pub fn server(&mut self, id: &str, mut server: Value, security: &[&str]) {
        if let Value::Object(map) = &mut server {
            let refs: Vec<Value> = security
                .iter()
                .map(|s| json!({"$ref": format!("#/components/securitySchemes/{s}")}))
                .collect();
            if !refs.is_empty() {
                map.insert("security".into(), Value::Array(refs));
            }
        }
        self.servers.insert(id.into(), server);
    }

    /// A message in `components.messages`, with its fixtures as examples.
    pub fn message(&mut self, id: &str, message: Message) {
        let mut object = Map::new();
        object.insert("name".into(), json!(id));
        object.insert("title".into(), json!(message.title));
        object.insert("summary".into(), json!(message.summary));
        if let Some(content_type) = message.content_type {
            object.insert("contentType".into(), json!(content_type));
        }
        object.insert("payload".into(), message.payload);
        if let Some(decoded) = message.decoded {
            object.insert("x-decoded-payload".into(), decoded);
        }
        let examples: Vec<Value> = self
            .examples
            .iter()
            .filter(|e| match e.of {
                ExampleOf::Message(m) => m == id,
                // A binary frame is an example of its message; its decoded JSON is not.
                ExampleOf::Decoded(m) => m == id && matches!(e.body, Body::Binary(_)),
                ExampleOf::Schema(_) => false,
            })
            .filter_map(|e| {
                Some(json!({
                    "name": e.fixture.rsplit_once('.').map_or(e.fixture, |(stem, _)| stem),
                    "summary": format!("fixtures file {}", e.fixture),
                    "payload": e.body.example_value()?,
                }))
            })
            .collect();
        if !examples.is_empty() {
            object.insert("examples".into(), Value::Array(examples));
        }
        self.messages.insert(id.into(), Value::Object(object));
    }

    /// A channel at `address` carrying `messages` (ids of `components.messages`).
    pub fn channel(
        &mut self,
        id: &str,
        address: &str,
        description: &str,
        messages: &[&str],
        bindings: Option<Value>,
    ) {
        let refs: Map<String, Value> = messages
            .iter()
            .map(|m| {
                (
                    (*m).to_owned(),
                    json!({"$ref": format!("#/components/messages/{m}")}),
                )
            })
            .collect();
        let mut channel = json!({
            "address": address,
            "description": description,
            "messages": refs,
        });
        if let (Some(bindings), Value::Object(map)) = (bindings, &mut channel) {
            map.insert("bindings".into(), bindings);
        }
        self.channels.insert(id.into(), channel);
    }

    /// An operation on `channel` with `messages`; `reply` is the answer's messages on the
    /// same channel.
    pub fn operation(
        &mut self,
        id: &str,
        action: Action,
        channel: &str,
        summary: &str,
        messages: &[&str],
        reply: &[&str],
    ) {
        let refs = |ids: &[&str]| -> Vec<Value> {
            ids.iter()
                .map(|m| json!({"$ref": format!("#/channels/{channel}/messages/{m}")}))
                .collect()
        };
        let mut operation = json!({
            "action": action.as_str(),
            "channel": {"$ref": format!("#/channels/{channel}")},
            "summary": summary,
            "messages": refs(messages),
        });
        if !reply.is_empty()
            && let Value::Object(map) = &mut operation
        {
            map.insert(
                "reply".into(),
                json!({
                    "channel": {"$ref": format!("#/channels/{channel}")},
                    "messages": refs(reply),
                }),
            );
        }
        self.operations.insert(id.into(), operation);
    }

    /// The finished document.
    pub fn finish(mut self) -> Value {
        let mut schemas = self.generator.take_definitions(true);
        for example in self.examples {
            if let (ExampleOf::Schema(name), Body::Json(_)) = (example.of, example.body)
                && let (Some(Value::Object(schema)), Some(value)) =
                    (schemas.get_mut(name), example.body.example_value())
                && let Value::Array(list) = schema
                    .entry("examples")
                    .or_insert_with(|| Value::Array(Vec::new()))
            {
                list.push(value);
            }
        }
        let mut doc = self.root;
        doc.insert("servers".into(), Value::Object(self.servers));
        doc.insert("channels".into(), Value::Object(self.channels));
        doc.insert("operations".into(), Value::Object(self.operations));
        doc.insert(
            "components".into(),
            json!({
                "schemas": schemas,
                "messages": self.messages,
                "securitySchemes": self.security,
            }),
        );
        let mut doc = Value::Object(doc);
        sanitize_schema_names(&mut doc);
        doc
    }
}

/// AsyncAPI component keys are `[A-Za-z0-9._-]+`; schemars names generic types with `<`,
/// `>` and `,`. Renames such keys and every `$ref` to them.
fn sanitize_schema_names(doc: &mut Value) {
    fn clean(name: &str) -> String {
        name.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '_'
                }
            })
            .collect::<String>()
            .trim_end_matches('_')
            .to_owned()
    }
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, item) in map.iter_mut() {
                    if key == "$ref"
                        && let Value::String(target) = item
                        && let Some(name) = target.strip_prefix(SCHEMAS)
                    {
                        let name = name.replace("~1", "/").replace("~0", "~");
                        *target = format!("{SCHEMAS}{}", clean(&name));
                    } else {
                        walk(item);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    if let Some(Value::Object(schemas)) = doc.pointer_mut("/components/schemas") {
        let taken = std::mem::take(schemas);
        *schemas = taken.into_iter().map(|(k, v)| (clean(&k), v)).collect();
    }
    walk(doc);
}

/// The WebSocket binding of a channel whose handshake carries a `token` query parameter.
pub(crate) fn query_token_binding(description: &str) -> Value {
    json!({
        "ws": {
            "method": "GET",
            "query": {
                "type": "object",
                "properties": {
                    "token": {"type": "string", "description": description},
                },
                "required": ["token"],
            },
            "bindingVersion": "0.1.0",
        }
    })
}

/// A JSON object schema with `const` properties, for envelopes the types do not carry.
pub(crate) fn const_property(name: &str, value: &str) -> Value {
    json!({"type": "object", "properties": {name: {"type": "string", "const": value}}, "required": [name]})
}

/// `allOf` of `schemas`.
pub(crate) fn all_of(schemas: Vec<Value>) -> Value {
    json!({ "allOf": schemas })
}
