//! JSON framing shared by every message of the "WebSocket API" document: objects only, `type` envelopes.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::Deserializer;
use serde::de::DeserializeOwned;
use serde::de::IgnoredAny;
use serde::de::MapAccess;
use serde::de::Visitor;
use serde::de::value::MapAccessDeserializer;

use crate::codec::decode_json;

use super::error::DecodeError;
use super::values::MessageType;

/// Deserializes `T` from a JSON object only.
///
/// serde's derived structs also accept a JSON array of the field values (`[23.5, "abc"]`),
/// which no WebMACS peer sends; this wrapper refuses it while keeping serde_json's line and
/// column in every error, because the fields are still read from the original input.
pub(crate) struct ObjectOnly<T>(pub(crate) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = ObjectOnly<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(ObjectOnly)
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// Decodes `text` as a JSON object of type `T`.
pub(crate) fn decode_object<T: DeserializeOwned>(text: &str) -> Result<T, DecodeError> {
    decode_json::<ObjectOnly<T>>(text)
        .map(|o| o.0)
        .map_err(DecodeError::from)
}

/// `deserialize_with` for a list whose items must be JSON objects.
pub(crate) fn object_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let items = Vec::<ObjectOnly<T>>::deserialize(d)?;
    Ok(items.into_iter().map(|o| o.0).collect())
}

/// The `type` of a JSON object message, read without building the rest of it.
#[derive(Debug, Default)]
pub(crate) struct Envelope {
    /// The `type` field, when present.
    pub(crate) kind: Option<MessageType>,
}

impl Envelope {
    /// Reads the envelope of `text`, which must be a JSON object.
    pub(crate) fn read(text: &str) -> Result<Self, DecodeError> {
        decode_json::<Envelope>(text).map_err(DecodeError::from)
    }
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Envelope;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope, A::Error> {
                let mut envelope = Envelope::default();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    if key == "type" {
                        envelope.kind = Some(map.next_value::<MessageType>()?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(envelope)
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Pair {
        a: u8,
        b: String,
    }

    #[test]
    fn arrays_are_not_objects() {
        assert_eq!(
            decode_object::<Pair>(r#"{"a":1,"b":"x"}"#).unwrap(),
            Pair {
                a: 1,
                b: "x".into()
            }
        );
        let err = decode_object::<Pair>(r#"[1,"x"]"#).unwrap_err();
        assert!(err.to_string().contains("a JSON object"), "{err}");
        let DecodeError::Json(json) =
            decode_object::<Pair>("{\n\"a\": \"one\", \"b\": \"x\"}").unwrap_err()
        else {
            panic!("expected a JSON error")
        };
        assert_eq!(
            (json.line, json.message.contains("invalid type")),
            (2, true)
        );
    }

    #[test]
    fn envelope_reads_type_only() {
        let e = Envelope::read(r#"{"x":[1,{"type":"no"}],"type":"ping"}"#).unwrap();
        assert_eq!(e.kind, Some(MessageType::PING));
        assert_eq!(Envelope::read("{}").unwrap().kind, None);
        assert!(Envelope::read(r#"["type"]"#).is_err());
        assert!(Envelope::read(r#"{"type":7}"#).is_err());
    }
}
