//! What stands behind a guest's cache handle (`fastly_cache`, `fastly_http_cache`): one lookup
//! of a key, what it found, and whether this request must fill the key (request collapsing).
//! Also the objects being written: a cache insert is a body the guest writes, stored when
//! the guest closes it.
//!
//! Lookups never block the hostcall that makes them. A transactional lookup of a key another
//! request is filling stays undecided; a short poll (an [`IoSlot::CacheWait`] sleep) decides
//! it once the fill ends, and the hostcalls that read a handle wait until it is decided. The
//! poll is what wakes a session waiting on another session: no I/O of its own would.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::readthrough::{self, CacheNote};
use super::{Cache, CacheRecord, Freshness};
use crate::handles::Handle;
use crate::http::RequestHead;
use crate::io::{IoId, IoKind};
use crate::state::{IoSlot, State};
use crate::stores::SharedStores;
use crate::trace::CacheOutcome;

/// `CacheLookupState` bits (fastly-sys `fastly_cache`).
pub const FOUND: u32 = 1 << 0;
pub const USABLE: u32 = 1 << 1;
pub const STALE: u32 = 1 << 2;
pub const MUST_INSERT_OR_UPDATE: u32 = 1 << 3;

/// Cache keys are at most 4 KiB of arbitrary bytes (fastly `cache::core::CacheKey`).
pub const MAX_KEY_BYTES: usize = 4096;

/// How often a lookup waiting for another request's fill checks again.
const POLL_MS: u64 = 2;

/// The `io` of cache trace events that belong to no backend request.
pub const NO_IO: IoId = 0;

/// A key as the cache stores it: the bytes when they are UTF-8, else `0x` and their hex.
pub fn key_string(bytes: &[u8]) -> String {
    match core::str::from_utf8(bytes) {
        Ok(key) => String::from(key),
        Err(_) => {
            let mut key = String::from("0x");
            for b in bytes {
                key.push_str(&alloc::format!("{b:02x}"));
            }
            key
        }
    }
}

/// Which API made the handle, and what it keeps for later calls.
#[derive(Debug, Clone)]
pub enum Kind {
    /// `fastly_cache` lookup or transaction.
    Core,
    /// `fastly_cache::transaction_lookup_async`: becomes a `Core` handle by `cache_busy_handle_wait`.
    Busy,
    /// `fastly_cache::replace`: a look at the current object before replacing it.
    Replace,
    /// `fastly_http_cache`: the request looked up, for the suggested backend request and the
    /// storage rules.
    Http(Box<HttpLookup>),
}

#[derive(Debug, Clone)]
pub struct HttpLookup {
    pub request: RequestHead,
    /// Why the storage rules refused the backend's response, for the trace of the abandon
    /// that follows.
    pub not_stored_because: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    /// The request headers the lookup was made with: they select the `Vary` variant.
    pub request_headers: Vec<(String, Vec<u8>)>,
    /// Takes part in request collapsing: the first to miss must insert, the others wait.
    pub transactional: bool,
    pub kind: Kind,
    /// `None` while another request fills the key.
    pub decided: Option<Decision>,
}

#[derive(Debug, Clone, Default)]
pub struct Decision {
    /// `CacheLookupState` bits.
    pub state: u32,
    /// The object as it was when looked up (a later insert does not change it under the guest).
    pub found: Option<CacheRecord>,
    /// This handle holds the key's fill: it must insert, update or cancel.
    pub obligated: bool,
    /// A stream-back handle: the object arrives when the guest closes body handle `n`.
    pub awaiting_body: Option<u32>,
}

impl Entry {
    pub fn new(key: String, request_headers: Vec<(String, Vec<u8>)>, transactional: bool, kind: Kind) -> Entry {
        Entry { key, request_headers, transactional, kind, decided: None }
    }

    /// The found object, when it may be served.
    pub fn usable(&self) -> Option<&CacheRecord> {
        let decided = self.decided.as_ref()?;
        decided.found.as_ref().filter(|_| decided.state & USABLE != 0)
    }
}

fn now_ms(st: &State) -> u64 {
    st.platform.unix_time_ns() / 1_000_000
}

/// Decides a lookup: found, must fill, or (transactional, another request filling) not yet.
/// Counts a hit on what it finds.
pub fn decide(cache: &mut Cache, entry: &Entry, now: u64) -> Option<(Decision, CacheNote)> {
    let note = |outcome, age_s, ttl_left_s, hits, why: &str| CacheNote {
        outcome,
        key: entry.key.clone(),
        age_s,
        ttl_left_s,
        hits,
        note: String::from(why),
    };
    let found = cache.lookup(&entry.key, &entry.request_headers).cloned();
    if let Some(mut record) = found {
        let freshness = record.freshness(now);
        if freshness != Freshness::Expired {
            let counts_hit = !matches!(entry.kind, Kind::Replace);
            if counts_hit {
                record.hits = cache.record_hit(&entry.key, &record.id());
            }
            let (age_s, ttl_left_s, hits) = (record.age_s(now), record.ttl_left_s(now), record.hits);
            let mut decision = Decision { state: FOUND | USABLE, obligated: false, awaiting_body: None, found: Some(record) };
            if freshness == Freshness::Fresh {
                return Some((decision, note(CacheOutcome::Hit, age_s, ttl_left_s, hits, "")));
            }
            decision.state |= STALE;
            // Within stale-while-revalidate: served, and one transaction refreshes it.
            decision.obligated = entry.transactional && cache.begin_fill(&entry.key, now);
            let why = if decision.obligated { "this request must refresh it" } else { "" };
            if decision.obligated {
                decision.state |= MUST_INSERT_OR_UPDATE;
            }
            return Some((decision, note(CacheOutcome::Stale, age_s, ttl_left_s, hits, why)));
        }
    }
    if !entry.transactional {
        return Some((Decision::default(), note(CacheOutcome::Miss, 0, 0, 0, "lookup without a transaction")));
    }
    if !cache.begin_fill(&entry.key, now) {
        return None;
    }
    let decision = Decision { state: MUST_INSERT_OR_UPDATE, obligated: true, ..Decision::default() };
    Some((decision, note(CacheOutcome::Miss, 0, 0, 0, "this request must insert it")))
}

/// Adds a looked-up handle: decided now if it can be, else waiting (and the poll armed).
pub fn open(st: &mut State, mut entry: Entry) -> u32 {
    let now = now_ms(st);
    let decided = decide(&mut st.stores.lock().cache, &entry, now);
    let note = match decided {
        Some((decision, note)) => {
            entry.decided = Some(decision);
            note
        }
        None => CacheNote::new(CacheOutcome::Collapsed, entry.key.clone(), "waiting for another request filling the same key"),
    };
    let waiting = entry.decided.is_none();
    let handle = st.handles.insert(Handle::Cache(entry));
    readthrough::trace(st, NO_IO, note);
    if waiting {
        arm_poll(st);
    }
    handle
}

/// Starts the session's poll unless one is under way.
fn arm_poll(st: &mut State) {
    if !st.io.slots.values().any(|s| matches!(s, IoSlot::CacheWait)) {
        st.io.start(Some(IoKind::Sleep { ms: POLL_MS }), IoSlot::CacheWait);
    }
}

/// The poll's sleep ended: decide what can be decided, and poll again while anything waits.
pub fn poll_done(st: &mut State, id: IoId) {
    st.io.slots.remove(&id);
    let now = now_ms(st);
    let mut notes = Vec::new();
    let mut still_waiting = false;
    {
        let mut stores = st.stores.lock();
        for (_, handle) in st.handles.iter_mut() {
            let Handle::Cache(entry) = handle else { continue };
            if entry.decided.is_some() {
                continue;
            }
            match decide(&mut stores.cache, entry, now) {
                Some((decision, mut note)) => {
                    if note.outcome == CacheOutcome::Hit {
                        note.note = String::from("collapsed onto the request that filled it");
                    }
                    entry.decided = Some(decision);
                    notes.push(note);
                }
                None => still_waiting = true,
            }
        }
    }
    for note in notes {
        readthrough::trace(st, NO_IO, note);
    }
    if still_waiting {
        arm_poll(st);
    }
}

/// Gives up the fill `entry` holds, if it holds one (cancel, close, or the session ending).
pub fn release(stores: &SharedStores, entry: &mut Entry) {
    if let Some(decision) = entry.decided.as_mut().filter(|d| d.obligated) {
        decision.obligated = false;
        stores.lock().cache.end_fill(&entry.key);
    }
}

// ---- writing objects -----------------------------------------------------------------------

/// An object whose body the guest is writing (body handle → what to store when it closes).
#[derive(Debug, Clone)]
pub struct PendingWrite {
    pub record: CacheRecord,
    /// The write fulfils a transaction: the key's fill ends with it.
    pub ends_fill: bool,
}

/// A record for `key` with the given freshness, stored now (its body comes later).
pub fn new_record(key: &str, now_ms: u64) -> CacheRecord {
    CacheRecord {
        key: String::from(key),
        variant: Vec::new(),
        status: None,
        headers: Vec::new(),
        body: Vec::new(),
        user_metadata: Vec::new(),
        stored_at_ms: now_ms,
        max_age_s: 0,
        initial_age_s: 0,
        stale_while_revalidate_s: 0,
        surrogate_keys: Vec::new(),
        hits: 0,
        soft_purged: false,
        pci: false,
        ttl_source: String::new(),
    }
}

/// Starts writing `write`: the guest gets a body handle; closing it stores the object.
pub fn begin_write(st: &mut State, write: PendingWrite) -> u32 {
    let body = st.handles.insert(Handle::Body(crate::body::Body::new()));
    st.cache_writes.push((body, write));
    body
}

/// The guest closed (`complete`) or abandoned body `body`: store the object it carried, or
/// give the key up. Bodies that are no cache write are left alone.
pub fn body_ended(st: &mut State, body: u32, bytes: Vec<u8>, complete: bool) {
    let Some(index) = st.cache_writes.iter().position(|(b, _)| *b == body) else { return };
    let (_, write) = st.cache_writes.remove(index);
    let mut record = write.record;
    let now = now_ms(st);
    let note = {
        let mut stores = st.stores.lock();
        if write.ends_fill {
            stores.cache.end_fill(&record.key);
        }
        if complete {
            record.body = bytes;
            record.stored_at_ms = now;
            stores.cache.insert(record.clone());
            CacheNote {
                outcome: CacheOutcome::Stored,
                key: record.key.clone(),
                age_s: record.age_s(now),
                ttl_left_s: record.ttl_left_s(now),
                hits: 0,
                note: if record.ttl_source.is_empty() { String::new() } else { alloc::format!("TTL from {}", record.ttl_source) },
            }
        } else {
            CacheNote::new(CacheOutcome::NotStored, record.key.clone(), "the guest abandoned the body")
        }
    };
    readthrough::trace(st, NO_IO, note);
    for (_, handle) in st.handles.iter_mut() {
        let Handle::Cache(entry) = handle else { continue };
        let Some(decision) = entry.decided.as_mut().filter(|d| d.awaiting_body == Some(body)) else { continue };
        decision.awaiting_body = None;
        if complete {
            decision.state = FOUND | USABLE;
            decision.found = Some(record.clone());
        } else {
            decision.state = 0;
        }
    }
}

/// A session that ends gives up every fill it still holds, so waiting requests go on.
pub fn release_all(st: &mut State) {
    let keys: Vec<String> = st
        .cache_writes
        .drain(..)
        .filter(|(_, w)| w.ends_fill)
        .map(|(_, w)| w.record.key)
        .chain(st.handles.iter_mut().filter_map(|(_, h)| match h {
            Handle::Cache(Entry { key, decided: Some(Decision { obligated: true, .. }), .. }) => Some(key.clone()),
            _ => None,
        }))
        .collect();
    let mut stores = st.stores.lock();
    for key in keys {
        stores.cache.end_fill(&key);
    }
}

