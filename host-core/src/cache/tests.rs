use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::config::Config;
use crate::stores::Stores;

fn record(key: &str, max_age_s: u64, tags: &[&str]) -> CacheRecord {
    CacheRecord {
        key: key.to_string(),
        variant: Vec::new(),
        status: Some(200),
        headers: vec![("content-type".into(), "text/plain".into())],
        body: b"body".to_vec(),
        user_metadata: Vec::new(),
        stored_at_ms: 1_000_000,
        max_age_s,
        initial_age_s: 0,
        stale_while_revalidate_s: 10,
        surrogate_keys: tags.iter().map(|t| t.to_string()).collect(),
        hits: 0,
        soft_purged: false,
        pci: false,
        ttl_source: String::new(),
    }
}

fn header(name: &str, value: &str) -> (String, Vec<u8>) {
    (name.to_string(), value.as_bytes().to_vec())
}

#[test]
fn an_object_is_fresh_then_usable_stale_then_expired() {
    let r = record("k", 30, &[]);
    assert_eq!(r.freshness(1_000_000 + 29_000), Freshness::Fresh);
    assert_eq!(r.ttl_left_s(1_000_000 + 29_000), 1);
    assert_eq!(r.freshness(1_000_000 + 35_000), Freshness::StaleUsable);
    assert_eq!(r.freshness(1_000_000 + 41_000), Freshness::Expired);
}

#[test]
fn vary_keeps_one_variant_per_request_header_value() {
    let mut cache = Cache::default();
    let en = [header("accept-language", "en")];
    let pt = [header("accept-language", "pt")];
    for (lang, body) in [(&en, "hello"), (&pt, "olá")] {
        let mut r = record("k", 30, &[]);
        r.variant = variant_of(&["accept-language".to_string()], lang);
        r.body = body.as_bytes().to_vec();
        cache.insert(r);
    }
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.lookup("k", &en).unwrap().body, b"hello");
    assert_eq!(cache.lookup("k", &pt).unwrap().body, "olá".as_bytes());
    assert!(cache.lookup("k", &[header("accept-language", "fr")]).is_none());
}

#[test]
fn hard_purge_removes_tagged_objects_and_soft_purge_marks_them_stale() {
    let mut cache = Cache::default();
    cache.insert(record("a", 30, &["products", "p1"]));
    cache.insert(record("b", 30, &["products"]));
    cache.insert(record("c", 30, &["home"]));
    assert_eq!(cache.purge_surrogate_key("p1", true), 1);
    let a = cache.lookup("a", &[]).unwrap();
    assert_eq!(a.freshness(1_000_001), Freshness::StaleUsable, "soft purge keeps it for stale-while-revalidate");
    assert_eq!(cache.purge_surrogate_key("products", false), 2);
    assert!(cache.lookup("a", &[]).is_none() && cache.lookup("b", &[]).is_none());
    assert!(cache.lookup("c", &[]).is_some());
}

#[test]
fn one_request_fills_a_key_while_others_wait() {
    let mut cache = Cache::default();
    assert!(cache.begin_fill("k", 0));
    assert!(!cache.begin_fill("k", 10), "a second request waits");
    assert!(cache.begin_fill("k", FILL_TIMEOUT_MS + 1), "an abandoned fill does not block forever");
    cache.end_fill("k");
    assert!(!cache.fill_pending("k", 0));
}

#[test]
fn the_journal_restores_the_cache_but_never_holds_pci_objects() {
    let config = Config::default();
    let mut stores = Stores::from_config(&config);
    stores.cache.insert(record("public", 30, &[]));
    let mut secret = record("card", 30, &[]);
    secret.pci = true;
    stores.cache.insert(secret);
    stores.cache.purge_record("nothing");
    let journal = stores.take_journal();
    assert_eq!(journal.len(), 1, "{journal:?}");
    let text = serde_json::to_string(&journal).unwrap();
    let mut reloaded = Stores::from_config(&config);
    reloaded.restore(serde_json::from_str::<Vec<crate::stores::Change>>(&text).unwrap());
    assert!(reloaded.cache.lookup("public", &[]).is_some());
    assert!(reloaded.cache.lookup("card", &[]).is_none());
    assert!(reloaded.take_journal().is_empty(), "restoring is not a change");
}
