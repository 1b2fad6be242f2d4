//! `fastly_backend`: questions about backends — those in config `backends` and those the guest
//! registered at run time (`fastly_http_req::register_dynamic_backend`, in `dynamic_backends`).
//!
//! A mock backend answers as a plain-HTTP origin named after itself on port 80: it has no
//! network address, and the SDKs only need the answers to be well-formed.

use alloc::string::String;

use super::{AbiError, AbiResult, Cx, Registry};
use crate::config::{Backend, BackendUrl, Health};
use crate::state::State;
use crate::status::Status;

const M: &str = "fastly_backend";

/// Production's timeouts for a backend that does not set its own.
const DEFAULT_CONNECT_TIMEOUT_MS: u32 = 1_000;
const DEFAULT_FIRST_BYTE_TIMEOUT_MS: u32 = 15_000;
const DEFAULT_BETWEEN_BYTES_TIMEOUT_MS: u32 = 10_000;

/// `SslVersion` (`fastly_shared`): TLS 1.0 is 0 … TLS 1.3 is 3.
pub const TLS_1_3: u32 = 3;
/// TLS 1.2 to 1.3: production's default range for TLS backends.
pub const DEFAULT_TLS: TlsRange = TlsRange { min: 2, max: TLS_1_3 };

/// The TLS versions a backend accepts, as `SslVersion` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsRange {
    pub min: u32,
    pub max: u32,
}

/// Connection keep-alive settings, as the `get_*keepalive*` queries report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    pub http_time_ms: u32,
    pub tcp_enable: bool,
    pub tcp_interval_secs: u32,
    pub tcp_probes: u32,
    pub tcp_time_secs: u32,
}

impl Keepalive {
    /// A backend that sets nothing: Fastly documents TCP keep-alive as on by default and keeps
    /// HTTP connections "as long as possible"; it publishes no figures for the rest, which
    /// therefore read 0, "the platform's choice".
    pub const DEFAULT: Keepalive =
        Keepalive { http_time_ms: 0, tcp_enable: true, tcp_interval_secs: 0, tcp_probes: 0, tcp_time_secs: 0 };
}

/// One of the keep-alive settings, as a query reports it.
type KeepaliveField = fn(&Keepalive) -> u32;

/// A backend the guest registered: what a send needs, and what only the queries report.
#[derive(Debug, Clone, PartialEq)]
pub struct DynamicBackend {
    pub backend: Backend,
    /// `Some` when it uses TLS.
    pub tls: Option<TlsRange>,
    pub keepalive: Keepalive,
}

/// The backend a send or a query names: from the config, else one the guest registered (the
/// two never share a name). Owned, so the caller can go on changing the state.
pub fn resolve_backend(st: &State, name: &str) -> Option<Backend> {
    st.config.backends.get(name).or_else(|| st.dynamic_backends.get(name).map(|d| &d.backend)).cloned()
}

pub fn link(r: &mut Registry<'_>) {
    r.func(M, "exists", exists);
    r.func(M, "is_healthy", |cx: &mut Cx<'_>, p: u32, l: u32, out: u32| {
        let health = match described(cx, p, l)?.backend.health {
            Health::Unknown => 0,
            Health::Healthy => 1,
            Health::Unhealthy => 2,
        };
        cx.mem.write_u32(out, health)
    });
    r.func(M, "is_dynamic", |cx: &mut Cx<'_>, p: u32, l: u32, out: u32| {
        let dynamic = described(cx, p, l)?.dynamic;
        cx.mem.write_u32(out, dynamic as u32)
    });
    r.func(M, "get_host", get_host);
    r.func(M, "get_override_host", |cx: &mut Cx<'_>, p: u32, l: u32, buf: u32, len: u32, nw: u32| {
        let host = described(cx, p, l)?.backend.override_host.ok_or(Status::None)?;
        cx.mem.write_fitting(buf, len, host.as_bytes(), nw)
    });
    r.func(M, "get_port", get_port);
    r.func(M, "get_connect_timeout_ms", |cx: &mut Cx<'_>, p: u32, l: u32, out: u32| {
        let ms = described(cx, p, l)?.backend.connect_timeout_ms.unwrap_or(DEFAULT_CONNECT_TIMEOUT_MS);
        cx.mem.write_u32(out, ms)
    });
    r.func(M, "get_first_byte_timeout_ms", |cx: &mut Cx<'_>, p: u32, l: u32, out: u32| {
        let ms = described(cx, p, l)?.backend.first_byte_timeout_ms.unwrap_or(DEFAULT_FIRST_BYTE_TIMEOUT_MS);
        cx.mem.write_u32(out, ms)
    });
    r.func(M, "get_between_bytes_timeout_ms", |cx: &mut Cx<'_>, p: u32, l: u32, out: u32| {
        let ms = described(cx, p, l)?.backend.between_bytes_timeout_ms.unwrap_or(DEFAULT_BETWEEN_BYTES_TIMEOUT_MS);
        cx.mem.write_u32(out, ms)
    });
    let keepalive_queries: [(&str, KeepaliveField); 5] = [
        ("get_http_keepalive_time", |k| k.http_time_ms),
        ("get_tcp_keepalive_enable", |k| k.tcp_enable as u32),
        ("get_tcp_keepalive_interval", |k| k.tcp_interval_secs),
        ("get_tcp_keepalive_probes", |k| k.tcp_probes),
        ("get_tcp_keepalive_time", |k| k.tcp_time_secs),
    ];
    for (name, field) in keepalive_queries {
        r.func(M, name, move |cx: &mut Cx<'_>, p: u32, l: u32, out: u32| {
            let value = field(&described(cx, p, l)?.keepalive);
            cx.mem.write_u32(out, value)
        });
    }
    r.func(M, "is_ssl", |cx: &mut Cx<'_>, p: u32, l: u32, out: u32| {
        let tls = described(cx, p, l)?.tls.is_some();
        cx.mem.write_u32(out, tls as u32)
    });
    r.func(M, "get_ssl_min_version", |cx: &mut Cx<'_>, p: u32, l: u32, out: u32| tls_version(cx, (p, l), out, |t| t.min));
    r.func(M, "get_ssl_max_version", |cx: &mut Cx<'_>, p: u32, l: u32, out: u32| tls_version(cx, (p, l), out, |t| t.max));
}

fn get_host(cx: &mut Cx<'_>, ptr: u32, len: u32, buf: u32, buf_len: u32, nwritten: u32) -> AbiResult {
    let described = described(cx, ptr, len)?;
    let host = match url(&described.backend) {
        Some(url) => String::from(url.host()),
        None => described.name,
    };
    cx.mem.write_fitting(buf, buf_len, host.as_bytes(), nwritten)
}

fn get_port(cx: &mut Cx<'_>, ptr: u32, len: u32, out: u32) -> AbiResult {
    let backend = described(cx, ptr, len)?.backend;
    cx.mem.write_u16(out, port(&backend))
}

/// Whether a backend of that name exists: never an error for a missing one.
fn exists(cx: &mut Cx<'_>, ptr: u32, len: u32, out: u32) -> AbiResult {
    let name = cx.mem.str(ptr, len)?;
    let exists = resolve_backend(cx.st, name).is_some();
    cx.mem.write_u32(out, exists as u32)
}

/// What the queries answer about one backend.
struct Described {
    name: String,
    backend: Backend,
    dynamic: bool,
    tls: Option<TlsRange>,
    keepalive: Keepalive,
}

/// The named backend; an unknown name is INVAL, as for a send to it.
fn described(cx: &Cx<'_>, ptr: u32, len: u32) -> Result<Described, AbiError> {
    let name = cx.mem.string(ptr, len)?;
    if let Some(backend) = cx.st.config.backends.get(&name) {
        let tls = is_tls(backend).then_some(DEFAULT_TLS);
        return Ok(Described { name, backend: backend.clone(), dynamic: false, tls, keepalive: Keepalive::DEFAULT });
    }
    let dynamic = cx.st.dynamic_backends.get(&name).cloned().ok_or(Status::Inval)?;
    Ok(Described { name, backend: dynamic.backend, dynamic: true, tls: dynamic.tls, keepalive: dynamic.keepalive })
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

/// One end of the TLS range; NONE for a backend without TLS, as the SDKs expect.
fn tls_version(cx: &mut Cx<'_>, name: (u32, u32), out: u32, end: fn(&TlsRange) -> u32) -> AbiResult {
    let tls = described(cx, name.0, name.1)?.tls.ok_or(Status::None)?;
    cx.mem.write_u32(out, end(&tls))
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
        assert_eq!(g.status(|cx| tls_version(cx, (p, l), out, |t| t.min)), Status::Ok);
        assert_eq!(g.u32_at(out), 2);
        assert_eq!(g.status(|cx| tls_version(cx, (p, l), out, |t| t.max)), Status::Ok);
        assert_eq!(g.u32_at(out), TLS_1_3);
        let (p, l) = g.put("plain");
        assert_eq!(g.status(|cx| tls_version(cx, (p, l), out, |t| t.min)), Status::None);
    }

    fn with_dynamic(g: &mut TestGuest) {
        let backend = Backend {
            url: Some("https://api.example:8443".into()),
            override_host: Some("api.example".into()),
            connect_timeout_ms: Some(250),
            ..Backend::default()
        };
        let keepalive = Keepalive { tcp_probes: 4, ..Keepalive::DEFAULT };
        let dynamic = DynamicBackend { backend, tls: Some(TlsRange { min: TLS_1_3, max: TLS_1_3 }), keepalive };
        g.state.dynamic_backends.insert("api".into(), dynamic);
    }

    /// (is_dynamic, TLS range, keep-alive probes) as the queries report them.
    fn describe(g: &mut TestGuest, name: &str) -> (bool, Option<TlsRange>, u32) {
        let (p, l) = g.put(name);
        let mut found = None;
        g.call(|cx| {
            let d = described(cx, p, l)?;
            assert!(d.keepalive.tcp_enable, "on unless the guest turns it off");
            found = Some((d.dynamic, d.tls, d.keepalive.tcp_probes));
            Ok(())
        })
        .unwrap();
        found.unwrap()
    }

    #[test]
    fn dynamic_backends_answer_like_static_ones() {
        let mut g = guest();
        with_dynamic(&mut g);
        let (buf, nw, out) = (g.alloc(64), g.alloc(4), g.alloc(4));
        let (p, l) = g.put("api");
        assert_eq!(g.status(|cx| exists(cx, p, l, out)), Status::Ok);
        assert_eq!(g.u32_at(out), 1);
        assert_eq!(g.status(|cx| get_host(cx, p, l, buf, 64, nw)), Status::Ok);
        assert_eq!(g.string_at(buf, g.u32_at(nw)), "api.example");
        assert_eq!(g.status(|cx| get_port(cx, p, l, out)), Status::Ok);
        assert_eq!(g.u32_at(out) & 0xffff, 8443);
        assert_eq!(g.status(|cx| tls_version(cx, (p, l), out, |t| t.min)), Status::Ok);
        assert_eq!(g.u32_at(out), TLS_1_3);
        assert_eq!(describe(&mut g, "api"), (true, Some(TlsRange { min: TLS_1_3, max: TLS_1_3 }), 4));
        assert_eq!(describe(&mut g, "tls"), (false, Some(DEFAULT_TLS), 0));
        assert_eq!(describe(&mut g, "plain"), (false, None, 0));
        assert_eq!(resolve_backend(&g.state, "api").and_then(|b| b.override_host), Some("api.example".into()));
        assert_eq!(resolve_backend(&g.state, "tls").and_then(|b| b.override_host), Some("www.origin.test".into()));
        assert_eq!(resolve_backend(&g.state, "nope"), None);
    }
}
