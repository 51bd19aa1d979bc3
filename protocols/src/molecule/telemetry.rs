//! "Real-time telemetry payload (type 100)": a JSON array of `{key, lbl?, val}` items.

use std::borrow::Cow;

use serde::Deserialize;
use serde::Deserializer;
use serde::Serialize;

use crate::codec::JsonError;
use crate::codec::encode_json;
use crate::codec::encode_json_string;

use super::error::DecodeError;

/// One telemetry data point. Strings borrow from the payload when they hold no escapes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelemetryItem<'a> {
    /// "Unique identifier for this data point".
    #[serde(borrow)]
    pub key: Cow<'a, str>,
    /// "Human-readable label- only sent periodically to reduce bandwidth".
    #[serde(
        borrow,
        default,
        deserialize_with = "borrow_optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub lbl: Option<Cow<'a, str>>,
    /// "Current value as a string": a JSON number here is a decode error.
    #[serde(borrow)]
    pub val: Cow<'a, str>,
}

impl<'a> TelemetryItem<'a> {
    /// An item without a label.
    pub fn new(key: impl Into<Cow<'a, str>>, val: impl Into<Cow<'a, str>>) -> Self {
        Self {
            key: key.into(),
            lbl: None,
            val: val.into(),
        }
    }

    /// The same item with a label.
    pub fn with_label(mut self, lbl: impl Into<Cow<'a, str>>) -> Self {
        self.lbl = Some(lbl.into());
        self
    }

    /// A copy that owns its strings.
    pub fn into_owned(self) -> TelemetryItem<'static> {
        TelemetryItem {
            key: Cow::Owned(self.key.into_owned()),
            lbl: self.lbl.map(|l| Cow::Owned(l.into_owned())),
            val: Cow::Owned(self.val.into_owned()),
        }
    }
}

/// The payload of a type-100 frame.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Telemetry<'a> {
    /// The items, in payload order.
    #[serde(borrow)]
    pub items: Vec<TelemetryItem<'a>>,
}

impl<'a> Telemetry<'a> {
    /// A payload holding `items`.
    pub fn new(items: Vec<TelemetryItem<'a>>) -> Self {
        Self { items }
    }

    /// Decodes the JSON array, borrowing strings from `text` where possible.
    pub fn decode(text: &'a str) -> Result<Self, DecodeError> {
        serde_json::from_str(text).map_err(|e| DecodeError::Json(JsonError::from(e)))
    }

    /// Appends the compact JSON array to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_json(self, out);
    }

    /// The compact JSON array.
    pub fn to_text(&self) -> String {
        encode_json_string(self)
    }

    /// A copy that owns its strings.
    pub fn into_owned(self) -> Telemetry<'static> {
        Telemetry {
            items: self
                .items
                .into_iter()
                .map(TelemetryItem::into_owned)
                .collect(),
        }
    }
}

/// Deserializes `Option<Cow<str>>` borrowing the string (serde borrows only bare `Cow`s).
fn borrow_optional<'de: 'a, 'a, D>(deserializer: D) -> Result<Option<Cow<'a, str>>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    struct Borrowed<'a>(#[serde(borrow)] Cow<'a, str>);
    Option::<Borrowed<'a>>::deserialize(deserializer).map(|o| o.map(|b| b.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::JsonErrorKind;

    #[test]
    fn decodes_the_documented_example_borrowing() {
        let text = r#"[
  { "key": "SOC", "lbl": "State of Charge", "val": "74.5" },
  { "key": "GRID", "val": "3200" }
]"#;
        let t = Telemetry::decode(text).unwrap();
        assert_eq!(t.items.len(), 2);
        assert!(matches!(t.items[0].key, Cow::Borrowed("SOC")));
        assert!(matches!(
            t.items[0].lbl,
            Some(Cow::Borrowed("State of Charge"))
        ));
        assert!(matches!(t.items[0].val, Cow::Borrowed("74.5")));
        assert_eq!(t.items[1].lbl, None);
        assert_eq!(
            t.to_text(),
            r#"[{"key":"SOC","lbl":"State of Charge","val":"74.5"},{"key":"GRID","val":"3200"}]"#
        );
    }

    #[test]
    fn escaped_strings_are_owned() {
        let t = Telemetry::decode(r#"[{"key":"a\"b","lbl":"\u00e9","val":"1"}]"#).unwrap();
        assert_eq!(t.items[0].key, "a\"b");
        assert_eq!(t.items[0].lbl.as_deref(), Some("é"));
    }

    #[test]
    fn val_must_be_a_string() {
        let err = Telemetry::decode(r#"[{"key":"SOC","val":74.5}]"#).unwrap_err();
        let DecodeError::Json(err) = err else {
            panic!("json error expected");
        };
        assert_eq!(err.kind, JsonErrorKind::Data);
        assert_eq!(err.line, 1);
    }

    #[test]
    fn null_label_is_absent_and_missing_key_is_an_error() {
        let t = Telemetry::decode(r#"[{"key":"k","lbl":null,"val":"v"}]"#).unwrap();
        assert_eq!(t.items[0].lbl, None);
        assert!(Telemetry::decode(r#"[{"val":"v"}]"#).is_err());
        assert!(Telemetry::decode(r#"{"key":"k","val":"v"}"#).is_err());
    }
}
