//! The cache every session shares: stored responses (or, for the core cache API, any object)
//! by key and variant, with their freshness, surrogate keys and hit counts.
//!
//! - `freshness`: whether and how long a backend response may be stored (pure rules).
//! - `readthrough`: the cache inside `send`, driven by the guest's cache override.
//! - `handle`: the lookups, transactions and inserts of the guest's cache APIs.
//!
//! Times are Unix milliseconds from the platform clock, so a TTL keeps counting down across a
//! reload of the page or a restart of `edgeplay serve`.

pub mod freshness;
pub mod handle;
pub mod readthrough;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::stores::Change;

/// How long a request for a key waits for another request already fetching it before giving
/// up on it (a fetch abandoned by a cancelled run must not block the key forever).
const FILL_TIMEOUT_MS: u64 = 60_000;

#[derive(Debug, Default)]
pub struct Cache {
    /// Variants of each key (one per distinct set of `Vary`-ed request header values).
    entries: BTreeMap<String, Vec<CacheRecord>>,
    /// Keys some request is fetching now, with when it started: later requests for the same
    /// key wait for it instead of going to the backend too (request collapsing).
    fills: BTreeMap<String, u64>,
    changes: Vec<Change>,
}

/// One stored object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheRecord {
    pub key: String,
    /// The request header values this variant was stored for: `(name, value)` per `Vary` name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variant: Vec<(String, Option<String>)>,
    /// The response status, for HTTP objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    #[serde(with = "crate::stores::bytes")]
    pub body: Vec<u8>,
    /// `fastly_cache` user metadata.
    #[serde(default, with = "crate::stores::bytes", skip_serializing_if = "Vec::is_empty")]
    pub user_metadata: Vec<u8>,
    pub stored_at_ms: u64,
    pub max_age_s: u64,
    /// How old the object already was when stored (the backend's `Age`).
    #[serde(default)]
    pub initial_age_s: u64,
    #[serde(default)]
    pub stale_while_revalidate_s: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub surrogate_keys: Vec<String>,
    #[serde(default)]
    pub hits: u64,
    /// Soft-purged: stale from now on, still usable within stale-while-revalidate.
    #[serde(default)]
    pub soft_purged: bool,
    /// Stored under a PCI override: kept in memory only, never written to disk.
    #[serde(default)]
    pub pci: bool,
    /// Where the TTL came from (for the inspector).
    #[serde(default)]
    pub ttl_source: String,
}

/// Where a stored object stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    /// Expired (or soft-purged) but within stale-while-revalidate: serve it, refresh it.
    StaleUsable,
    Expired,
}

impl CacheRecord {
    /// The record's identity among all records: its key and variant.
    pub fn id(&self) -> String {
        record_id(&self.key, &self.variant)
    }

    pub fn age_s(&self, now_ms: u64) -> u64 {
        self.initial_age_s + now_ms.saturating_sub(self.stored_at_ms) / 1000
    }

    /// Seconds of freshness left (negative once expired).
    pub fn ttl_left_s(&self, now_ms: u64) -> i64 {
        if self.soft_purged {
            return 0;
        }
        self.max_age_s as i64 - self.age_s(now_ms) as i64
    }

    pub fn freshness(&self, now_ms: u64) -> Freshness {
        let left = self.ttl_left_s(now_ms);
        if left > 0 && !self.soft_purged {
            Freshness::Fresh
        } else if -left < self.stale_while_revalidate_s as i64 {
            Freshness::StaleUsable
        } else {
            Freshness::Expired
        }
    }

    fn matches(&self, request_headers: &[(String, Vec<u8>)]) -> bool {
        self.variant.iter().all(|(name, value)| request_value(request_headers, name) == *value)
    }
}

fn record_id(key: &str, variant: &[(String, Option<String>)]) -> String {
    let mut id = String::from(key);
    for (name, value) in variant {
        id.push_str(&alloc::format!("\u{1f}{name}={}", value.as_deref().unwrap_or("")));
    }
    id
}

/// A request header's value as a `Vary` comparison sees it (repeated fields joined).
fn request_value(headers: &[(String, Vec<u8>)], name: &str) -> Option<String> {
    freshness::Headers::get_joined(headers, name)
}

/// The variant values a request selects, for the `Vary` names of a response.
pub fn variant_of(vary: &[String], request_headers: &[(String, Vec<u8>)]) -> Vec<(String, Option<String>)> {
    vary.iter().map(|name| (name.clone(), request_value(request_headers, name))).collect()
}

impl Cache {
    /// The stored variant of `key` that matches the request, if any (expired ones included:
    /// the caller decides with `freshness`).
    pub fn lookup(&self, key: &str, request_headers: &[(String, Vec<u8>)]) -> Option<&CacheRecord> {
        self.entries.get(key)?.iter().find(|r| r.matches(request_headers))
    }

    /// Counts a hit on the record `id`.
    pub fn record_hit(&mut self, key: &str, id: &str) -> u64 {
        let Some(record) = self.entries.get_mut(key).and_then(|v| v.iter_mut().find(|r| r.id() == id)) else { return 0 };
        record.hits += 1;
        record.hits
    }

    /// Stores `record`, replacing the variant it stands for.
    pub fn insert(&mut self, record: CacheRecord) {
        if !record.pci {
            self.changes.push(Change::CachePut { record: record.clone() });
        }
        self.put(record);
    }

    fn put(&mut self, record: CacheRecord) {
        let variants = self.entries.entry(record.key.clone()).or_default();
        let id = record.id();
        variants.retain(|r| r.id() != id);
        variants.push(record);
    }

    /// Loads a persisted record (not journaled again).
    pub fn restore(&mut self, record: CacheRecord) {
        self.put(record);
    }

    pub fn remove_record(&mut self, id: &str) {
        for variants in self.entries.values_mut() {
            variants.retain(|r| r.id() != id);
        }
        self.entries.retain(|_, v| !v.is_empty());
    }

    /// Removes one record (the inspector's purge of a single entry).
    pub fn purge_record(&mut self, id: &str) -> bool {
        let before = self.len();
        self.remove_record(id);
        let removed = self.len() < before;
        if removed {
            self.changes.push(Change::CacheDelete { id: String::from(id) });
        }
        removed
    }

    /// Purges every object tagged `surrogate_key`: removed, or with `soft` marked stale.
    /// Returns how many objects were purged.
    pub fn purge_surrogate_key(&mut self, surrogate_key: &str, soft: bool) -> usize {
        let mut purged = Vec::new();
        for variants in self.entries.values_mut() {
            for record in variants.iter_mut().filter(|r| r.surrogate_keys.iter().any(|k| k == surrogate_key)) {
                if soft {
                    record.soft_purged = true;
                    if !record.pci {
                        self.changes.push(Change::CachePut { record: record.clone() });
                    }
                } else {
                    self.changes.push(Change::CacheDelete { id: record.id() });
                }
                purged.push(record.id());
            }
            if !soft {
                variants.retain(|r| !r.surrogate_keys.iter().any(|k| k == surrogate_key));
            }
        }
        self.entries.retain(|_, v| !v.is_empty());
        purged.len()
    }

    /// Empties the cache.
    pub fn clear(&mut self) {
        let ids: Vec<String> = self.records().map(CacheRecord::id).collect();
        self.changes.extend(ids.into_iter().map(|id| Change::CacheDelete { id }));
        self.entries.clear();
    }

    pub fn records(&self) -> impl Iterator<Item = &CacheRecord> {
        self.entries.values().flatten()
    }

    /// Records that may be written to disk (PCI ones never are).
    pub fn persistable(&self) -> impl Iterator<Item = &CacheRecord> {
        self.records().filter(|r| !r.pci)
    }

    pub fn len(&self) -> usize {
        self.entries.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    // ---- request collapsing ---------------------------------------------------------------

    /// Claims the fetch of `key`: `false` when another request is already fetching it.
    pub fn begin_fill(&mut self, key: &str, now_ms: u64) -> bool {
        if self.fill_pending(key, now_ms) {
            return false;
        }
        self.fills.insert(String::from(key), now_ms);
        true
    }

    pub fn end_fill(&mut self, key: &str) {
        self.fills.remove(key);
    }

    pub fn fill_pending(&self, key: &str, now_ms: u64) -> bool {
        self.fills.get(key).is_some_and(|&started| now_ms.saturating_sub(started) < FILL_TIMEOUT_MS)
    }

    /// After a restart no fetch is in flight.
    pub fn forget_expired_fills(&mut self) {
        self.fills.clear();
    }

    pub(crate) fn take_changes(&mut self) -> Vec<Change> {
        core::mem::take(&mut self.changes)
    }
}

#[cfg(test)]
mod tests;
