//! robot.txt "Messages": walking a parsed JSON object field by field, with the path of each fault.
//!
//! The messages are decoded by hand rather than by a serde derive so that every fault names
//! the exact field (`$.data.name`) and the kind of fault, which the session turns into the
//! matching error code.

use serde_json::Map;
use serde_json::Value;

use super::error::DecodeError;
use super::error::Path;
use super::messages::Payload;

/// The JSON type of `value`, as error messages name it.
pub(super) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses `text` as JSON, mapping syntax failures to [`DecodeError::Json`].
pub(super) fn parse(text: &str) -> Result<Value, DecodeError> {
    crate::codec::decode_json::<Value>(text).map_err(DecodeError::Json)
}

/// `value` as an object, or a [`DecodeError::WrongType`] at `path`.
pub(super) fn object(value: Value, path: Path) -> Result<Map<String, Value>, DecodeError> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(DecodeError::WrongType {
            path,
            expected: "an object",
            found: kind_of(&other),
        }),
    }
}

/// Removes `key` from `map`; a missing key is a [`DecodeError::MissingField`] at `path`.
pub(super) fn take(
    map: &mut Map<String, Value>,
    key: &str,
    path: Path,
) -> Result<Value, DecodeError> {
    map.remove(key).ok_or(DecodeError::MissingField { path })
}

/// Removes the string `key` from `map`.
pub(super) fn take_string(
    map: &mut Map<String, Value>,
    key: &str,
    path: Path,
) -> Result<String, DecodeError> {
    match take(map, key, path)? {
        Value::String(s) => Ok(s),
        other => Err(DecodeError::WrongType {
            path,
            expected: "a string",
            found: kind_of(&other),
        }),
    }
}

/// Refuses whatever `map` still holds: the first (in key order) is reported.
pub(super) fn deny_rest(map: Map<String, Value>, within: Path) -> Result<(), DecodeError> {
    match map.into_iter().next() {
        Some((field, _)) => Err(DecodeError::UnknownField { within, field }),
        None => Ok(()),
    }
}

/// Where the three fields of a `{name, type, data}` payload sit in the message.
#[derive(Debug, Clone, Copy)]
pub(super) struct PayloadPaths {
    /// The payload object itself.
    pub(super) at: Path,
    /// Its `name`.
    pub(super) name: Path,
    /// Its `type`.
    pub(super) kind: Path,
    /// Its `data`.
    pub(super) data: Path,
}

impl PayloadPaths {
    /// A payload that is the whole message (what subscribers receive).
    pub(super) const ROOT: Self = Self {
        at: Path::Root,
        name: Path::Name,
        kind: Path::Type,
        data: Path::Data,
    };
    /// A payload carried in a publish's `data`.
    pub(super) const IN_DATA: Self = Self {
        at: Path::Data,
        name: Path::DataName,
        kind: Path::DataType,
        data: Path::DataData,
    };
}

/// Decodes a `{name, type, data}` object: `name` and `type` strings, `data` any JSON value,
/// nothing else.
pub(super) fn payload(value: Value, paths: PayloadPaths) -> Result<Payload, DecodeError> {
    let mut map = object(value, paths.at)?;
    let name = take_string(&mut map, "name", paths.name)?;
    let kind = take_string(&mut map, "type", paths.kind)?;
    let data = take(&mut map, "data", paths.data)?;
    deny_rest(map, paths.at)?;
    Ok(Payload { name, kind, data })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn payload_reports_each_fault_at_its_path() {
        let ok = json!({"name": "n", "type": "t", "data": [1, 2]});
        assert_eq!(
            payload(ok, PayloadPaths::IN_DATA),
            Ok(Payload::new("n", "t", json!([1, 2])))
        );
        assert_eq!(
            payload(json!({"type": "t", "data": 1}), PayloadPaths::IN_DATA),
            Err(DecodeError::MissingField {
                path: Path::DataName
            })
        );
        assert_eq!(
            payload(
                json!({"name": "n", "type": 3, "data": 1}),
                PayloadPaths::ROOT
            ),
            Err(DecodeError::WrongType {
                path: Path::Type,
                expected: "a string",
                found: "a number"
            })
        );
        assert_eq!(
            payload(json!({"name": "n", "type": "t"}), PayloadPaths::ROOT),
            Err(DecodeError::MissingField { path: Path::Data })
        );
        assert_eq!(
            payload(
                json!({"name": "n", "type": "t", "data": null, "z": 1, "extra": 2}),
                PayloadPaths::IN_DATA
            ),
            Err(DecodeError::UnknownField {
                within: Path::Data,
                field: "extra".into()
            })
        );
        assert_eq!(
            payload(json!("text"), PayloadPaths::IN_DATA),
            Err(DecodeError::WrongType {
                path: Path::Data,
                expected: "an object",
                found: "a string"
            })
        );
    }

    #[test]
    fn kinds_are_named() {
        let names: Vec<_> = [
            json!(null),
            json!(true),
            json!(1.5),
            json!("s"),
            json!([]),
            json!({}),
        ]
        .iter()
        .map(kind_of)
        .collect();
        assert_eq!(
            names,
            [
                "null",
                "a boolean",
                "a number",
                "a string",
                "an array",
                "an object"
            ]
        );
    }
}
