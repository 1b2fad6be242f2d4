//! The I/O a session asks its embedder to perform, and what comes back.
//!
//! host-core performs no I/O itself. A guest's backend request or sleep becomes an
//! [`IoRequest`] handed out by `Session::step`; the embedder (browser worker, CLI, tests)
//! performs it however it can and hands the [`IoResult`] back with `Session::complete`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Identifies one in-flight operation within a session.
pub type IoId = u32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoRequest {
    pub id: IoId,
    pub kind: IoKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IoKind {
    /// An HTTP request to a backend with a `url` (mock backends never reach the embedder).
    Fetch(BackendRequest),
    /// Complete after this many milliseconds (`poll_oneoff` clocks, select timeouts).
    Sleep { ms: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendRequest {
    /// The backend's name in the config.
    pub backend: String,
    pub method: String,
    /// The full URL to request: the backend's origin and path prefix + the request's path.
    pub url: String,
    /// Header fields in order. `host` is the one the guest's request carried, or the
    /// backend's `override_host`.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    pub connect_timeout_ms: Option<u32>,
    pub first_byte_timeout_ms: Option<u32>,
    pub between_bytes_timeout_ms: Option<u32>,
    /// The backend's `proxy`: a relay to send the request through (see [`relay`]).
    pub proxy: Option<String>,
}

/// How a request travels through a relay (`edgeplay relay`), so that a browser can make the
/// request `fetch` alone cannot: the target URL rides in one header, and every header of the
/// request and of the response rides under a prefix, so the browser neither drops nor
/// interprets any of them (`Host`, `Cookie`, `Set-Cookie`, `Content-Encoding` …).
pub mod relay {
    /// The URL the relay requests.
    pub const TARGET: &str = "x-edgeplay-target";
    /// `x-edgeplay-h-host: example.com` carries `host: example.com`.
    pub const HEADER_PREFIX: &str = "x-edgeplay-h-";
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IoResult {
    Fetched(Result<BackendResponse, FetchError>),
    Slept,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendResponse {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    /// The peer's IP octets (4 or 16) and port, when the embedder knows them.
    pub remote_addr: Option<(Vec<u8>, u16)>,
}

/// Why a backend request failed, in the categories production reports
/// (`fastly_http_req::SendErrorDetailTag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchErrorKind {
    DnsError,
    ConnectionRefused,
    ConnectionTimeout,
    ConnectionTerminated,
    FirstByteTimeout,
    TlsError,
    /// The response was not valid HTTP.
    ProtocolError,
    /// The browser would not let the page read it (CORS, mixed content, local-network
    /// permission). Production has no such case: the guest sees a refused connection.
    BlockedByBrowser,
    Internal,
}

impl FetchErrorKind {
    /// The `SendErrorDetailTag` value the guest sees.
    pub fn send_error_tag(self) -> u32 {
        match self {
            FetchErrorKind::DnsError => 3,
            FetchErrorKind::ConnectionRefused | FetchErrorKind::BlockedByBrowser => 7,
            FetchErrorKind::ConnectionTerminated => 8,
            FetchErrorKind::ConnectionTimeout => 9,
            FetchErrorKind::TlsError => 11,
            FetchErrorKind::ProtocolError => 19,
            FetchErrorKind::FirstByteTimeout => 16,
            FetchErrorKind::Internal => 22,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FetchErrorKind::DnsError => "dns error",
            FetchErrorKind::ConnectionRefused => "connection refused",
            FetchErrorKind::ConnectionTimeout => "connection timeout",
            FetchErrorKind::ConnectionTerminated => "connection terminated",
            FetchErrorKind::FirstByteTimeout => "first byte timeout",
            FetchErrorKind::TlsError => "tls error",
            FetchErrorKind::ProtocolError => "http protocol error",
            FetchErrorKind::BlockedByBrowser => "blocked by the browser",
            FetchErrorKind::Internal => "internal error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError {
    pub kind: FetchErrorKind,
    /// A sentence for the person reading the trace.
    pub message: String,
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}
