//! lookups: what the edge knows about a client, and about the backends it can reach.
//!
//! Contract — any method:
//!   the address looked up is the `ip` query parameter when it is a valid IP address, else the
//!   client's address; with `send=1` in the query, a GET to the dynamic backend is sent too.
//!   status 200
//!   content-type: application/json
//!   body: pretty-printed JSON (2-space indent) followed by "\n":
//!     {"ip": the address looked up, or null when there is none,
//!      "acl": {"action": "ALLOW" | "BLOCK" | other, "prefix": CIDR} for the address in ACL
//!             `blocklist`, or null (no match, no ACL, no address),
//!      "geo": {"as_name", "as_number", "city", "conn_speed", "conn_type", "continent" (two-letter
//!              code, "??" when unknown), "country_code", "country_name", "latitude",
//!              "longitude", "postal_code", "region", "utc_offset_minutes" (null when unknown)},
//!             or null,
//!      "device": {"name", "brand", "os", "is_mobile", "is_tablet", "is_desktop", "is_bot"} for
//!                the User-Agent header, or null when the device is unknown,
//!      "user_agent": {"family", "major", "minor", "patch"} as the host's UA parser reads the
//!                    User-Agent header ("" for an absent part), or null when it fails,
//!      "backends": {"origin": the static backend `origin`, "dynamic": a backend this guest
//!                   registers to https://example.org}, each described as
//!                  {"dynamic", "host", "override_host", "port", "ssl", "tls" ([min, max] or null),
//!                   "connect_timeout_ms", "first_byte_timeout_ms", "between_bytes_timeout_ms",
//!                   "tcp_keepalive", "health"}, or {"error": why} when it cannot be used,
//!      "sent": only with send=1: {"status", "body"} of the dynamic backend's answer, or
//!              {"error": why}}

use std::net::IpAddr;
use std::time::Duration;

use fastly::acl::Acl;
use fastly::experimental::BackendExt;
use fastly::{Backend, Error, Request, Response};
use serde::Serialize;
use serde_json::{json, Value};

const ACL_NAME: &str = "blocklist";
const DYNAMIC_NAME: &str = "example-org";
const DYNAMIC_TARGET: &str = "example.org:443";

#[derive(Serialize)]
struct Report {
    ip: Option<String>,
    acl: Option<Value>,
    geo: Option<Value>,
    device: Option<Value>,
    user_agent: Option<Value>,
    backends: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    sent: Option<Value>,
}

#[fastly::main]
fn main(req: Request) -> Result<Response, Error> {
    let ip = req
        .get_query_parameter("ip")
        .and_then(|text| text.parse::<IpAddr>().ok())
        .or_else(|| req.get_client_ip_addr());
    let user_agent = req.get_header_str("user-agent").unwrap_or("").to_owned();
    let dynamic = Backend::builder(DYNAMIC_NAME, DYNAMIC_TARGET)
        .enable_ssl()
        .override_host("example.org")
        .first_byte_timeout(Duration::from_secs(3))
        .finish();
    let sent = req
        .get_query_str()
        .is_some_and(|q| q.split('&').any(|pair| pair == "send=1"))
        .then(|| send(&dynamic));

    let report = Report {
        ip: ip.map(|ip| ip.to_string()),
        acl: ip.and_then(acl_match),
        geo: ip.and_then(geo),
        device: device(&user_agent),
        user_agent: parsed_user_agent(&user_agent),
        backends: json!({
            "origin": describe(&Backend::from_name("origin")?),
            "dynamic": match &dynamic {
                Ok(backend) => describe(backend),
                Err(why) => json!({ "error": why.to_string() }),
            },
        }),
        sent,
    };
    let mut body = serde_json::to_string_pretty(&report)?;
    body.push('\n');
    Ok(Response::from_status(200)
        .with_content_type(fastly::mime::APPLICATION_JSON)
        .with_body(body))
}

fn acl_match(ip: IpAddr) -> Option<Value> {
    let found = Acl::open(ACL_NAME).ok()?.try_lookup(ip).ok()??;
    let action = if found.is_allow() {
        "ALLOW".to_owned()
    } else if found.is_block() {
        "BLOCK".to_owned()
    } else {
        format!("{:?}", found.action())
    };
    Some(json!({ "action": action, "prefix": found.prefix() }))
}

fn geo(ip: IpAddr) -> Option<Value> {
    let geo = fastly::geo::geo_lookup(ip)?;
    Some(json!({
        "as_name": geo.as_name(),
        "as_number": geo.as_number(),
        "city": geo.city(),
        "conn_speed": variant_name(geo.conn_speed()),
        "conn_type": variant_name(geo.conn_type()),
        "continent": geo.continent().as_code(),
        "country_code": geo.country_code(),
        "country_name": geo.country_name(),
        "latitude": geo.latitude(),
        "longitude": geo.longitude(),
        "postal_code": geo.postal_code(),
        "region": geo.region(),
        "utc_offset_minutes": geo.utc_offset().map(|offset| offset.whole_minutes()),
    }))
}

/// The name an SDK enum has on the wire: `"wifi"`, or the unknown text kept in `Other(..)`.
fn variant_name(value: impl Serialize) -> Value {
    match serde_json::to_value(value).unwrap_or(Value::Null) {
        Value::Object(map) => map.into_iter().next().map(|(_, v)| v).unwrap_or(Value::Null),
        other => other,
    }
}

fn device(user_agent: &str) -> Option<Value> {
    let device = fastly::device_detection::lookup(user_agent)?;
    Some(json!({
        "name": device.device_name(),
        "brand": device.brand(),
        "os": device.os_name(),
        "is_mobile": device.is_mobile(),
        "is_tablet": device.is_tablet(),
        "is_desktop": device.is_desktop(),
        "is_bot": device.is_bot(),
    }))
}

// The SDK marks its UA parser experimental and deprecated; it is still a hostcall guests use.
#[allow(deprecated)]
fn parsed_user_agent(user_agent: &str) -> Option<Value> {
    let (family, major, minor, patch) = fastly::experimental::uap_parse(user_agent).ok()?;
    Some(json!({ "family": family, "major": major, "minor": minor, "patch": patch }))
}

fn describe(backend: &Backend) -> Value {
    if !backend.exists() {
        return json!({ "error": format!("no backend named {}", backend.name()) });
    }
    let tls = backend.get_ssl_min_version().zip(backend.get_ssl_max_version());
    json!({
        "dynamic": backend.is_dynamic(),
        "host": backend.get_host(),
        "override_host": backend.get_host_override().and_then(|h| h.to_str().ok().map(str::to_owned)),
        "port": backend.get_port(),
        "ssl": backend.is_ssl(),
        "tls": tls.map(|(min, max)| [format!("{min:?}"), format!("{max:?}")]),
        "connect_timeout_ms": backend.get_connect_timeout().as_millis() as u64,
        "first_byte_timeout_ms": backend.get_first_byte_timeout().as_millis() as u64,
        "between_bytes_timeout_ms": backend.get_between_bytes_timeout().as_millis() as u64,
        "tcp_keepalive": backend.get_tcp_keepalive_enable(),
        "health": backend.is_healthy().map(|h| format!("{h:?}")).unwrap_or_else(|e| e.to_string()),
    })
}

fn send(dynamic: &Result<Backend, fastly::backend::BackendCreationError>) -> Value {
    let backend = match dynamic {
        Ok(backend) => backend,
        Err(why) => return json!({ "error": why.to_string() }),
    };
    match Request::get("https://example.org/").send(backend.clone()) {
        Ok(mut resp) => json!({ "status": resp.get_status().as_u16(), "body": resp.take_body_str_lossy() }),
        Err(why) => json!({ "error": why.to_string() }),
    }
}
