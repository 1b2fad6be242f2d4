//! `fastly_http_req::register_dynamic_backend`: backends the guest defines at run time.
//!
//! It lives apart from `http_req.rs` because it only defines a backend; sending to one goes
//! through the same path as a static backend (`backend::resolve_backend`).
//!
//! As in production: the service must allow dynamic backends (config `dynamic_backends`),
//! else UNSUPPORTED, which the `fastly` crate reports as `Disallowed`; a name already used by
//! a static or dynamic backend is ERROR (`NameInUse`); an execution may register 200
//! (then LIMITEXCEEDED). A backend lives until the end of the request.
//!
//! The target is `host` or `host:port`; `USE_SSL` makes it `https://`, else `http://`. Host
//! override, the three timeouts, the TLS version range and the keep-alive settings are kept
//! and reported by `fastly_backend`. Certificate, cipher, SNI, client-certificate, pooling,
//! gRPC and health-check options are accepted and not applied: the connection itself is the
//! embedder's (a browser's `fetch` cannot choose them).

use alloc::format;
use alloc::string::String;

use super::backend::{DynamicBackend, Keepalive, TlsRange, DEFAULT_TLS, TLS_1_3};
use super::memory::GuestMemory;
use super::{AbiError, AbiResult, Cx, Registry};
use crate::config::{Backend, BackendUrl};
use crate::status::Status;

/// Production's limit per execution.
pub const MAX_DYNAMIC_BACKENDS: usize = 200;
/// Longest backend name production accepts.
const MAX_NAME_LEN: u32 = 255;
/// Longest host override production accepts.
const MAX_HOST_OVERRIDE_LEN: u32 = 1024;

/// `BackendConfigOptions` bits.
const RESERVED: u32 = 1 << 0;
const HOST_OVERRIDE: u32 = 1 << 1;
const CONNECT_TIMEOUT: u32 = 1 << 2;
const FIRST_BYTE_TIMEOUT: u32 = 1 << 3;
const BETWEEN_BYTES_TIMEOUT: u32 = 1 << 4;
const USE_SSL: u32 = 1 << 5;
const SSL_MIN_VERSION: u32 = 1 << 6;
const SSL_MAX_VERSION: u32 = 1 << 7;
const KEEPALIVE: u32 = 1 << 15;
/// Every defined bit: `HEALTHCHECK` (1 << 18) is the last.
const KNOWN: u32 = (1 << 19) - 1;

/// Byte offsets of the `DynamicBackendConfig` fields we read (wasm32 layout).
mod field {
    pub const HOST_OVERRIDE: u32 = 0;
    pub const HOST_OVERRIDE_LEN: u32 = 4;
    pub const CONNECT_TIMEOUT_MS: u32 = 8;
    pub const FIRST_BYTE_TIMEOUT_MS: u32 = 12;
    pub const BETWEEN_BYTES_TIMEOUT_MS: u32 = 16;
    pub const SSL_MIN_VERSION: u32 = 20;
    pub const SSL_MAX_VERSION: u32 = 24;
    pub const HTTP_KEEPALIVE_TIME_MS: u32 = 72;
    pub const TCP_KEEPALIVE_ENABLE: u32 = 76;
    pub const TCP_KEEPALIVE_INTERVAL_SECS: u32 = 80;
    pub const TCP_KEEPALIVE_PROBES: u32 = 84;
    pub const TCP_KEEPALIVE_TIME_SECS: u32 = 88;
}

pub fn link(r: &mut Registry<'_>) {
    r.func("fastly_http_req", "register_dynamic_backend", register_dynamic_backend);
}

fn register_dynamic_backend(cx: &mut Cx<'_>, name: u32, name_len: u32, target: u32, target_len: u32, mask: u32, config: u32) -> AbiResult {
    if !cx.st.config.dynamic_backends {
        return Err(Status::Unsupported.into());
    }
    if name_len == 0 || name_len > MAX_NAME_LEN {
        return Err(Status::Inval.into());
    }
    let name = cx.mem.string(name, name_len)?;
    let target = cx.mem.string(target, target_len)?;
    if mask & RESERVED != 0 || mask & !KNOWN != 0 {
        return Err(Status::Inval.into());
    }
    let dynamic = read_options(&cx.mem, &target, mask, config)?;
    if super::backend::resolve_backend(cx.st, &name).is_some() {
        return Err(Status::Error.into());
    }
    if cx.st.dynamic_backends.len() >= MAX_DYNAMIC_BACKENDS {
        return Err(Status::LimitExceeded.into());
    }
    cx.st.dynamic_backends.insert(name, dynamic);
    Ok(())
}

/// Reads only the fields `mask` names: older SDKs pass a shorter `DynamicBackendConfig`.
fn read_options(mem: &GuestMemory<'_>, target: &str, mask: u32, config: u32) -> Result<DynamicBackend, AbiError> {
    let has = |bit: u32| mask & bit != 0;
    let at = |offset: u32| mem.read_u32(config.checked_add(offset).ok_or(Status::Inval)?);
    let timeout = |bit: u32, offset: u32| if has(bit) { at(offset).map(Some) } else { Ok(None) };
    let tls = has(USE_SSL);
    let mut backend = Backend {
        url: Some(target_url(target, tls)?),
        connect_timeout_ms: timeout(CONNECT_TIMEOUT, field::CONNECT_TIMEOUT_MS)?,
        first_byte_timeout_ms: timeout(FIRST_BYTE_TIMEOUT, field::FIRST_BYTE_TIMEOUT_MS)?,
        between_bytes_timeout_ms: timeout(BETWEEN_BYTES_TIMEOUT, field::BETWEEN_BYTES_TIMEOUT_MS)?,
        ..Backend::default()
    };
    if has(HOST_OVERRIDE) {
        let len = at(field::HOST_OVERRIDE_LEN)?;
        if len == 0 || len > MAX_HOST_OVERRIDE_LEN {
            return Err(Status::Inval.into());
        }
        backend.override_host = Some(mem.string(at(field::HOST_OVERRIDE)?, len)?);
    }
    let version = |bit: u32, offset: u32, default: u32| -> Result<u32, AbiError> {
        match has(bit) {
            true => at(offset).and_then(|v| if v <= TLS_1_3 { Ok(v) } else { Err(Status::Inval.into()) }),
            false => Ok(default),
        }
    };
    let range = TlsRange {
        min: version(SSL_MIN_VERSION, field::SSL_MIN_VERSION, DEFAULT_TLS.min)?,
        max: version(SSL_MAX_VERSION, field::SSL_MAX_VERSION, DEFAULT_TLS.max)?,
    };
    if range.min > range.max {
        return Err(Status::Inval.into());
    }
    let keepalive = match has(KEEPALIVE) {
        true => Keepalive {
            http_time_ms: at(field::HTTP_KEEPALIVE_TIME_MS)?,
            tcp_enable: at(field::TCP_KEEPALIVE_ENABLE)? != 0,
            tcp_interval_secs: at(field::TCP_KEEPALIVE_INTERVAL_SECS)?,
            tcp_probes: at(field::TCP_KEEPALIVE_PROBES)?,
            tcp_time_secs: at(field::TCP_KEEPALIVE_TIME_SECS)?,
        },
        false => Keepalive::DEFAULT,
    };
    Ok(DynamicBackend { backend, tls: tls.then_some(range), keepalive })
}

/// `host[:port]` as a backend URL. A scheme, path, query or credentials in the target is INVAL.
fn target_url(target: &str, tls: bool) -> Result<String, AbiError> {
    if target.is_empty() || target.contains(['/', '?', '#', '@']) {
        return Err(Status::Inval.into());
    }
    let url = format!("{}://{target}", if tls { "https" } else { "http" });
    BackendUrl::parse(&url).map_err(|_| Status::Inval)?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::TestGuest;
    use crate::config::Config;
    use crate::state::DownstreamRequest;

    fn guest(allowed: bool) -> TestGuest {
        let config = Config::from_json(&format!(
            r#"{{ "dynamic_backends": {allowed}, "backends": {{ "origin": {{ "mock": {{}} }} }} }}"#
        ))
        .unwrap();
        TestGuest::with_config(config, DownstreamRequest::get("http://localhost/"))
    }

    /// A `DynamicBackendConfig` in guest memory with these u32 fields set; returns its address.
    fn config_struct(g: &mut TestGuest, fields: &[(u32, u32)]) -> u32 {
        let mut bytes = [0u8; 108];
        for &(offset, value) in fields {
            bytes[offset as usize..offset as usize + 4].copy_from_slice(&value.to_le_bytes());
        }
        g.put(bytes).0
    }

    fn register(g: &mut TestGuest, name: &str, target: &str, mask: u32, config: u32) -> Status {
        let (n, nl) = g.put(name);
        let (t, tl) = g.put(target);
        g.status(|cx| register_dynamic_backend(cx, n, nl, t, tl, mask, config))
    }

    #[test]
    fn a_registered_backend_keeps_its_options() {
        let mut g = guest(true);
        let (host, host_len) = g.put("api.example");
        let config = config_struct(
            &mut g,
            &[
                (field::HOST_OVERRIDE, host),
                (field::HOST_OVERRIDE_LEN, host_len),
                (field::FIRST_BYTE_TIMEOUT_MS, 2_500),
                (field::SSL_MIN_VERSION, TLS_1_3),
                (field::TCP_KEEPALIVE_ENABLE, 1),
                (field::TCP_KEEPALIVE_PROBES, 4),
            ],
        );
        let mask = HOST_OVERRIDE | FIRST_BYTE_TIMEOUT | USE_SSL | SSL_MIN_VERSION | KEEPALIVE | (1 << 16);
        assert_eq!(register(&mut g, "api", "api.example:8443", mask, config), Status::Ok);
        let dynamic = &g.state.dynamic_backends["api"];
        assert_eq!(dynamic.backend.url.as_deref(), Some("https://api.example:8443"));
        assert_eq!(dynamic.backend.override_host.as_deref(), Some("api.example"));
        assert_eq!((dynamic.backend.first_byte_timeout_ms, dynamic.backend.connect_timeout_ms), (Some(2_500), None));
        assert_eq!(dynamic.tls, Some(TlsRange { min: TLS_1_3, max: TLS_1_3 }));
        assert_eq!((dynamic.keepalive.tcp_enable, dynamic.keepalive.tcp_probes), (true, 4));
    }

    #[test]
    fn plain_http_without_use_ssl() {
        let mut g = guest(true);
        let config = config_struct(&mut g, &[]);
        assert_eq!(register(&mut g, "plain", "[::1]:8080", 0, config), Status::Ok);
        let dynamic = &g.state.dynamic_backends["plain"];
        assert_eq!((dynamic.backend.url.as_deref(), dynamic.tls), (Some("http://[::1]:8080"), None));
        assert_eq!(dynamic.keepalive, Keepalive::DEFAULT);
    }

    #[test]
    fn refusals_as_production_gives_them() {
        let mut g = guest(false);
        let config = config_struct(&mut g, &[(field::SSL_MIN_VERSION, 3), (field::SSL_MAX_VERSION, 2)]);
        assert_eq!(register(&mut g, "a", "a.example", 0, config), Status::Unsupported, "not allowed");
        let mut g = guest(true);
        let config = config_struct(&mut g, &[(field::SSL_MIN_VERSION, 3), (field::SSL_MAX_VERSION, 2)]);
        let rows = [
            ("origin", "a.example", 0, Status::Error),
            ("", "a.example", 0, Status::Inval),
            ("a", "https://a.example", 0, Status::Inval),
            ("a", "a.example/path", 0, Status::Inval),
            ("a", "a.example:0", 0, Status::Inval),
            ("a", "a.example", RESERVED, Status::Inval),
            ("a", "a.example", 1 << 19, Status::Inval),
            ("a", "a.example", USE_SSL | SSL_MIN_VERSION | SSL_MAX_VERSION, Status::Inval),
            ("a", "a.example", HOST_OVERRIDE, Status::Inval),
        ];
        for (name, target, mask, expected) in rows {
            assert_eq!(register(&mut g, name, target, mask, config), expected, "{name} {target} {mask:#x}");
        }
        assert!(g.state.dynamic_backends.is_empty());
        assert_eq!(register(&mut g, "a", "a.example", 0, config), Status::Ok);
        assert_eq!(register(&mut g, "a", "b.example", 0, config), Status::Error, "a name is used once");
    }

    #[test]
    fn two_hundred_per_execution() {
        let mut g = guest(true);
        let config = config_struct(&mut g, &[]);
        for i in 0..MAX_DYNAMIC_BACKENDS {
            assert_eq!(register(&mut g, &format!("b{i}"), "a.example", 0, config), Status::Ok);
        }
        assert_eq!(register(&mut g, "one-more", "a.example", 0, config), Status::LimitExceeded);
    }
}
