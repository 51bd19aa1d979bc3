//! The `faults` key of each API's scenario section: either a list of fault specs that
//! every client gets as it connects (`faults = ["latency=200ms", "drop=0.1"]`), or the
//! table of deliberate rule breaks (`[webmacs.faults] no_connected = true`).

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::ops::DerefMut;

use serde::Deserialize;
use serde::Deserializer;
use serde::de::MapAccess;
use serde::de::SeqAccess;
use serde::de::Visitor;
use serde::de::value::MapAccessDeserializer;

use super::Fault;

/// One API's `faults` key: on-demand faults (a list) or rule breaks `B` (a table).
/// Dereferences to the breaks, so `scenario.faults.some_break` reads as before.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Section<B> {
    /// Deliberate rule breaks (`telewire serve --break`).
    pub breaks: B,
    /// Faults every client of the API gets as it connects.
    pub on_connect: Vec<Fault>,
}

impl<B> Deref for Section<B> {
    type Target = B;
    fn deref(&self) -> &B {
        &self.breaks
    }
}

impl<B> DerefMut for Section<B> {
    fn deref_mut(&mut self) -> &mut B {
        &mut self.breaks
    }
}

impl<'de, B: Deserialize<'de> + Default> Deserialize<'de> for Section<B> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SectionVisitor<B>(PhantomData<B>);

        impl<'de, B: Deserialize<'de> + Default> Visitor<'de> for SectionVisitor<B> {
            type Value = Section<B>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a list of fault specs like [\"latency=200ms\", \"drop=0.1\"], or a table of rule breaks",
                )
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut on_connect = Vec::new();
                while let Some(spec) = seq.next_element::<String>()? {
                    let fault: Fault = spec.parse().map_err(serde::de::Error::custom)?;
                    if fault.is_server_wide() {
                        return Err(serde::de::Error::custom(format!(
                            "{fault} acts once on the running server and cannot be listed here; trigger it with `telewire fault`"
                        )));
                    }
                    on_connect.push(fault);
                }
                Ok(Section {
                    breaks: B::default(),
                    on_connect,
                })
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Ok(Section {
                    breaks: B::deserialize(MapAccessDeserializer::new(map))?,
                    on_connect: Vec::new(),
                })
            }
        }

        deserializer.deserialize_any(SectionVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Default, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Breaks {
        #[serde(default)]
        flag: bool,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Api {
        #[serde(default)]
        faults: Section<Breaks>,
    }

    #[test]
    fn a_list_holds_faults_and_a_table_holds_breaks() {
        let api: Api = toml::from_str("faults = [\"latency=200ms\", \"drop=0.5\"]").unwrap();
        assert_eq!(api.faults.on_connect.len(), 2);
        assert!(!api.faults.flag);
        let api: Api = toml::from_str("[faults]\nflag = true\n").unwrap();
        assert!(api.faults.flag);
        assert!(api.faults.on_connect.is_empty());
        let err = toml::from_str::<Api>("[faults]\nnope = true\n").unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        let err = toml::from_str::<Api>("faults = [\"latency=fast\"]").unwrap_err();
        assert!(err.to_string().contains("latency"), "{err}");
        let err = toml::from_str::<Api>("faults = [\"restart\"]").unwrap_err();
        assert!(err.to_string().contains("telewire fault"), "{err}");
    }
}
