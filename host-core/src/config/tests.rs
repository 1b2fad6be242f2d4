//! What a person sees when their config is right, and when it is wrong.

use alloc::string::{String, ToString};

use super::*;

fn error(text: &str) -> ConfigError {
    Config::from_json(text).expect_err("the config is refused")
}

#[test]
fn an_empty_document_is_the_default_config() {
    let config = Config::from_json("{}").unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(
        (config.limits.heap_mb, config.limits.wall_ms, config.limits.cpu_ms, config.limits.fuel),
        (128, 120_000, 5_000, None)
    );
    assert_eq!((config.limits.backend_requests, config.limits.dictionary_lookups), (32, 32));
    assert_eq!(config.client.ip, "127.0.0.1");
    assert_eq!(config.unknown_imports, UnknownImports::Error);
}

/// The example in DESIGN.md, every section of it.
const FULL: &str = r#"{
  "backends": {
    "origin":  { "url": "https://http-me.example", "override_host": "http-me.example",
                 "first_byte_timeout_ms": 15000, "health": "healthy" },
    "offline": { "mock": { "status": 200, "headers": { "content-type": "text/plain" },
                           "body": "served without a network" } }
  },
  "dictionaries":  { "flags":    { "beta": "on" } },
  "config_stores": { "settings": { "greeting": "hello" } },
  "secret_stores": { "vault":    { "token": "s3cret" } },
  "kv_stores":     { "counters": { "root": "41", "page": { "data": "...", "metadata": "..." } } },
  "acls":          { "blocklist": { "entries": [ { "prefix": "203.0.113.0/24", "action": "BLOCK" } ] } },
  "geolocation":   { "addresses": { "203.0.113.7": { "city": "Lisbon", "country_code": "PT", "as_number": 64500 } } },
  "device_detection": { "user_agents": { "Mozilla/5.0 (iPhone...)": { "device": { "is_mobile": true } } } },
  "dynamic_backends": false,
  "client":  { "ip": "203.0.113.7" },
  "env":     { "FASTLY_HOSTNAME": "localhost", "FASTLY_POP": "LIS" },
  "limits":  { "heap_mb": 128, "wall_ms": 120000, "fuel": null },
  "unknown_imports": "trap"
}"#;

#[test]
fn the_design_example_reads_in_full() {
    let config = Config::from_json(FULL).unwrap();
    let origin = &config.backends["origin"];
    assert_eq!(origin.url.as_deref(), Some("https://http-me.example"));
    assert_eq!(origin.health, Health::Healthy);
    assert_eq!(config.backends["offline"].mock.as_ref().unwrap().body, "served without a network");
    assert_eq!(config.dictionaries["flags"]["beta"], "on");
    assert_eq!(config.secret_stores["vault"]["token"], "s3cret");
    assert_eq!(config.kv_stores["counters"]["root"], KvSeed::Data("41".into()));
    assert_eq!(config.acls["blocklist"].entries[0].action, "BLOCK");
    assert_eq!(config.geolocation.addresses["203.0.113.7"]["city"], "Lisbon");
    assert_eq!(config.client.ip, "203.0.113.7");
    assert_eq!(config.env["FASTLY_POP"], "LIS");
    assert_eq!(config.unknown_imports, UnknownImports::Trap);
}

#[test]
fn syntax_errors_give_line_and_column() {
    let e = error("{\n  \"backends\": {\n    \"a\": { \"url\": \"http://x\" }\n  ,}\n}");
    assert_eq!((e.line, e.column), (Some(4), Some(4)), "{e}");
    assert_eq!(e.path, "", "a syntax error has no path: {e}");
    let e = error("{ \"limits\": ");
    assert!(e.message.contains("EOF"), "{e}");
    assert_eq!(e.line, Some(1));
}

#[test]
fn unknown_keys_name_their_path_and_position() {
    let e = error("{\n  \"backends\": {\n    \"origin\": { \"ulr\": \"https://x\" }\n  }\n}");
    assert_eq!(e.path, "backends.origin.ulr");
    assert!(e.message.starts_with("unknown field `ulr`, expected one of"), "{e}");
    assert_eq!((e.line, e.column), (Some(3), Some(21)));
    assert_eq!(e.to_string(), alloc::format!("backends.origin.ulr: {} (line 3, column 21)", e.message));
    assert_eq!(error(r#"{ "colour": 1 }"#).path, "colour");
}

#[test]
fn wrong_types_and_values_name_their_path() {
    let rows: [(&str, &str, &str); 8] = [
        (r#"{ "limits": { "heap_mb": "lots" } }"#, "limits.heap_mb", "invalid type"),
        (r#"{ "limits": { "heap_mb": 0 } }"#, "limits.heap_mb", "between 1 and 4096"),
        (r#"{ "dictionaries": { "d": { "k": 1 } } }"#, "dictionaries.d.k", "invalid type"),
        (r#"{ "backends": { "b": { "url": "ftp://x" } } }"#, "backends.b.url", "http:// or https://"),
        (r#"{ "backends": { "b": { "url": "http://" } } }"#, "backends.b.url", "no valid host"),
        (r#"{ "backends": { "b": { "url": "http://x", "mock": {} } } }"#, "backends.b", "not both"),
        (r#"{ "backends": { "b": {} } }"#, "backends.b", "needs a `url` or a `mock`"),
        (r#"{ "unknown_imports": "ignore" }"#, "unknown_imports", "unknown variant"),
    ];
    for (text, path, message) in rows {
        let e = error(text);
        assert_eq!(e.path, path, "{text}");
        assert!(e.message.contains(message), "{text}: {e}");
    }
}

#[test]
fn backend_urls_split_into_origin_and_prefix() {
    let rows = [
        ("https://example.com", "https", "example.com", "example.com", ""),
        ("http://127.0.0.1:8080/api/", "http", "127.0.0.1:8080", "127.0.0.1", "/api"),
        ("http://[::1]:9000/v1", "http", "[::1]:9000", "[::1]", "/v1"),
        ("https://[2001:db8::1]", "https", "[2001:db8::1]", "[2001:db8::1]", ""),
    ];
    for (url, scheme, authority, host, prefix) in rows {
        let parsed = BackendUrl::parse(url).unwrap();
        assert_eq!((parsed.scheme, parsed.authority, parsed.host(), parsed.path_prefix), (scheme, authority, host, prefix));
    }
    assert!(BackendUrl::parse("example.com").is_err());
    assert!(BackendUrl::parse("https://example.com/?q").is_err());
}

const FASTLY_TOML: &str = r#"
manifest_version = 3
name = "demo"
language = "rust"

[local_server]
  [local_server.backends]
    [local_server.backends.origin]
      url = "https://http-me.example"
      override_host = "http-me.example"
      cert_host = "http-me.example"

  [local_server.dictionaries]
    [local_server.dictionaries.flags]
      format = "inline-toml"
      [local_server.dictionaries.flags.contents]
        beta = "on"

  [local_server.config_stores.settings]
    format = "inline-toml"
    contents = { greeting = "hello" }

  [local_server.kv_stores]
    counters = [
      { key = "root", data = "41" },
      { key = "page", data = "...", metadata = "..." },
    ]

  [local_server.secret_stores]
    vault = [{ key = "token", data = "s3cret" }]

  [local_server.geolocation]
    format = "inline-toml"
    [local_server.geolocation.addresses."203.0.113.7"]
      city = "Lisbon"
      country_code = "PT"
      as_number = 64500
"#;

#[test]
fn fastly_toml_imports_to_the_same_config_as_json() {
    let from_toml = from_fastly_toml(FASTLY_TOML).unwrap();
    let from_json = Config::from_json(
        r#"{
        "backends": { "origin": { "url": "https://http-me.example", "override_host": "http-me.example" } },
        "dictionaries": { "flags": { "beta": "on" } },
        "config_stores": { "settings": { "greeting": "hello" } },
        "kv_stores": { "counters": { "root": "41", "page": { "data": "...", "metadata": "..." } } },
        "secret_stores": { "vault": { "token": "s3cret" } },
        "geolocation": { "addresses": { "203.0.113.7": { "city": "Lisbon", "country_code": "PT", "as_number": 64500 } } }
    }"#,
    )
    .unwrap();
    assert_eq!(from_toml, from_json);
}

#[test]
fn fastly_toml_without_local_server_is_empty() {
    assert_eq!(from_fastly_toml("").unwrap(), Config::default());
    assert_eq!(from_fastly_toml("name = \"x\"\n[scripts]\nbuild = \"cargo build\"\n").unwrap(), Config::default());
}

#[test]
fn fastly_toml_errors_name_path_and_position() {
    let e = from_fastly_toml("[local_server]\nbackends = {\n").unwrap_err();
    assert_eq!(e.line, Some(2), "{e}");
    assert!(e.column.is_some());

    let rows: [(&str, &str, &str); 4] = [
        ("[local_server.backends.o]\nulr = \"http://x\"\n", "local_server.backends.o.ulr", "unknown field"),
        ("[local_server.dictionaries.d]\nfile = \"d.json\"\nformat = \"json\"\n", "local_server.dictionaries.d.file", "paste its contents"),
        ("[local_server.secret_stores]\ns = [{ key = \"k\", env = \"TOKEN\" }]\n", "local_server.secret_stores.s[0].env", "environment variable"),
        ("[local_server.kv_stores]\nk = [{ key = \"a\", file = \"a.txt\" }]\n", "local_server.kv_stores.k[0].file", "paste its contents"),
    ];
    for (text, path, message) in rows {
        let e = from_fastly_toml(text).unwrap_err();
        assert_eq!(e.path, path, "{text}");
        assert!(e.message.contains(message), "{text}: {e}");
    }
    let e: String = from_fastly_toml("[local_server.backends.o]\nurl = \"gopher://x\"\n").unwrap_err().to_string();
    assert_eq!(e, "local_server.backends.o.url: a URL starts with http:// or https://");
}
