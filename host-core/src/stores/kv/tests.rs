//! The store operations as the playground's editor calls them: journaling, persistence, and
//! what the hostcall tests (`abi/kv_store/tests.rs`) cannot see.

use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::config::Config;

const NOW: u64 = 1_700_000_000_000_000_000;

fn config() -> Config {
    Config::from_json(r#"{ "kv_stores": { "demo": { "seeded": "from the config" } } }"#).unwrap()
}

#[test]
fn writes_are_journaled_and_refused_writes_are_not() {
    let mut stores = Stores::from_config(&config());
    let insert = Insert { metadata: Some(b"m".to_vec()), ttl_sec: Some(60), ..Insert::default() };
    stores.kv_insert("demo", "k", b"v".to_vec(), &insert, NOW).unwrap();
    let add = Insert { mode: InsertMode::Add, ..Insert::default() };
    assert_eq!(stores.kv_insert("demo", "k", b"w".to_vec(), &add, NOW), Err(KvError::PreconditionFailed));
    assert_eq!(stores.kv_delete("demo", "seeded", NOW), Ok(()));
    assert_eq!(stores.kv_delete("demo", "never-there", NOW), Err(KvError::NotFound));
    let expected_entry = KvEntry {
        value: b"v".to_vec(),
        metadata: Some(b"m".to_vec()),
        generation: 1,
        expires_at_ms: Some(NOW / 1_000_000 + 60_000),
    };
    assert_eq!(
        stores.take_journal(),
        vec![
            Change::KvPut { store: "demo".into(), key: "k".into(), entry: expected_entry },
            Change::KvDelete { store: "demo".into(), key: "seeded".into() },
        ]
    );
}

#[test]
fn deleting_an_expired_entry_is_not_found_but_clears_it_from_the_journal_too() {
    let mut stores = Stores::from_config(&config());
    let ttl = Insert { ttl_sec: Some(1), ..Insert::default() };
    stores.kv_insert("demo", "short", b"v".to_vec(), &ttl, NOW).unwrap();
    stores.take_journal();
    assert_eq!(stores.kv_delete("demo", "short", NOW + 2_000_000_000), Err(KvError::NotFound));
    assert!(!stores.kv["demo"].entries.contains_key("short"));
    assert_eq!(stores.take_journal(), vec![Change::KvDelete { store: "demo".into(), key: "short".into() }]);
}

#[test]
fn a_snapshot_restores_values_metadata_generations_ttls_and_deletions() {
    let config = config();
    let mut stores = Stores::from_config(&config);
    let with_everything = Insert { metadata: Some(b"meta".to_vec()), ttl_sec: Some(3600), ..Insert::default() };
    stores.kv_insert("demo", "binary", vec![0, 159, 146, 150, 255], &with_everything, NOW).unwrap();
    stores.kv_delete("demo", "seeded", NOW).unwrap();
    let text = serde_json::to_string(&stores.snapshot(&config)).unwrap();

    let mut restarted = Stores::from_config(&config);
    restarted.restore(serde_json::from_str::<Vec<Change>>(&text).unwrap());
    assert_eq!(restarted.kv, stores.kv);
    assert_eq!(restarted.kv_lookup("demo", "seeded", NOW), Ok(None), "a deleted seed stays deleted");
    let binary = restarted.kv_lookup("demo", "binary", NOW).unwrap().unwrap();
    assert_eq!((binary.value, binary.generation), (vec![0, 159, 146, 150, 255], 1));
}

#[test]
fn operations_on_a_store_the_config_does_not_name_fail_plainly() {
    let mut stores = Stores::from_config(&config());
    assert_eq!(stores.kv_lookup("nope", "k", NOW), Err(KvError::UnknownStore));
    assert_eq!(stores.kv_insert("nope", "k", Vec::new(), &Insert::default(), NOW), Err(KvError::UnknownStore));
    assert_eq!(stores.kv_delete("nope", "k", NOW), Err(KvError::UnknownStore));
    assert_eq!(stores.kv_list("nope", &ListQuery::default(), NOW), Err(KvError::UnknownStore));
    assert!(stores.take_journal().is_empty());
}

#[test]
fn key_errors_explain_themselves_for_the_editor() {
    let cases = [
        ("", "a key cannot be empty"),
        ("..", "a key cannot be `.`, `..` or start with `.well-known/acme-challenge/`"),
        ("a|b", "a key cannot contain '|'"),
        ("\u{FFFF}", "a key cannot contain '\\u{ffff}'"),
    ];
    for (key, message) in cases {
        assert_eq!(check_key(key).unwrap_err().to_string(), message, "{key:?}");
    }
    assert_eq!(check_key(&"x".repeat(1025)).unwrap_err().to_string(), "a key cannot be longer than 1024 bytes");
    assert_eq!(check_key("\u{FFFF}x"), Ok(()), "only a lone U+FFFF is refused");
}
