use alloc::string::{String, ToString};
use alloc::vec::Vec;
use alloc::{format, vec};

use serde_json::json;

use super::*;

fn string_map(entries: &[(&str, &str)]) -> StringMap {
    entries.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn json_object(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// The error as a person reads it, or the config when there is none.
fn error_text(result: Result<Config, ConfigError>) -> String {
    match result {
        Ok(config) => format!("parsed: {config:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn empty_documents_are_the_default_config() {
    let rows: &[(&str, Result<Config, ConfigError>)] = &[
        ("json {}", Config::from_json("{}")),
        ("json {} with whitespace", Config::from_json(" \n{ }\n")),
        ("empty fastly.toml", from_fastly_toml("")),
        ("comments only", from_fastly_toml("# nothing here\n\n")),
        (
            "no [local_server]",
            from_fastly_toml(
                "manifest_version = 3\nname = \"app\"\nauthors = [\"me@example.com\"]\nlanguage = \"rust\"\n\
                 [scripts]\nbuild = \"cargo build --release\"\n[setup.backends.origin]\naddress = \"example.com\"\n",
            ),
        ),
        ("empty [local_server]", from_fastly_toml("[local_server]\n")),
    ];
    for (name, result) in rows {
        assert_eq!(result.as_ref(), Ok(&Config::default()), "{name}");
    }
}

#[test]
fn limits_default_to_fastly_s_published_limits() {
    let rows: &[(&str, Limits)] = &[
        ("{}", Limits { heap_mb: 128, wall_ms: 120_000, cpu_ms: 5_000, fuel: None, backend_requests: 32, dictionary_lookups: 32 }),
        (
            r#"{"limits": {}}"#,
            Limits { heap_mb: 128, wall_ms: 120_000, cpu_ms: 5_000, fuel: None, backend_requests: 32, dictionary_lookups: 32 },
        ),
        (
            r#"{"limits": {"fuel": null}}"#,
            Limits { heap_mb: 128, wall_ms: 120_000, cpu_ms: 5_000, fuel: None, backend_requests: 32, dictionary_lookups: 32 },
        ),
        (
            r#"{"limits": {"fuel": 1000000, "heap_mb": 64}}"#,
            Limits {
                heap_mb: 64,
                wall_ms: 120_000,
                cpu_ms: 5_000,
                fuel: Some(1_000_000),
                backend_requests: 32,
                dictionary_lookups: 32,
            },
        ),
        (
            r#"{"limits": {"wall_ms": 500, "cpu_ms": 50, "backend_requests": 2, "heap_mb": 4096}}"#,
            Limits { heap_mb: 4096, wall_ms: 500, cpu_ms: 50, fuel: None, backend_requests: 2, dictionary_lookups: 32 },
        ),
    ];
    for (text, limits) in rows {
        assert_eq!(Config::from_json(text).map(|c| c.limits).as_ref(), Ok(limits), "{text}");
    }
}

#[test]
fn unknown_imports_is_error_or_trap() {
    let rows: &[(&str, Result<UnknownImports, &str>)] = &[
        ("{}", Ok(UnknownImports::Error)),
        (r#"{"unknown_imports": "error"}"#, Ok(UnknownImports::Error)),
        (r#"{"unknown_imports": "trap"}"#, Ok(UnknownImports::Trap)),
        (
            r#"{"unknown_imports": "warn"}"#,
            Err("unknown_imports: unknown variant `warn`, expected `error` or `trap` (line 1, column 26)"),
        ),
        (
            r#"{"unknown_imports": "Trap"}"#,
            Err("unknown_imports: unknown variant `Trap`, expected `error` or `trap` (line 1, column 26)"),
        ),
        (r#"{"unknown_imports": true}"#, Err("unknown_imports: expected value (line 1, column 21)")),
    ];
    for (text, expected) in rows {
        let got = Config::from_json(text).map(|c| c.unknown_imports).map_err(|e| e.to_string());
        assert_eq!(got, expected.map_err(String::from), "{text}");
    }
}

/// The example config of DESIGN.md, key for key.
const DESIGN_EXAMPLE: &str = r#"{
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
  "geolocation":   { "addresses": { "203.0.113.7": { "city": "Lisbon", "country_code": "PT",
                                                     "as_number": 64500 } } },
  "device_detection": { "user_agents": { "Mozilla/5.0 (iPhone...)": { "device": { "is_mobile": true } } } },
  "dynamic_backends": false,
  "client":  { "ip": "203.0.113.7" },
  "env":     { "FASTLY_HOSTNAME": "localhost", "FASTLY_POP": "LIS" },
  "limits":  { "heap_mb": 128, "wall_ms": 120000, "fuel": null }
}"#;

#[test]
fn design_example_parses_with_every_field() {
    let expected = Config {
        backends: [
            (
                "origin".to_string(),
                Backend {
                    url: Some("https://http-me.example".into()),
                    override_host: Some("http-me.example".into()),
                    first_byte_timeout_ms: Some(15_000),
                    health: Health::Healthy,
                    ..Backend::default()
                },
            ),
            (
                "offline".to_string(),
                Backend {
                    mock: Some(MockResponse {
                        status: 200,
                        headers: string_map(&[("content-type", "text/plain")]),
                        body: "served without a network".into(),
                        delay_ms: 0,
                    }),
                    ..Backend::default()
                },
            ),
        ]
        .into(),
        dictionaries: [("flags".to_string(), string_map(&[("beta", "on")]))].into(),
        config_stores: [("settings".to_string(), string_map(&[("greeting", "hello")]))].into(),
        secret_stores: [("vault".to_string(), string_map(&[("token", "s3cret")]))].into(),
        kv_stores: [(
            "counters".to_string(),
            [
                ("root".to_string(), KvSeed::Data("41".into())),
                (
                    "page".to_string(),
                    KvSeed::WithMetadata(KvSeedEntry { data: "...".into(), metadata: Some("...".into()) }),
                ),
            ]
            .into(),
        )]
        .into(),
        acls: [(
            "blocklist".to_string(),
            Acl { entries: vec![AclEntry { prefix: "203.0.113.0/24".into(), action: "BLOCK".into() }] },
        )]
        .into(),
        geolocation: Geolocation {
            addresses: [(
                "203.0.113.7".to_string(),
                json_object(json!({ "city": "Lisbon", "country_code": "PT", "as_number": 64500 })),
            )]
            .into(),
        },
        device_detection: DeviceDetection {
            user_agents: [(
                "Mozilla/5.0 (iPhone...)".to_string(),
                json!({ "device": { "is_mobile": true } }),
            )]
            .into(),
        },
        dynamic_backends: false,
        client: Client { ip: "203.0.113.7".into(), ..Client::default() },
        env: string_map(&[("FASTLY_HOSTNAME", "localhost"), ("FASTLY_POP", "LIS")]),
        limits: Limits::default(),
        unknown_imports: UnknownImports::Error,
    };
    assert_eq!(Config::from_json(DESIGN_EXAMPLE), Ok(expected));
}

#[test]
fn json_errors_name_the_path_and_position() {
    let origin = |backend: &str| format!("{{\n  \"backends\": {{\n    \"origin\": {backend}\n  }}\n}}");
    let rows: &[(&str, String, &str)] = &[
        (
            "syntax error",
            origin(r#"{ "url": "https://a.example", }"#),
            "backends.origin: trailing comma (line 3, column 45)",
        ),
        ("unterminated document", origin(r#"{ "url": "https://a.example""#), "EOF while parsing an object (line 5, column 1)"),
        ("text after the document", "{}\n{}".into(), "trailing characters (line 2, column 1)"),
        ("not an object", "[]".into(), "invalid type: sequence, expected struct Config (line 1, column 1)"),
        (
            "unknown key",
            origin(r#"{ "ulr": "https://a.example" }"#),
            "backends.origin.ulr: unknown field `ulr`, expected one of `url`, `mock`, `proxy`, `override_host`, \
             `connect_timeout_ms`, `first_byte_timeout_ms`, `between_bytes_timeout_ms`, `health` (line 3, column 21)",
        ),
        (
            "unknown top-level key",
            r#"{"backend": {}}"#.into(),
            "backend: unknown field `backend`, expected one of `backends`, `dictionaries`, `config_stores`, \
             `secret_stores`, `kv_stores`, `acls`, `geolocation`, `device_detection`, `dynamic_backends`, \
             `client`, `env`, `limits`, `unknown_imports` (line 1, column 10)",
        ),
        (
            "wrong type",
            origin(r#"{ "url": 443 }"#),
            "backends.origin.url: invalid type: integer `443`, expected a string (line 3, column 26)",
        ),
        (
            "wrong type in a store",
            r#"{"dictionaries": {"flags": {"beta": true}}}"#.into(),
            "dictionaries.flags.beta: invalid type: boolean `true`, expected a string (line 1, column 40)",
        ),
        (
            "bad KV seed",
            r#"{"kv_stores": {"counters": {"root": 41}}}"#.into(),
            "kv_stores.counters.root: a string, or an object with `data` and optional `metadata` (line 1, column 39)",
        ),
        (
            "bad health",
            origin(r#"{ "url": "https://a.example", "health": "sick" }"#),
            "backends.origin.health: unknown variant `sick`, expected one of `unknown`, `healthy`, `unhealthy` \
             (line 3, column 60)",
        ),
        (
            "both url and mock",
            origin(r#"{ "url": "https://a.example", "mock": {} }"#),
            "backends.origin: set either `url` or `mock`, not both",
        ),
        ("neither url nor mock", origin("{}"), "backends.origin: a backend needs a `url` or a `mock` response"),
        (
            "bad URL scheme",
            origin(r#"{ "url": "ftp://a.example" }"#),
            "backends.origin.url: a URL starts with http:// or https://",
        ),
        (
            "bad port",
            origin(r#"{ "url": "https://a.example:https" }"#),
            "backends.origin.url: the port is a number from 1 to 65535",
        ),
        ("mock status", origin(r#"{ "mock": { "status": 42 } }"#), "backends.origin.mock.status: a status is between 100 and 999"),
        ("no heap", r#"{"limits": {"heap_mb": 0}}"#.into(), "limits.heap_mb: the heap limit is between 1 and 4096 MB"),
        ("too much heap", r#"{"limits": {"heap_mb": 4097}}"#.into(), "limits.heap_mb: the heap limit is between 1 and 4096 MB"),
        (
            "negative time",
            r#"{"limits": {"wall_ms": -1}}"#.into(),
            "limits.wall_ms: invalid value: integer `-1`, expected u64 (line 1, column 25)",
        ),
        (
            "fuel as text",
            r#"{"limits": {"fuel": "lots"}}"#.into(),
            "limits.fuel: invalid type: string \"lots\", expected u64 (line 1, column 26)",
        ),
        (
            "unknown limit",
            r#"{"limits": {"memory_mb": 1}}"#.into(),
            "limits.memory_mb: unknown field `memory_mb`, expected one of `heap_mb`, `wall_ms`, `cpu_ms`, `fuel`, \
             `backend_requests`, `dictionary_lookups` (line 1, column 23)",
        ),
    ];
    for (name, text, expected) in rows {
        assert_eq!(error_text(Config::from_json(text)), *expected, "{name}");
    }
}

#[test]
fn acl_and_geolocation_entries_are_checked_with_their_path() {
    let rows: &[(&str, &str, &str)] = &[
        (
            "prefix length",
            r#"{"acls": {"office": {"entries": [{"prefix": "10.0.0.0/8", "action": "ALLOW"}, {"prefix": "10.0.0.0/33", "action": "BLOCK"}]}}}"#,
            "acls.office.entries[1].prefix: an IPv4 prefix length is 0 to 32",
        ),
        (
            "not an address",
            r#"{"acls": {"office": {"entries": [{"prefix": "localhost", "action": "ALLOW"}]}}}"#,
            "acls.office.entries[0].prefix: not an IP address or CIDR prefix",
        ),
        (
            "unknown action",
            r#"{"acls": {"office": {"entries": [{"prefix": "::1", "action": "DENY"}]}}}"#,
            "acls.office.entries[0].action: an action is ALLOW or BLOCK",
        ),
        (
            "geolocation key",
            r#"{"geolocation": {"addresses": {"2001:db8::/200": {}}}}"#,
            "geolocation.addresses.2001:db8::/200: an IPv6 prefix length is 0 to 128",
        ),
        (
            "unknown geolocation field",
            r#"{"geolocation": {"addresses": {"203.0.113.7": {"citty": "Lisbon"}}}}"#,
            "geolocation.addresses.203.0.113.7.citty: unknown field `citty`, expected one of `as_name`, `as_number`, \
             `area_code`, `city`, `conn_speed`, `conn_type`, `continent`, `country_code`, `country_code3`, \
             `country_name`, `gmt_offset`, `latitude`, `longitude`, `metro_code`, `postal_code`, \
             `proxy_description`, `proxy_type`, `region`, `utc_offset`",
        ),
        (
            "geolocation number as text",
            r#"{"geolocation": {"addresses": {"203.0.113.7": {"as_number": "64500"}}}}"#,
            "geolocation.addresses.203.0.113.7.as_number: invalid value `\"64500\"`, expected an integer from 0 \
             to 4294967295",
        ),
        (
            "geolocation integer out of range",
            r#"{"geolocation": {"addresses": {"203.0.113.7": {"area_code": 70000}}}}"#,
            "geolocation.addresses.203.0.113.7.area_code: invalid value `70000`, expected an integer from 0 to 65535",
        ),
        (
            "geolocation text as number",
            r#"{"geolocation": {"addresses": {"203.0.113.0/24": {"city": 7}}}}"#,
            "geolocation.addresses.203.0.113.0/24.city: invalid value `7`, expected a string",
        ),
    ];
    for (name, text, expected) in rows {
        assert_eq!(error_text(Config::from_json(text)), *expected, "{name}");
    }
    let fine = r#"{"acls": {"a": {"entries": [{"prefix": "0.0.0.0/0", "action": "allow"}]}},
        "geolocation": {"addresses": {"::/0": {"region": null, "latitude": -9, "utc_offset": -500}}}}"#;
    assert!(Config::from_json(fine).is_ok());
}

#[test]
fn config_errors_carry_path_and_position_separately() {
    let error =
        Config::from_json("{\n  \"backends\": {\n    \"origin\": { \"ulr\": \"https://a.example\" }\n  }\n}")
            .unwrap_err();
    assert_eq!((error.path.as_str(), error.line, error.column), ("backends.origin.ulr", Some(3), Some(21)));
    assert!(
        error.message.starts_with("unknown field `ulr`, expected one of `url`, `mock`"),
        "{}",
        error.message
    );

    let error =
        from_fastly_toml("[local_server.backends.origin]\nulr = \"https://a.example\"\n").unwrap_err();
    assert_eq!(
        (error.path.as_str(), error.line, error.column),
        ("local_server.backends.origin.ulr", Some(2), Some(1))
    );

    let rows = [
        (ConfigError::at(String::new(), "no path, no position"), "no path, no position"),
        (ConfigError::at("limits.heap_mb".into(), "too big"), "limits.heap_mb: too big"),
        (
            ConfigError { path: String::new(), line: Some(4), column: Some(2), message: "bad".into() },
            "bad (line 4, column 2)",
        ),
    ];
    for (error, text) in rows {
        assert_eq!(error.to_string(), text);
    }
}

/// A realistic `fastly.toml`: the CLI's own sections around a `[local_server]` with one of each.
const FASTLY_TOML: &str = r#"# This file describes a Fastly Compute package. To learn more visit:
# https://www.fastly.com/documentation/reference/compute/fastly-toml

authors = ["dev@example.com"]
description = "Routes requests to the origin"
language = "rust"
manifest_version = 3
name = "edge-app"
service_id = "SU1Z0isxPaozGVKXdv0eY"

[scripts]
  build = "cargo build --bin edge-app --release --target wasm32-wasip1 --color always"

[setup]
  [setup.backends]
    [setup.backends.origin]
      address = "http-me.example"
      port = 443

[local_server]
  viceroy_version = "0.12.0"

  [local_server.backends]
    [local_server.backends.origin]
      url = "https://http-me.example"
      override_host = "http-me.example"
      first_byte_timeout_ms = 15000
      health = "Healthy"
    [local_server.backends.images]
      url = "http://127.0.0.1:7676/images/"
      between_bytes_timeout_ms = 5000
      cert_host = "127.0.0.1"
      use_sni = true
      grpc = false

  [local_server.dictionaries]
    [local_server.dictionaries.flags]
      format = "inline-toml"
      contents = { beta = "on", theme = "dark" }

  [local_server.config_stores]
    [local_server.config_stores.settings]
      format = "inline-toml"
      [local_server.config_stores.settings.contents]
        greeting = "hello"
        "max-items" = "20"

  [local_server.kv_stores]
    empty = []
    [[local_server.kv_stores.counters]]
      key = "root"
      data = "41"
    [[local_server.kv_stores.counters]]
      key = "page"
      data = "<h1>hi</h1>"
      metadata = "text/html"

  [[local_server.secret_stores.vault]]
    key = "token"
    data = "s3cret"

  [local_server.geolocation]
    format = "inline-toml"
    use_default_loopback = true
    [local_server.geolocation.addresses]
      [local_server.geolocation.addresses."203.0.113.7"]
        city = "Lisbon"
        country_code = "PT"
        as_number = 64500
        latitude = 38.72

  [local_server.device_detection]
    format = "inline-toml"
    [local_server.device_detection.user_agents."Mozilla/5.0 (iPhone...)"]
      device = { is_mobile = true, name = "iPhone" }

  [local_server.pushpin]
    enable = false
"#;

/// `FASTLY_TOML` written as the JSON config.
const FASTLY_TOML_AS_JSON: &str = r#"{
  "backends": {
    "origin": { "url": "https://http-me.example", "override_host": "http-me.example",
                "first_byte_timeout_ms": 15000, "health": "healthy" },
    "images": { "url": "http://127.0.0.1:7676/images/", "between_bytes_timeout_ms": 5000 }
  },
  "dictionaries":  { "flags": { "beta": "on", "theme": "dark" } },
  "config_stores": { "settings": { "greeting": "hello", "max-items": "20" } },
  "kv_stores": {
    "empty": {},
    "counters": { "root": "41", "page": { "data": "<h1>hi</h1>", "metadata": "text/html" } }
  },
  "secret_stores": { "vault": { "token": "s3cret" } },
  "geolocation": { "addresses": { "203.0.113.7": { "city": "Lisbon", "country_code": "PT",
                                                   "as_number": 64500, "latitude": 38.72 } } },
  "device_detection": { "user_agents": {
    "Mozilla/5.0 (iPhone...)": { "device": { "is_mobile": true, "name": "iPhone" } } } }
}"#;

#[test]
fn fastly_toml_imports_to_the_same_config_as_the_equivalent_json() {
    let imported = from_fastly_toml(FASTLY_TOML).unwrap();
    assert_eq!(imported, Config::from_json(FASTLY_TOML_AS_JSON).unwrap());
    // The comparison is only worth something if the import is not empty.
    assert_eq!(
        (imported.backends.len(), imported.kv_stores["counters"].len(), imported.geolocation.addresses.len()),
        (2, 2, 1)
    );
}

#[test]
fn fastly_toml_sections_map_onto_the_config() {
    let rows: &[(&str, &str, &str)] = &[
        (
            "backend timeouts and health in any case",
            "[local_server.backends.b]\nurl = \"https://a.example\"\nconnect_timeout_ms = 1000\nhealth = \"UNHEALTHY\"\n",
            r#"{"backends": {"b": {"url": "https://a.example", "connect_timeout_ms": 1000, "health": "unhealthy"}}}"#,
        ),
        (
            "cert_host naming the url's host changes nothing",
            "[local_server.backends.b]\nurl = \"https://A.example:8443/api\"\ncert_host = \"a.EXAMPLE\"\n",
            r#"{"backends": {"b": {"url": "https://A.example:8443/api"}}}"#,
        ),
        (
            "dictionaries and config stores stay apart",
            "[local_server.dictionaries.d]\nformat = \"inline-toml\"\ncontents = { a = \"1\" }\n\
             [local_server.config_stores.c]\nformat = \"inline-toml\"\ncontents = {}\n",
            r#"{"dictionaries": {"d": {"a": "1"}}, "config_stores": {"c": {}}}"#,
        ),
        (
            "the older name of KV stores",
            "[local_server.object_stores]\ns = [{ key = \"k\", data = \"v\" }]\n",
            r#"{"kv_stores": {"s": {"k": "v"}}}"#,
        ),
        (
            "a later KV entry replaces an earlier one",
            "[[local_server.kv_stores.s]]\nkey = \"k\"\ndata = \"old\"\n[[local_server.kv_stores.s]]\nkey = \"k\"\ndata = \"new\"\n",
            r#"{"kv_stores": {"s": {"k": "new"}}}"#,
        ),
        (
            "an empty secret store",
            "[local_server.secret_stores]\nvault = []\n",
            r#"{"secret_stores": {"vault": {}}}"#,
        ),
        (
            "geolocation without a format has no records",
            "[local_server.geolocation]\nuse_default_loopback = true\n",
            "{}",
        ),
        (
            "device detection records are any TOML value",
            "[local_server.device_detection]\nformat = \"inline-toml\"\n\
             [local_server.device_detection.user_agents.bot]\nis_bot = true\nscore = 0.5\nbrands = [\"x\"]\n",
            r#"{"device_detection": {"user_agents": {"bot": {"is_bot": true, "score": 0.5, "brands": ["x"]}}}}"#,
        ),
    ];
    for (name, toml, json) in rows {
        assert_eq!(from_fastly_toml(toml), Config::from_json(json), "{name}");
    }
}

#[test]
fn fastly_toml_errors_name_the_path_and_position() {
    let backend = |keys: &str| format!("[local_server.backends.origin]\n{keys}\n");
    let rows: Vec<(&str, String, &str)> = vec![
        (
            "syntax error",
            "name = \"app\"\n[local_server\nbackends = {}\n".into(),
            "unclosed table, expected `]` (line 2, column 14)",
        ),
        ("unquoted string", "name = app\n".into(), "string values must be quoted, expected literal string (line 1, column 8)"),
        (
            "unknown key",
            backend("url = \"https://a.example\"\nulr = \"https://a.example\""),
            "local_server.backends.origin.ulr: unknown field `ulr`, expected one of `url`, `override_host`, \
             `connect_timeout_ms`, `first_byte_timeout_ms`, `between_bytes_timeout_ms`, `health`, `cert_host`, \
             `use_sni`, `grpc`, `client_certificate`, `ca_certificate` (line 3, column 1)",
        ),
        (
            "unknown section",
            "[local_server.backend.origin]\nurl = \"https://a.example\"\n".into(),
            "local_server.backend: unknown field `backend`, expected one of `backends`, `dictionaries`, \
             `config_stores`, `kv_stores`, `object_store`, `object_stores`, `secret_stores`, `acls`, `geolocation`, \
             `device_detection`, `shielding_sites`, `fake_valid_fastly_keys`, `viceroy_version`, `pushpin` \
             (line 1, column 15)",
        ),
        (
            "wrong type",
            backend("url = 443"),
            "local_server.backends.origin.url: invalid type: integer `443`, expected a string (line 2, column 7)",
        ),
        (
            "a table that is not one",
            "local_server = 5\n".into(),
            "local_server: invalid type: integer `5`, expected a table (line 1, column 16)",
        ),
        (
            "an array for a table",
            "[local_server]\nbackends = []\n".into(),
            "local_server.backends: invalid type: array, expected a table (line 2, column 12)",
        ),
        (
            "Windows line endings",
            "[local_server.backends.origin]\r\nurl = 443\r\n".into(),
            "local_server.backends.origin.url: invalid type: integer `443`, expected a string (line 2, column 7)",
        ),
        (
            "negative timeout",
            backend("url = \"https://a.example\"\nfirst_byte_timeout_ms = -1"),
            "local_server.backends.origin.first_byte_timeout_ms: invalid value: integer `-1`, expected u32 \
             (line 3, column 25)",
        ),
        ("no url", backend("override_host = \"a.example\""), "local_server.backends.origin: a backend needs a `url` (line 1, column 1)"),
        (
            "bad URL scheme",
            backend("url = \"ftp://a.example\""),
            "local_server.backends.origin.url: a URL starts with http:// or https:// (line 2, column 7)",
        ),
        (
            "bad health",
            backend("url = \"https://a.example\"\nhealth = \"sick\""),
            "local_server.backends.origin.health: `health` is one of `unknown`, `healthy`, `unhealthy` (line 3, column 10)",
        ),
        (
            "cert_host for another name",
            backend("url = \"https://10.0.0.1\"\ncert_host = \"a.example\""),
            "local_server.backends.origin.cert_host: the certificate is checked against the `url`'s host; put the \
             name the certificate is for in `url` (and the Host header in `override_host`) (line 3, column 13)",
        ),
        (
            "SNI off",
            backend("url = \"https://a.example\"\nuse_sni = false"),
            "local_server.backends.origin.use_sni: turning SNI off is not supported (line 3, column 11)",
        ),
        (
            "gRPC",
            backend("url = \"https://a.example\"\ngrpc = true"),
            "local_server.backends.origin.grpc: gRPC backends are not supported (line 3, column 8)",
        ),
        (
            "client certificate",
            backend("url = \"https://a.example\"\nclient_certificate = { certificate_file = \"c.pem\", key_file = \"k.pem\" }"),
            "local_server.backends.origin.client_certificate: client certificates (mutual TLS) are not supported \
             (line 3, column 22)",
        ),
        (
            "CA certificate",
            backend("url = \"https://a.example\"\nca_certificate.file = \"ca.pem\""),
            "local_server.backends.origin.ca_certificate: custom CA certificates are not supported: a backend \
             needs a publicly trusted one (line 3, column 1)",
        ),
        (
            "dictionary from a file",
            "[local_server.dictionaries.flags]\nformat = \"json\"\nfile = \"flags.json\"\n".into(),
            "local_server.dictionaries.flags.file: `flags.json` is a file, which this import cannot read; write the \
             entries inline: `format = \"inline-toml\"` and `contents = { … }` (line 3, column 8)",
        ),
        (
            "dictionary without a format",
            "[local_server.config_stores.settings]\ncontents = { a = \"1\" }\n".into(),
            "local_server.config_stores.settings: needs `format = \"inline-toml\"` with a `contents` table (line 1, column 1)",
        ),
        (
            "dictionary with an unknown format",
            "[local_server.dictionaries.flags]\nformat = \"yaml\"\n".into(),
            "local_server.dictionaries.flags.format: `format` is `inline-toml` or `json` (line 2, column 10)",
        ),
        (
            "inline dictionary with a file",
            "[local_server.dictionaries.flags]\nformat = \"inline-toml\"\nfile = \"flags.json\"\n".into(),
            "local_server.dictionaries.flags.file: `file` goes with `format = \"json\"`; an inline-toml store has \
             `contents` (line 3, column 8)",
        ),
        (
            "json dictionary without a file",
            "[local_server.dictionaries.flags]\nformat = \"json\"\n".into(),
            "local_server.dictionaries.flags: `format = \"json\"` needs a `file` (line 1, column 1)",
        ),
        (
            "inline dictionary without contents",
            "[local_server.dictionaries.flags]\nformat = \"inline-toml\"\n".into(),
            "local_server.dictionaries.flags: `format = \"inline-toml\"` needs a `contents` table (line 1, column 1)",
        ),
        (
            "columns count characters, not bytes",
            "[local_server.dictionaries.flags]\nformat = \"inline-toml\"\ncontents = { \"é\" = 1 }\n".into(),
            "local_server.dictionaries.flags.contents.é: invalid type: integer `1`, expected a string (line 3, column 20)",
        ),
        (
            "KV store from a file",
            "[local_server.kv_stores]\ncounters = { file = \"counters.json\", format = \"json\" }\n".into(),
            "local_server.kv_stores.counters.file: `counters.json` is a file, which this import cannot read; list \
             the entries inline as `[[local_server.kv_stores.counters]]` tables with `key` and `data` (line 2, column 21)",
        ),
        (
            "KV store table without a file",
            "[local_server.kv_stores]\ncounters = {}\n".into(),
            "local_server.kv_stores.counters: a store is an array of entries; list the entries inline as \
             `[[local_server.kv_stores.counters]]` tables with `key` and `data` (line 2, column 12)",
        ),
        (
            "KV store that is neither",
            "[local_server.kv_stores]\ncounters = 5\n".into(),
            "local_server.kv_stores.counters: invalid type: integer `5`, expected an array of tables with `key` and \
             `data` (line 2, column 12)",
        ),
        (
            "KV value from a file",
            "[[local_server.kv_stores.pages]]\nkey = \"index\"\nfile = \"index.html\"\n".into(),
            "local_server.kv_stores.pages[0].file: `index.html` is a file, which this import cannot read; put the \
             value in `data` instead (line 3, column 8)",
        ),
        (
            "KV value from the older `path`",
            "[[local_server.kv_stores.pages]]\nkey = \"index\"\npath = \"index.html\"\n".into(),
            "local_server.kv_stores.pages[0].file: `index.html` is a file, which this import cannot read; put the \
             value in `data` instead (line 3, column 8)",
        ),
        (
            "KV entry without data",
            "[[local_server.kv_stores.pages]]\nkey = \"a\"\ndata = \"1\"\n[[local_server.kv_stores.pages]]\nkey = \"b\"\n"
                .into(),
            "local_server.kv_stores.pages[1]: entry `b` needs `data` (line 4, column 1)",
        ),
        (
            "KV entry without a key",
            "[[local_server.kv_stores.pages]]\ndata = \"1\"\n".into(),
            "local_server.kv_stores.pages[0]: missing field `key` (line 1, column 1)",
        ),
        (
            "secret from the environment",
            "[[local_server.secret_stores.vault]]\nkey = \"token\"\nenv = \"API_TOKEN\"\n".into(),
            "local_server.secret_stores.vault[0].env: `env = \"API_TOKEN\"` reads an environment variable of the \
             machine running Viceroy, which this import cannot; put the secret in `data` instead (line 3, column 7)",
        ),
        (
            "secret from a file",
            "[[local_server.secret_stores.vault]]\nkey = \"token\"\nfile = \"token.txt\"\n".into(),
            "local_server.secret_stores.vault[0].file: `token.txt` is a file, which this import cannot read; put \
             the secret in `data` instead (line 3, column 8)",
        ),
        (
            "ACL file",
            "[local_server.acls]\nblocklist = \"blocklist.json\"\n".into(),
            "local_server.acls.blocklist: `blocklist.json` is a file, which this import cannot read. Remove \
             `local_server.acls` to import the rest, then add the file's entries to the JSON config as \
             `acls.blocklist.entries` (line 2, column 13)",
        ),
        (
            "ACL file in a table",
            "[local_server.acls.blocklist]\nfile = \"blocklist.json\"\n".into(),
            "local_server.acls.blocklist: `blocklist.json` is a file, which this import cannot read. Remove \
             `local_server.acls` to import the rest, then add the file's entries to the JSON config as \
             `acls.blocklist.entries` (line 1, column 1)",
        ),
        (
            "geolocation from a file",
            "[local_server.geolocation]\nformat = \"json\"\nfile = \"geo.json\"\n".into(),
            "local_server.geolocation.file: `geo.json` is a file, which this import cannot read; write the records \
             inline: `format = \"inline-toml\"` and `[local_server.geolocation.addresses]` (line 3, column 8)",
        ),
        (
            "geolocation file without a format",
            "[local_server.geolocation]\nfile = \"geo.json\"\n".into(),
            "local_server.geolocation.file: `geo.json` is a file, which this import cannot read; write the records \
             inline: `format = \"inline-toml\"` and `[local_server.geolocation.addresses]` (line 2, column 8)",
        ),
        (
            "inline geolocation with a file",
            "[local_server.geolocation]\nformat = \"inline-toml\"\nfile = \"geo.json\"\n".into(),
            "local_server.geolocation.file: `file` goes with `format = \"json\"`; inline-toml records are in \
             `addresses` (line 3, column 8)",
        ),
        (
            "json device detection without a file",
            "[local_server.device_detection]\nformat = \"json\"\n".into(),
            "local_server.device_detection: `format = \"json\"` needs a `file` (line 1, column 1)",
        ),
        (
            "geolocation addresses without a format",
            "[local_server.geolocation]\n[local_server.geolocation.addresses.\"1.2.3.4\"]\ncity = \"x\"\n".into(),
            "local_server.geolocation: `addresses` need `format = \"inline-toml\"` beside them (line 1, column 1)",
        ),
        (
            "geolocation without the loopback default",
            "[local_server.geolocation]\nuse_default_loopback = false\n".into(),
            "local_server.geolocation.use_default_loopback: turning off the default loopback record is not \
             supported; remove `use_default_loopback` (line 2, column 24)",
        ),
        (
            "device detection without records",
            "[local_server.device_detection]\nformat = \"inline-toml\"\n".into(),
            "local_server.device_detection: `format = \"inline-toml\"` needs a `user_agents` table (line 1, column 1)",
        ),
        (
            "device detection with an unknown format",
            "[local_server.device_detection]\nformat = \"csv\"\n".into(),
            "local_server.device_detection.format: `format` is `inline-toml` or `json` (line 2, column 10)",
        ),
        (
            "shielding sites",
            "[local_server.shielding_sites]\npdx = \"Local\"\n".into(),
            "local_server.shielding_sites: shielding sites are not supported; remove `shielding_sites` to import \
             the rest (line 1, column 1)",
        ),
        (
            "fake API keys",
            "[local_server]\nfake_valid_fastly_keys = [\"k\"]\n".into(),
            "local_server.fake_valid_fastly_keys: fake Fastly API keys are not supported; remove \
             `fake_valid_fastly_keys` to import the rest (line 2, column 26)",
        ),
    ];
    for (name, text, expected) in &rows {
        assert_eq!(error_text(from_fastly_toml(text)), *expected, "{name}");
    }
}

#[test]
fn backend_urls_split_into_scheme_authority_and_prefix() {
    // (url, Ok((scheme, authority, path_prefix, host)) or the reason it is refused)
    type Parts = (&'static str, &'static str, &'static str, &'static str);
    let rows: &[(&str, Result<Parts, &str>)] = &[
        ("https://example.com", Ok(("https", "example.com", "", "example.com"))),
        ("http://example.com/", Ok(("http", "example.com", "", "example.com"))),
        ("https://example.com/api", Ok(("https", "example.com", "/api", "example.com"))),
        ("https://example.com/api/v1/", Ok(("https", "example.com", "/api/v1", "example.com"))),
        ("https://example.com//", Ok(("https", "example.com", "", "example.com"))),
        ("http://example.com:8080", Ok(("http", "example.com:8080", "", "example.com"))),
        ("http://127.0.0.1:7676/mocks", Ok(("http", "127.0.0.1:7676", "/mocks", "127.0.0.1"))),
        ("http://localhost:65535", Ok(("http", "localhost:65535", "", "localhost"))),
        ("http://[::1]", Ok(("http", "[::1]", "", "[::1]"))),
        ("http://[::1]:8080/x/", Ok(("http", "[::1]:8080", "/x", "[::1]"))),
        ("https://[2001:db8::7]:443", Ok(("https", "[2001:db8::7]:443", "", "[2001:db8::7]"))),
        ("example.com", Err("a URL starts with http:// or https://")),
        ("ftp://example.com", Err("a URL starts with http:// or https://")),
        ("https//example.com", Err("a URL starts with http:// or https://")),
        ("https://", Err("the URL has no valid host")),
        ("https:///path", Err("the URL has no valid host")),
        ("https://user@example.com", Err("the URL has no valid host")),
        ("https://exa mple.com", Err("the URL has no valid host")),
        ("https://example.com?q=1", Err("the URL has no valid host")),
        ("http://::1", Err("the URL has no valid host")),
        ("http://[::1", Err("the URL has no valid host")),
        ("http://[]:80", Err("the URL has no valid host")),
        ("http://[::1]80", Err("the URL has no valid host")),
        ("http://:8080", Err("the URL has no valid host")),
        ("http://example.com:", Err("the port is a number from 1 to 65535")),
        ("http://example.com:0", Err("the port is a number from 1 to 65535")),
        ("http://example.com:65536", Err("the port is a number from 1 to 65535")),
        ("http://example.com:+80", Err("the port is a number from 1 to 65535")),
        ("http://example.com:http", Err("the port is a number from 1 to 65535")),
        ("https://example.com/search?q=1", Err("a backend URL has no query or fragment")),
        ("https://example.com/#top", Err("a backend URL has no query or fragment")),
    ];
    for (url, expected) in rows {
        let got = BackendUrl::parse(url).map(|u| (u.scheme, u.authority, u.path_prefix, u.host()));
        assert_eq!(got, *expected, "{url}");
    }
}

#[test]
fn a_config_written_back_as_json_reads_the_same() {
    let toml = r#"
[local_server.backends.origin]
url = "https://example.com"
override_host = "example.com"
[local_server.config_stores.settings]
format = "inline-toml"
contents = { greeting = "hello" }
[local_server.kv_stores]
counters = [{ key = "root", data = "41" }, { key = "page", data = "p", metadata = "m" }]
"#;
    let imported = from_fastly_toml(toml).unwrap();
    let json = imported.to_json();
    assert_eq!(
        json.as_object().unwrap().keys().map(String::as_str).collect::<alloc::vec::Vec<_>>(),
        ["backends", "config_stores", "kv_stores"],
        "only the sections that differ from the defaults"
    );
    assert_eq!(json["backends"]["origin"], serde_json::json!({ "url": "https://example.com", "override_host": "example.com", "health": "unknown" }));
    assert_eq!(Config::from_json(&json.to_string()).unwrap(), imported);
}

#[test]
fn a_backend_proxy_is_a_relay_url() {
    let config = Config::from_json(r#"{ "backends": { "o": { "url": "https://example.com", "proxy": "http://127.0.0.1:7677" } } }"#).unwrap();
    assert_eq!(config.backends["o"].proxy.as_deref(), Some("http://127.0.0.1:7677"));
    let e = Config::from_json(r#"{ "backends": { "o": { "url": "https://example.com", "proxy": "127.0.0.1:7677" } } }"#).unwrap_err();
    assert_eq!(e.path, "backends.o.proxy");
}

#[test]
fn the_client_section_describes_tls_bots_and_keys() {
    let config = Config::from_json(
        r#"{ "client": { "compliance_region": "eu", "valid_fastly_keys": ["k1"], "ddos_detected": true,
             "tls": { "servername": "www.example.com", "client_hello": "16030100", "client_cert": "PEM" },
             "bot": { "name": "ExampleBot", "category": "search_engine_crawler" } } }"#,
    )
    .unwrap();
    let client = &config.client;
    assert_eq!((client.compliance_region.as_str(), client.ddos_detected), ("eu", true));
    let tls = client.tls.as_ref().unwrap();
    assert_eq!((tls.protocol.as_str(), tls.cipher_openssl_name.as_str()), ("TLSv1.3", "TLS_AES_128_GCM_SHA256"));
    assert_eq!(hex_bytes(&tls.client_hello), Some(vec![0x16, 0x03, 0x01, 0x00]));
    assert_eq!(tls.verify_result(), CertVerifyResult::Ok, "a certificate was presented");
    let bot = client.bot.as_ref().unwrap();
    assert!(bot.detected);
    assert_eq!(bot.category.label(), "SEARCH-ENGINE-CRAWLER");

    let plain = Config::default().client;
    assert_eq!((plain.compliance_region.as_str(), plain.tls, plain.bot), ("none", None, None));
    let no_cert: ClientTls = serde_json::from_str("{}").unwrap();
    assert_eq!(no_cert.verify_result(), CertVerifyResult::CertificateMissing);
}

#[test]
fn client_tls_values_are_checked() {
    let rows = [
        (r#"{"client": {"tls": {"ja3_md5": "abc"}}}"#, "client.tls.ja3_md5: a JA3 fingerprint is 32 hex digits (an MD5 digest)"),
        (r#"{"client": {"tls": {"client_hello": "zz"}}}"#, "client.tls.client_hello: the ClientHello is written in hex"),
        (
            r#"{"client": {"bot": {"category": "robot"}}}"#,
            "client.bot.category: unknown variant `robot`, expected one of `none`, `suspected`, `accessibility`, \
             `ai_crawler`, `ai_fetcher`, `content_fetcher`, `monitoring_site_tools`, `online_marketing`, `page_preview`, \
             `platform_integrations`, `research`, `search_engine_crawler`, `search_engine_specialization`, \
             `security_tools`, `headless` (line 1, column 39)",
        ),
    ];
    for (text, expected) in rows {
        assert_eq!(error_text(Config::from_json(text)), expected);
    }
}
