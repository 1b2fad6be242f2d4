//! The JSON config: the world a guest runs in (backends, stores, client, limits).
//!
//! It follows the `[local_server]` section of `fastly.toml` key for key where one exists, in the
//! compact form people write by hand. Every key is optional; unknown keys are errors that name
//! their path, and every error carries the line and column it was found at when the text has one.

mod fastly_toml;
mod lookups;

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};
use serde_path_to_error::Segment;

pub use fastly_toml::from_fastly_toml;
pub use lookups::{geo_record, GeoValue, GEO_FIELDS};

/// One name → value map, as dictionaries and config stores hold.
pub type StringMap = BTreeMap<String, String>;

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub backends: BTreeMap<String, Backend>,
    #[serde(default)]
    pub dictionaries: BTreeMap<String, StringMap>,
    #[serde(default)]
    pub config_stores: BTreeMap<String, StringMap>,
    #[serde(default)]
    pub secret_stores: BTreeMap<String, StringMap>,
    #[serde(default)]
    pub kv_stores: BTreeMap<String, BTreeMap<String, KvSeed>>,
    #[serde(default)]
    pub acls: BTreeMap<String, Acl>,
    #[serde(default)]
    pub geolocation: Geolocation,
    #[serde(default)]
    pub device_detection: DeviceDetection,
    /// Whether guests may register backends at run time (a service setting in production).
    #[serde(default)]
    pub dynamic_backends: bool,
    #[serde(default)]
    pub client: Client,
    /// Environment variables the guest sees; they override the `FASTLY_*` defaults.
    #[serde(default)]
    pub env: StringMap,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub unknown_imports: UnknownImports,
}

/// A backend: a real origin reached over the network, or a response served from the config.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Backend {
    /// `http(s)://host[:port][/path-prefix]`. Exactly one of `url` and `mock` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mock: Option<MockResponse>,
    /// A relay (`edgeplay relay`) the browser sends this backend's requests through, so that
    /// what `fetch` cannot do — set `Host` or cookies, read an origin without CORS — still
    /// happens. Only the browser uses it; native runs go direct.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// The `Host` header sent instead of the one from the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_timeout_ms: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_byte_timeout_ms: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub between_bytes_timeout_ms: Option<u32>,
    #[serde(default)]
    pub health: Health,
}

/// Production's backend health as `fastly_backend::is_healthy` reports it.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    #[default]
    Unknown,
    Healthy,
    Unhealthy,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MockResponse {
    #[serde(default = "default_status")]
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: String,
    /// How long the mock takes to answer, so waterfalls and timeouts can be shown offline.
    #[serde(default)]
    pub delay_ms: u32,
}

fn default_status() -> u16 {
    200
}

/// An initial KV value: a plain string, or data with metadata.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged, expecting = "a string, or an object with `data` and optional `metadata`")]
pub enum KvSeed {
    Data(String),
    WithMetadata(KvSeedEntry),
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KvSeedEntry {
    pub data: String,
    #[serde(default)]
    pub metadata: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Acl {
    #[serde(default)]
    pub entries: Vec<AclEntry>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AclEntry {
    /// An address or CIDR prefix, IPv4 or IPv6. The longest prefix containing an address wins.
    pub prefix: String,
    /// `ALLOW` or `BLOCK`, in any case.
    pub action: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Geolocation {
    /// Address or CIDR → fields of the geolocation record production returns (`GEO_FIELDS`),
    /// over the absent-data record; the longest prefix containing an address wins.
    #[serde(default)]
    pub addresses: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeviceDetection {
    /// User-Agent (matched exactly) → the device record production returns, as written.
    #[serde(default)]
    pub user_agents: BTreeMap<String, serde_json::Value>,
}

/// Facts about the downstream connection.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Client {
    #[serde(default = "default_client_ip")]
    pub ip: String,
    #[serde(default = "default_server_ip")]
    pub server_ip: String,
    /// `none` (no compliance region applies), `eu`, `us`, or another region's name.
    #[serde(default = "default_compliance_region")]
    pub compliance_region: String,
    /// The Fastly API keys valid for this service: a request whose `Fastly-Key` header holds
    /// one of them is authenticated (`fastly_key_is_valid`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub valid_fastly_keys: Vec<String>,
    /// Whether Fastly tagged the request as part of a DDoS attack.
    #[serde(default)]
    pub ddos_detected: bool,
    /// The client's HTTP/2 and original-headers fingerprints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h2_fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oh_fingerprint: Option<String>,
    /// The TLS connection the request came over; absent for plain HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientTls>,
    /// What bot detection concluded; absent when it did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot: Option<Bot>,
}

impl Default for Client {
    fn default() -> Self {
        Client {
            ip: default_client_ip(),
            server_ip: default_server_ip(),
            compliance_region: default_compliance_region(),
            valid_fastly_keys: Vec::new(),
            ddos_detected: false,
            h2_fingerprint: None,
            oh_fingerprint: None,
            tls: None,
            bot: None,
        }
    }
}

fn default_client_ip() -> String {
    "127.0.0.1".to_string()
}
fn default_server_ip() -> String {
    "127.0.0.1".to_string()
}
fn default_compliance_region() -> String {
    "none".to_string()
}

/// The client's TLS session, as production reports it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientTls {
    #[serde(default = "default_tls_protocol")]
    pub protocol: String,
    #[serde(default = "default_tls_cipher")]
    pub cipher_openssl_name: String,
    /// The server name the client asked for (SNI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servername: Option<String>,
    /// The raw ClientHello message, in hex; empty when not given.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_hello: String,
    /// The JA3 fingerprint: an MD5 digest, 32 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja3_md5: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja4: Option<String>,
    /// The certificate the client presented (mutual TLS), in PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<String>,
    /// How verifying that certificate went; by default `ok` with a certificate and
    /// `certificate_missing` without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_verify_result: Option<CertVerifyResult>,
}

fn default_tls_protocol() -> String {
    "TLSv1.3".to_string()
}
fn default_tls_cipher() -> String {
    "TLS_AES_128_GCM_SHA256".to_string()
}

impl ClientTls {
    pub fn verify_result(&self) -> CertVerifyResult {
        match (self.cert_verify_result, &self.client_cert) {
            (Some(result), _) => result,
            (None, Some(_)) => CertVerifyResult::Ok,
            (None, None) => CertVerifyResult::CertificateMissing,
        }
    }
}

/// `fastly_shared::ClientCertVerifyResult`, in the ABI's order.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CertVerifyResult {
    Ok,
    BadCertificate,
    CertificateRevoked,
    CertificateExpired,
    UnknownCa,
    CertificateMissing,
    CertificateUnknown,
}

/// A bot detection verdict.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Bot {
    #[serde(default = "yes")]
    pub detected: bool,
    /// The bot's name, e.g. `GoogleBot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub category: BotCategory,
    /// Whether the bot proved who it is; unknown when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
}

fn yes() -> bool {
    true
}

/// Bot categories, in the ABI's numbering (`downstream_bot_category_kind`).
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BotCategory {
    #[default]
    None,
    Suspected,
    Accessibility,
    AiCrawler,
    AiFetcher,
    ContentFetcher,
    MonitoringSiteTools,
    OnlineMarketing,
    PagePreview,
    PlatformIntegrations,
    Research,
    SearchEngineCrawler,
    SearchEngineSpecialization,
    SecurityTools,
    Headless,
}

impl BotCategory {
    /// The name production reports, e.g. `SEARCH-ENGINE-CRAWLER`.
    pub fn label(self) -> String {
        let snake = serde_json::to_value(self).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
        snake.to_ascii_uppercase().replace('_', "-")
    }
}

/// `0a1B…` as bytes; None unless it is an even number of hex digits.
pub fn hex_bytes(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

/// Per-request limits. The defaults are Fastly's published Compute limits, except CPU time:
/// an interpreter is far slower than production's native code, so the guest gets seconds of
/// execution instead of 50 ms — still short enough that a stuck guest is stopped quickly.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    #[serde(default = "default_heap_mb")]
    pub heap_mb: u32,
    /// Wall-clock time from start to the end of the guest's run, waits included.
    #[serde(default = "default_wall_ms")]
    pub wall_ms: u64,
    /// Time spent executing guest code, I/O waits excluded.
    #[serde(default = "default_cpu_ms")]
    pub cpu_ms: u64,
    /// A deterministic instruction budget (wasmi fuel units); `null` for none.
    #[serde(default)]
    pub fuel: Option<u64>,
    /// Backend requests per execution.
    #[serde(default = "default_backend_requests")]
    pub backend_requests: u32,
    /// Dictionary and config store lookups per execution.
    #[serde(default = "default_lookups")]
    pub dictionary_lookups: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            heap_mb: default_heap_mb(),
            wall_ms: default_wall_ms(),
            cpu_ms: default_cpu_ms(),
            fuel: None,
            backend_requests: default_backend_requests(),
            dictionary_lookups: default_lookups(),
        }
    }
}

fn default_heap_mb() -> u32 {
    128
}
fn default_wall_ms() -> u64 {
    120_000
}
fn default_cpu_ms() -> u64 {
    5_000
}
fn default_backend_requests() -> u32 {
    32
}
fn default_lookups() -> u32 {
    32
}

/// What to do with imports the host cannot link.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum UnknownImports {
    /// Refuse the module, naming each import.
    #[default]
    Error,
    /// Link them as functions that trap when called, so the rest of the guest still runs.
    Trap,
}

/// A config that could not be read: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The JSON path of the offending value, e.g. `backends.origin.url`; empty for the root.
    pub path: String,
    /// 1-based position in the text, when the error has one.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, " (line {line}, column {column})")?;
        }
        Ok(())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ConfigError {}

impl Config {
    /// Parses and validates a JSON config.
    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let config: Config = serde_path_to_error::deserialize(ObjectOnly(&mut de)).map_err(|e| {
            let inner = e.inner();
            ConfigError {
                path: render_path(e.path()),
                line: Some(inner.line()),
                column: Some(column_from_1(inner.column())),
                message: strip_position(&inner.to_string()),
            }
        })?;
        de.end().map_err(|e| ConfigError {
            path: String::new(),
            line: Some(e.line()),
            column: Some(column_from_1(e.column())),
            message: strip_position(&e.to_string()),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// The config as JSON, sections still at their defaults left out: what a person would write
    /// (the playground shows an imported `fastly.toml` this way).
    pub fn to_json(&self) -> serde_json::Value {
        let defaults = serde_json::to_value(Config::default()).unwrap_or_default();
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let (serde_json::Value::Object(map), serde_json::Value::Object(defaults)) = (&mut value, defaults) {
            map.retain(|key, v| defaults.get(key) != Some(v));
        }
        value
    }

    /// Checks what the types alone cannot: one of `url` / `mock`, URL shapes, sane limits,
    /// ACL prefixes and actions, geolocation addresses and fields.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, backend) in &self.backends {
            let path = |field: &str| format!("backends.{name}{field}");
            match (&backend.url, &backend.mock) {
                (Some(_), Some(_)) => {
                    return Err(ConfigError::at(path(""), "set either `url` or `mock`, not both"))
                }
                (None, None) => {
                    return Err(ConfigError::at(path(""), "a backend needs a `url` or a `mock` response"))
                }
                (Some(url), None) => {
                    BackendUrl::parse(url).map_err(|why| ConfigError::at(path(".url"), why))?;
                    if let Some(proxy) = &backend.proxy {
                        BackendUrl::parse(proxy).map_err(|why| ConfigError::at(path(".proxy"), why))?;
                    }
                }
                (None, Some(mock)) => {
                    if !(100..=999).contains(&mock.status) {
                        return Err(ConfigError::at(path(".mock.status"), "a status is between 100 and 999"));
                    }
                }
            }
        }
        lookups::validate_acls(&self.acls)?;
        lookups::validate_geolocation(&self.geolocation)?;
        if let Some(tls) = &self.client.tls {
            if hex_bytes(&tls.client_hello).is_none() {
                return Err(ConfigError::at("client.tls.client_hello".into(), "the ClientHello is written in hex"));
            }
            if tls.ja3_md5.as_deref().is_some_and(|md5| md5.len() != 32 || hex_bytes(md5).is_none()) {
                return Err(ConfigError::at("client.tls.ja3_md5".into(), "a JA3 fingerprint is 32 hex digits (an MD5 digest)"));
            }
        }
        if self.limits.heap_mb == 0 || self.limits.heap_mb > 4096 {
            return Err(ConfigError::at("limits.heap_mb".into(), "the heap limit is between 1 and 4096 MB"));
        }
        Ok(())
    }
}

/// serde lets a struct be written as an array of its fields in order, so `[]` would be a valid
/// config. A person who pastes an array has pasted the wrong thing: the document must be an object.
struct ObjectOnly<D>(D);

impl<'de, D: serde::Deserializer<'de>> serde::Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

impl ConfigError {
    pub fn at(path: String, message: impl Into<String>) -> ConfigError {
        ConfigError { path, line: None, column: None, message: message.into() }
    }
}

/// `backends.origin.url`, `kv_stores.counters[0]`: the path a person would write. Segments the
/// parser could not name yet (`?`, after a syntax error) and the markers `toml::Spanned` adds are
/// left out.
fn render_path(path: &serde_path_to_error::Path) -> String {
    let mut rendered = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => rendered.push_str(&format!("[{index}]")),
            Segment::Map { key } if !key.starts_with("$__serde_spanned_private") => {
                if !rendered.is_empty() {
                    rendered.push('.');
                }
                rendered.push_str(key);
            }
            _ => {}
        }
    }
    rendered
}

/// serde_json says column 0 for "before the first character of the line"; a person counts from 1.
fn column_from_1(column: usize) -> usize {
    column.max(1)
}

/// serde_json appends " at line L column C" to its messages; we report those separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// A backend's `url`, split the way request URLs are rewritten onto it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendUrl<'a> {
    pub scheme: &'a str,
    /// `host` or `host:port`.
    pub authority: &'a str,
    /// Path prefix without a trailing slash, possibly empty.
    pub path_prefix: &'a str,
}

impl<'a> BackendUrl<'a> {
    pub fn parse(url: &'a str) -> Result<BackendUrl<'a>, &'static str> {
        let (scheme, rest) = url.split_once("://").ok_or("a URL starts with http:// or https://")?;
        if scheme != "http" && scheme != "https" {
            return Err("a URL starts with http:// or https://");
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (host, port) = split_host_port(authority).ok_or("the URL has no valid host")?;
        if host.is_empty() || host == "[]" || authority.contains(['?', '#', ' ', '@']) {
            return Err("the URL has no valid host");
        }
        if port.is_some_and(|port| !is_valid_port(port)) {
            return Err("the port is a number from 1 to 65535");
        }
        if path.contains(['?', '#']) {
            return Err("a backend URL has no query or fragment");
        }
        Ok(BackendUrl { scheme, authority, path_prefix: path.trim_end_matches('/') })
    }

    pub fn host(&self) -> &'a str {
        split_host_port(self.authority).map_or(self.authority, |(host, _)| host)
    }
}

fn is_valid_port(port: &str) -> bool {
    port.bytes().all(|b| b.is_ascii_digit()) && matches!(port.parse::<u16>(), Ok(1..))
}

/// `host[:port]`. IPv6 literals keep their brackets; a colon outside them starts the port.
fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    if authority.starts_with('[') {
        let end = authority.find(']')? + 1;
        match &authority[end..] {
            "" => Some((&authority[..end], None)),
            rest => Some((&authority[..end], Some(rest.strip_prefix(':')?))),
        }
    } else {
        Some(match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        })
    }
}

#[cfg(test)]
mod tests;
