//! KV stores: the data model and the operations on it — insert with its modes and generation
//! check, lookup honouring TTLs, delete, list paging. The `fastly_kv_store` and
//! `fastly_object_store` hostcalls (`abi/kv_store.rs`, `abi/object_store.rs`) are thin layers
//! over the `Stores::kv_*` methods here, and the playground's KV editor calls the same methods,
//! so both see one set of rules. Those methods also journal every change.
//!
//! The rules follow production where Fastly documents them (the KV store item API, the SDKs'
//! docs and key checks) and Viceroy, Fastly's local server, where it does not.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::{Change, Stores};
use crate::config::KvSeed;

/// Longest key, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 1024;
/// Largest metadata, in bytes (the KV store item API: "up to 2,000 bytes").
pub const MAX_METADATA_BYTES: usize = 2000;
/// Largest value: production's default limit of 25 MB.
pub const MAX_VALUE_BYTES: usize = 25 * 1024 * 1024;
/// Keys per list page when the guest sets no limit (as Viceroy and the Rust SDK's iterator).
pub const DEFAULT_LIST_LIMIT: u32 = 1000;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct KvStore {
    pub entries: BTreeMap<String, KvEntry>,
}

/// One value with what production keeps beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KvEntry {
    #[serde(with = "super::bytes")]
    pub value: Vec<u8>,
    #[serde(default, with = "super::bytes::option", skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Vec<u8>>,
    /// Changes on every write; `if_generation_match` compares against it.
    pub generation: u64,
    /// When the entry expires (Unix milliseconds), for inserts with a TTL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<u64>,
}

impl KvEntry {
    /// Whether the entry is still there at `now_ms`: an expired entry reads as absent.
    pub fn is_live(&self, now_ms: u64) -> bool {
        self.expires_at_ms.is_none_or(|at| now_ms < at)
    }
}

/// Why a KV operation failed, as the ABI's `kv_error` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvError {
    /// The key, metadata, TTL, limit or cursor is not acceptable.
    BadRequest,
    NotFound,
    /// `if_generation_match` did not match, or an `add` found the key present.
    PreconditionFailed,
    /// The value or its metadata is over its size limit.
    PayloadTooLarge,
    /// No store by that name (the config dropped it while a handle was open).
    UnknownStore,
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KvError::BadRequest => "bad request",
            KvError::NotFound => "not found",
            KvError::PreconditionFailed => "precondition failed",
            KvError::PayloadTooLarge => "payload too large",
            KvError::UnknownStore => "no such KV store",
        })
    }
}

/// What is wrong with a key. Production's rules, as the SDKs document and check them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    Empty,
    TooLong,
    /// `.`, `..`, or under `.well-known/acme-challenge/`.
    Reserved,
    Forbidden(char),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Empty => f.write_str("a key cannot be empty"),
            KeyError::TooLong => write!(f, "a key cannot be longer than {MAX_KEY_BYTES} bytes"),
            KeyError::Reserved => f.write_str("a key cannot be `.`, `..` or start with `.well-known/acme-challenge/`"),
            KeyError::Forbidden(c) => write!(f, "a key cannot contain {c:?}"),
        }
    }
}

/// Checks a key against production's rules: 1 to 1024 bytes; not `.` or `..`; not under
/// `.well-known/acme-challenge/`; none of `\r \n # ; ? ^ |`; and not a single control
/// character, space, U+FFFE or U+FFFF.
pub fn check_key(key: &str) -> Result<(), KeyError> {
    if key.is_empty() {
        return Err(KeyError::Empty);
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(KeyError::TooLong);
    }
    if key == "." || key == ".." || key.starts_with(".well-known/acme-challenge/") {
        return Err(KeyError::Reserved);
    }
    if let Some(c) = key.chars().find(|c| matches!(c, '\r' | '\n' | '#' | ';' | '?' | '^' | '|')) {
        return Err(KeyError::Forbidden(c));
    }
    let mut chars = key.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        if c <= ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' {
            return Err(KeyError::Forbidden(c));
        }
    }
    Ok(())
}

/// What an insert does when the key already exists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InsertMode {
    #[default]
    Overwrite,
    /// Fails with "precondition failed" instead.
    Add,
    Append,
    Prepend,
}

/// An insert's options besides the key and value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Insert {
    pub mode: InsertMode,
    /// Only write if the key's generation is this one; 0 stands for "the key is absent"
    /// (the item API documents `add` as `if-generation-match: 0`).
    pub if_generation_match: Option<u64>,
    /// Replaces the old metadata; none leaves the entry without metadata.
    pub metadata: Option<Vec<u8>>,
    /// Seconds until the entry expires.
    pub ttl_sec: Option<u32>,
}

/// Which keys a list returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    pub prefix: Option<String>,
    /// Keys per page; `DEFAULT_LIST_LIMIT` when absent.
    pub limit: Option<u32>,
    /// A previous page's `next_cursor`: the page starts after it.
    pub cursor: Option<String>,
    /// Eventual consistency was asked for. One copy here is always consistent, but the answer
    /// says which mode it served, as production's does.
    pub eventual: bool,
}

/// One page of keys, in the JSON shape production's list returns and the SDKs parse:
/// `{"data": [keys…], "meta": {"limit": N, "prefix": "…", "next_cursor": "…"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListPage {
    pub data: Vec<String>,
    pub meta: ListMeta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListMeta {
    pub limit: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Present when more keys follow this page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// `"eventual"` for an eventual-consistency list; absent for strong (the default), as
    /// production leaves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<String>,
}

impl ListPage {
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a list page serializes")
    }
}

/// Cursors are opaque to guests; here one is the last key of a page, base64url so it can go
/// into a query string unescaped.
fn cursor_for(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

fn key_after_cursor(cursor: &str) -> Result<String, KvError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| KvError::BadRequest)?;
    String::from_utf8(bytes).map_err(|_| KvError::BadRequest)
}

fn check_metadata(metadata: &[u8]) -> Result<(), KvError> {
    if metadata.len() > MAX_METADATA_BYTES {
        return Err(KvError::PayloadTooLarge);
    }
    // Production carries metadata in an HTTP header: UTF-8 without CR or LF.
    match core::str::from_utf8(metadata) {
        Ok(text) if !text.contains(['\r', '\n']) => Ok(()),
        _ => Err(KvError::BadRequest),
    }
}

impl KvStore {
    pub fn seeded(seeds: &BTreeMap<String, KvSeed>) -> KvStore {
        let entries = seeds
            .iter()
            .map(|(key, seed)| {
                let (value, metadata) = match seed {
                    KvSeed::Data(data) => (data.clone(), None),
                    KvSeed::WithMetadata(entry) => (entry.data.clone(), entry.metadata.clone()),
                };
                let entry = KvEntry {
                    value: value.into_bytes(),
                    metadata: metadata.map(String::into_bytes),
                    generation: 1,
                    expires_at_ms: None,
                };
                (key.clone(), entry)
            })
            .collect();
        KvStore { entries }
    }

    /// The live entry under `key`.
    pub fn lookup(&self, key: &str, now_ms: u64) -> Option<&KvEntry> {
        self.entries.get(key).filter(|entry| entry.is_live(now_ms))
    }

    /// Writes `value` under `key` as `insert` says, at Unix time `now_ns`; returns the entry
    /// as stored. An expired entry counts as absent.
    pub fn insert(&mut self, key: &str, value: Vec<u8>, insert: &Insert, now_ns: u64) -> Result<&KvEntry, KvError> {
        let now_ms = now_ns / 1_000_000;
        check_key(key).map_err(|_| KvError::BadRequest)?;
        if let Some(metadata) = &insert.metadata {
            check_metadata(metadata)?;
        }
        if insert.ttl_sec == Some(0) {
            return Err(KvError::BadRequest);
        }
        let existing = self.lookup(key, now_ms);
        if let Some(wanted) = insert.if_generation_match {
            if existing.map_or(0, |entry| entry.generation) != wanted {
                return Err(KvError::PreconditionFailed);
            }
        }
        let value = match (insert.mode, existing) {
            (InsertMode::Add, Some(_)) => return Err(KvError::PreconditionFailed),
            (InsertMode::Append, Some(old)) => [old.value.as_slice(), &value].concat(),
            (InsertMode::Prepend, Some(old)) => [value.as_slice(), &old.value].concat(),
            _ => value,
        };
        if value.len() > MAX_VALUE_BYTES {
            return Err(KvError::PayloadTooLarge);
        }
        // Production's generations are opaque numbers that change on every write. Ours count
        // the key's writes (a new key is 1), which reads well in the page and stays within
        // JavaScript's safe integers; a deleted and re-created key starts again at 1.
        let previous = self.entries.get(key).map_or(0, |entry| entry.generation);
        let entry = KvEntry {
            value,
            metadata: insert.metadata.clone(),
            generation: previous + 1,
            expires_at_ms: insert.ttl_sec.map(|ttl| now_ms + u64::from(ttl) * 1000),
        };
        self.entries.insert(String::from(key), entry);
        Ok(&self.entries[key])
    }

    /// Removes `key`. NOT FOUND when it is absent or expired (an expired entry is removed too).
    pub fn delete(&mut self, key: &str, now_ms: u64) -> Result<(), KvError> {
        check_key(key).map_err(|_| KvError::BadRequest)?;
        match self.entries.remove(key) {
            Some(entry) if entry.is_live(now_ms) => Ok(()),
            _ => Err(KvError::NotFound),
        }
    }

    /// One page of live keys in byte order, after the cursor, starting with the prefix.
    pub fn list(&self, query: &ListQuery, now_ms: u64) -> Result<ListPage, KvError> {
        let limit = query.limit.unwrap_or(DEFAULT_LIST_LIMIT);
        if limit == 0 {
            return Err(KvError::BadRequest);
        }
        let after = query.cursor.as_deref().map(key_after_cursor).transpose()?;
        let prefix = query.prefix.as_deref().unwrap_or("");
        let mut keys = self
            .entries
            .iter()
            .filter(|(key, entry)| entry.is_live(now_ms) && key.starts_with(prefix))
            .map(|(key, _)| key)
            .filter(|key| after.as_ref().is_none_or(|after| key.as_str() > after.as_str()));
        let data: Vec<String> = keys.by_ref().take(limit as usize).cloned().collect();
        let more = keys.next().is_some();
        let meta = ListMeta {
            limit,
            prefix: query.prefix.clone(),
            next_cursor: more.then(|| cursor_for(data.last().expect("a full page"))),
            consistency: query.eventual.then(|| String::from("eventual")),
        };
        Ok(ListPage { data, meta })
    }
}

/// The KV operations on the shared stores, by store name: what the hostcalls and the
/// playground's editor call. Writes are journaled here, so no caller can forget.
impl Stores {
    fn kv_store(&self, store: &str) -> Result<&KvStore, KvError> {
        self.kv.get(store).ok_or(KvError::UnknownStore)
    }

    pub fn kv_lookup(&self, store: &str, key: &str, now_ns: u64) -> Result<Option<KvEntry>, KvError> {
        check_key(key).map_err(|_| KvError::BadRequest)?;
        Ok(self.kv_store(store)?.lookup(key, now_ns / 1_000_000).cloned())
    }

    pub fn kv_insert(&mut self, store: &str, key: &str, value: Vec<u8>, insert: &Insert, now_ns: u64) -> Result<(), KvError> {
        let kv = self.kv.get_mut(store).ok_or(KvError::UnknownStore)?;
        let entry = kv.insert(key, value, insert, now_ns)?.clone();
        self.journal(Change::KvPut { store: String::from(store), key: String::from(key), entry });
        Ok(())
    }

    pub fn kv_delete(&mut self, store: &str, key: &str, now_ns: u64) -> Result<(), KvError> {
        let kv = self.kv.get_mut(store).ok_or(KvError::UnknownStore)?;
        check_key(key).map_err(|_| KvError::BadRequest)?;
        let had_entry = kv.entries.contains_key(key);
        let result = kv.delete(key, now_ns / 1_000_000);
        if had_entry {
            self.journal(Change::KvDelete { store: String::from(store), key: String::from(key) });
        }
        result
    }

    pub fn kv_list(&self, store: &str, query: &ListQuery, now_ns: u64) -> Result<ListPage, KvError> {
        self.kv_store(store)?.list(query, now_ns / 1_000_000)
    }
}

#[cfg(test)]
mod tests;
