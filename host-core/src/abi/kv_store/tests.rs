//! `fastly_kv_store` as a guest drives it: config structs in guest memory, pending handles,
//! `kv_error` out-parameters.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use super::*;
use crate::abi::testing::TestGuest;
use crate::config::Config;
use crate::state::{DownstreamRequest, Platform};

const OK: u32 = 1;
const BAD_REQUEST: u32 = 2;
const NOT_FOUND: u32 = 3;
const PRECONDITION_FAILED: u32 = 4;
const PAYLOAD_TOO_LARGE: u32 = 5;

/// A wall clock the test moves.
struct Clock(AtomicU64);

impl Platform for Clock {
    fn monotonic_ms(&self) -> f64 {
        0.0
    }
    fn unix_time_ns(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
    fn fill_random(&self, buf: &mut [u8]) {
        buf.fill(7);
    }
}

const START_NS: u64 = 1_700_000_000_000_000_000;

fn guest() -> (TestGuest, Arc<Clock>) {
    let config = Config::from_json(
        r#"{ "kv_stores": { "demo": {
               "greeting": "hello",
               "page": { "data": "<h1>hi</h1>", "metadata": "text/html" } } } }"#,
    )
    .unwrap();
    let mut g = TestGuest::with_config(config, DownstreamRequest::get("http://localhost/"));
    let clock = Arc::new(Clock(AtomicU64::new(START_NS)));
    g.state.platform = clock.clone();
    (g, clock)
}

fn open_store(g: &mut TestGuest, name: &str) -> (Status, u32) {
    let (p, l) = g.put(name);
    let out = g.alloc(4);
    (g.status(|cx| open(cx, p, l, out)), g.u32_at(out))
}

fn demo() -> (TestGuest, Arc<Clock>, u32) {
    let (mut g, clock) = guest();
    let (status, store) = open_store(&mut g, "demo");
    assert_eq!(status, Status::Ok);
    (g, clock, store)
}

/// The options of one insert, as a guest's `InsertConfig` and mask.
#[derive(Default, Clone)]
struct Opts {
    mode: u32,
    metadata: Option<Vec<u8>>,
    ttl_sec: Option<u32>,
    if_generation_match: Option<u64>,
}

fn write_insert_config(g: &mut TestGuest, opts: &Opts) -> (u32, u32) {
    let mut mask = 0;
    let mut config = [0u8; 32];
    config[0..4].copy_from_slice(&opts.mode.to_le_bytes());
    if let Some(metadata) = &opts.metadata {
        let (p, l) = g.put(metadata);
        config[8..12].copy_from_slice(&p.to_le_bytes());
        config[12..16].copy_from_slice(&l.to_le_bytes());
        mask |= INSERT_METADATA;
    }
    if let Some(ttl) = opts.ttl_sec {
        config[16..20].copy_from_slice(&ttl.to_le_bytes());
        mask |= INSERT_TTL;
    }
    if let Some(generation) = opts.if_generation_match {
        config[24..32].copy_from_slice(&generation.to_le_bytes());
        mask |= INSERT_IF_GENERATION_MATCH;
    }
    (mask, g.put(config).0)
}

fn new_body(g: &mut TestGuest, bytes: &[u8]) -> u32 {
    g.state.handles.insert(Handle::Body(Body::from_bytes(bytes.to_vec())))
}

/// `insert` then `insert_wait`: the status of the first, and the `kv_error` of the second.
fn insert_with(g: &mut TestGuest, store: u32, key: &str, value: &str, opts: &Opts) -> (Status, u32) {
    let (k, kl) = g.put(key);
    let body = new_body(g, value.as_bytes());
    let (mask, config) = write_insert_config(g, opts);
    let out = g.alloc(4);
    let status = g.status(|cx| insert(cx, store, k, kl, body, mask, config, out));
    if status != Status::Ok {
        return (status, 0);
    }
    let (pending, err) = (g.u32_at(out), g.alloc(4));
    assert_eq!(g.status(|cx| insert_wait(cx, pending, err)), Status::Ok);
    (status, g.u32_at(err))
}

/// What `lookup` + `lookup_wait_v2` tell the guest.
#[derive(Debug, PartialEq)]
struct Found {
    kv_error: u32,
    value: Option<String>,
    metadata: Option<String>,
    generation: u64,
}

fn lookup_key(g: &mut TestGuest, store: u32, key: &str) -> Found {
    let (k, kl) = g.put(key);
    let out = g.alloc(4);
    assert_eq!(g.status(|cx| lookup(cx, store, (k, kl), out)), Status::Ok, "lookup of {key:?}");
    let pending = g.u32_at(out);
    let (body, meta, nw, generation, err) = (g.alloc(4), g.alloc(2000), g.alloc(4), g.alloc(8), g.alloc(4));
    let status = g.status(|cx| lookup_wait(cx, pending, body, (meta, 2000), nw, GenerationOut::Full64At(generation), err));
    assert_eq!(status, Status::Ok);
    let kv_error = g.u32_at(err);
    if kv_error != OK {
        return Found { kv_error, value: None, metadata: None, generation: 0 };
    }
    let value = g.state.handles.take_body(g.u32_at(body)).unwrap().take();
    let metadata = (g.u32_at(nw) > 0).then(|| g.string_at(meta, g.u32_at(nw)));
    Found { kv_error, value: Some(String::from_utf8(value).unwrap()), metadata, generation: g.i64_at(generation) as u64 }
}

fn value_of(g: &mut TestGuest, store: u32, key: &str) -> Option<String> {
    lookup_key(g, store, key).value
}

#[test]
fn opening_finds_configured_stores_only() {
    let (mut g, _) = guest();
    assert_eq!(open_store(&mut g, "demo").0, Status::Ok);
    assert_eq!(open_store(&mut g, "missing").0, Status::Inval, "the Rust SDK reads INVAL as StoreNotFound");
    assert_eq!(open_store(&mut g, "").0, Status::Inval);
    let (p, l) = g.put(b"\xff");
    let out = g.alloc(4);
    assert_eq!(g.status(|cx| open(cx, p, l, out)), Status::Inval, "not UTF-8");
}

#[test]
fn lookups_return_value_metadata_and_generation() {
    let (mut g, _, store) = demo();
    let page = lookup_key(&mut g, store, "page");
    assert_eq!(
        page,
        Found { kv_error: OK, value: Some("<h1>hi</h1>".into()), metadata: Some("text/html".into()), generation: 1 },
        "a seeded entry is generation 1"
    );
    assert_eq!(lookup_key(&mut g, store, "greeting").metadata, None);
    assert_eq!(lookup_key(&mut g, store, "nope").kv_error, NOT_FOUND);
}

#[test]
fn keys_production_refuses_are_inval_where_the_operation_starts() {
    let (mut g, _, store) = demo();
    let long = "k".repeat(1025);
    let refused = ["", ".", "..", ".well-known/acme-challenge/token", "a#b", "a;b", "a?b", "a^b", "a|b", "a\rb", "a\nb", " ", "\t", &long];
    let out = g.alloc(4);
    for key in refused {
        let (k, kl) = g.put(key);
        assert_eq!(g.status(|cx| lookup(cx, store, (k, kl), out)), Status::Inval, "lookup {key:?}");
        assert_eq!(g.status(|cx| delete(cx, store, (k, kl), out)), Status::Inval, "delete {key:?}");
        assert_eq!(insert_with(&mut g, store, key, "v", &Opts::default()).0, Status::Inval, "insert {key:?}");
    }
    for key in ["k".repeat(1024).as_str(), "a/./b", "..x", "x", "ünï/cödé", ".well-known/other"] {
        assert_eq!(insert_with(&mut g, store, key, "v", &Opts::default()), (Status::Ok, OK), "{key:?} is a fine key");
    }
    let (k, kl) = g.put(b"\xc3(");
    assert_eq!(g.status(|cx| lookup(cx, store, (k, kl), out)), Status::Inval, "not UTF-8");
    assert_eq!(g.status(|cx| lookup(cx, 12345, (k, kl), out)), Status::Badf);
}

#[test]
fn every_insert_mode_against_a_present_and_an_absent_key() {
    let (mut g, _, store) = demo();
    // (mode, value already stored, value inserted, kv_error, value afterwards)
    let cases: [(u32, Option<&str>, &str, u32, &str); 8] = [
        (0, Some("old"), "new", OK, "new"),
        (0, None, "new", OK, "new"),
        (1, None, "new", OK, "new"),
        (1, Some("old"), "new", PRECONDITION_FAILED, "old"),
        (2, Some("old"), "+new", OK, "old+new"),
        (2, None, "new", OK, "new"),
        (3, Some("old"), "new+", OK, "new+old"),
        (3, None, "new", OK, "new"),
    ];
    for (i, (mode, before, value, kv_error, after)) in cases.into_iter().enumerate() {
        let key = alloc::format!("mode-{i}");
        if let Some(before) = before {
            assert_eq!(insert_with(&mut g, store, &key, before, &Opts::default()), (Status::Ok, OK));
        }
        let opts = Opts { mode, ..Opts::default() };
        assert_eq!(insert_with(&mut g, store, &key, value, &opts), (Status::Ok, kv_error), "case {i}");
        assert_eq!(value_of(&mut g, store, &key).as_deref(), Some(after), "case {i}");
    }
    let out = g.alloc(4);
    let (k, kl) = g.put("x");
    let body = new_body(&mut g, b"v");
    let (_, config) = write_insert_config(&mut g, &Opts { mode: 4, ..Opts::default() });
    assert_eq!(g.status(|cx| insert(cx, store, k, kl, body, 0, config, out)), Status::Inval, "no mode 4");
}

#[test]
fn if_generation_match_guards_writes() {
    let (mut g, clock, store) = demo();
    let guarded = |generation| Opts { if_generation_match: Some(generation), ..Opts::default() };
    assert_eq!(insert_with(&mut g, store, "greeting", "stale", &guarded(2)).1, PRECONDITION_FAILED);
    assert_eq!(value_of(&mut g, store, "greeting").as_deref(), Some("hello"), "a failed write changes nothing");
    assert_eq!(insert_with(&mut g, store, "greeting", "fresh", &guarded(1)).1, OK, "the seeded generation");
    let after = lookup_key(&mut g, store, "greeting");
    assert_eq!(after.value.as_deref(), Some("fresh"));
    assert_eq!(after.generation, 2, "a new generation on every write");
    assert_eq!(insert_with(&mut g, store, "greeting", "again", &guarded(1)).1, PRECONDITION_FAILED, "the old one is spent");
    assert_eq!(insert_with(&mut g, store, "greeting", "again", &guarded(2)).1, OK);
    assert_eq!(lookup_key(&mut g, store, "greeting").generation, 3);
    clock.0.fetch_add(5_000_000_000, Ordering::SeqCst);
    assert_eq!(insert_with(&mut g, store, "greeting", "later", &Opts::default()).1, OK);
    assert_eq!(lookup_key(&mut g, store, "greeting").generation, 4, "unconditional writes count too");

    // Generation 0 stands for "absent", as `add` does.
    assert_eq!(insert_with(&mut g, store, "fresh-key", "v", &guarded(0)).1, OK);
    assert_eq!(insert_with(&mut g, store, "fresh-key", "v", &guarded(0)).1, PRECONDITION_FAILED);
    assert_eq!(insert_with(&mut g, store, "other-key", "v", &guarded(42)).1, PRECONDITION_FAILED, "no generation to match");
}

#[test]
fn the_first_lookup_wait_carries_the_low_32_bits_of_the_generation() {
    let (mut g, _, store) = demo();
    insert_with(&mut g, store, "greeting", "x", &Opts::default());
    let (k, kl) = g.put("greeting");
    let out = g.alloc(4);
    g.status(|cx| lookup(cx, store, (k, kl), out));
    let pending = g.u32_at(out);
    let (body, meta, nw, generation, err) = (g.alloc(4), g.alloc(8), g.alloc(4), g.alloc(8), g.alloc(4));
    let status = g.status(|cx| lookup_wait(cx, pending, body, (meta, 8), nw, GenerationOut::Low32At(generation), err));
    assert_eq!(status, Status::Ok);
    assert_eq!(g.u32_at(generation), 2, "the seed was generation 1");
    assert_eq!(g.u32_at(generation + 4), 0, "nothing past the 32-bit out-parameter");
}

#[test]
fn metadata_is_stored_replaced_and_checked() {
    let (mut g, _, store) = demo();
    let with = |metadata: &[u8]| Opts { metadata: Some(metadata.to_vec()), ..Opts::default() };
    assert_eq!(insert_with(&mut g, store, "doc", "body", &with(b"{\"type\":\"json\"}")).1, OK);
    assert_eq!(lookup_key(&mut g, store, "doc").metadata.as_deref(), Some("{\"type\":\"json\"}"));
    assert_eq!(insert_with(&mut g, store, "doc", "body", &Opts::default()).1, OK);
    assert_eq!(lookup_key(&mut g, store, "doc").metadata, None, "an insert without metadata leaves none");

    assert_eq!(insert_with(&mut g, store, "doc", "x", &with(&[b'm'; 2000])).1, OK, "2000 bytes fit");
    assert_eq!(insert_with(&mut g, store, "doc", "x", &with(&[b'm'; 2001])).1, PAYLOAD_TOO_LARGE);
    assert_eq!(insert_with(&mut g, store, "doc", "x", &with(b"two\nlines")).1, BAD_REQUEST, "a header value in production");
    assert_eq!(insert_with(&mut g, store, "doc", "x", &with(b"\xff")).1, BAD_REQUEST, "not UTF-8");
    assert_eq!(insert_with(&mut g, store, "doc", "x", &with(b"")).0, Status::Inval, "the METADATA bit with no bytes");
}

#[test]
fn metadata_too_large_for_the_buffer_is_buflen_and_the_lookup_stays_pending() {
    let (mut g, _, store) = demo();
    let (k, kl) = g.put("page");
    let out = g.alloc(4);
    g.status(|cx| lookup(cx, store, (k, kl), out));
    let pending = g.u32_at(out);
    let (body, meta, nw, generation, err) = (g.alloc(4), g.alloc(16), g.alloc(4), g.alloc(8), g.alloc(4));
    let wait = |g: &mut TestGuest, cap: u32| {
        g.status(|cx| lookup_wait(cx, pending, body, (meta, cap), nw, GenerationOut::Full64At(generation), err))
    };
    assert_eq!(wait(&mut g, 4), Status::Buflen);
    assert_eq!(g.u32_at(nw), 9, "the size needed");
    assert_eq!(wait(&mut g, 16), Status::Ok);
    assert_eq!(g.string_at(meta, 9), "text/html");
    assert_eq!(wait(&mut g, 16), Status::Badf, "a delivered lookup is gone");
}

#[test]
fn ttl_entries_disappear_when_they_expire() {
    let (mut g, clock, store) = demo();
    let ttl = |sec| Opts { ttl_sec: Some(sec), ..Opts::default() };
    assert_eq!(insert_with(&mut g, store, "session", "token", &ttl(10)).1, OK);
    clock.0.fetch_add(9_999_000_000, Ordering::SeqCst);
    assert_eq!(value_of(&mut g, store, "session").as_deref(), Some("token"), "still there after 9.999 s");
    clock.0.fetch_add(1_000_000, Ordering::SeqCst);
    assert_eq!(lookup_key(&mut g, store, "session").kv_error, NOT_FOUND, "gone at 10 s");
    assert_eq!(list_keys(&mut g, store, &ListArgs::default()).1["data"], serde_json::json!(["greeting", "page"]));
    assert_eq!(insert_with(&mut g, store, "session", "new", &Opts { mode: 1, ..Opts::default() }).1, OK, "add: it is absent");
    assert_eq!(insert_with(&mut g, store, "x", "v", &ttl(0)).1, BAD_REQUEST, "a TTL of 0");
}

#[test]
fn deletes_remove_keys_and_report_missing_ones() {
    let (mut g, _, store) = demo();
    let (k, kl) = g.put("greeting");
    let (out, err) = (g.alloc(4), g.alloc(4));
    for expected in [OK, NOT_FOUND] {
        assert_eq!(g.status(|cx| delete(cx, store, (k, kl), out)), Status::Ok);
        let pending = g.u32_at(out);
        let status = g.status(|cx| delete_wait(cx, pending, err));
        assert_eq!((status, g.u32_at(err)), (Status::Ok, expected));
    }
    assert_eq!(lookup_key(&mut g, store, "greeting").kv_error, NOT_FOUND);
}

#[test]
fn inserting_takes_the_body_and_refuses_a_streaming_one() {
    let (mut g, _, store) = demo();
    let (k, kl) = g.put("k");
    let body = new_body(&mut g, b"v");
    let (mask, config) = write_insert_config(&mut g, &Opts::default());
    let out = g.alloc(4);
    assert_eq!(g.status(|cx| insert(cx, store, k, kl, body, mask, config, out)), Status::Ok);
    assert!(g.state.handles.body(body).is_err(), "the body is the store's now");
    let streaming = new_body(&mut g, b"v");
    g.state.handles.body_mut(streaming).unwrap().role = BodyRole::StreamingDownstream;
    assert_eq!(g.status(|cx| insert(cx, store, k, kl, streaming, mask, config, out)), Status::Inval);
    assert!(g.state.handles.body(streaming).is_ok(), "a refused body stays with the guest");
}

#[derive(Default)]
struct ListArgs<'a> {
    mode: u32,
    prefix: Option<&'a str>,
    limit: Option<u32>,
    cursor: Option<&'a str>,
}

/// `list` then `list_wait`: the `kv_error` and the body parsed as JSON.
fn list_keys(g: &mut TestGuest, store: u32, args: &ListArgs<'_>) -> (u32, serde_json::Value) {
    let (status, pending) = start_list(g, store, args);
    assert_eq!(status, Status::Ok);
    let (body, err) = (g.alloc(4), g.alloc(4));
    assert_eq!(g.status(|cx| list_wait(cx, pending, body, err)), Status::Ok);
    if g.u32_at(err) != OK {
        return (g.u32_at(err), serde_json::Value::Null);
    }
    let json = g.state.handles.take_body(g.u32_at(body)).unwrap().take();
    (OK, serde_json::from_slice(&json).unwrap())
}

fn start_list(g: &mut TestGuest, store: u32, args: &ListArgs<'_>) -> (Status, u32) {
    let mut mask = 0;
    let mut config = [0u8; 24];
    config[0..4].copy_from_slice(&args.mode.to_le_bytes());
    let mut text = |g: &mut TestGuest, at: usize, text: &str| {
        let (p, l) = g.put(text);
        config[at..at + 4].copy_from_slice(&p.to_le_bytes());
        config[at + 4..at + 8].copy_from_slice(&l.to_le_bytes());
    };
    if let Some(cursor) = args.cursor {
        text(g, 4, cursor);
        mask |= LIST_CURSOR;
    }
    if let Some(prefix) = args.prefix {
        text(g, 16, prefix);
        mask |= LIST_PREFIX;
    }
    if let Some(limit) = args.limit {
        config[12..16].copy_from_slice(&limit.to_le_bytes());
        mask |= LIST_LIMIT;
    }
    let config = g.put(config).0;
    let out = g.alloc(4);
    (g.status(|cx| list(cx, store, mask, config, out)), g.u32_at(out))
}

#[test]
fn lists_page_through_keys_with_a_prefix_and_a_cursor() {
    let (mut g, _, store) = demo();
    for key in ["a/3", "a/1", "b/1", "a/2"] {
        insert_with(&mut g, store, key, "v", &Opts::default());
    }
    let (kv_error, all) = list_keys(&mut g, store, &ListArgs::default());
    assert_eq!(kv_error, OK);
    assert_eq!(all, serde_json::json!({"data": ["a/1", "a/2", "a/3", "b/1", "greeting", "page"], "meta": {"limit": 1000}}));

    let first = list_keys(&mut g, store, &ListArgs { prefix: Some("a/"), limit: Some(2), ..ListArgs::default() }).1;
    assert_eq!(first["data"], serde_json::json!(["a/1", "a/2"]));
    assert_eq!(first["meta"]["limit"], 2);
    assert_eq!(first["meta"]["prefix"], "a/");
    let cursor = String::from(first["meta"]["next_cursor"].as_str().expect("more keys follow"));
    let second = list_keys(&mut g, store, &ListArgs { prefix: Some("a/"), limit: Some(2), cursor: Some(&cursor), ..ListArgs::default() }).1;
    assert_eq!(second, serde_json::json!({"data": ["a/3"], "meta": {"limit": 2, "prefix": "a/"}}), "the last page has no cursor");

    let exact = list_keys(&mut g, store, &ListArgs { prefix: Some("b/"), limit: Some(1), ..ListArgs::default() }).1;
    assert_eq!(exact["meta"].get("next_cursor"), None, "a full page with nothing after it");
    let eventual = list_keys(&mut g, store, &ListArgs { mode: 1, prefix: Some("zzz"), ..ListArgs::default() }).1;
    assert_eq!(eventual, serde_json::json!({"data": [], "meta": {"limit": 1000, "prefix": "zzz", "consistency": "eventual"}}));
}

#[test]
fn list_options_production_refuses() {
    let (mut g, _, store) = demo();
    assert_eq!(list_keys(&mut g, store, &ListArgs { cursor: Some("not a cursor!"), ..ListArgs::default() }).0, BAD_REQUEST);
    assert_eq!(list_keys(&mut g, store, &ListArgs { limit: Some(0), ..ListArgs::default() }).0, BAD_REQUEST);
    assert_eq!(start_list(&mut g, store, &ListArgs { prefix: Some(""), ..ListArgs::default() }).0, Status::Inval);
    assert_eq!(start_list(&mut g, store, &ListArgs { mode: 2, ..ListArgs::default() }).0, Status::Inval);
    assert_eq!(start_list(&mut g, 999, &ListArgs::default()).0, Status::Badf);
}

#[test]
fn an_insert_the_guest_never_waits_for_still_happens_and_is_journaled() {
    let (mut g, _, store) = demo();
    let (k, kl) = g.put("fire-and-forget");
    let body = new_body(&mut g, b"done");
    let (mask, config) = write_insert_config(&mut g, &Opts::default());
    let out = g.alloc(4);
    assert_eq!(g.status(|cx| insert(cx, store, k, kl, body, mask, config, out)), Status::Ok);
    assert_eq!(value_of(&mut g, store, "fire-and-forget").as_deref(), Some("done"));
    let journal = g.state.stores.lock().take_journal();
    assert!(
        matches!(&journal[..], [crate::stores::Change::KvPut { store, key, entry }]
            if store == "demo" && key == "fire-and-forget" && entry.value == b"done"),
        "{journal:?}"
    );
}
