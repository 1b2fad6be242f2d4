//! KV stores: the data model. (The `fastly_kv_store` hostcalls are in `abi/kv_store.rs`.)

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::config::KvSeed;

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
}
