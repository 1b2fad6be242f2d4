//! Import of `fastly.toml`'s `[local_server]` section — the world the Fastly CLI and Viceroy
//! give a guest locally — into [`Config`].
//!
//! The section is reshaped into our JSON model and read by the same code as a JSON config, so
//! both formats mean the same thing. Stores kept in separate files (`file = …`) cannot be read
//! here (the core has no filesystem, and neither has a browser page): they are refused with an
//! error that names the file and says to inline its contents.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value as Json};
use toml::{Table, Value as Toml};

use super::{Config, ConfigError};

const ROOT: &str = "local_server";

/// Backend keys about TLS and protocols that a local host has no use for; accepted, unused.
const IGNORED_BACKEND_KEYS: &[&str] = &["cert_host", "use_sni", "grpc", "ca_certificate", "client_certificate", "client_key"];

pub fn from_fastly_toml(text: &str) -> Result<Config, ConfigError> {
    let document: Table = toml::from_str(text).map_err(|e| syntax_error(text, &e))?;
    let Some(section) = document.get(ROOT) else {
        return Ok(Config::default());
    };
    let section = table(section, ROOT)?;
    let mut json = Map::new();
    for (key, value) in section {
        let path = format!("{ROOT}.{key}");
        let converted = match key.as_str() {
            "backends" => backends(value, &path)?,
            "dictionaries" | "config_stores" => each(value, &path, string_store)?,
            "kv_stores" => each(value, &path, kv_store)?,
            "secret_stores" => each(value, &path, secret_store)?,
            "geolocation" => inline_section(value, &path, "addresses")?,
            "device_detection" => inline_section(value, &path, "user_agents")?,
            "acls" => each(value, &path, |_, path| Err(file_only(path, "an ACL")))?,
            _ => return Err(ConfigError::at(path, "unknown `[local_server]` section")),
        };
        json.insert(key.clone(), converted);
    }
    let config: Config = serde_path_to_error::deserialize(Json::Object(json)).map_err(|e| {
        let path = e.path().to_string();
        ConfigError::at(format!("{ROOT}.{path}"), e.inner().to_string())
    })?;
    config.validate().map_err(|e| ConfigError { path: format!("{ROOT}.{}", e.path), ..e })?;
    Ok(config)
}

/// A TOML syntax error, with the line and column its span starts at.
fn syntax_error(text: &str, error: &toml::de::Error) -> ConfigError {
    let (line, column) = match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            (Some(line), Some(column))
        }
        None => (None, None),
    };
    ConfigError { path: String::new(), line, column, message: error.message().trim().to_string() }
}

fn table<'a>(value: &'a Toml, path: &str) -> Result<&'a Table, ConfigError> {
    value.as_table().ok_or_else(|| ConfigError::at(path.to_string(), "expected a table"))
}

fn string<'a>(value: &'a Toml, path: &str) -> Result<&'a str, ConfigError> {
    value.as_str().ok_or_else(|| ConfigError::at(path.to_string(), "expected a string"))
}

fn file_only(path: &str, what: &str) -> ConfigError {
    ConfigError::at(
        path.to_string(),
        format!("{what} read from a file cannot be imported here: paste its contents inline instead"),
    )
}

/// Applies `convert` to every entry of a named table.
fn each(value: &Toml, path: &str, convert: fn(&Toml, &str) -> Result<Json, ConfigError>) -> Result<Json, ConfigError> {
    let mut out = Map::new();
    for (name, entry) in table(value, path)? {
        out.insert(name.clone(), convert(entry, &format!("{path}.{name}"))?);
    }
    Ok(Json::Object(out))
}

fn backends(value: &Toml, path: &str) -> Result<Json, ConfigError> {
    each(value, path, |entry, path| {
        let mut backend = Map::new();
        for (key, value) in table(entry, path)? {
            if IGNORED_BACKEND_KEYS.contains(&key.as_str()) {
                continue;
            }
            backend.insert(key.clone(), to_json(value));
        }
        Ok(Json::Object(backend))
    })
}

/// `format = "inline-toml"` with `contents`, or `file` + `format` (refused).
fn string_store(entry: &Toml, path: &str) -> Result<Json, ConfigError> {
    let entry = table(entry, path)?;
    if let Some(file) = entry.get("file") {
        return Err(file_only(&format!("{path}.file"), &format!("a store ({})", string(file, path)?)));
    }
    match entry.get("format").map(|f| string(f, &format!("{path}.format"))).transpose()? {
        Some("inline-toml") | None => {}
        Some(other) => {
            return Err(ConfigError::at(format!("{path}.format"), format!("`{other}` needs a file; use \"inline-toml\"")))
        }
    }
    let contents = entry.get("contents").ok_or_else(|| ConfigError::at(path.to_string(), "no `contents`"))?;
    let mut out = Map::new();
    for (key, value) in table(contents, &format!("{path}.contents"))? {
        out.insert(key.clone(), Json::String(string(value, &format!("{path}.contents.{key}"))?.to_string()));
    }
    Ok(Json::Object(out))
}

/// An array of `{ key, data | file, metadata }` entries.
fn kv_store(entry: &Toml, path: &str) -> Result<Json, ConfigError> {
    let items = entries(entry, path)?;
    let mut out = Map::new();
    for (index, item) in items.iter().enumerate() {
        let path = format!("{path}[{index}]");
        let (key, data) = key_and_data(item, &path)?;
        let value = match item.get("metadata") {
            Some(metadata) => serde_json::json!({ "data": data, "metadata": string(metadata, &format!("{path}.metadata"))? }),
            None => Json::String(data),
        };
        out.insert(key, value);
    }
    Ok(Json::Object(out))
}

/// An array of `{ key, data | file | env }` entries.
fn secret_store(entry: &Toml, path: &str) -> Result<Json, ConfigError> {
    let items = entries(entry, path)?;
    let mut out = Map::new();
    for (index, item) in items.iter().enumerate() {
        let path = format!("{path}[{index}]");
        if item.contains_key("env") {
            return Err(ConfigError::at(
                format!("{path}.env"),
                "a secret read from an environment variable cannot be imported here: put it in `data`",
            ));
        }
        let (key, data) = key_and_data(item, &path)?;
        out.insert(key, Json::String(data));
    }
    Ok(Json::Object(out))
}

fn entries<'a>(entry: &'a Toml, path: &str) -> Result<Vec<&'a Table>, ConfigError> {
    match entry {
        Toml::Array(items) => items.iter().enumerate().map(|(i, item)| table(item, &format!("{path}[{i}]"))).collect(),
        Toml::Table(t) if t.contains_key("file") => Err(file_only(path, "a store")),
        _ => Err(ConfigError::at(path.to_string(), "expected an array of { key, data } entries")),
    }
}

fn key_and_data(item: &Table, path: &str) -> Result<(String, String), ConfigError> {
    let key = string(item.get("key").ok_or_else(|| ConfigError::at(path.to_string(), "no `key`"))?, &format!("{path}.key"))?;
    if item.contains_key("file") {
        return Err(file_only(&format!("{path}.file"), "a value"));
    }
    let data = item.get("data").ok_or_else(|| ConfigError::at(path.to_string(), "no `data`"))?;
    Ok((key.to_string(), string(data, &format!("{path}.data"))?.to_string()))
}

/// `format = "inline-toml"` with one table of records (`addresses`, `user_agents`).
fn inline_section(value: &Toml, path: &str, records: &str) -> Result<Json, ConfigError> {
    let section = table(value, path)?;
    if let Some(file) = section.get("file") {
        return Err(file_only(path, &format!("data ({})", string(file, path)?)));
    }
    let records_value = section.get(records).ok_or_else(|| ConfigError::at(path.to_string(), format!("no `{records}`")))?;
    let mut out = Map::new();
    out.insert(records.to_string(), to_json(records_value));
    Ok(Json::Object(out))
}

fn to_json(value: &Toml) -> Json {
    match value {
        Toml::String(s) => Json::String(s.clone()),
        Toml::Integer(i) => Json::from(*i),
        Toml::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Toml::Boolean(b) => Json::Bool(*b),
        Toml::Datetime(d) => Json::String(d.to_string()),
        Toml::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        Toml::Table(t) => Json::Object(t.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}
