//! Import of `fastly.toml`'s `[local_server]` section into [`Config`].
//!
//! The shapes are the ones Viceroy and the Fastly CLI read. Everything outside `[local_server]`
//! (`name`, `language`, `[scripts]`, `[setup]` …) belongs to the CLI and is skipped. Entries that
//! point at a file (`file = "…"`) cannot be followed, as host-core has no file system: they are
//! errors that name the file and say how to write its contents inline instead.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;
use core::ops::Range;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use super::{
    render_path, Backend, BackendUrl, Config, ConfigError, DeviceDetection, Geolocation, Health, KvSeed,
    KvSeedEntry, StringMap,
};

/// Reads the `[local_server]` section of a `fastly.toml`; a file without one is an empty config.
pub fn from_fastly_toml(text: &str) -> Result<Config, ConfigError> {
    let source = Source { text };
    let deserializer =
        toml::de::Deserializer::parse(text).map_err(|e| source.toml_error(String::new(), e))?;
    let manifest: Manifest = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = render_path(e.path());
        source.toml_error(path, e.into_inner())
    })?;
    let config = manifest.local_server.into_config(&source)?;
    // The checks every config gets, whatever it was written in.
    config.validate()?;
    Ok(config)
}

/// The manifest as far as the playground is concerned. Unknown keys are allowed at this level
/// only: the rest of the file is the CLI's business.
#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    local_server: LocalServer,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocalServer {
    #[serde(default)]
    backends: BTreeMap<String, Spanned<TomlBackend>>,
    #[serde(default)]
    dictionaries: BTreeMap<String, Spanned<TomlDictionary>>,
    #[serde(default)]
    config_stores: BTreeMap<String, Spanned<TomlDictionary>>,
    /// Viceroy still reads the KV store's older names.
    #[serde(default, alias = "object_stores", alias = "object_store")]
    kv_stores: BTreeMap<String, Spanned<TomlStore<TomlKvEntry>>>,
    #[serde(default)]
    secret_stores: BTreeMap<String, Spanned<TomlStore<TomlSecretEntry>>>,
    #[serde(default)]
    acls: BTreeMap<String, Spanned<AclFile>>,
    geolocation: Option<Spanned<TomlGeolocation>>,
    device_detection: Option<Spanned<TomlDeviceDetection>>,
    shielding_sites: Option<Spanned<IgnoredAny>>,
    fake_valid_fastly_keys: Option<Spanned<IgnoredAny>>,
    /// How the CLI runs its local server; nothing a guest can see.
    #[serde(default, rename = "viceroy_version")]
    _viceroy_version: IgnoredAny,
    #[serde(default, rename = "pushpin")]
    _pushpin: IgnoredAny,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlBackend {
    url: Option<Spanned<String>>,
    override_host: Option<String>,
    connect_timeout_ms: Option<u32>,
    first_byte_timeout_ms: Option<u32>,
    between_bytes_timeout_ms: Option<u32>,
    health: Option<Spanned<String>>,
    // TLS and protocol settings: accepted where they change nothing here, refused otherwise.
    cert_host: Option<Spanned<String>>,
    use_sni: Option<Spanned<bool>>,
    grpc: Option<Spanned<bool>>,
    client_certificate: Option<Spanned<IgnoredAny>>,
    ca_certificate: Option<Spanned<IgnoredAny>>,
}

/// A dictionary or config store: `format = "inline-toml"` with `contents`, or `"json"` with `file`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlDictionary {
    format: Option<Spanned<String>>,
    contents: Option<StringMap>,
    file: Option<Spanned<String>>,
}

/// A KV or secret store: an array of entry tables, or a table naming a JSON file.
enum TomlStore<E> {
    Entries(Vec<Spanned<E>>),
    External(ExternalFile),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExternalFile {
    file: Option<Spanned<String>>,
    #[serde(rename = "format")]
    _format: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlKvEntry {
    key: String,
    data: Option<String>,
    /// `path` is the older name of `file`.
    #[serde(alias = "path")]
    file: Option<Spanned<String>>,
    metadata: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlSecretEntry {
    key: String,
    data: Option<String>,
    file: Option<Spanned<String>>,
    env: Option<Spanned<String>>,
}

/// An ACL is always a JSON file in `fastly.toml`: `name = "acl.json"` or `name = { file = "…" }`.
struct AclFile(String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AclFileTable {
    file: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlGeolocation {
    format: Option<Spanned<String>>,
    addresses: Option<BTreeMap<String, serde_json::Map<String, serde_json::Value>>>,
    file: Option<Spanned<String>>,
    use_default_loopback: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlDeviceDetection {
    format: Option<Spanned<String>>,
    user_agents: Option<BTreeMap<String, serde_json::Value>>,
    file: Option<Spanned<String>>,
}

impl LocalServer {
    fn into_config(self, source: &Source<'_>) -> Result<Config, ConfigError> {
        let refuse = |key: &str, span: Range<usize>, what: &str| {
            source.error(
                format!("local_server.{key}"),
                span,
                format!("{what} are not supported; remove `{key}` to import the rest"),
            )
        };
        if let Some(sites) = self.shielding_sites {
            return Err(refuse("shielding_sites", sites.span(), "shielding sites"));
        }
        if let Some(keys) = self.fake_valid_fastly_keys {
            return Err(refuse("fake_valid_fastly_keys", keys.span(), "fake Fastly API keys"));
        }
        Ok(Config {
            backends: convert_each(self.backends, |name, b| backend(source, name, b))?,
            dictionaries: convert_each(self.dictionaries, |name, d| {
                string_map(source, &format!("local_server.dictionaries.{name}"), d)
            })?,
            config_stores: convert_each(self.config_stores, |name, d| {
                string_map(source, &format!("local_server.config_stores.{name}"), d)
            })?,
            kv_stores: convert_each(self.kv_stores, |name, store| kv_store(source, name, store))?,
            secret_stores: convert_each(self.secret_stores, |name, store| secret_store(source, name, store))?,
            acls: match self.acls.into_iter().next() {
                Some((name, file)) => return Err(acl_error(source, &name, file)),
                None => BTreeMap::new(),
            },
            geolocation: match self.geolocation {
                Some(geo) => geolocation(source, geo)?,
                None => Geolocation::default(),
            },
            device_detection: match self.device_detection {
                Some(dd) => device_detection(source, dd)?,
                None => DeviceDetection::default(),
            },
            ..Config::default()
        })
    }
}

fn convert_each<T, U>(
    entries: BTreeMap<String, T>,
    mut convert: impl FnMut(&str, T) -> Result<U, ConfigError>,
) -> Result<BTreeMap<String, U>, ConfigError> {
    entries.into_iter().map(|(name, entry)| Ok((name.clone(), convert(&name, entry)?))).collect()
}

fn backend(source: &Source<'_>, name: &str, toml: Spanned<TomlBackend>) -> Result<Backend, ConfigError> {
    let path = |field: &str| format!("local_server.backends.{name}{field}");
    let table_span = toml.span();
    let toml = toml.into_inner();
    let url = toml.url.ok_or_else(|| source.error(path(""), table_span, "a backend needs a `url`"))?;
    let host =
        BackendUrl::parse(url.get_ref()).map_err(|why| source.error(path(".url"), url.span(), why))?.host();
    if let Some(cert_host) = &toml.cert_host {
        if !cert_host.get_ref().eq_ignore_ascii_case(host) {
            let why = "the certificate is checked against the `url`'s host; put the name the \
                           certificate is for in `url` (and the Host header in `override_host`)";
            return Err(source.error(path(".cert_host"), cert_host.span(), why));
        }
    }
    refuse_if(source, path(".use_sni"), toml.use_sni, |on| !on, "turning SNI off is not supported")?;
    refuse_if(source, path(".grpc"), toml.grpc, |on| on, "gRPC backends are not supported")?;
    if let Some(cert) = toml.client_certificate {
        let why = "client certificates (mutual TLS) are not supported";
        return Err(source.error(path(".client_certificate"), cert.span(), why));
    }
    if let Some(ca) = toml.ca_certificate {
        let why = "custom CA certificates are not supported: a backend needs a publicly trusted one";
        return Err(source.error(path(".ca_certificate"), ca.span(), why));
    }
    let health = match toml.health {
        Some(health) => parse_health(health.get_ref())
            .ok_or_else(|| source.error(path(".health"), health.span(), HEALTH_VALUES))?,
        None => Health::Unknown,
    };
    Ok(Backend {
        url: Some(url.into_inner()),
        mock: None,
        // fastly.toml has no relays: they exist for the browser.
        proxy: None,
        override_host: toml.override_host,
        connect_timeout_ms: toml.connect_timeout_ms,
        first_byte_timeout_ms: toml.first_byte_timeout_ms,
        between_bytes_timeout_ms: toml.between_bytes_timeout_ms,
        health,
    })
}

/// A boolean setting whose one value the playground cannot honour.
fn refuse_if(
    source: &Source<'_>,
    path: String,
    setting: Option<Spanned<bool>>,
    unsupported: impl Fn(bool) -> bool,
    why: &str,
) -> Result<(), ConfigError> {
    match setting {
        Some(value) if unsupported(*value.get_ref()) => Err(source.error(path, value.span(), why)),
        _ => Ok(()),
    }
}

const HEALTH_VALUES: &str = "`health` is one of `unknown`, `healthy`, `unhealthy`";

/// Viceroy reads the health case-insensitively.
fn parse_health(value: &str) -> Option<Health> {
    [("unknown", Health::Unknown), ("healthy", Health::Healthy), ("unhealthy", Health::Unhealthy)]
        .into_iter()
        .find(|(name, _)| value.eq_ignore_ascii_case(name))
        .map(|(_, health)| health)
}

fn string_map(
    source: &Source<'_>,
    path: &str,
    toml: Spanned<TomlDictionary>,
) -> Result<StringMap, ConfigError> {
    let table_span = toml.span();
    let toml = toml.into_inner();
    let inline_hint = "write the entries inline: `format = \"inline-toml\"` and `contents = { … }`";
    let Some(format) = toml.format else {
        let why = "needs `format = \"inline-toml\"` with a `contents` table";
        return Err(source.error(path.to_string(), table_span, why));
    };
    match format.get_ref().as_str() {
        "inline-toml" => {
            if let Some(file) = toml.file {
                let why = "`file` goes with `format = \"json\"`; an inline-toml store has `contents`";
                return Err(source.error(format!("{path}.file"), file.span(), why));
            }
            let why = "`format = \"inline-toml\"` needs a `contents` table";
            toml.contents.ok_or_else(|| source.error(path.to_string(), table_span, why))
        }
        "json" => match toml.file {
            Some(file) => Err(source.unreadable(format!("{path}.file"), file, inline_hint)),
            None => Err(source.error(path.to_string(), table_span, "`format = \"json\"` needs a `file`")),
        },
        _ => Err(source.error(format!("{path}.format"), format.span(), FORMAT_VALUES)),
    }
}

const FORMAT_VALUES: &str = "`format` is `inline-toml` or `json`";

fn kv_store(
    source: &Source<'_>,
    name: &str,
    store: Spanned<TomlStore<TomlKvEntry>>,
) -> Result<BTreeMap<String, KvSeed>, ConfigError> {
    let path = format!("local_server.kv_stores.{name}");
    let hint = format!(
        "list the entries inline as `[[local_server.kv_stores.{name}]]` tables with `key` and `data`"
    );
    let entries = store_entries(source, &path, store, &hint)?;
    let mut seeds = BTreeMap::new();
    for (i, entry) in entries.into_iter().enumerate() {
        let entry_span = entry.span();
        let TomlKvEntry { key, data, file, metadata } = entry.into_inner();
        if let Some(file) = file {
            let hint = "put the value in `data` instead";
            return Err(source.unreadable(format!("{path}[{i}].file"), file, hint));
        }
        let data = data.ok_or_else(|| {
            source.error(format!("{path}[{i}]"), entry_span, format!("entry `{key}` needs `data`"))
        })?;
        let seed = match metadata {
            Some(metadata) => KvSeed::WithMetadata(KvSeedEntry { data, metadata: Some(metadata) }),
            None => KvSeed::Data(data),
        };
        seeds.insert(key, seed);
    }
    Ok(seeds)
}

fn secret_store(
    source: &Source<'_>,
    name: &str,
    store: Spanned<TomlStore<TomlSecretEntry>>,
) -> Result<StringMap, ConfigError> {
    let path = format!("local_server.secret_stores.{name}");
    let hint = format!(
        "list the secrets inline as `[[local_server.secret_stores.{name}]]` tables with `key` and `data`"
    );
    let entries = store_entries(source, &path, store, &hint)?;
    let mut secrets = StringMap::new();
    for (i, entry) in entries.into_iter().enumerate() {
        let entry_span = entry.span();
        let TomlSecretEntry { key, data, file, env } = entry.into_inner();
        if let Some(file) = file {
            return Err(source.unreadable(
                format!("{path}[{i}].file"),
                file,
                "put the secret in `data` instead",
            ));
        }
        if let Some(env) = env {
            let why = format!(
                "`env = \"{}\"` reads an environment variable of the machine running Viceroy, which \
                 this import cannot; put the secret in `data` instead",
                env.get_ref()
            );
            return Err(source.error(format!("{path}[{i}].env"), env.span(), why));
        }
        let data = data.ok_or_else(|| {
            source.error(format!("{path}[{i}]"), entry_span, format!("secret `{key}` needs `data`"))
        })?;
        secrets.insert(key, data);
    }
    Ok(secrets)
}

fn store_entries<E>(
    source: &Source<'_>,
    path: &str,
    store: Spanned<TomlStore<E>>,
    hint: &str,
) -> Result<Vec<Spanned<E>>, ConfigError> {
    let span = store.span();
    match store.into_inner() {
        TomlStore::Entries(entries) => Ok(entries),
        TomlStore::External(ExternalFile { file: Some(file), .. }) => {
            Err(source.unreadable(format!("{path}.file"), file, hint))
        }
        TomlStore::External(ExternalFile { file: None, .. }) => {
            let why = format!("a store is an array of entries; {hint}");
            Err(source.error(path.to_string(), span, why))
        }
    }
}

fn acl_error(source: &Source<'_>, name: &str, file: Spanned<AclFile>) -> ConfigError {
    let why = format!(
        "`{}` is a file, which this import cannot read. Remove `local_server.acls` to import the \
         rest, then add the file's entries to the JSON config as `acls.{name}.entries`",
        file.get_ref().0
    );
    source.error(format!("local_server.acls.{name}"), file.span(), why)
}

fn geolocation(source: &Source<'_>, toml: Spanned<TomlGeolocation>) -> Result<Geolocation, ConfigError> {
    let span = toml.span();
    let toml = toml.into_inner();
    if let Some(loopback) = toml.use_default_loopback.filter(|on| !on.get_ref()) {
        let why = "turning off the default loopback record is not supported; remove `use_default_loopback`";
        return Err(source.error(
            "local_server.geolocation.use_default_loopback".into(),
            loopback.span(),
            why,
        ));
    }
    let records =
        Records { section: "geolocation", key: "addresses", span, format: toml.format, file: toml.file };
    Ok(Geolocation { addresses: records.read(source, toml.addresses)? })
}

fn device_detection(
    source: &Source<'_>,
    toml: Spanned<TomlDeviceDetection>,
) -> Result<DeviceDetection, ConfigError> {
    let span = toml.span();
    let toml = toml.into_inner();
    let records = Records {
        section: "device_detection",
        key: "user_agents",
        span,
        format: toml.format,
        file: toml.file,
    };
    Ok(DeviceDetection { user_agents: records.read(source, toml.user_agents)? })
}

/// What geolocation and device detection share: `format = "inline-toml"` with the records under
/// `key`, or `format = "json"` with a `file`. Without a format, Viceroy has no records.
struct Records {
    section: &'static str,
    key: &'static str,
    span: Range<usize>,
    format: Option<Spanned<String>>,
    file: Option<Spanned<String>>,
}

impl Records {
    fn read<T: Default>(self, source: &Source<'_>, records: Option<T>) -> Result<T, ConfigError> {
        let Records { section, key, span, format, file } = self;
        let path = format!("local_server.{section}");
        let hint = format!("write the records inline: `format = \"inline-toml\"` and `[{path}.{key}]`");
        let Some(format) = format else {
            return match (file, records) {
                (Some(file), _) => Err(source.unreadable(format!("{path}.file"), file, &hint)),
                // Viceroy would quietly ignore them; say so rather than drop them.
                (None, Some(_)) => Err(source.error(
                    path,
                    span,
                    format!("`{key}` need `format = \"inline-toml\"` beside them"),
                )),
                (None, None) => Ok(T::default()),
            };
        };
        match (format.get_ref().as_str(), file) {
            ("inline-toml", Some(file)) => {
                let why = format!("`file` goes with `format = \"json\"`; inline-toml records are in `{key}`");
                Err(source.error(format!("{path}.file"), file.span(), why))
            }
            ("inline-toml", None) => records.ok_or_else(|| {
                source.error(path, span, format!("`format = \"inline-toml\"` needs a `{key}` table"))
            }),
            ("json", Some(file)) => Err(source.unreadable(format!("{path}.file"), file, &hint)),
            ("json", None) => Err(source.error(path, span, "`format = \"json\"` needs a `file`")),
            _ => Err(source.error(format!("{path}.format"), format.span(), FORMAT_VALUES)),
        }
    }
}

impl<'de, E: Deserialize<'de>> Deserialize<'de> for TomlStore<E> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StoreVisitor<E>(PhantomData<E>);

        impl<'de, E: Deserialize<'de>> Visitor<'de> for StoreVisitor<E> {
            type Value = TomlStore<E>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of tables with `key` and `data`")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Vec::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(TomlStore::Entries)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                ExternalFile::deserialize(de::value::MapAccessDeserializer::new(map)).map(TomlStore::External)
            }
        }

        deserializer.deserialize_any(StoreVisitor(PhantomData))
    }
}

impl<'de> Deserialize<'de> for AclFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AclVisitor;

        impl<'de> Visitor<'de> for AclVisitor {
            type Value = AclFile;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the path of a JSON file, or a table with `file`")
            }

            fn visit_str<E: de::Error>(self, path: &str) -> Result<Self::Value, E> {
                Ok(AclFile(path.to_string()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                AclFileTable::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| AclFile(t.file))
            }
        }

        deserializer.deserialize_any(AclVisitor)
    }
}

/// The text being imported, to turn byte spans into the line and column a person looks for.
struct Source<'t> {
    text: &'t str,
}

impl Source<'_> {
    fn error(&self, path: String, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        let (line, column) = line_column(self.text, span.start);
        ConfigError { path, line: Some(line), column: Some(column), message: message.into() }
    }

    /// A `file = "…"` entry: the path, why it cannot be read, and what to write instead.
    fn unreadable(&self, path: String, file: Spanned<String>, instead: &str) -> ConfigError {
        let why = format!("`{}` is a file, which this import cannot read; {instead}", file.get_ref());
        self.error(path, file.span(), why)
    }

    fn toml_error(&self, path: String, error: toml::de::Error) -> ConfigError {
        let message = in_toml_terms(error.message());
        match error.span() {
            Some(span) => self.error(path, span, message),
            None => ConfigError::at(path, message),
        }
    }
}

/// serde names the Rust side of a type mismatch (`sequence`, `map`, `struct TomlBackend`); a
/// person editing TOML thinks in arrays and tables.
fn in_toml_terms(message: &str) -> String {
    let mut message = message
        .replace("invalid type: sequence", "invalid type: array")
        .replace("invalid type: map", "invalid type: table");
    if let Some(i) = message.find("expected struct ").or_else(|| message.find("expected a map")) {
        message.truncate(i);
        message.push_str("expected a table");
    }
    message
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (before.matches('\n').count() + 1, before[line_start..].chars().count() + 1)
}
