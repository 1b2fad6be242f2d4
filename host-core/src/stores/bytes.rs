//! Byte strings in persisted records: UTF-8 text stays readable, anything else is base64.
//! (`{"text": "…"}` or `{"base64": "…"}`; a bare string is read as text.)

use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Repr {
    Text(String),
    Tagged { text: Option<String>, base64: Option<String> },
}

pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    match core::str::from_utf8(bytes) {
        Ok(text) => s.serialize_str(text),
        Err(_) => {
            Repr::Tagged { text: None, base64: Some(base64::engine::general_purpose::STANDARD.encode(bytes)) }.serialize(s)
        }
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    match Repr::deserialize(d)? {
        Repr::Text(text) | Repr::Tagged { text: Some(text), .. } => Ok(text.into_bytes()),
        Repr::Tagged { base64: Some(b64), .. } => {
            base64::engine::general_purpose::STANDARD.decode(b64).map_err(serde::de::Error::custom)
        }
        Repr::Tagged { .. } => Err(serde::de::Error::custom("expected `text` or `base64`")),
    }
}

/// For `Option<Vec<u8>>` fields.
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => super::serialize(bytes, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(deserialize_with = "super::deserialize")] Vec<u8>);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}
