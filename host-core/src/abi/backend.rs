//! `fastly_backend`: questions about the backends in config `backends`.
//!
//! A mock backend answers as a plain-HTTP origin named after itself on port 80: it has no
//! network address, and the SDKs only need the answers to be well-formed.

use alloc::string::String;

use super::{AbiError, AbiResult, Cx, Registry};
use crate::config::{Backend, BackendUrl, Health};
use crate::status::Status;

const M: &str = "fastly_backend";

/// Production's timeouts for a backend that does not set its own.
const DEFAULT_CONNECT_TIMEOUT_MS: u32 = 1_000;
const DEFAULT_FIRST_BYTE_TIMEOUT_MS: u32 = 15_000;
const DEFAULT_BETWEEN_BYTES_TIMEOUT_MS: u32 = 10_000;

/// `SslVersion`: TLS 1.2 and 1.3, production's default range for TLS backends.
const TLS_1_2: u32 = 2;
const TLS_1_3: u32 = 3;

pub fn link(r: &mut Registry<'_>) {
    r.func(M, "exists", exists);
    r.func(M, "is_healthy", |cx: &mut Cx<'_>, p: u32, l: u32, out: u32| {
        let health = match backend(cx, p, l)?.health {
            Health::Unknown => 0,
            Health::Healthy => 1,
            Health::Unhealthy => 2,
        };
        cx.mem.write_u32(out, health)
    });
    r.func(M, "is_dynamic", |cx: &mut Cx<'_>, p: u32, l: u32, out: u32| {
        backend(cx, p, l)?;
        cx.mem.write_u32(out, 0)
    });
    r.func(M, "get_host", get_host);
    r.func(M, "get_override_host", |cx: &mut Cx<'_>, p: u32, l: u32, buf: u32, len: u32, nw: u32| {
        let host = backend(cx, p, l)?.override_host.ok_or(Status::None)?;
        cx.mem.write_fitting(buf, len, host.as_bytes(), nw)
    });
    r.func(M, "get_port", get_port);
    r.func(M, "get_connect_timeout_ms", |cx: &mut Cx<'_>, p: u32, l: u32, out: u32| {
        let ms = backend(cx, p, l)?.connect_timeout_ms.unwrap_or(DEFAULT_CONNECT_TIMEOUT_MS);
        cx.mem.write_u32(out, ms)
    });
    r.func(M, "get_first_byte_timeout_ms", |cx: &mut Cx<'_>, p: u32, l: u32, out: u32| {
        let ms = backend(cx, p, l)?.first_byte_timeout_ms.unwrap_or(DEFAULT_FIRST_BYTE_TIMEOUT_MS);
        cx.mem.write_u32(out, ms)
    });
    r.func(M, "get_between_bytes_timeout_ms", |cx: &mut Cx<'_>, p: u32, l: u32, out: u32| {
        let ms = backend(cx, p, l)?.between_bytes_timeout_ms.unwrap_or(DEFAULT_BETWEEN_BYTES_TIMEOUT_MS);
        cx.mem.write_u32(out, ms)
    });
    // Connection reuse is the embedder's business: keep-alive settings read as "not set".
    for name in ["get_http_keepalive_time", "get_tcp_keepalive_enable", "get_tcp_keepalive_interval", "get_tcp_keepalive_probes", "get_tcp_keepalive_time"] {
        r.func(M, name, |cx: &mut Cx<'_>, p: u32, l: u32, out: u32| {
            backend(cx, p, l)?;
            cx.mem.write_u32(out, 0)
        });
    }
    r.func(M, "is_ssl", |cx: &mut Cx<'_>, p: u32, l: u32, out: u32| {
        let backend = backend(cx, p, l)?;
        cx.mem.write_u32(out, is_tls(&backend) as u32)
    });
    r.func(M, "get_ssl_min_version", |cx: &mut Cx<'_>, p: u32, l: u32, out: u32| tls_version(cx, (p, l), out, TLS_1_2));
    r.func(M, "get_ssl_max_version", |cx: &mut Cx<'_>, p: u32, l: u32, out: u32| tls_version(cx, (p, l), out, TLS_1_3));
}

fn get_host(cx: &mut Cx<'_>, ptr: u32, len: u32, buf: u32, buf_len: u32, nwritten: u32) -> AbiResult {
    let (name, backend) = named(cx, ptr, len)?;
    let host = match url(&backend) {
        Some(url) => String::from(url.host()),
        None => name,
    };
    cx.mem.write_fitting(buf, buf_len, host.as_bytes(), nwritten)
}

fn get_port(cx: &mut Cx<'_>, ptr: u32, len: u32, out: u32) -> AbiResult {
    let backend = backend(cx, ptr, len)?;
    cx.mem.write_u16(out, port(&backend))
}

/// Whether a backend of that name exists: never an error for a missing one.
fn exists(cx: &mut Cx<'_>, ptr: u32, len: u32, out: u32) -> AbiResult {
    let name = cx.mem.str(ptr, len)?;
    let exists = cx.st.config.backends.contains_key(name);
    cx.mem.write_u32(out, exists as u32)
}

fn named(cx: &Cx<'_>, ptr: u32, len: u32) -> Result<(String, Backend), AbiError> {
    let name = cx.mem.string(ptr, len)?;
    let backend = cx.st.config.backends.get(&name).cloned().ok_or(Status::Inval)?;
    Ok((name, backend))
}

/// The named backend; an unknown name is INVAL, as for a send to it.
fn backend(cx: &Cx<'_>, ptr: u32, len: u32) -> Result<Backend, AbiError> {
    named(cx, ptr, len).map(|(_, backend)| backend)
}

fn url(backend: &Backend) -> Option<BackendUrl<'_>> {
    backend.url.as_deref().and_then(|u| BackendUrl::parse(u).ok())
}

fn is_tls(backend: &Backend) -> bool {
    url(backend).is_some_and(|u| u.scheme == "https")
}

fn port(backend: &Backend) -> u16 {
    let Some(url) = url(backend) else { return 80 };
    let explicit = url.authority.strip_prefix(url.host()).and_then(|p| p.strip_prefix(':')).and_then(|p| p.parse().ok());
    explicit.unwrap_or(if url.scheme == "https" { 443 } else { 80 })
}

fn tls_version(cx: &mut Cx<'_>, name: (u32, u32), out: u32, version: u32) -> AbiResult {
    if !is_tls(&backend(cx, name.0, name.1)?) {
        return Err(Status::None.into());
    }
    cx.mem.write_u32(out, version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::TestGuest;
    use crate::config::Config;

    fn guest() -> TestGuest {
        let config = Config::from_json(
            r#"{ "backends": {
                "tls": { "url": "https://origin.test", "override_host": "www.origin.test", "health": "healthy" },
                "plain": { "url": "http://127.0.0.1:8080/api", "first_byte_timeout_ms": 500 },
                "v6": { "url": "http://[::1]:9000" },
                "fake": { "mock": {} } } }"#,
        )
        .unwrap();
        TestGuest::with_config(config, crate::state::DownstreamRequest::get("http://localhost/"))
    }

    #[test]
    fn hosts_and_ports_come_from_the_url() {
        let mut g = guest();
        let (buf, nw, out) = (g.alloc(64), g.alloc(4), g.alloc(4));
        for (name, host, port) in
            [("tls", "origin.test", 443), ("plain", "127.0.0.1", 8080), ("v6", "[::1]", 9000), ("fake", "fake", 80)]
        {
            let (p, l) = g.put(name);
            assert_eq!(g.status(|cx| get_host(cx, p, l, buf, 64, nw)), Status::Ok, "{name}");
            assert_eq!(g.string_at(buf, g.u32_at(nw)), host, "{name}");
            assert_eq!(g.status(|cx| get_port(cx, p, l, out)), Status::Ok, "{name}");
            assert_eq!(g.u32_at(out) & 0xffff, port, "{name}");
        }
    }

    #[test]
    fn unknown_backends_exist_not_and_are_inval_elsewhere() {
        let mut g = guest();
        let (buf, nw, out) = (g.alloc(64), g.alloc(4), g.alloc(4));
        let (p, l) = g.put("nope");
        assert_eq!(g.status(|cx| exists(cx, p, l, out)), Status::Ok);
        assert_eq!(g.u32_at(out), 0);
        assert_eq!(g.status(|cx| get_host(cx, p, l, buf, 64, nw)), Status::Inval);
        let (p, l) = g.put("tls");
        assert_eq!(g.status(|cx| exists(cx, p, l, out)), Status::Ok);
        assert_eq!(g.u32_at(out), 1);
        assert_eq!(g.status(|cx| get_host(cx, p, l, buf, 3, nw)), Status::Buflen);
        assert_eq!(g.u32_at(nw), 11);
    }

    #[test]
    fn tls_versions_only_for_https_backends() {
        let mut g = guest();
        let out = g.alloc(4);
        let (p, l) = g.put("tls");
        assert_eq!(g.status(|cx| tls_version(cx, (p, l), out, TLS_1_2)), Status::Ok);
        assert_eq!(g.u32_at(out), TLS_1_2);
        let (p, l) = g.put("plain");
        assert_eq!(g.status(|cx| tls_version(cx, (p, l), out, TLS_1_2)), Status::None);
    }
}
