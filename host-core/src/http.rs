//! The HTTP model hostcalls work on: header lists, request and response heads.

use alloc::string::String;
use alloc::vec::Vec;

/// Header fields in order. Names are stored lowercase (HTTP names are case-insensitive and
/// `header_names_get` reports them lowercase, as production does); values are bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    fields: Vec<(String, Vec<u8>)>,
}

impl Headers {
    pub fn new() -> Self {
        Headers::default()
    }

    pub fn append(&mut self, name: &str, value: &[u8]) {
        self.fields.push((name.to_ascii_lowercase(), value.to_vec()));
    }

    /// Replaces every value of `name` with this one, keeping the first one's position.
    pub fn insert(&mut self, name: &str, value: &[u8]) {
        let name = name.to_ascii_lowercase();
        match self.fields.iter().position(|(n, _)| *n == name) {
            Some(first) => {
                self.fields[first].1 = value.to_vec();
                let mut index = 0;
                self.fields.retain(|(n, _)| {
                    index += 1;
                    index - 1 <= first || *n != name
                });
            }
            None => self.fields.push((name, value.to_vec())),
        }
    }

    /// Removes every value of `name`; false when there was none.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.fields.len();
        self.fields.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.fields.len() != before
    }

    pub fn get_all<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
        self.fields.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_slice())
    }

    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.get_all(name).next()
    }

    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| core::str::from_utf8(v).ok())
    }

    /// Distinct names in order of first appearance.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for (name, _) in &self.fields {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        names
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        let mut headers = Headers::new();
        for (name, value) in iter {
            headers.append(name.as_ref(), value.as_ref());
        }
        headers
    }
}

/// A header name is an RFC 9110 token.
pub fn is_valid_header_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.iter().all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A header value has no CR, LF or NUL (obs-text bytes are allowed, as in production).
pub fn is_valid_header_value(value: &[u8]) -> bool {
    !value.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0)
}

/// A method is a token.
pub fn is_valid_method(method: &[u8]) -> bool {
    is_valid_header_name(method)
}

/// `fastly_shared::HttpVersion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpVersion {
    Http09 = 0,
    Http10 = 1,
    Http11 = 2,
    H2 = 3,
    H3 = 4,
}

impl HttpVersion {
    pub fn from_abi(value: u32) -> Option<HttpVersion> {
        Some(match value {
            0 => HttpVersion::Http09,
            1 => HttpVersion::Http10,
            2 => HttpVersion::Http11,
            3 => HttpVersion::H2,
            4 => HttpVersion::H3,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HttpVersion::Http09 => "HTTP/0.9",
            HttpVersion::Http10 => "HTTP/1.0",
            HttpVersion::Http11 => "HTTP/1.1",
            HttpVersion::H2 => "HTTP/2",
            HttpVersion::H3 => "HTTP/3",
        }
    }
}

/// What the guest asked the readthrough cache to do (`cache_override_*_set`). Recorded now;
/// the stores-and-cache work gives it its effect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheOverride {
    pub pass: bool,
    pub ttl: Option<u32>,
    pub stale_while_revalidate: Option<u32>,
    pub pci: bool,
    pub surrogate_keys: Option<String>,
}

impl CacheOverride {
    pub fn is_empty(&self) -> bool {
        *self == CacheOverride::default()
    }
}

/// Whether the host computes `Content-Length` / `Transfer-Encoding` (`FramingHeadersMode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FramingMode {
    #[default]
    Automatic,
    ManuallyFromHeaders,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    /// Absolute URL, as the SDKs set and read it.
    pub uri: String,
    pub version: HttpVersion,
    pub headers: Headers,
    pub cache_override: CacheOverride,
    pub framing: FramingMode,
    /// `ContentEncodings` bits the guest asked to be decoded from the backend response.
    pub auto_decompress: u32,
    /// Made by `fastly_http_cache::get_suggested_backend_request`: the guest caches the
    /// response itself, so the readthrough cache inside `send` must pass it.
    pub cached_by_guest: bool,
}

impl Default for RequestHead {
    fn default() -> Self {
        RequestHead {
            method: String::from("GET"),
            uri: String::from("/"),
            version: HttpVersion::Http11,
            headers: Headers::new(),
            cache_override: CacheOverride::default(),
            framing: FramingMode::Automatic,
            auto_decompress: 0,
            cached_by_guest: false,
        }
    }
}

impl RequestHead {
    /// The path and query of the URL (`/` when it has none).
    pub fn path_and_query(&self) -> &str {
        let after_scheme = match self.uri.find("://") {
            Some(i) => &self.uri[i + 3..],
            None => return if self.uri.is_empty() { "/" } else { &self.uri },
        };
        match after_scheme.find(['/', '?']) {
            Some(i) => &after_scheme[i..],
            None => "/",
        }
    }

    /// The authority of an absolute URL.
    pub fn authority(&self) -> Option<&str> {
        let after_scheme = &self.uri[self.uri.find("://")? + 3..];
        Some(&after_scheme[..after_scheme.find(['/', '?', '#']).unwrap_or(after_scheme.len())])
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    pub version: HttpVersion,
    pub headers: Headers,
    pub framing: FramingMode,
    /// The backend that produced it, for `get_backend_name` style lookups and the trace.
    pub backend: Option<String>,
    /// The address the response came from, when it came over the network.
    pub remote_addr: Option<(Vec<u8>, u16)>,
}

impl Default for ResponseHead {
    fn default() -> Self {
        ResponseHead {
            status: 200,
            version: HttpVersion::Http11,
            headers: Headers::new(),
            framing: FramingMode::Automatic,
            backend: None,
            remote_addr: None,
        }
    }
}
