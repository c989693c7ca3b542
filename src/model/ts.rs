//! Unix seconds as RFC 3339 UTC strings on the wire (`#[serde(with = "ts")]`).

use serde::{Deserialize, Deserializer, Serializer};

use crate::duration::{parse_instant, rfc3339};

pub fn serialize<S: Serializer>(at: &i64, s: S) -> Result<S::Ok, S::Error> {
    match rfc3339(*at) {
        Some(text) => s.serialize_str(&text),
        None => Err(serde::ser::Error::custom(format!(
            "timestamp {at} is out of range"
        ))),
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let text = String::deserialize(d)?;
    parse_instant(&text).map_err(serde::de::Error::custom)
}

/// The same for optional timestamps (`null` for never / not set).
pub mod opt {
    use super::*;

    pub fn serialize<S: Serializer>(at: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => super::serialize(at, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => parse_instant(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}
