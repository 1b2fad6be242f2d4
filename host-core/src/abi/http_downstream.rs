//! `fastly_http_downstream`: what the host knows about the client connection.
//!
//! The playground's client connection is plain HTTP from the config's `client`, so TLS, bot
//! and proxy facts are absent: NONE, which the SDKs read as "not available". The calls the
//! SDK insists on (addresses, key validity, bot analysis) always answer OK.
//!
//! The deprecated variants without a request handle live in the `fastly_http_req` module of
//! the ABI; they are linked here too because they are the same questions.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;
use core::str::FromStr;

use super::{AbiResult, Cx, Registry};
use crate::status::Status;

const M: &str = "fastly_http_downstream";
const LEGACY: &str = "fastly_http_req";

/// Facts with no value for a plain-HTTP client: NONE.
const ABSENT_STRINGS: &[&str] = &[
    "downstream_client_h2_fingerprint",
    "downstream_client_oh_fingerprint",
    "downstream_tls_cipher_openssl_name",
    "downstream_tls_protocol",
    "downstream_tls_client_hello",
    "downstream_tls_client_servername",
    "downstream_tls_ja4",
    "downstream_tls_raw_client_certificate",
    "downstream_bot_name",
    "downstream_bot_category",
    "downstream_resvpnproxy_vpn_service_name",
];

const ABSENT_FLAGS: &[&str] = &[
    "downstream_tls_client_cert_verify_result",
    "downstream_bot_category_kind",
    "downstream_bot_verified",
    "downstream_resvpnproxy_is_anonymous",
    "downstream_resvpnproxy_is_anonymous_vpn",
    "downstream_resvpnproxy_is_hosting_provider",
    "downstream_resvpnproxy_is_proxy_over_vpn",
    "downstream_resvpnproxy_is_public_proxy",
    "downstream_resvpnproxy_is_relay_proxy",
    "downstream_resvpnproxy_is_residential_proxy",
    "downstream_resvpnproxy_is_smart_dns_proxy",
    "downstream_resvpnproxy_is_tor_exit_node",
    "downstream_resvpnproxy_is_vpn_datacenter",
];

/// Yes/no facts production always answers: not a valid Fastly key, no DDoS, bots not analysed.
const FALSE_FLAGS: &[&str] =
    &["fastly_key_is_valid", "downstream_client_ddos_detected", "downstream_bot_analyzed", "downstream_bot_detected"];

pub fn link(r: &mut Registry<'_>) {
    r.func(M, "downstream_client_ip_addr", |cx: &mut Cx<'_>, h: u32, out: u32, nw: u32| {
        cx.st.handles.request(h)?;
        client_ip(cx, out, nw)
    });
    r.func(M, "downstream_server_ip_addr", |cx: &mut Cx<'_>, h: u32, out: u32, nw: u32| {
        cx.st.handles.request(h)?;
        server_ip(cx, out, nw)
    });
    r.func(M, "downstream_client_request_id", |cx: &mut Cx<'_>, h: u32, buf: u32, len: u32, nw: u32| {
        cx.st.handles.request(h)?;
        request_id(cx, buf, len, nw)
    });
    r.func(M, "downstream_compliance_region", |cx: &mut Cx<'_>, h: u32, buf: u32, len: u32, nw: u32| {
        cx.st.handles.request(h)?;
        compliance_region(cx, buf, len, nw)
    });
    r.func(M, "downstream_original_header_names", |cx: &mut Cx<'_>, h: u32, buf: u32, len: u32, cursor: u32, end: u32, nw: u32| {
        cx.st.handles.request(h)?;
        original_header_names(cx, buf, len, cursor, end, nw)
    });
    r.func(M, "downstream_original_header_count", |cx: &mut Cx<'_>, h: u32, out: u32| {
        cx.st.handles.request(h)?;
        original_header_count(cx, out)
    });
    r.func(M, "downstream_tls_ja3_md5", |cx: &mut Cx<'_>, h: u32, _out: u32, _nw: u32| {
        cx.st.handles.request(h)?;
        Err(Status::None.into())
    });
    for &name in ABSENT_STRINGS {
        r.func(M, name, |cx: &mut Cx<'_>, h: u32, _buf: u32, _len: u32, _nw: u32| {
            cx.st.handles.request(h)?;
            Err(Status::None.into())
        });
    }
    for &name in ABSENT_FLAGS {
        r.func(M, name, |cx: &mut Cx<'_>, h: u32, _out: u32| {
            cx.st.handles.request(h)?;
            Err(Status::None.into())
        });
    }
    for &name in FALSE_FLAGS {
        r.func(M, name, |cx: &mut Cx<'_>, h: u32, out: u32| {
            cx.st.handles.request(h)?;
            cx.mem.write_u32(out, 0)
        });
    }

    r.func(LEGACY, "downstream_client_ip_addr", client_ip);
    r.func(LEGACY, "downstream_server_ip_addr", server_ip);
    r.func(LEGACY, "downstream_client_request_id", request_id);
    r.func(LEGACY, "downstream_compliance_region", compliance_region);
    r.func(LEGACY, "original_header_names_get", original_header_names);
    r.func(LEGACY, "original_header_count", original_header_count);
    r.func(LEGACY, "downstream_tls_ja3_md5", |_: &mut Cx<'_>, _out: u32, _nw: u32| Err(Status::None.into()));
    for name in [
        "downstream_client_h2_fingerprint",
        "downstream_client_oh_fingerprint",
        "downstream_tls_cipher_openssl_name",
        "downstream_tls_protocol",
        "downstream_tls_client_hello",
        "downstream_tls_ja4",
        "downstream_tls_raw_client_certificate",
    ] {
        r.func(LEGACY, name, |_: &mut Cx<'_>, _buf: u32, _len: u32, _nw: u32| Err(Status::None.into()));
    }
    r.func(LEGACY, "downstream_tls_client_cert_verify_result", |_: &mut Cx<'_>, _out: u32| Err(Status::None.into()));
    for name in ["fastly_key_is_valid", "downstream_client_ddos_detected"] {
        r.func(LEGACY, name, |cx: &mut Cx<'_>, out: u32| cx.mem.write_u32(out, 0));
    }
}

/// An address as the ABI writes it: 4 or 16 octets, and the count.
fn write_ip(cx: &mut Cx<'_>, text: &str, out: u32, nwritten: u32) -> AbiResult {
    let octets: Vec<u8> = match IpAddr::from_str(text) {
        Ok(IpAddr::V4(ip)) => ip.octets().to_vec(),
        Ok(IpAddr::V6(ip)) => ip.octets().to_vec(),
        // Validated in the config; a bad per-request override reads as "no address".
        Err(_) => Vec::new(),
    };
    cx.mem.write(out, &octets)?;
    cx.mem.write_u32(nwritten, octets.len() as u32)
}

fn client_ip(cx: &mut Cx<'_>, out: u32, nwritten: u32) -> AbiResult {
    let ip = cx.st.downstream.client_ip.clone().unwrap_or_else(|| cx.st.config.client.ip.clone());
    write_ip(cx, &ip, out, nwritten)
}

fn server_ip(cx: &mut Cx<'_>, out: u32, nwritten: u32) -> AbiResult {
    let ip = cx.st.config.client.server_ip.clone();
    write_ip(cx, &ip, out, nwritten)
}

/// The request id is the request's trace id, as in production's `FASTLY_TRACE_ID`.
fn request_id(cx: &mut Cx<'_>, buf: u32, len: u32, nwritten: u32) -> AbiResult {
    let id = cx.st.env.iter().find(|(k, _)| k == "FASTLY_TRACE_ID").map(|(_, v)| v.clone()).unwrap_or_default();
    cx.mem.write_fitting(buf, len, id.as_bytes(), nwritten)
}

/// No compliance region applies to the playground: production's name for that is `none`.
fn compliance_region(cx: &mut Cx<'_>, buf: u32, len: u32, nwritten: u32) -> AbiResult {
    cx.mem.write_fitting(buf, len, b"none", nwritten)
}

/// Header names as the client sent them, case and order kept.
fn original_header_names(cx: &mut Cx<'_>, buf: u32, len: u32, cursor: u32, end: u32, nwritten: u32) -> AbiResult {
    let mut names: Vec<String> = Vec::new();
    for (name, _) in &cx.st.downstream.headers {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            names.push(name.clone());
        }
    }
    cx.mem.write_multi((buf, len), names.iter().map(|n| n.as_bytes()), cursor, 0, (end, nwritten))
}

fn original_header_count(cx: &mut Cx<'_>, out: u32) -> AbiResult {
    let count = cx.st.downstream.headers.len() as u32;
    cx.mem.write_u32(out, count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::TestGuest;
    use crate::config::Config;
    use crate::state::DownstreamRequest;

    fn guest() -> TestGuest {
        let config = Config::from_json(r#"{ "client": { "ip": "2001:db8::7", "server_ip": "192.0.2.1" } }"#).unwrap();
        let mut request = DownstreamRequest::get("http://localhost/");
        request.headers = alloc::vec![("X-Mixed-Case".into(), b"1".to_vec()), ("accept".into(), b"*/*".to_vec())];
        TestGuest::with_config(config, request)
    }

    #[test]
    fn addresses_come_from_the_config() {
        let mut g = guest();
        let (out, nw) = (g.alloc(16), g.alloc(4));
        assert_eq!(g.status(|cx| client_ip(cx, out, nw)), Status::Ok);
        assert_eq!(g.u32_at(nw), 16);
        assert_eq!(g.bytes_at(out, 16)[..4], [0x20, 0x01, 0x0d, 0xb8]);
        assert_eq!(g.status(|cx| server_ip(cx, out, nw)), Status::Ok);
        assert_eq!((g.u32_at(nw), g.bytes_at(out, 4)), (4, &[192, 0, 2, 1][..]));
    }

    #[test]
    fn a_per_request_client_ip_wins() {
        let mut g = guest();
        g.state.downstream.client_ip = Some("198.51.100.9".into());
        let (out, nw) = (g.alloc(16), g.alloc(4));
        assert_eq!(g.status(|cx| client_ip(cx, out, nw)), Status::Ok);
        assert_eq!(g.bytes_at(out, g.u32_at(nw)), [198, 51, 100, 9]);
    }

    #[test]
    fn original_header_names_keep_their_case() {
        let mut g = guest();
        let (buf, end, nw, count) = (g.alloc(64), g.alloc(8), g.alloc(4), g.alloc(4));
        assert_eq!(g.status(|cx| original_header_names(cx, buf, 64, 0, end, nw)), Status::Ok);
        assert_eq!(g.bytes_at(buf, g.u32_at(nw)), b"X-Mixed-Case\0accept\0");
        assert_eq!(g.status(|cx| original_header_count(cx, count)), Status::Ok);
        assert_eq!(g.u32_at(count), 2);
    }

    #[test]
    fn request_id_is_the_trace_id_and_pages_with_buflen() {
        let mut g = guest();
        let (buf, nw) = (g.alloc(64), g.alloc(4));
        assert_eq!(g.status(|cx| request_id(cx, buf, 4, nw)), Status::Buflen);
        assert_eq!(g.u32_at(nw), 32);
        assert_eq!(g.status(|cx| request_id(cx, buf, 64, nw)), Status::Ok);
        let trace_id = g.state.env.iter().find(|(k, _)| k == "FASTLY_TRACE_ID").unwrap().1.clone();
        assert_eq!(g.string_at(buf, 32), trace_id);
    }
}
