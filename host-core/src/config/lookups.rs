//! The lookup sections — `acls` and `geolocation` — checked where the types alone cannot,
//! and the geolocation record production returns.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;

use serde_json::{Map, Value};

use super::{Acl, ConfigError, Geolocation};
use crate::ip::IpPrefix;

/// What a geolocation field holds, as the SDKs deserialise it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GeoValue {
    Text(&'static str),
    /// A string, or `null` (`region` is optional in the `fastly` crate).
    TextOrNull(&'static str),
    /// An integer in `min..=max`, the range of the SDK's type.
    Integer { value: i64, min: i64, max: i64 },
    Number(f64),
}

/// Every field of the record `fastly_geo::lookup` returns, with the value it has when the
/// config does not give one: the absent-data record, in the form production uses for data it
/// does not have — `"?"` for every string, `0` for every number, and `9999` ("unknown") for the
/// two offsets:
///
/// ```text
/// as_name "?"            as_number 0           area_code 0           city "?"
/// conn_speed "?"         conn_type "?"         continent "?"         country_code "?"
/// country_code3 "?"      country_name "?"      gmt_offset 9999       latitude 0.0
/// longitude 0.0          metro_code 0          postal_code "?"       proxy_description "?"
/// proxy_type "?"         region "?"            utc_offset 9999
/// ```
///
/// An address the config does not list gets this record; a listed one gets its fields over it.
/// `utc_offset` and `gmt_offset` are `±HHMM` (`100` is UTC+1, `-500` is UTC−5).
pub const GEO_FIELDS: [(&str, GeoValue); 19] = [
    ("as_name", GeoValue::Text("?")),
    ("as_number", GeoValue::Integer { value: 0, min: 0, max: u32::MAX as i64 }),
    ("area_code", GeoValue::Integer { value: 0, min: 0, max: u16::MAX as i64 }),
    ("city", GeoValue::Text("?")),
    ("conn_speed", GeoValue::Text("?")),
    ("conn_type", GeoValue::Text("?")),
    ("continent", GeoValue::Text("?")),
    ("country_code", GeoValue::Text("?")),
    ("country_code3", GeoValue::Text("?")),
    ("country_name", GeoValue::Text("?")),
    ("gmt_offset", GeoValue::Integer { value: 9999, min: i32::MIN as i64, max: i32::MAX as i64 }),
    ("latitude", GeoValue::Number(0.0)),
    ("longitude", GeoValue::Number(0.0)),
    ("metro_code", GeoValue::Integer { value: 0, min: i64::MIN, max: i64::MAX }),
    ("postal_code", GeoValue::Text("?")),
    ("proxy_description", GeoValue::Text("?")),
    ("proxy_type", GeoValue::Text("?")),
    ("region", GeoValue::TextOrNull("?")),
    ("utc_offset", GeoValue::Integer { value: 9999, min: i32::MIN as i64, max: i32::MAX as i64 }),
];

impl GeoValue {
    pub fn default_json(&self) -> Value {
        match *self {
            GeoValue::Text(s) | GeoValue::TextOrNull(s) => Value::from(s),
            GeoValue::Integer { value, .. } => Value::from(value),
            GeoValue::Number(n) => Value::from(n),
        }
    }

    /// Why `value` cannot stand in this field, if it cannot.
    fn mismatch(&self, value: &Value) -> Option<String> {
        let fits = match *self {
            GeoValue::Text(_) => value.is_string(),
            GeoValue::TextOrNull(_) => value.is_string() || value.is_null(),
            GeoValue::Integer { min, max, .. } => value.as_i64().is_some_and(|n| (min..=max).contains(&n)),
            GeoValue::Number(_) => value.is_number(),
        };
        if fits {
            return None;
        }
        Some(match *self {
            GeoValue::Text(_) => "expected a string".into(),
            GeoValue::TextOrNull(_) => "expected a string or null".into(),
            GeoValue::Integer { min, max, .. } => format!("expected an integer from {min} to {max}"),
            GeoValue::Number(_) => "expected a number".into(),
        })
    }
}

/// The record for one address: the absent-data record with `fields` over it.
pub fn geo_record(fields: Option<&Map<String, Value>>) -> Map<String, Value> {
    let mut record: Map<String, Value> = GEO_FIELDS.iter().map(|(name, kind)| ((*name).into(), kind.default_json())).collect();
    for (name, value) in fields.into_iter().flatten() {
        record.insert(name.clone(), value.clone());
    }
    record
}

pub(super) fn validate_acls(acls: &BTreeMap<String, Acl>) -> Result<(), ConfigError> {
    for (name, acl) in acls {
        for (i, entry) in acl.entries.iter().enumerate() {
            let path = |field: &str| format!("acls.{name}.entries[{i}].{field}");
            IpPrefix::parse(&entry.prefix).map_err(|why| ConfigError::at(path("prefix"), why))?;
            if !entry.action.eq_ignore_ascii_case("allow") && !entry.action.eq_ignore_ascii_case("block") {
                return Err(ConfigError::at(path("action"), "an action is ALLOW or BLOCK"));
            }
        }
    }
    Ok(())
}

pub(super) fn validate_geolocation(geo: &Geolocation) -> Result<(), ConfigError> {
    for (key, fields) in &geo.addresses {
        let path = format!("geolocation.addresses.{key}");
        IpPrefix::parse(key).map_err(|why| ConfigError::at(path.clone(), why))?;
        for (field, value) in fields {
            let Some((_, kind)) = GEO_FIELDS.iter().find(|(name, _)| name == field) else {
                let known: alloc::vec::Vec<String> = GEO_FIELDS.iter().map(|(name, _)| format!("`{name}`")).collect();
                let message = format!("unknown field `{field}`, expected one of {}", known.join(", "));
                return Err(ConfigError::at(format!("{path}.{field}"), message));
            };
            if let Some(why) = kind.mismatch(value) {
                return Err(ConfigError::at(format!("{path}.{field}"), format!("invalid value `{value}`, {why}")));
            }
        }
    }
    Ok(())
}
