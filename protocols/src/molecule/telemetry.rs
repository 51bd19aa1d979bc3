//! "Real-time telemetry payload (type 100)": a JSON array of `{key, lbl?, val}` items.

use std::borrow::Cow;

use serde::Deserialize;
use serde::Deserializer;
use serde::Serialize;

use crate::codec::JsonError;
use crate::codec::encode_json;
use crate::codec::encode_json_string;
use crate::scan::Scanner;

use super::error::DecodeError;

/// One telemetry data point. Strings borrow from the payload when they hold no escapes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    ///
    /// Payloads of the documented shape (objects of `key`, `lbl` and `val` strings without
    /// escapes) take a single-pass scanner; anything else (escapes, `null` labels, other
    /// fields, errors) takes the general serde path, so both give the same result.
    pub fn decode(text: &'a str) -> Result<Self, DecodeError> {
        if let Some(telemetry) = scan(text) {
            return Ok(telemetry);
        }
        Self::decode_general(text)
    }

    /// The general decoder: serde over the whole of JSON (the scanner's reference).
    pub fn decode_general(text: &'a str) -> Result<Self, DecodeError> {
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

/// The fast path of [`Telemetry::decode`]: `None` unless `text` is an array of objects
/// whose members are `key`, `lbl` and `val` (each at most once, `key` and `val` present),
/// all strings without escapes or control characters, with JSON whitespace anywhere.
fn scan(text: &str) -> Option<Telemetry<'_>> {
    let mut s = Scanner::new(text);
    s.expect(b'[')?;
    // A documented item takes 25 to 60 bytes: one allocation covers most payloads (a
    // larger one than needed costs the same).
    let mut items = Vec::with_capacity((text.len() / 24).clamp(4, 4096));
    if !s.eat(b']') {
        loop {
            items.push(item(&mut s)?);
            match s.next_byte()? {
                b',' => continue,
                b']' => break,
                _ => return None,
            }
        }
    }
    s.at_end().then_some(Telemetry { items })
}

/// One `{key, lbl?, val}` object of plain strings.
fn item<'a>(s: &mut Scanner<'a>) -> Option<TelemetryItem<'a>> {
    s.expect(b'{')?;
    let (mut key, mut lbl, mut val) = (None, None, None);
    loop {
        let slot = match s.string()? {
            "key" => &mut key,
            "lbl" => &mut lbl,
            "val" => &mut val,
            _ => return None,
        };
        s.expect(b':')?;
        let value = s.string()?;
        if slot.replace(value).is_some() {
            return None;
        }
        match s.next_byte()? {
            b',' => continue,
            b'}' => break,
            _ => return None,
        }
    }
    Some(TelemetryItem {
        key: Cow::Borrowed(key?),
        lbl: lbl.map(Cow::Borrowed),
        val: Cow::Borrowed(val?),
    })
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
    fn the_documented_shape_takes_the_scanner_and_the_rest_falls_back() {
        let documented = "[\n { \"key\": \"SOC\", \"lbl\": \"State\", \"val\": \"74.5\" },\n {\"val\":\"1\",\"key\":\"G\"} ]\n";
        let fast = scan(documented).unwrap();
        assert_eq!(Ok(fast), Telemetry::decode_general(documented));
        assert_eq!(scan("[]"), Some(Telemetry::default()));
        for other in [
            r#"[{"key":"a\"b","val":"1"}]"#,
            r#"[{"key":"k","lbl":null,"val":"v"}]"#,
            r#"[{"key":"k","val":"v","extra":1}]"#,
            r#"[{"key":"k","key":"j","val":"v"}]"#,
            r#"[{"key":"k"}]"#,
            r#"[{"key":"k","val":"v"},]"#,
            r#"[{"key":"k","val":"v"}] x"#,
            r#"[{"key":"k","val":74.5}]"#,
            "[{\"key\":\"k\u{1}\",\"val\":\"v\"}]",
            r#"["#,
        ] {
            assert_eq!(scan(other), None, "{other}");
        }
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
