//! `fastly_geo`: geolocation records from config `geolocation.addresses`.
//!
//! An address gets the record of the most specific entry that covers it (an exact address is a
//! full-length prefix), laid over the absent-data record `config::GEO_FIELDS` documents; an
//! address no entry covers gets the absent-data record itself. Production, too, answers every
//! address with a full record, so the SDKs' deserialisers always find each field.

use alloc::string::{String, ToString};
use core::net::IpAddr;

use serde_json::{Map, Value};

use super::{AbiResult, Cx, Registry};
use crate::config::{geo_record, Geolocation};
use crate::ip::{self, IpPrefix};
use crate::status::Status;

pub fn link(r: &mut Registry<'_>) {
    r.func("fastly_geo", "lookup", lookup);
}

fn lookup(cx: &mut Cx<'_>, addr: u32, addr_len: u32, buf: u32, buf_len: u32, nwritten: u32) -> AbiResult {
    let addr = ip::from_octets(cx.mem.slice(addr, addr_len)?).ok_or(Status::Inval)?;
    let record = geo_record(most_specific(&cx.st.config.geolocation, addr));
    let json = Value::Object(record).to_string();
    cx.mem.write_fitting(buf, buf_len, json.as_bytes(), nwritten)
}

/// The fields of the longest configured prefix containing `addr`.
fn most_specific(geo: &Geolocation, addr: IpAddr) -> Option<&Map<String, Value>> {
    geo.addresses
        .iter()
        // Keys are validated with the config: one that does not parse cannot be here.
        .filter_map(|(key, fields)| Some((IpPrefix::parse(key).ok()?, fields)))
        .filter(|(prefix, _)| prefix.contains(addr))
        .max_by_key(|(prefix, _)| prefix.prefix_len())
        .map(|(_, fields)| fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::TestGuest;
    use crate::config::Config;
    use crate::state::DownstreamRequest;

    fn guest() -> TestGuest {
        let config = Config::from_json(
            r#"{ "geolocation": { "addresses": {
                "203.0.113.0/24": { "city": "Porto", "country_code": "PT", "as_number": 64500 },
                "203.0.113.7": { "city": "Lisbon", "latitude": 38.72, "utc_offset": 100, "region": null },
                "2001:db8::/32": { "country_code": "NL", "conn_type": "wifi" } } } }"#,
        )
        .unwrap();
        TestGuest::with_config(config, DownstreamRequest::get("http://localhost/"))
    }

    fn look(g: &mut TestGuest, octets: &[u8]) -> Value {
        let (p, l) = g.put(octets);
        let (buf, nw) = (g.alloc(1024), g.alloc(4));
        assert_eq!(g.status(|cx| lookup(cx, p, l, buf, 1024, nw)), Status::Ok);
        serde_json::from_str(&g.string_at(buf, g.u32_at(nw))).unwrap()
    }

    #[test]
    fn the_most_specific_entry_wins_and_merges_over_the_defaults() {
        let mut g = guest();
        let exact = look(&mut g, &[203, 0, 113, 7]);
        assert_eq!(
            (&exact["city"], &exact["latitude"], &exact["utc_offset"], &exact["region"], &exact["country_code"]),
            (&Value::from("Lisbon"), &Value::from(38.72), &Value::from(100), &Value::Null, &Value::from("?")),
            "an exact entry does not inherit from a wider one"
        );
        let network = look(&mut g, &[203, 0, 113, 9]);
        assert_eq!((&network["city"], &network["as_number"]), (&Value::from("Porto"), &Value::from(64500)));
        let mut v6 = [0u8; 16];
        v6[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        let v6 = look(&mut g, &v6);
        assert_eq!((&v6["country_code"], &v6["conn_type"], &v6["city"]), (&"NL".into(), &"wifi".into(), &"?".into()));
    }

    #[test]
    fn an_unknown_address_gets_the_full_absent_data_record() {
        let mut g = guest();
        let record = look(&mut g, &[198, 51, 100, 1]);
        let expected = serde_json::json!({
            "as_name": "?", "as_number": 0, "area_code": 0, "city": "?", "conn_speed": "?", "conn_type": "?",
            "continent": "?", "country_code": "?", "country_code3": "?", "country_name": "?", "gmt_offset": 9999,
            "latitude": 0.0, "longitude": 0.0, "metro_code": 0, "postal_code": "?", "proxy_description": "?",
            "proxy_type": "?", "region": "?", "utc_offset": 9999
        });
        assert_eq!(record, expected);
    }

    #[test]
    fn short_buffers_learn_the_size_and_bad_addresses_are_inval() {
        let mut g = guest();
        let (p, l) = g.put([203, 0, 113, 7]);
        let (buf, nw) = (g.alloc(16), g.alloc(4));
        assert_eq!(g.status(|cx| lookup(cx, p, l, buf, 16, nw)), Status::Buflen);
        let needed = g.u32_at(nw);
        assert!(needed > 300, "the whole record's length, got {needed}");
        let (p, l) = g.put([1, 2, 3, 4, 5]);
        assert_eq!(g.status(|cx| lookup(cx, p, l, buf, 16, nw)), Status::Inval);
    }
}
