//! The example guests, run through host-core with scripted backends: what a user of each
//! example sees (status, headers, body, logs, errors).

mod support;

use std::sync::{Arc, Mutex};

use host_core::{BackendResponse, DownstreamRequest, FetchError, FetchErrorKind, GuestErrorKind};
use host_core::trace::{CacheOutcome, EventKind};
use support::{header, run, run_with, Guest};

#[test]
fn hello_says_hello() {
    let out = run(Guest::Hello, "{}", DownstreamRequest::get("http://localhost/"));
    assert_eq!(out.response.status, 200);
    assert_eq!(header(&out, "content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(out.body, b"Hello from Edgeplay!\n");
    assert!(out.error.is_none(), "{:?}", out.error);
}

#[test]
fn inspector_sees_request_client_env_and_config_store() {
    let mut request = DownstreamRequest::get("http://example.test/echo?x=1");
    request.method = "POST".into();
    request.headers = vec![("X-Custom".into(), b"one".to_vec()), ("User-Agent".into(), b"edgeplay-test".to_vec())];
    request.body = b"ping".to_vec();
    let config = std::fs::read_to_string(support::guest_dir("inspector").join("config.json")).unwrap();
    let out = run(Guest::Inspector, &config, request);
    assert_eq!(out.response.status, 200);
    let json: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
    assert_eq!(json["method"], "POST");
    assert_eq!(json["url"], "http://example.test/echo?x=1");
    assert_eq!(json["path"], "/echo");
    assert_eq!(json["query"], "x=1");
    assert_eq!(json["body"], "ping");
    assert_eq!(json["headers"][0], serde_json::json!(["x-custom", "one"]));
    assert_eq!(json["client_ip"], "203.0.113.7");
    assert_eq!(json["env"]["FASTLY_POP"], "LIS");
    assert_eq!(json["env"]["FASTLY_HOSTNAME"], "localhost");
    assert_eq!(json["env"]["FASTLY_TRACE_ID"].as_str().map(str::len), Some(32));
    assert_eq!(json["greeting"], "hello from config store");
}

/// A backend that records what it was sent and answers like a small origin.
fn recording_origin(seen: Arc<Mutex<Vec<host_core::BackendRequest>>>) -> impl host_core::native::Backends {
    move |request: host_core::BackendRequest| {
        seen.lock().unwrap().push(request.clone());
        Ok(BackendResponse {
            status: 200,
            headers: vec![("content-type".into(), b"text/plain".to_vec()), ("cache-control".into(), b"private".to_vec())],
            body: b"from the origin".to_vec(),
            remote_addr: Some((vec![127, 0, 0, 1], 8080)),
        })
    }
}

/// The tutorial's proxy contract, which the Rust and the JavaScript example both keep: the
/// request goes on to `httpme` with `x-edgeplay: 1` and the client's headers, and the answer
/// comes back with Cache-Control rewritten. Returns the outcome for checks of its own.
fn proxies_like_the_tutorial(guest: Guest) -> host_core::Outcome {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let config = r#"{ "backends": { "httpme": { "url": "http://origin.test:8080/base" } } }"#;
    let mut request = DownstreamRequest::get("http://localhost/anything?q=1");
    request.headers = vec![("Host".into(), b"www.example.test".to_vec()), ("Accept".into(), b"text/plain".to_vec())];
    let out = run_with(guest, config, request, recording_origin(seen.clone()));
    assert!(out.error.is_none(), "{:?}\nstderr: {}", out.error, String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.response.status, 200);
    assert_eq!(out.body, b"from the origin");
    assert_eq!(header(&out, "cache-control"), Some("public, max-age=60"), "the origin's `private` is replaced");
    assert_eq!(header(&out, "content-type"), Some("text/plain"));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    let sent = &seen[0];
    assert_eq!((sent.backend.as_str(), sent.method.as_str()), ("httpme", "GET"));
    assert_eq!(sent.url, "http://origin.test:8080/base/anything?q=1");
    let sent_header = |name: &str| sent.headers.iter().find(|(n, _)| n == name).map(|(_, v)| String::from_utf8_lossy(v).into_owned());
    assert_eq!(sent_header("x-edgeplay").as_deref(), Some("1"));
    assert_eq!(sent_header("accept").as_deref(), Some("text/plain"));
    assert_eq!(sent_header("host").as_deref(), Some("www.example.test"), "the client's Host is forwarded");
    out
}

/// One request through a tutorial proxy whose backend refuses the connection.
fn proxy_to_a_refusing_backend(guest: Guest) -> host_core::Outcome {
    let config = r#"{ "backends": { "httpme": { "url": "http://127.0.0.1:9" } } }"#;
    let refuse = |_: host_core::BackendRequest| {
        Err(FetchError { kind: FetchErrorKind::ConnectionRefused, message: "nothing listens on port 9".into() })
    };
    run_with(guest, config, DownstreamRequest::get("http://localhost/"), refuse)
}

#[test]
fn caching_proxy_forwards_with_header_and_rewrites_cache_control() {
    proxies_like_the_tutorial(Guest::CachingProxy);
}

#[test]
fn caching_proxy_answers_502_when_the_backend_refuses() {
    let out = proxy_to_a_refusing_backend(Guest::CachingProxy);
    assert_eq!(out.response.status, 502);
    let body = String::from_utf8_lossy(&out.body);
    assert!(body.to_lowercase().contains("connection refused"), "{body}");
    assert!(out.trace.events.iter().any(|e| matches!(&e.kind, EventKind::BackendError { error, .. } if error.contains("refused"))));
}

#[test]
fn caching_proxy_example_config_answers_offline_from_the_mock() {
    let config = std::fs::read_to_string(support::guest_dir("caching-proxy").join("config.json")).unwrap();
    let out = run(Guest::CachingProxy, &config, DownstreamRequest::get("http://localhost/"));
    assert_eq!(out.response.status, 200);
    assert!(String::from_utf8_lossy(&out.body).contains("fresh from the origin"));
    assert_eq!(header(&out, "cache-control"), Some("public, max-age=60"));
    assert!(
        out.trace.events.iter().any(|e| matches!(e.kind, EventKind::BackendResponse { status: 200, .. })),
        "the mock's answer is in the trace"
    );
}

#[test]
fn streaming_sends_the_head_before_the_body_is_done() {
    let mut observed = Vec::new();
    let out = support::run_observing(Guest::Streaming, "{}", DownstreamRequest::get("http://localhost/"), |session| {
        if let Some(head) = session.response_head() {
            observed.push((head.status, session.take_streamed().len(), session.response_finished()));
        }
    });
    let expected: String = (1..=5).map(|i| format!("chunk {i} of 5\n")).collect();
    assert_eq!(String::from_utf8_lossy(&out.body), expected);
    assert_eq!(header(&out, "content-type"), Some("text/plain; charset=utf-8"));
    // The head was there while the guest was still writing, and chunks came in pieces.
    assert!(observed.iter().any(|&(status, _, finished)| status == 200 && !finished), "{observed:?}");
    let pieces = observed.iter().filter(|&&(_, bytes, _)| bytes > 0).count();
    assert!(pieces >= 3, "the body arrived in {pieces} pieces: {observed:?}");
}

/// How many backend requests had left when the first answer came back.
fn requests_before_first_answer(out: &host_core::Outcome) -> usize {
    let kinds: Vec<&EventKind> = out.trace.events.iter().map(|e| &e.kind).collect();
    let first_answer = kinds.iter().position(|k| matches!(k, EventKind::BackendResponse { .. })).expect("an answer");
    kinds[..first_answer].iter().filter(|k| matches!(k, EventKind::BackendRequest { .. })).count()
}

#[test]
fn fanout_backends_are_in_flight_together() {
    let config = std::fs::read_to_string(support::guest_dir("fanout").join("config.json")).unwrap();
    let out = run(Guest::Fanout, &config, DownstreamRequest::get("http://localhost/"));
    assert_eq!(out.response.status, 200);
    let json: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
    assert_eq!(json["order"], serde_json::json!(["b", "c", "a"]));
    assert_eq!(json["bodies"]["c"], "charlie");
    // All three requests left before the first answer came back: they overlapped.
    assert_eq!(requests_before_first_answer(&out), 3, "{:?}", out.trace.events);
}

#[test]
fn fanout_to_real_backends_overlaps_too() {
    // Three scripted origins that each take 300 ms: the guest waits on all at once.
    let config = r#"{ "backends": { "a": { "url": "http://a.test" }, "b": { "url": "http://b.test" }, "c": { "url": "http://c.test" } } }"#;
    let slow = |request: host_core::BackendRequest| {
        std::thread::sleep(std::time::Duration::from_millis(300));
        Ok(BackendResponse { status: 200, headers: vec![], body: request.backend.into_bytes(), remote_addr: None })
    };
    let out = run_with(Guest::Fanout, config, DownstreamRequest::get("http://localhost/"), slow);
    let json: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
    assert_eq!(json["bodies"], serde_json::json!({"a": "a", "b": "b", "c": "c"}));
    assert_eq!(requests_before_first_answer(&out), 3, "{:?}", out.trace.events);
}

#[test]
fn stores_reads_dictionary_and_config_store() {
    let config = std::fs::read_to_string(support::guest_dir("stores").join("config.json")).unwrap();
    let out = run(Guest::Stores, &config, DownstreamRequest::get("http://localhost/"));
    let json: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
    assert_eq!(json, serde_json::json!({"key": "greeting", "dictionary": "hi from dictionary", "config_store": "hello from config store"}));
    let out = run(Guest::Stores, &config, DownstreamRequest::get("http://localhost/?key=beta"));
    let json: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
    assert_eq!(json, serde_json::json!({"key": "beta", "dictionary": "on", "config_store": null}));
}

/// The kv example with its own config; its requests share one set of stores.
fn kv_host() -> support::Host {
    let config = std::fs::read_to_string(support::guest_dir("kv").join("config.json")).unwrap();
    support::Host::new(Guest::Kv, &config)
}

/// One request to the kv example: the status and the body as JSON (null when empty).
fn kv(host: &support::Host, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, serde_json::Value) {
    let mut request = DownstreamRequest::get(&format!("http://localhost{path}"));
    request.method = method.into();
    request.headers = headers.iter().map(|(n, v)| (n.to_string(), v.as_bytes().to_vec())).collect();
    request.body = body.as_bytes().to_vec();
    let out = host.request(request, support::no_network);
    assert!(out.error.is_none(), "{method} {path}: {:?}", out.error);
    let json = if out.body.is_empty() { serde_json::Value::Null } else { serde_json::from_slice(&out.body).unwrap() };
    (out.response.status, json)
}

fn kv_value(host: &support::Host, key: &str) -> (u16, serde_json::Value) {
    let (status, json) = kv(host, "GET", &format!("/kv/{key}"), &[], "");
    (status, json["value"].clone())
}

#[test]
fn kv_reads_seeded_entries_with_metadata_and_generation() {
    let host = kv_host();
    let (status, json) = kv(&host, "GET", "/kv/pages/home", &[], "");
    assert_eq!(status, 200);
    assert_eq!(
        json,
        serde_json::json!({"key": "pages/home", "value": "<h1>Home</h1>", "metadata": "text/html", "generation": "1"})
    );
    let (status, json) = kv(&host, "GET", "/kv/missing", &[], "");
    assert_eq!((status, json["error"].as_str()), (404, Some("KV Store item not found")));
    assert_eq!(kv(&host, "GET", "/kv/a%3Fb", &[], "").0, 400, "a key production refuses");
}

#[test]
fn kv_insert_modes_as_the_example_shows_them() {
    let host = kv_host();
    // (query, body, status, value afterwards)
    let steps = [
        ("", "b", 200, "b"),
        ("?mode=append", "c", 200, "bc"),
        ("?mode=prepend", "a", 200, "abc"),
        ("?mode=add", "x", 412, "abc"),
        ("?mode=overwrite", "z", 200, "z"),
        ("?mode=sideways", "y", 400, "z"),
    ];
    for (query, body, status, after) in steps {
        assert_eq!(kv(&host, "PUT", &format!("/kv/letters{query}"), &[], body).0, status, "PUT {query}");
        assert_eq!(kv_value(&host, "letters"), (200, serde_json::json!(after)), "after PUT {query}");
    }
    assert_eq!(kv(&host, "PUT", "/kv/fresh?mode=add", &[], "new").0, 200, "add of an absent key");
}

#[test]
fn kv_generations_guard_concurrent_writers() {
    let host = kv_host();
    let generation_of = |json: &serde_json::Value| json["generation"].as_str().unwrap().to_string();
    let (_, seeded) = kv(&host, "GET", "/kv/greeting", &[], "");
    assert_eq!(generation_of(&seeded), "1");
    assert_eq!(kv(&host, "PUT", "/kv/greeting?if_generation_match=2", &[], "lost").0, 412);
    let (status, written) = kv(&host, "PUT", "/kv/greeting?if_generation_match=1", &[], "won");
    assert_eq!((status, written["value"].as_str()), (200, Some("won")));
    let generation = generation_of(&written);
    assert_ne!(generation, "1", "every write makes a new generation");
    assert_eq!(kv(&host, "PUT", "/kv/greeting?if_generation_match=1", &[], "late").0, 412, "the old generation is spent");
    assert_eq!(kv(&host, "PUT", &format!("/kv/greeting?if_generation_match={generation}"), &[], "next").0, 200);
    assert_eq!(kv_value(&host, "greeting").1, "next");
    assert_eq!(kv(&host, "PUT", "/kv/greeting?if_generation_match=soon", &[], "x").0, 400);
}

#[test]
fn kv_operations_and_their_outcomes_are_in_the_trace() {
    let host = kv_host();
    let mut request = DownstreamRequest::get("http://localhost/kv/greeting?if_generation_match=7");
    (request.method, request.body) = ("PUT".into(), b"refused".to_vec());
    let out = host.request(request, support::no_network);
    let kv_events: Vec<(&str, &str, &str)> = out
        .trace
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Kv { op, key, outcome, .. } => Some((*op, key.as_str(), outcome.as_str())),
            _ => None,
        })
        .collect();
    assert!(kv_events.contains(&("insert", "greeting", "precondition failed")), "{kv_events:?}");
    let out = host.request(DownstreamRequest::get("http://localhost/kv/greeting"), support::no_network);
    assert!(
        out.trace.events.iter().any(|e| matches!(&e.kind, EventKind::Kv { op: "lookup", outcome, .. } if outcome.starts_with("found"))),
        "{:?}",
        out.trace.events
    );
}

#[test]
fn kv_metadata_and_ttls() {
    let host = kv_host();
    let (status, json) = kv(&host, "PUT", "/kv/session?ttl=30", &[("x-kv-metadata", "user=ada")], "token");
    assert_eq!((status, json["metadata"].as_str()), (200, Some("user=ada")));
    host.clock.advance(29);
    assert_eq!(kv_value(&host, "session"), (200, serde_json::json!("token")));
    host.clock.advance(2);
    assert_eq!(kv_value(&host, "session").0, 404, "expired after 30 s");
    let (_, listed) = kv(&host, "GET", "/kv", &[], "");
    assert_eq!(listed["keys"], serde_json::json!(["greeting", "pages/about", "pages/home"]), "nor listed");
}

#[test]
fn kv_lists_page_by_page_and_deletes() {
    let host = kv_host();
    kv(&host, "PUT", "/kv/pages/contact", &[], "<h1>Contact</h1>");
    let (status, first) = kv(&host, "GET", "/kv?prefix=pages/&limit=2", &[], "");
    assert_eq!(status, 200);
    assert_eq!(first["keys"], serde_json::json!(["pages/about", "pages/contact"]));
    assert_eq!(first["limit"], 2);
    let cursor = first["next_cursor"].as_str().expect("a cursor to the next page");
    let (_, second) = kv(&host, "GET", &format!("/kv?prefix=pages/&limit=2&cursor={cursor}"), &[], "");
    assert_eq!(second, serde_json::json!({"keys": ["pages/home"], "next_cursor": null, "limit": 2}));

    assert_eq!(kv(&host, "DELETE", "/kv/pages/about", &[], ""), (204, serde_json::Value::Null));
    assert_eq!(kv_value(&host, "pages/about").0, 404);
    assert_eq!(kv(&host, "DELETE", "/kv/pages/about", &[], "").0, 404, "deleting it again");
    let (_, all) = kv(&host, "GET", "/kv", &[], "");
    assert_eq!(all["keys"], serde_json::json!(["greeting", "pages/contact", "pages/home"]));
}

#[test]
fn kv_data_survives_a_restart_through_the_journal() {
    let host = kv_host();
    kv(&host, "PUT", "/kv/counter", &[("x-kv-metadata", "kept")], "41");
    kv(&host, "PUT", "/kv/counter?mode=append", &[], "+1");
    kv(&host, "DELETE", "/kv/greeting", &[], "");
    let journal = host.stores.lock().take_journal();
    assert_eq!(journal.len(), 3, "every write journaled: {journal:?}");
    let saved = serde_json::to_string(&host.stores.lock().snapshot(&host.config)).unwrap();
    let (_, before) = kv(&host, "GET", "/kv/counter", &[], "");

    let restarted = kv_host();
    restarted.stores.lock().restore(serde_json::from_str::<Vec<host_core::Change>>(&saved).unwrap());
    let (status, after) = kv(&restarted, "GET", "/kv/counter", &[], "");
    assert_eq!(status, 200);
    assert_eq!(after, before, "value, metadata and generation are back");
    assert_eq!(after["value"], "41+1");
    assert_eq!(kv_value(&restarted, "greeting").0, 404, "a deleted seed stays deleted");
}

#[test]
fn kv_example_checks_secrets_without_revealing_them() {
    let host = kv_host();
    let out = host.request(DownstreamRequest::get("http://localhost/secret/api-key"), support::no_network);
    assert!(!String::from_utf8_lossy(&out.body).contains("correct-horse"), "the secret never leaves");
    let (status, json) = kv(&host, "GET", "/secret/api-key", &[], "");
    assert_eq!((status, json), (200, serde_json::json!({"name": "api-key", "exists": true, "length": 28})));
    let (_, right) = kv(&host, "GET", "/secret/api-key", &[("x-guess", "correct-horse-battery-staple")], "");
    assert_eq!(right["matches"], true);
    let (_, wrong) = kv(&host, "GET", "/secret/api-key", &[("x-guess", "hunter2")], "");
    assert_eq!(wrong["matches"], false);
    assert_eq!(kv(&host, "GET", "/secret/nope", &[], ""), (404, serde_json::json!({"name": "nope", "exists": false})));
    let (status, json) = kv(&host, "GET", "/secret/not%20valid", &[], "");
    assert_eq!((status, json["error"].as_str()), (400, Some("invalid secret name: not valid")));
}

#[test]
fn logging_writes_to_endpoint_stdout_and_stderr() {
    let out = run(Guest::Logging, "{}", DownstreamRequest::get("http://localhost/hello?x=1"));
    assert_eq!(out.body, b"logged 3 lines\n");
    let lines: Vec<&str> = out.logs["my_endpoint"].iter().map(|l| l.text.as_str()).collect();
    assert_eq!(lines, ["request received: GET /hello"]);
    assert_eq!(out.stdout, b"logging guest: hello on stdout\n");
    assert_eq!(out.stderr, b"logging guest: hello on stderr\n");
    assert_eq!(out.stdout_times.len(), 1, "one write, with its time");
    assert_eq!(out.stdout_times[0].0, 0);
}

#[test]
fn a_panic_answers_500_and_names_the_panic() {
    let out = run(Guest::Panic, "{}", DownstreamRequest::get("http://localhost/"));
    assert_eq!(out.response.status, 500);
    let error = out.error.expect("the guest failed");
    assert_eq!(error.kind, GuestErrorKind::Panic);
    assert!(error.message.contains("something went wrong"), "{}", error.message);
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("about to panic\n"));
}

#[test]
fn a_spinning_guest_is_stopped_by_the_default_cpu_limit() {
    let out = run(Guest::Spin, "{}", DownstreamRequest::get("http://localhost/"));
    assert_eq!(out.response.status, 500);
    let error = out.error.expect("stopped");
    assert_eq!(error.kind, GuestErrorKind::CpuLimit);
    assert!(error.message.contains("limits.cpu_ms"), "{}", error.message);
    assert!(out.stats.cpu_ms < 10_000.0);
}

#[test]
fn a_fuel_budget_stops_a_spinning_guest() {
    let out = run(Guest::Spin, r#"{ "limits": { "fuel": 5000000 } }"#, DownstreamRequest::get("http://localhost/"));
    let error = out.error.expect("stopped");
    assert_eq!(error.kind, GuestErrorKind::FuelLimit, "{error:?} {:?}", out.stats);
    assert!(out.stats.fuel > 4_900_000 && out.stats.fuel <= 5_000_000, "{}", out.stats.fuel);
}

#[test]
fn a_guest_that_allocates_forever_stops_at_the_heap_limit() {
    let out = run(Guest::Hog, "{}", DownstreamRequest::get("http://localhost/"));
    assert_eq!(out.response.status, 500);
    let error = out.error.expect("stopped");
    assert_eq!(error.kind, GuestErrorKind::HeapLimit, "{}", error.message);
    assert!(error.message.contains("128 MB"), "{}", error.message);
    assert!(out.stats.peak_heap_bytes <= 128 << 20);
}

#[test]
fn a_slow_backend_runs_into_the_wall_time_limit() {
    let config = r#"{ "backends": { "httpme": { "mock": { "delay_ms": 60000 } } }, "limits": { "wall_ms": 300 } }"#;
    let out = run(Guest::CachingProxy, config, DownstreamRequest::get("http://localhost/"));
    let error = out.error.expect("stopped");
    assert_eq!(error.kind, GuestErrorKind::WallTimeLimit);
    assert!(error.message.contains("limits.wall_ms"));
}

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) \
                      Version/17.1 Mobile/15E148 Safari/604.1";

/// The lookups example with its own config, asked about `url` by an iPhone.
fn lookups(config: &str, url: &str, backends: impl host_core::native::Backends) -> (host_core::Outcome, serde_json::Value) {
    let mut request = DownstreamRequest::get(url);
    request.headers = vec![("User-Agent".into(), IPHONE.as_bytes().to_vec())];
    let out = run_with(Guest::Lookups, config, request, backends);
    assert_eq!(out.response.status, 200, "{:?} {}", out.error, String::from_utf8_lossy(&out.stderr));
    let json = serde_json::from_slice(&out.body).unwrap();
    (out, json)
}

fn lookups_config() -> String {
    std::fs::read_to_string(support::guest_dir("lookups").join("config.json")).unwrap()
}

#[test]
fn lookups_sees_the_client_through_acl_geolocation_device_detection_and_uap() {
    let (_, json) = lookups(&lookups_config(), "http://localhost/", support::no_network);
    assert_eq!(json["ip"], "203.0.113.7");
    assert_eq!(json["acl"], serde_json::json!({"action": "BLOCK", "prefix": "203.0.113.0/24"}));
    let geo = &json["geo"];
    assert_eq!((&geo["city"], &geo["country_code"], &geo["continent"]), (&"Lisbon".into(), &"PT".into(), &"EU".into()));
    assert_eq!((&geo["as_number"], &geo["latitude"], &geo["conn_type"]), (&64500.into(), &38.72.into(), &"wifi".into()));
    assert_eq!(geo["utc_offset_minutes"], 0);
    assert_eq!(json["device"]["name"], "iPhone");
    assert_eq!((&json["device"]["is_mobile"], &json["device"]["os"]), (&true.into(), &"iOS".into()));
    assert_eq!(json["user_agent"], serde_json::json!({"family": "Mobile Safari", "major": "17", "minor": "1", "patch": ""}));
}

#[test]
fn lookups_answers_for_other_addresses_in_both_families() {
    let config = lookups_config();
    let (_, json) = lookups(&config, "http://localhost/?ip=203.0.113.200", support::no_network);
    assert_eq!(json["acl"], serde_json::json!({"action": "ALLOW", "prefix": "203.0.113.128/25"}), "the longer prefix wins");
    let (_, json) = lookups(&config, "http://localhost/?ip=2001:db8::5", support::no_network);
    assert_eq!(json["acl"], serde_json::json!({"action": "BLOCK", "prefix": "2001:db8::/32"}));
    assert_eq!((&json["geo"]["city"], &json["geo"]["utc_offset_minutes"]), (&"Amsterdam".into(), &60.into()));
    let (_, json) = lookups(&config, "http://localhost/?ip=198.51.100.1", support::no_network);
    assert_eq!(json["acl"], serde_json::Value::Null);
    let geo = &json["geo"];
    assert_eq!((&geo["city"], &geo["continent"], &geo["as_number"]), (&"?".into(), &"??".into(), &0.into()), "absent data");
    assert_eq!(geo["utc_offset_minutes"], serde_json::Value::Null, "9999 reads as no offset");
}

#[test]
fn lookups_describes_static_and_dynamic_backends() {
    let (_, json) = lookups(&lookups_config(), "http://localhost/", support::no_network);
    let origin = &json["backends"]["origin"];
    assert_eq!((&origin["dynamic"], &origin["host"], &origin["port"]), (&false.into(), &"www.example.org".into(), &443.into()));
    assert_eq!((&origin["first_byte_timeout_ms"], &origin["health"]), (&5000.into(), &"Healthy".into()));
    assert_eq!(origin["tls"], serde_json::json!(["TLS1_2", "TLS1_3"]));
    let dynamic = &json["backends"]["dynamic"];
    assert_eq!((&dynamic["dynamic"], &dynamic["host"], &dynamic["port"]), (&true.into(), &"example.org".into(), &443.into()));
    assert_eq!((&dynamic["ssl"], &dynamic["override_host"]), (&true.into(), &"example.org".into()));
    assert_eq!((&dynamic["first_byte_timeout_ms"], &dynamic["connect_timeout_ms"]), (&3000.into(), &1000.into()));
    assert_eq!((&dynamic["health"], &dynamic["tcp_keepalive"]), (&"Unknown".into(), &true.into()));

    let disallowed = lookups_config().replace(r#""dynamic_backends": true"#, r#""dynamic_backends": false"#);
    let (_, json) = lookups(&disallowed, "http://localhost/", support::no_network);
    assert_eq!(json["backends"]["dynamic"], serde_json::json!({"error": "Dynamic backends not supported for this service"}));
}

#[test]
fn lookups_sends_to_its_dynamic_backend() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (out, json) = lookups(&lookups_config(), "http://localhost/?send=1", recording_origin(seen.clone()));
    assert_eq!(json["sent"], serde_json::json!({"status": 200, "body": "from the origin"}));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].backend.as_str(), seen[0].url.as_str()), ("example-org", "https://example.org:443/"));
    assert_eq!(seen[0].first_byte_timeout_ms, Some(3000));
    let host = seen[0].headers.iter().find(|(n, _)| n == "host").map(|(_, v)| v.as_slice());
    assert_eq!(host, Some(&b"example.org"[..]), "the override host");
    assert!(out.trace.events.iter().any(|e| matches!(&e.kind, EventKind::BackendRequest { backend, .. } if backend == "example-org")));
}

fn edge_features_config() -> String {
    std::fs::read_to_string(support::guest_dir("edge-features").join("config.json")).unwrap()
}

fn json_body(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)))
}

#[test]
fn edge_features_reports_the_client_facts_of_the_config() {
    let mut request = DownstreamRequest::get("https://www.example.com/");
    request.headers = vec![
        ("Host".into(), b"www.example.com".to_vec()),
        ("X-Requested-With".into(), b"edgeplay".to_vec()),
        ("Fastly-Key".into(), b"demo-key".to_vec()),
    ];
    let out = run(Guest::EdgeFeatures, &edge_features_config(), request);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.response.status, 200);
    let json = json_body(&out.body);
    assert_eq!(json["served_by_this_instance"], 1);
    assert_eq!(json["request_id"].as_str().map(|id| id.len()), Some(32));
    assert_eq!(json["client_ip"], "203.0.113.7");
    assert_eq!(json["server_ip"], "192.0.2.10");
    assert_eq!(json["compliance_region"], "EU");
    assert_eq!(json["original_header_names"], serde_json::json!(["Host", "X-Requested-With", "Fastly-Key"]));
    assert_eq!(json["original_header_count"], 3);
    assert_eq!(json["fastly_key_valid"], true);
    assert_eq!(json["ddos_detected"], false);
    assert_eq!(
        json["tls"],
        serde_json::json!({
            "protocol": "TLSv1.3",
            "cipher": "TLS_AES_128_GCM_SHA256",
            "servername": "www.example.com",
            "ja3_md5": "e7d705a3286e19ea42f587b344ee6865",
            "ja4": "t13d1516h2_8daaf6152771_b0da82dd1658",
            "client_cert": "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2xpZW50IGNlcnQgZm9yIGVkZ2VwbGF5MAoGCCqGSM49\n-----END CERTIFICATE-----\n",
            "cert_verify_result": "Ok",
        })
    );
    assert_eq!(
        json["bot"],
        serde_json::json!({
            "detected": true, "name": "ExampleBot", "category": "SEARCH-ENGINE-CRAWLER",
            "kind": "SearchEngineCrawler", "verified": true,
        })
    );
    let vcpu_ms = json["vcpu_ms"].as_f64().expect("vCPU time");
    assert!(vcpu_ms <= out.stats.cpu_ms, "{vcpu_ms} ms so far, {} ms in all", out.stats.cpu_ms);
    let heap_mib = json["heap_mib"].as_u64().expect("heap size");
    assert!(heap_mib >= 1 && heap_mib <= out.stats.peak_heap_bytes.div_ceil(1 << 20) as u64, "{heap_mib}");
}

#[test]
fn edge_features_over_plain_http_sees_no_tls_and_no_valid_key() {
    let mut request = DownstreamRequest::get("http://localhost/");
    request.headers = vec![("fastly-key".into(), b"guessed".to_vec())];
    let out = run(Guest::EdgeFeatures, r#"{ "client": { "valid_fastly_keys": ["demo-key"] } }"#, request);
    let json = json_body(&out.body);
    assert_eq!(json["tls"], serde_json::Value::Null);
    assert_eq!(json["bot"], serde_json::Value::Null);
    assert_eq!(json["fastly_key_valid"], false);
    assert_eq!(json["compliance_region"], "None");
    assert_eq!(json["original_header_names"], serde_json::json!(["fastly-key"]));
}

#[test]
fn edge_rate_limiting_blocks_the_fourth_request_and_the_penalty_ends_after_a_minute() {
    let host = support::Host::new(Guest::EdgeFeatures, &edge_features_config());
    let hit = || host.request(DownstreamRequest::get("http://localhost/erl"), support::no_network);
    let results: Vec<(u16, serde_json::Value)> = (0..5).map(|_| hit()).map(|out| (out.response.status, json_body(&out.body))).collect();
    let summary: Vec<_> = results
        .iter()
        .map(|(status, json)| (*status, json["count_10s"].as_u64().unwrap(), json["rate_10s"].as_u64().unwrap(), json["in_penalty_box"] == true))
        .collect();
    assert_eq!(summary, [(200, 30, 3, false), (200, 60, 6, false), (200, 90, 9, false), (429, 120, 12, true), (429, 150, 15, true)]);
    assert_eq!(results[3].1["blocked"], true);

    host.clock.advance(61);
    let out = hit();
    assert_eq!(out.response.status, 200, "{}", String::from_utf8_lossy(&out.body));
    assert_eq!(json_body(&out.body)["count_10s"], 30, "the earlier hits left the window");
}

#[test]
fn one_instance_serves_every_request_queued_for_it() {
    let host = support::Host::new(Guest::EdgeFeatures, &edge_features_config());
    let mut second = DownstreamRequest::get("http://localhost/second");
    second.headers = vec![("Fastly-Key".into(), b"demo-key".to_vec())];
    let out = host.requests_to_one_instance(DownstreamRequest::get("http://localhost/first"), vec![second, DownstreamRequest::get("http://localhost/erl")]);
    assert!(out.error.is_none(), "{:?}", out.error);
    let first = json_body(&out.body);
    assert_eq!((first["served_by_this_instance"].clone(), first["fastly_key_valid"].clone()), (1.into(), false.into()));
    assert_eq!(out.next_responses.len(), 2);
    let second = json_body(&out.next_responses[0].body);
    assert_eq!((second["served_by_this_instance"].clone(), second["fastly_key_valid"].clone()), (2.into(), true.into()));
    assert_ne!(first["request_id"], second["request_id"], "each request has its own id");
    let third = json_body(&out.next_responses[1].body);
    assert_eq!((out.next_responses[1].response.status, third["served_by_this_instance"].clone()), (200, 3.into()));
    let taken: Vec<&str> = out
        .trace
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::NextRequest { url, .. } => Some(url.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(taken, ["http://localhost/second", "http://localhost/erl"]);
}

#[test]
fn an_instance_with_nothing_queued_ends_after_its_one_request() {
    let host = support::Host::new(Guest::EdgeFeatures, "{}");
    let out = host.requests_to_one_instance(DownstreamRequest::get("http://localhost/"), Vec::new());
    assert!(out.error.is_none(), "the guest exits normally: {:?}", out.error);
    assert_eq!(out.response.status, 200);
    assert!(out.next_responses.is_empty());
}

// ---- the cache APIs: core-cache (fastly::cache::core / simple) and http-cache (hooks) -----

/// A backend that numbers its answers (`answer 1`, `answer 2` …), optionally slowly, and
/// remembers what it was sent.
#[derive(Clone)]
struct NumberingOrigin {
    seen: Arc<Mutex<Vec<host_core::BackendRequest>>>,
    cache_control: &'static str,
    delay_ms: u64,
}

impl NumberingOrigin {
    fn new(cache_control: &'static str) -> NumberingOrigin {
        NumberingOrigin { seen: Arc::new(Mutex::new(Vec::new())), cache_control, delay_ms: 0 }
    }

    fn calls(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

impl host_core::native::Backends for NumberingOrigin {
    fn fetch(&self, request: host_core::BackendRequest) -> Result<BackendResponse, FetchError> {
        let n = {
            let mut seen = self.seen.lock().unwrap();
            seen.push(request);
            seen.len()
        };
        std::thread::sleep(std::time::Duration::from_millis(self.delay_ms));
        let mut headers = vec![("content-type".to_string(), b"text/plain".to_vec())];
        if !self.cache_control.is_empty() {
            headers.push(("cache-control".to_string(), self.cache_control.as_bytes().to_vec()));
        }
        Ok(BackendResponse { status: 200, headers, body: format!("answer {n}").into_bytes(), remote_addr: None })
    }
}

fn json_of(out: &host_core::Outcome) -> serde_json::Value {
    serde_json::from_slice(&out.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.body)))
}

const CORE_CACHE_CONFIG: &str = r#"{ "backends": { "compute": { "url": "http://compute.test" } } }"#;

#[test]
fn core_cache_computes_once_then_hits_until_the_ttl_runs_out() {
    let host = support::Host::new(Guest::CoreCache, CORE_CACHE_CONFIG);
    let origin = NumberingOrigin::new("");
    let get = || json_of(&host.request(DownstreamRequest::get("http://localhost/value?key=answer&ttl=30"), origin.clone()));

    let first = get();
    assert_eq!((first["source"].as_str(), first["value"].as_str()), (Some("computed"), Some("answer 1")));
    assert_eq!((first["max_age_s"].as_u64(), first["user_metadata"].as_str()), (Some(30), Some("computed for answer")));

    host.clock.advance(10);
    let second = get();
    assert_eq!((second["source"].as_str(), second["value"].as_str()), (Some("cache"), Some("answer 1")));
    assert_eq!((second["hits"].as_u64(), second["age_s"].as_u64(), second["remaining_ttl_s"].as_u64()), (Some(1), Some(10), Some(20)));
    assert_eq!(get()["hits"].as_u64(), Some(2));
    assert_eq!(origin.calls(), 1, "computed once");

    host.clock.advance(21);
    let expired = get();
    assert_eq!((expired["source"].as_str(), expired["value"].as_str()), (Some("computed"), Some("answer 2")));
    assert_eq!(origin.calls(), 2);
}

#[test]
fn core_cache_concurrent_transactions_wait_for_the_leaders_value() {
    let host = Arc::new(support::Host::new(Guest::CoreCache, CORE_CACHE_CONFIG));
    let mut origin = NumberingOrigin::new("");
    origin.delay_ms = 300;
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let (host, origin) = (host.clone(), origin.clone());
            std::thread::spawn(move || json_of(&host.request(DownstreamRequest::get("http://localhost/value?key=hot"), origin)))
        })
        .collect();
    let answers: Vec<serde_json::Value> = runs.into_iter().map(|r| r.join().unwrap()).collect();
    assert_eq!(origin.calls(), 1, "one request computed the value for all three");
    assert!(answers.iter().all(|a| a["value"] == "answer 1"), "{answers:?}");
    let computed = answers.iter().filter(|a| a["source"] == "computed").count();
    assert_eq!(computed, 1);
}

#[test]
fn core_cache_simple_api_keeps_the_value() {
    let host = support::Host::new(Guest::CoreCache, CORE_CACHE_CONFIG);
    for _ in 0..2 {
        let out = host.request(DownstreamRequest::get("http://localhost/simple?key=x"), support::no_network);
        assert_eq!((out.response.status, out.body.as_slice()), (200, &b"simple value for x"[..]));
    }
    let stores = host.stores.lock();
    let record = stores.cache.records().find(|r| r.key == "simple:x").expect("stored under its key");
    assert_eq!((record.max_age_s, record.hits), (60, 1));
}

const HTTP_CACHE_CONFIG: &str = r#"{ "backends": { "origin": { "url": "http://origin.test" } } }"#;

#[test]
fn http_cache_hooks_set_the_ttl_and_the_sdk_marks_hits() {
    let host = support::Host::new(Guest::HttpCache, HTTP_CACHE_CONFIG);
    let origin = NumberingOrigin::new("max-age=3600");
    let get = |path: &str| host.request(DownstreamRequest::get(&format!("http://www.example.test{path}")), origin.clone());

    let first = get("/articles/edge");
    assert_eq!((first.body.as_slice(), header(&first, "x-cache")), (&b"answer 1"[..], Some("MISS")));
    assert_eq!(header(&first, "x-edgeplay-ttl"), Some("60"));
    let sent = origin.seen.lock().unwrap()[0].clone();
    assert!(sent.headers.iter().any(|(n, v)| n == "x-edgeplay-fetch" && v == b"miss"), "before_send ran");

    host.clock.advance(5);
    let second = get("/articles/edge");
    assert_eq!((second.body.as_slice(), header(&second, "x-cache"), header(&second, "x-cache-hits")), (&b"answer 1"[..], Some("HIT"), Some("1")));
    assert_eq!((header(&second, "age"), header(&second, "x-edgeplay-ttl")), (Some("5"), Some("60")));
    assert_eq!(origin.calls(), 1);
    {
        let stores = host.stores.lock();
        assert_eq!(stores.cache.len(), 1, "stored once: the readthrough cache passed the guest's backend request");
        let record = stores.cache.records().next().unwrap();
        assert_eq!((record.max_age_s, record.surrogate_keys.clone()), (60, vec!["page".to_string(), "section-articles".to_string()]));
    }

    host.clock.advance(56);
    let expired = get("/articles/edge");
    assert_eq!((expired.body.as_slice(), header(&expired, "x-cache")), (&b"answer 2"[..], Some("MISS")), "the hook's 60 s, not the origin's hour");
}

#[test]
fn http_cache_hooks_shorten_or_refuse_caching_by_path() {
    let host = support::Host::new(Guest::HttpCache, HTTP_CACHE_CONFIG);
    let origin = NumberingOrigin::new("max-age=3600");
    let get = |path: &str| host.request(DownstreamRequest::get(&format!("http://www.example.test{path}")), origin.clone());

    get("/short/news");
    host.clock.advance(4);
    assert_eq!(header(&get("/short/news"), "x-cache"), Some("HIT"));
    host.clock.advance(2);
    assert_eq!(get("/short/news").body, b"answer 2", "5 s TTL from after_send");

    for _ in 0..2 {
        let out = get("/no-store/cart");
        assert_eq!((header(&out, "x-cache"), header(&out, "x-edgeplay-ttl")), (Some("MISS"), Some("none")));
    }
    assert_eq!(origin.calls(), 4);
    assert!(host.stores.lock().cache.records().all(|r| !r.key.contains("/no-store/")));
}

#[test]
fn http_cache_never_stores_a_private_response() {
    let host = support::Host::new(Guest::HttpCache, HTTP_CACHE_CONFIG);
    let origin = NumberingOrigin::new("private");
    for n in 1..=2 {
        let out = host.request(DownstreamRequest::get("http://www.example.test/me"), origin.clone());
        assert_eq!(out.body, format!("answer {n}").into_bytes());
        let not_stored = out.trace.events.iter().find_map(|e| match &e.kind {
            EventKind::Cache { outcome: host_core::trace::CacheOutcome::NotStored, note, .. } => Some(note.clone()),
            _ => None,
        });
        assert_eq!(not_stored.as_deref(), Some("Cache-Control: private"));
    }
    assert!(host.stores.lock().cache.is_empty());
}

#[test]
fn cache_example_configs_answer_offline() {
    for (guest, url, expect) in [
        (Guest::CoreCache, "http://localhost/value?key=answer", "the answer is 42"),
        (Guest::HttpCache, "http://localhost/articles/edge-caching", "Hello from the origin"),
    ] {
        let config = std::fs::read_to_string(support::guest_dir(guest.name()).join("config.json")).unwrap();
        let out = run(guest, &config, DownstreamRequest::get(url));
        assert_eq!(out.response.status, 200, "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.body).contains(expect), "{}", String::from_utf8_lossy(&out.body));
    }
}

// The JavaScript guests: Fastly's JS SDK, a whole JS engine (StarlingMonkey) pre-initialised
// with the script, running on the same hostcalls as the Rust guests.

#[test]
fn js_hello_says_hello() {
    let out = run(Guest::JsHello, &Guest::JsHello.example_config(), DownstreamRequest::get("http://localhost/"));
    assert!(out.error.is_none(), "{:?}\nstderr: {}", out.error, String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.response.status, 200);
    assert_eq!(header(&out, "content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(String::from_utf8_lossy(&out.body), "Hello from Edgeplay, in JavaScript!\n");
    assert!(out.trace.unsupported.is_empty(), "the JS runtime called unsupported imports: {:?}", out.trace.unsupported);
}

/// The page runs guests in small fuel slices; a slice may end just as the guest first calls a
/// function wasmi has not translated yet. The run must carry on (it once failed there).
#[test]
fn js_hello_answers_when_run_in_small_fuel_slices() {
    use host_core::{CompileOptions, Config, GuestModule, Step, Stores};
    let config = Config::default();
    let module = GuestModule::compile(&support::guest_wasm(Guest::JsHello), &CompileOptions::from_config(&config)).unwrap();
    let mut session = module
        .start(Arc::new(config.clone()), DownstreamRequest::get("http://localhost/"), host_core::native::StdPlatform::new(), Stores::shared(&config))
        .unwrap();
    let mut slices = 0;
    let out = loop {
        match session.step(10_000) {
            Step::Done(out) => break out,
            Step::Yield => slices += 1,
            other => panic!("js-hello makes no I/O: {other:?}"),
        }
    };
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(String::from_utf8_lossy(&out.body), "Hello from Edgeplay, in JavaScript!\n");
    assert!(slices > 50, "the run really was sliced ({slices} slices)");
}

#[test]
fn js_proxy_forwards_with_header_cache_override_and_rewrites_cache_control() {
    let out = proxies_like_the_tutorial(Guest::JsProxy);
    // `new CacheOverride("override", { ttl: 30 })` reaches the host as one cache-override call.
    let overrides: u32 = out.trace.hostcalls.iter().filter(|((m, n), _)| *m == "fastly_http_req" && n.starts_with("cache_override")).map(|(_, c)| c).sum();
    assert_eq!(overrides, 1, "{:?}", out.trace.hostcalls);
}

#[test]
fn js_proxy_caches_for_its_30_second_override_not_the_origins_max_age() {
    let host = support::Host::new(Guest::JsProxy, r#"{ "backends": { "httpme": { "url": "http://origin.test" } } }"#);
    let calls = Arc::new(Mutex::new(0));
    let origin = {
        let calls = calls.clone();
        move |_: host_core::BackendRequest| {
            let mut n = calls.lock().unwrap();
            *n += 1;
            let headers = vec![("cache-control".into(), b"public, max-age=300".to_vec())];
            Ok(BackendResponse { status: 200, headers, body: format!("answer {n}").into_bytes(), remote_addr: None })
        }
    };
    let get = || host.request(DownstreamRequest::get("http://www.example.test/api"), origin.clone());
    let decisions = |out: &host_core::Outcome| -> Vec<CacheOutcome> {
        out.trace.events.iter().filter_map(|e| match &e.kind { EventKind::Cache { outcome, .. } => Some(*outcome), _ => None }).collect()
    };

    let first = get();
    assert_eq!((first.response.status, first.body.as_slice()), (200, &b"answer 1"[..]));
    assert_eq!(decisions(&first), [CacheOutcome::Miss, CacheOutcome::Stored]);
    host.clock.advance(10);
    let hit = get();
    assert_eq!((hit.body.as_slice(), *calls.lock().unwrap()), (&b"answer 1"[..], 1), "served from cache");
    assert_eq!(decisions(&hit), [CacheOutcome::Hit]);
    assert_eq!(header(&hit, "age"), Some("10"));
    assert_eq!(header(&hit, "cache-control"), Some("public, max-age=60"), "the guest still rewrites a hit");
    host.clock.advance(21);
    let expired = get();
    assert_eq!(expired.body, b"answer 2", "expired after the 30 s override, not the origin's 300 s");
    assert_eq!(decisions(&expired), [CacheOutcome::Miss, CacheOutcome::Stored]);
}

#[test]
fn js_proxy_example_config_answers_offline_from_the_mock() {
    let out = run(Guest::JsProxy, &Guest::JsProxy.example_config(), DownstreamRequest::get("http://localhost/api/status"));
    assert_eq!(out.response.status, 200);
    assert_eq!(String::from_utf8_lossy(&out.body), "{\"origin\": \"httpme\", \"message\": \"fresh from the origin\"}\n");
    assert_eq!(header(&out, "cache-control"), Some("public, max-age=60"));
    let calls = out.trace.backend_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!((calls[0].backend.as_str(), calls[0].mock, calls[0].status), ("httpme", true, Some(200)));
}

#[test]
fn js_proxy_answers_502_when_the_backend_refuses() {
    let out = proxy_to_a_refusing_backend(Guest::JsProxy);
    assert_eq!(out.response.status, 502);
    let body = String::from_utf8_lossy(&out.body);
    assert_eq!(body, "backend request failed: NetworkError: Connection refused\n");
}

#[test]
fn js_geo_answers_the_clients_record_from_the_config() {
    let out = run(Guest::JsGeo, &Guest::JsGeo.example_config(), DownstreamRequest::get("http://localhost/"));
    assert_eq!(out.response.status, 200, "{}", String::from_utf8_lossy(&out.body));
    assert_eq!(header(&out, "content-type"), Some("application/json"));
    let json: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
    assert_eq!(json["ip"], "203.0.113.7");
    assert_eq!((json["geo"]["city"].as_str(), json["geo"]["country_code"].as_str()), (Some("Lisbon"), Some("PT")));
    assert_eq!((json["geo"]["as_number"].as_u64(), json["geo"]["latitude"].as_f64()), (Some(64500), Some(38.72)));
    assert_eq!(json["geo"]["proxy_type"], "?", "a field the config leaves out reads as production's absent value");
}

#[test]
fn js_kv_counter_counts_every_request_in_the_kv_store() {
    let host = support::Host::new(Guest::JsKvCounter, &Guest::JsKvCounter.example_config());
    let count = || {
        let out = host.request(DownstreamRequest::get("http://localhost/"), support::no_network);
        assert_eq!(out.response.status, 200, "{}", String::from_utf8_lossy(&out.body));
        serde_json::from_slice::<serde_json::Value>(&out.body).unwrap()
    };
    assert_eq!(count(), serde_json::json!({"key": "hits", "count": 42}), "the config seeds 41");
    assert_eq!(count(), serde_json::json!({"key": "hits", "count": 43}), "the next request reads what the last one wrote");
}
