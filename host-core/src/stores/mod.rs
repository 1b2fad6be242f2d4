//! State that outlives a request: KV stores and the cache, shared by every session of a
//! playground (or `edgeplay serve`), as they are shared by every request at the edge.
//!
//! Hostcalls read and change them in memory, synchronously. Every change is also recorded in
//! a journal of [`Change`]s; the embedder drains it after each request (`take_journal`) and
//! persists it — IndexedDB in the browser, a file under `edgeplay serve --state DIR`. A change
//! is always the record's new state (or its deletion), never a delta, so applying a journal
//! twice, or only its last write per record, gives the same stores.

pub mod bytes;
pub mod erl;
pub mod kv;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::cache::{Cache, CacheRecord};
use crate::config::Config;
use self::kv::{KvEntry, KvStore};

/// The stores every session of one playground shares.
pub type SharedStores = Arc<spin::Mutex<Stores>>;

#[derive(Debug, Default)]
pub struct Stores {
    pub kv: BTreeMap<String, KvStore>,
    pub cache: Cache,
    /// Edge Rate Limiting's counters and penalty boxes: shared, never persisted.
    pub erl: erl::Erl,
    journal: Vec<Change>,
}

/// One record's new state. `key()` names the record, so a persistence layer can store each
/// change as an upsert or delete of one row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    KvPut { store: String, key: String, entry: KvEntry },
    /// A deleted key stays deleted after a reload even when the config seeds it: a tombstone.
    KvDelete { store: String, key: String },
    CachePut { record: CacheRecord },
    CacheDelete { id: String },
}

impl Change {
    /// The row this change writes: `kv/<store>/<key>` or `cache/<id>`.
    pub fn key(&self) -> String {
        match self {
            Change::KvPut { store, key, .. } | Change::KvDelete { store, key } => alloc::format!("kv/{store}/{key}"),
            Change::CachePut { record } => alloc::format!("cache/{}", record.id()),
            Change::CacheDelete { id } => alloc::format!("cache/{id}"),
        }
    }
}

impl Stores {
    /// The stores as the config seeds them.
    pub fn from_config(config: &Config) -> Stores {
        let kv = config.kv_stores.iter().map(|(name, seeds)| (name.clone(), KvStore::seeded(seeds))).collect();
        Stores { kv, ..Stores::default() }
    }

    pub fn shared(config: &Config) -> SharedStores {
        Arc::new(spin::Mutex::new(Stores::from_config(config)))
    }

    /// Follows an edited config: KV stores it newly declares appear with their seed values,
    /// stores it no longer declares go. Existing stores keep their contents.
    pub fn adopt_config(&mut self, config: &Config) {
        self.kv.retain(|name, _| config.kv_stores.contains_key(name));
        for (name, seeds) in &config.kv_stores {
            self.kv.entry(name.clone()).or_insert_with(|| KvStore::seeded(seeds));
        }
    }

    /// Applies persisted changes over the config's seed: persisted state wins, and a key the
    /// person deleted stays deleted. Changes to stores the config no longer names are dropped
    /// (a KV store exists only if the config declares it, as a resource link does).
    /// Restoring is not journaled: it is what the persistence layer already holds.
    pub fn restore(&mut self, changes: impl IntoIterator<Item = Change>) {
        for change in changes {
            self.apply(change);
        }
        self.cache.forget_expired_fills();
    }

    fn apply(&mut self, change: Change) {
        match change {
            Change::KvPut { store, key, entry } => {
                if let Some(store) = self.kv.get_mut(&store) {
                    store.entries.insert(key, entry);
                }
            }
            Change::KvDelete { store, key } => {
                if let Some(store) = self.kv.get_mut(&store) {
                    store.entries.remove(&key);
                }
            }
            Change::CachePut { record } => self.cache.restore(record),
            Change::CacheDelete { id } => self.cache.remove_record(&id),
        }
    }

    /// Records a change for the persistence layer.
    pub fn journal(&mut self, change: Change) {
        self.journal.push(change);
    }

    /// The changes since the last call: what the embedder must persist now.
    pub fn take_journal(&mut self) -> Vec<Change> {
        let mut changes = core::mem::take(&mut self.journal);
        changes.extend(self.cache.take_changes());
        changes
    }

    /// Every record as a change, for writing a whole snapshot. Tombstones are included so a
    /// snapshot restores deletions of seeded keys.
    pub fn snapshot(&self, config: &Config) -> Vec<Change> {
        let mut out = Vec::new();
        for (name, store) in &self.kv {
            for (key, entry) in &store.entries {
                out.push(Change::KvPut { store: name.clone(), key: key.clone(), entry: entry.clone() });
            }
            if let Some(seeds) = config.kv_stores.get(name) {
                for key in seeds.keys().filter(|k| !store.entries.contains_key(*k)) {
                    out.push(Change::KvDelete { store: name.clone(), key: key.clone() });
                }
            }
        }
        out.extend(self.cache.persistable().map(|record| Change::CachePut { record: record.clone() }));
        out
    }
}
