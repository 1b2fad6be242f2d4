//! `fastly_http_downstream`: what the host knows about each client request, and taking
//! further client requests in the same instance (a reusable sandbox).
//!
//! The facts come from the config's `client` section (addresses, TLS, bot detection, the
//! service's valid Fastly keys) and from the request itself (original header names, its id).
//! A fact production would not have — TLS details of a plain-HTTP request, VPN/proxy data the
//! playground has no source for — is NONE, which the SDKs read as "not available". The facts
//! belong to client requests only: asked about another request, every call answers NONE, as
//! the SDK documents for `downstream_original_header_count`.
//!
//! The deprecated variants without a request handle live in the `fastly_http_req` module of
//! the ABI; they are linked here too and answer for the request being served.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;
use core::str::FromStr;

use super::{AbiResult, Cx, Registry};
use crate::config::{hex_bytes, ClientTls};
use crate::handles::Handle;
use crate::state::State;
use crate::status::Status;
use crate::trace::EventKind;

const M: &str = "fastly_http_downstream";
const LEGACY: &str = "fastly_http_req";

/// A fact that is a byte string; None when production would have none.
type TextFact = fn(&State) -> Option<Vec<u8>>;
/// A fact that is a number or a yes/no; None when production would have none.
type FlagFact = fn(&State) -> Option<u32>;

const TEXT_FACTS: &[(&str, TextFact)] = &[
    ("downstream_client_h2_fingerprint", |st| bytes_of(st.config.client.h2_fingerprint.as_deref())),
    ("downstream_client_oh_fingerprint", |st| bytes_of(st.config.client.oh_fingerprint.as_deref())),
    ("downstream_client_request_id", |st| Some(st.request_id.clone().into_bytes())),
    ("downstream_compliance_region", |st| Some(st.config.client.compliance_region.clone().into_bytes())),
    ("downstream_tls_cipher_openssl_name", |st| tls(st).map(|t| t.cipher_openssl_name.clone().into_bytes())),
    ("downstream_tls_protocol", |st| tls(st).map(|t| t.protocol.clone().into_bytes())),
    ("downstream_tls_client_hello", |st| tls(st).and_then(|t| hex_bytes(&t.client_hello))),
    ("downstream_tls_client_servername", |st| bytes_of(tls(st)?.servername.as_deref())),
    ("downstream_tls_ja4", |st| bytes_of(tls(st)?.ja4.as_deref())),
    ("downstream_tls_raw_client_certificate", |st| bytes_of(tls(st)?.client_cert.as_deref())),
    ("downstream_bot_name", |st| bytes_of(st.config.client.bot.as_ref()?.name.as_deref())),
    ("downstream_bot_category", |st| Some(st.config.client.bot.as_ref()?.category.label().into_bytes())),
    ("downstream_resvpnproxy_vpn_service_name", |_| None),
];

const FLAG_FACTS: &[(&str, FlagFact)] = &[
    ("downstream_client_ddos_detected", |st| Some(st.config.client.ddos_detected as u32)),
    ("downstream_tls_client_cert_verify_result", |st| tls(st).map(|t| t.verify_result() as u32)),
    ("fastly_key_is_valid", |st| Some(fastly_key_is_valid(st) as u32)),
    ("downstream_bot_analyzed", |st| Some(st.config.client.bot.is_some() as u32)),
    ("downstream_bot_detected", |st| Some(st.config.client.bot.as_ref().is_some_and(|b| b.detected) as u32)),
    ("downstream_bot_category_kind", |st| Some(st.config.client.bot.as_ref()?.category as u32)),
    ("downstream_bot_verified", |st| st.config.client.bot.as_ref()?.verified.map(u32::from)),
    // No source of VPN and proxy intelligence: production's answer when the feature is off.
    ("downstream_resvpnproxy_is_anonymous", |_| None),
    ("downstream_resvpnproxy_is_anonymous_vpn", |_| None),
    ("downstream_resvpnproxy_is_hosting_provider", |_| None),
    ("downstream_resvpnproxy_is_proxy_over_vpn", |_| None),
    ("downstream_resvpnproxy_is_public_proxy", |_| None),
    ("downstream_resvpnproxy_is_relay_proxy", |_| None),
    ("downstream_resvpnproxy_is_residential_proxy", |_| None),
    ("downstream_resvpnproxy_is_smart_dns_proxy", |_| None),
    ("downstream_resvpnproxy_is_tor_exit_node", |_| None),
    ("downstream_resvpnproxy_is_vpn_datacenter", |_| None),
];

/// The handle-less variants `fastly_http_req` still declares.
const LEGACY_TEXT: &[&str] = &[
    "downstream_client_h2_fingerprint",
    "downstream_client_oh_fingerprint",
    "downstream_client_request_id",
    "downstream_compliance_region",
    "downstream_tls_cipher_openssl_name",
    "downstream_tls_protocol",
    "downstream_tls_client_hello",
    "downstream_tls_ja4",
    "downstream_tls_raw_client_certificate",
];
const LEGACY_FLAGS: &[&str] =
    &["downstream_client_ddos_detected", "downstream_tls_client_cert_verify_result", "fastly_key_is_valid"];

pub fn link(r: &mut Registry<'_>) {
    r.func(M, "next_request", next_request);
    r.func(M, "next_request_wait", next_request_wait);
    r.func(M, "next_request_abandon", next_request_abandon);
    r.func(M, "downstream_client_ip_addr", |cx: &mut Cx<'_>, h: u32, out: u32, nw: u32| {
        for_client(cx, h)?;
        client_ip(cx, out, nw)
    });
    r.func(M, "downstream_server_ip_addr", |cx: &mut Cx<'_>, h: u32, out: u32, nw: u32| {
        for_client(cx, h)?;
        server_ip(cx, out, nw)
    });
    r.func(M, "downstream_tls_ja3_md5", |cx: &mut Cx<'_>, h: u32, out: u32, nw: u32| {
        for_client(cx, h)?;
        ja3_md5(cx, out, nw)
    });
    r.func(M, "downstream_original_header_names", |cx: &mut Cx<'_>, h: u32, buf: u32, len: u32, cursor: u32, end: u32, nw: u32| {
        for_client(cx, h)?;
        original_header_names(cx, buf, len, cursor, end, nw)
    });
    r.func(M, "downstream_original_header_count", |cx: &mut Cx<'_>, h: u32, out: u32| {
        for_client(cx, h)?;
        original_header_count(cx, out)
    });
    for &(name, fact) in TEXT_FACTS {
        r.func(M, name, move |cx: &mut Cx<'_>, h: u32, buf: u32, len: u32, nw: u32| {
            for_client(cx, h)?;
            write_text(cx, fact, buf, len, nw)
        });
    }
    for &(name, fact) in FLAG_FACTS {
        r.func(M, name, move |cx: &mut Cx<'_>, h: u32, out: u32| {
            for_client(cx, h)?;
            write_flag(cx, fact, out)
        });
    }

    r.func(LEGACY, "downstream_client_ip_addr", client_ip);
    r.func(LEGACY, "downstream_server_ip_addr", server_ip);
    r.func(LEGACY, "downstream_tls_ja3_md5", ja3_md5);
    r.func(LEGACY, "original_header_names_get", original_header_names);
    r.func(LEGACY, "original_header_count", original_header_count);
    for &(name, fact) in TEXT_FACTS.iter().filter(|(name, _)| LEGACY_TEXT.contains(name)) {
        r.func(LEGACY, name, move |cx: &mut Cx<'_>, buf: u32, len: u32, nw: u32| write_text(cx, fact, buf, len, nw));
    }
    for &(name, fact) in FLAG_FACTS.iter().filter(|(name, _)| LEGACY_FLAGS.contains(name)) {
        r.func(LEGACY, name, move |cx: &mut Cx<'_>, out: u32| write_flag(cx, fact, out));
    }
}

/// The facts answer for request handle `h` only if it is the client request being served:
/// BADF for a handle that is no request, NONE for a request the guest made itself.
fn for_client(cx: &Cx<'_>, h: u32) -> AbiResult {
    cx.st.handles.request(h)?;
    match cx.st.downstream_handles {
        Some((request, _)) if request == h => Ok(()),
        _ => Err(Status::None.into()),
    }
}

fn bytes_of(text: Option<&str>) -> Option<Vec<u8>> {
    text.map(|t| t.as_bytes().to_vec())
}

fn tls(st: &State) -> Option<&ClientTls> {
    st.config.client.tls.as_ref()
}

/// Whether the client's `Fastly-Key` header holds one of the service's keys.
fn fastly_key_is_valid(st: &State) -> bool {
    let keys = &st.config.client.valid_fastly_keys;
    let mut sent = st.downstream.headers.iter().filter(|(name, _)| name.eq_ignore_ascii_case("fastly-key"));
    sent.any(|(_, value)| keys.iter().any(|key| key.as_bytes() == value.as_slice()))
}

fn write_text(cx: &mut Cx<'_>, fact: TextFact, buf: u32, len: u32, nwritten: u32) -> AbiResult {
    let value = fact(cx.st).ok_or(Status::None)?;
    cx.mem.write_fitting(buf, len, &value, nwritten)
}

fn write_flag(cx: &mut Cx<'_>, fact: FlagFact, out: u32) -> AbiResult {
    let value = fact(cx.st).ok_or(Status::None)?;
    cx.mem.write_u32(out, value)
}

/// An address as the ABI writes it: 4 or 16 octets, and the count.
fn write_ip(cx: &mut Cx<'_>, text: &str, out: u32, nwritten: u32) -> AbiResult {
    let octets: Vec<u8> = match IpAddr::from_str(text) {
        Ok(IpAddr::V4(ip)) => ip.octets().to_vec(),
        Ok(IpAddr::V6(ip)) => ip.octets().to_vec(),
        // Not an address: the guest reads "no address".
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

/// The JA3 fingerprint: always 16 bytes (an MD5 digest), so the guest's buffer has no length.
fn ja3_md5(cx: &mut Cx<'_>, out: u32, nwritten: u32) -> AbiResult {
    let md5 = tls(cx.st).and_then(|t| hex_bytes(t.ja3_md5.as_deref()?)).ok_or(Status::None)?;
    cx.mem.write(out, &md5)?;
    cx.mem.write_u32(nwritten, md5.len() as u32)
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

// ---- a reusable sandbox: further client requests for the same instance ---------------------

/// `NextRequestOptionsMask`: bit 0 is reserved, bit 1 says `timeout_ms` is set.
const OPTION_TIMEOUT: u32 = 1 << 1;

/// Promises the guest the next client request this instance gets. One promise at a time, as
/// in production. Its timeout needs no timer: the promise resolves at once (see below).
fn next_request(cx: &mut Cx<'_>, mask: u32, options: u32, handle_out: u32) -> AbiResult {
    if mask & !(1 | OPTION_TIMEOUT) != 0 {
        return Err(Status::Inval.into());
    }
    if mask & OPTION_TIMEOUT != 0 {
        cx.mem.read_u64(options)?;
    }
    if cx.st.handles.iter_mut().any(|(_, handle)| matches!(handle, Handle::RequestPromise)) {
        return Err(Status::LimitExceeded.into());
    }
    let handle = cx.st.handles.insert(Handle::RequestPromise);
    cx.mem.write_u32(handle_out, handle)
}

fn take_promise(cx: &mut Cx<'_>, h: u32) -> AbiResult {
    match cx.st.handles.get(h) {
        Some(Handle::RequestPromise) => {
            cx.st.handles.remove(h);
            Ok(())
        }
        _ => Err(Status::Badf.into()),
    }
}

/// Resolves the promise (consuming it) to the next client request and its body. The embedder
/// hands requests over before they are needed (`Session::queue_request`), so nothing is
/// waited for: with none queued no request will come, and the answer is NONE, which the SDKs
/// read as the end of the session. UNSUPPORTED while the current response is unfinished,
/// as production answers.
fn next_request_wait(cx: &mut Cx<'_>, promise: u32, req_out: u32, body_out: u32) -> AbiResult {
    take_promise(cx, promise)?;
    if !cx.st.response.finished {
        return Err(Status::Unsupported.into());
    }
    let next = cx.st.queued_requests.pop_front().ok_or(Status::None)?;
    let st = &mut *cx.st;
    st.trace(EventKind::NextRequest { method: next.method.clone(), url: next.url.clone() });
    st.served.push(core::mem::take(&mut st.response));
    st.downstream = next;
    st.downstream_handles = None;
    st.request_id = random_id(st);
    super::http_req::body_downstream_get(cx, req_out, body_out)
}

fn next_request_abandon(cx: &mut Cx<'_>, promise: u32) -> AbiResult {
    take_promise(cx, promise)
}

/// A request id as production writes one: 32 hex digits.
fn random_id(st: &State) -> String {
    let mut bytes = [0u8; 16];
    st.platform.fill_random(&mut bytes);
    bytes.iter().map(|b| alloc::format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
