//! The readthrough cache inside `send`: looks a request up before it goes to a backend and
//! stores what comes back, as Fastly's edge does for every Compute `send` that is not a pass.
//!
//! Choices where Fastly's documentation is silent (each follows what the SDKs' guest-side
//! HTTP cache does, or the least surprising reading):
//! - Only GET and HEAD are looked up; other methods pass. A HEAD is answered from a stored
//!   GET response (without its body) but a HEAD that misses is not stored.
//! - The key is the request's `Host` (else its URL's authority) and path with query, as in
//!   VCL's default hash, plus the backend: two backends asked for the same URL (a fan-out)
//!   answer differently, and a playground that mixed them up would teach the wrong lesson.
//! - A hit carries an `Age` header with the object's current age; nothing else is added.
//! - Hits do not count against `limits.backend_requests`: no backend request is made.

use alloc::string::String;
use alloc::vec::Vec;

use super::freshness::{self, Override};
use super::{CacheRecord, Freshness};
use crate::http::RequestHead;
use crate::io::{BackendResponse, IoId};
use crate::state::State;
use crate::trace::{CacheOutcome, EventKind};

/// What to store once the backend answers, and under which key.
#[derive(Debug, Clone)]
pub struct Fill {
    pub key: String,
    /// The request's headers, for the `Vary` variant of the response.
    pub request_headers: Vec<(String, Vec<u8>)>,
    pub over: Override,
    pub surrogate_keys: Vec<String>,
    pub pci: bool,
    /// A HEAD miss is fetched but not stored (its response has no body to serve GETs).
    pub store: bool,
    /// This request claimed the key's fetch: others wait for it (request collapsing).
    pub leader: bool,
}

/// What the cache does with one send.
#[derive(Debug)]
pub enum Lookup {
    /// Straight to the backend, nothing stored.
    Pass(&'static str),
    Hit(BackendResponse),
    /// Served stale; the fill refreshes the object in the background.
    Stale(BackendResponse, Fill),
    Miss(Fill),
    /// Another request is fetching this key: wait for its result.
    Wait(Fill),
}

/// `example.com/path?q @origin`.
pub fn cache_key(head: &RequestHead, backend: &str) -> String {
    let host = head.headers.get_str("host").or_else(|| head.authority()).unwrap_or("");
    alloc::format!("{host}{} @{backend}", head.path_and_query())
}

fn now_ms(st: &State) -> u64 {
    st.platform.unix_time_ns() / 1_000_000
}

/// Decides how `head` is served and records the decision in the trace (once `io` is known,
/// see [`trace`]).
pub fn lookup(st: &mut State, head: &RequestHead, backend: &str) -> (Lookup, CacheNote) {
    let over = &head.cache_override;
    let key = cache_key(head, backend);
    if over.pass {
        return (Lookup::Pass("the cache override says pass"), CacheNote::new(CacheOutcome::Pass, key, "cache override: pass"));
    }
    let is_head = head.method == "HEAD";
    if head.method != "GET" && !is_head {
        return (Lookup::Pass("method"), CacheNote::new(CacheOutcome::Pass, key, "only GET and HEAD are cached"));
    }
    let request_headers: Vec<(String, Vec<u8>)> = head.headers.iter().map(|(n, v)| (String::from(n), v.to_vec())).collect();
    let now = now_ms(st);
    let mut fill = Fill {
        key: key.clone(),
        request_headers,
        over: Override { ttl_s: over.ttl, stale_while_revalidate_s: over.stale_while_revalidate },
        surrogate_keys: over.surrogate_keys.as_deref().map(split_keys).unwrap_or_default(),
        pci: over.pci,
        store: !is_head,
        leader: false,
    };
    let mut stores = st.stores.lock();
    let cache = &mut stores.cache;
    let usable = cache.lookup(&key, &fill.request_headers).map(|r| r.freshness(now)).filter(|f| *f != Freshness::Expired);
    if let Some(freshness) = usable {
        let (response, mut note) = serve(cache, &key, &fill.request_headers, now, is_head).expect("looked up above");
        if freshness == Freshness::Fresh {
            return (Lookup::Hit(response), note);
        }
        // Stale within stale-while-revalidate: serve it, and refresh unless a refresh is
        // already under way.
        fill.leader = cache.begin_fill(&key, now);
        fill.store = true;
        note.outcome = CacheOutcome::Stale;
        note.note = String::from(if fill.leader { "revalidating in the background" } else { "already revalidating" });
        return (Lookup::Stale(response, fill), note);
    }
    if !is_head && !cache.begin_fill(&key, now) {
        return (Lookup::Wait(fill), CacheNote::new(CacheOutcome::Collapsed, key, "waiting for the same request in flight"));
    }
    fill.leader = !is_head;
    (Lookup::Miss(fill), CacheNote::new(CacheOutcome::Miss, key, ""))
}

/// Serves the stored variant of `key` the request selects: its response (with `Age`), and a
/// HIT note with the hit counted.
fn serve(
    cache: &mut super::Cache,
    key: &str,
    request_headers: &[(String, Vec<u8>)],
    now: u64,
    head_only: bool,
) -> Option<(BackendResponse, CacheNote)> {
    let record = cache.lookup(key, request_headers)?;
    let (id, response) = (record.id(), response_from(record, now, head_only));
    let (age_s, ttl_left_s) = (record.age_s(now), record.ttl_left_s(now));
    let hits = cache.record_hit(key, &id);
    Some((response, CacheNote { outcome: CacheOutcome::Hit, key: String::from(key), age_s, ttl_left_s, hits, note: String::new() }))
}

/// A waiting request checks again: the object arrived (a hit), or the other fetch ended
/// without storing it and this request goes to the backend itself (now as the leader).
pub enum Retry {
    StillWaiting,
    Hit(BackendResponse, CacheNote),
    Fetch,
}

pub fn retry_wait(st: &mut State, fill: &mut Fill) -> Retry {
    let now = now_ms(st);
    let mut stores = st.stores.lock();
    let cache = &mut stores.cache;
    if cache.fill_pending(&fill.key, now) {
        return Retry::StillWaiting;
    }
    if cache.lookup(&fill.key, &fill.request_headers).is_some_and(|r| r.freshness(now) == Freshness::Fresh) {
        let (response, mut note) = serve(cache, &fill.key, &fill.request_headers, now, false).expect("looked up above");
        note.note = String::from("collapsed onto the request that fetched it");
        return Retry::Hit(response, note);
    }
    fill.leader = cache.begin_fill(&fill.key, now);
    Retry::Fetch
}

/// The backend answered a miss (or a revalidation): store what may be stored.
pub fn store(st: &mut State, io: IoId, fill: &Fill, response: &BackendResponse) {
    let now = now_ms(st);
    let policy = freshness::policy(response.status, response.headers.as_slice(), fill.over, now / 1000);
    let note = {
        let mut stores = st.stores.lock();
        let cache = &mut stores.cache;
        if fill.leader {
            cache.end_fill(&fill.key);
        }
        let reason = if !fill.store { Some("a HEAD response is not stored") } else { policy.uncacheable };
        match reason {
            Some(reason) => CacheNote::new(CacheOutcome::NotStored, fill.key.clone(), reason),
            None => {
                let mut surrogate_keys = fill.surrogate_keys.clone();
                if let Some(tags) = freshness::Headers::get_joined(response.headers.as_slice(), "surrogate-key") {
                    surrogate_keys.extend(split_keys(&tags));
                }
                surrogate_keys.dedup();
                let record = CacheRecord {
                    key: fill.key.clone(),
                    variant: super::variant_of(&policy.vary, &fill.request_headers),
                    status: Some(response.status),
                    headers: response
                        .headers
                        .iter()
                        .map(|(n, v)| (n.clone(), String::from_utf8_lossy(v).into_owned()))
                        .collect(),
                    body: response.body.clone(),
                    user_metadata: Vec::new(),
                    stored_at_ms: now,
                    max_age_s: policy.max_age_s,
                    initial_age_s: policy.initial_age_s,
                    stale_while_revalidate_s: policy.stale_while_revalidate_s,
                    surrogate_keys,
                    hits: 0,
                    soft_purged: false,
                    pci: fill.pci,
                    ttl_source: String::from(policy.ttl_source.as_str()),
                };
                let ttl_left_s = record.ttl_left_s(now);
                cache.insert(record);
                CacheNote {
                    outcome: CacheOutcome::Stored,
                    key: fill.key.clone(),
                    age_s: policy.initial_age_s,
                    ttl_left_s,
                    hits: 0,
                    note: alloc::format!("TTL from {}", policy.ttl_source.as_str()),
                }
            }
        }
    };
    trace(st, io, note);
}

/// A fetch that failed releases the key for the requests waiting on it.
pub fn abandon(st: &mut State, fill: &Fill) {
    abandon_fill(&st.stores, fill);
}

pub fn abandon_fill(stores: &crate::stores::SharedStores, fill: &Fill) {
    if fill.leader {
        stores.lock().cache.end_fill(&fill.key);
    }
}

/// A stored response as a hit serves it: with its current `Age`.
pub fn response_from(record: &CacheRecord, now: u64, head_only: bool) -> BackendResponse {
    let mut headers: Vec<(String, Vec<u8>)> = record
        .headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("age"))
        .map(|(n, v)| (n.clone(), v.clone().into_bytes()))
        .collect();
    headers.push((String::from("age"), alloc::format!("{}", record.age_s(now)).into_bytes()));
    BackendResponse {
        status: record.status.unwrap_or(200),
        headers,
        body: if head_only { Vec::new() } else { record.body.clone() },
        remote_addr: None,
    }
}

/// Surrogate keys are space-separated.
pub fn split_keys(keys: &str) -> Vec<String> {
    keys.split_ascii_whitespace().map(String::from).collect()
}

/// A cache decision on its way to the trace.
#[derive(Debug, Clone)]
pub struct CacheNote {
    pub outcome: CacheOutcome,
    pub key: String,
    pub age_s: u64,
    pub ttl_left_s: i64,
    pub hits: u64,
    pub note: String,
}

impl CacheNote {
    /// A decision about no stored object (no age, TTL or hits to tell).
    pub fn new(outcome: CacheOutcome, key: String, why: &str) -> CacheNote {
        CacheNote { outcome, key, age_s: 0, ttl_left_s: 0, hits: 0, note: String::from(why) }
    }
}

pub fn trace(st: &mut State, io: IoId, note: CacheNote) {
    st.trace(EventKind::Cache {
        io,
        outcome: note.outcome,
        key: note.key,
        age_s: note.age_s,
        ttl_left_s: note.ttl_left_s,
        hits: note.hits,
        note: note.note,
    });
}
