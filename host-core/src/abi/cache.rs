//! `fastly_cache`: the core cache API (`fastly::cache::core`, and `simple` built on it) —
//! objects under keys of arbitrary bytes, with lookups, inserts, transactions that collapse
//! concurrent misses onto one filler, and replacement.
//!
//! Objects live in the same shared [`Cache`](crate::cache::Cache) as the HTTP caches. An
//! insert is a body the guest writes; the object is stored when the guest closes it (see
//! [`handle`]). Choices where production leaves room:
//! - Times are kept in whole seconds (as the readthrough cache keeps them): a `max_age` with a
//!   fraction of a second is rounded up.
//! - A lookup counts a hit on what it finds (so the first lookup after an insert reports 1).
//! - `on_behalf_of` (the SERVICE option) answers UNSUPPORTED: it needs Fastly's platform.
//! - The replace strategies all replace at once: an insert here is stored whole, when its
//!   body is closed, so there is no half-written object for them to differ on.

use alloc::string::String;
use alloc::vec::Vec;

use super::{wait_until, AbiError, AbiResult, Cx, Registry};
use crate::body::Body;
use crate::cache::handle::{self, Entry, Kind, PendingWrite, FOUND, MAX_KEY_BYTES, USABLE};
use crate::cache::{variant_of, CacheRecord};
use crate::handles::Handle;
use crate::state::State;
use crate::status::Status;

const M: &str = "fastly_cache";

pub fn link(r: &mut Registry<'_>) {
    r.func(M, "lookup", lookup);
    r.func(M, "insert", insert);
    r.func(M, "replace", replace);
    r.func(M, "replace_insert", replace_insert);
    r.func(M, "transaction_lookup", transaction_lookup);
    r.func(M, "transaction_lookup_async", transaction_lookup_async);
    r.func(M, "cache_busy_handle_wait", cache_busy_handle_wait);
    r.func(M, "transaction_insert", transaction_insert);
    r.func(M, "transaction_insert_and_stream_back", transaction_insert_and_stream_back);
    r.func(M, "transaction_update", transaction_update);
    r.func(M, "transaction_cancel", transaction_cancel);
    r.func(M, "close", close);
    r.func(M, "close_busy", close_busy);
    r.func(M, "get_state", |cx: &mut Cx<'_>, h: u32, out: u32| get_state(cx, Api::Lookup, h, out));
    r.func(M, "replace_get_state", |cx: &mut Cx<'_>, h: u32, out: u32| get_state(cx, Api::Replace, h, out));
    r.func(M, "get_user_metadata", |cx: &mut Cx<'_>, h: u32, buf: u32, len: u32, nw: u32| {
        get_user_metadata(cx, Api::Lookup, h, (buf, len), nw)
    });
    r.func(M, "replace_get_user_metadata", |cx: &mut Cx<'_>, h: u32, buf: u32, len: u32, nw: u32| {
        get_user_metadata(cx, Api::Replace, h, (buf, len), nw)
    });
    r.func(M, "get_body", |cx: &mut Cx<'_>, h: u32, mask: u32, opts: u32, out: u32| get_body(cx, Api::Lookup, h, (mask, opts), out));
    r.func(M, "replace_get_body", |cx: &mut Cx<'_>, h: u32, mask: u32, opts: u32, out: u32| {
        get_body(cx, Api::Replace, h, (mask, opts), out)
    });
    macro_rules! numbers {
        ($($name:literal, $replace_name:literal => $number:expr;)*) => {$(
            r.func(M, $name, |cx: &mut Cx<'_>, h: u32, out: u32| get_number(cx, Api::Lookup, h, $number, out));
            r.func(M, $replace_name, |cx: &mut Cx<'_>, h: u32, out: u32| get_number(cx, Api::Replace, h, $number, out));
        )*};
    }
    numbers! {
        "get_length", "replace_get_length" => Number::Length;
        "get_max_age_ns", "replace_get_max_age_ns" => Number::MaxAge;
        "get_stale_while_revalidate_ns", "replace_get_stale_while_revalidate_ns" => Number::StaleWhileRevalidate;
        "get_age_ns", "replace_get_age_ns" => Number::Age;
        "get_hits", "replace_get_hits" => Number::Hits;
    }
}

const NS_PER_S: u64 = 1_000_000_000;

fn now_ms(st: &State) -> u64 {
    st.platform.unix_time_ns() / 1_000_000
}

/// Nanoseconds from the guest as whole seconds, rounded up (a 1.5 s TTL lasts 2 s, not 1).
pub(super) fn ns_to_s(ns: u64) -> u64 {
    ns.div_ceil(NS_PER_S)
}

/// A key from the guest: at most 4 KiB of bytes.
fn read_key(cx: &Cx<'_>, ptr: u32, len: u32) -> Result<String, AbiError> {
    if len as usize > MAX_KEY_BYTES {
        return Err(Status::LimitExceeded.into());
    }
    Ok(handle::key_string(cx.mem.slice(ptr, len)?))
}

/// A request handle's headers, as the cache compares them for `Vary`.
pub(super) fn request_headers(st: &State, h: u32) -> Result<Vec<(String, Vec<u8>)>, AbiError> {
    Ok(st.handles.request(h)?.headers.iter().map(|(n, v)| (String::from(n), v.to_vec())).collect())
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

/// Rejects option bits that do not exist, and the ones asking to act for another service.
fn check_mask(mask: u32, known_bits: u32, service_bit: u32) -> AbiResult {
    if mask & !known_bits != 0 {
        return Err(Status::Inval.into());
    }
    if mask & service_bit != 0 {
        return Err(Status::Unsupported.into());
    }
    Ok(())
}

// ---- lookups ------------------------------------------------------------------------------

/// `CacheLookupOptionsMask`: REQUEST_HEADERS, SERVICE, ALWAYS_USE_REQUESTED_RANGE.
const LOOKUP_REQUEST_HEADERS: u32 = 1 << 1;
const LOOKUP_SERVICE: u32 = 1 << 2;
const LOOKUP_KNOWN: u32 = 0b1111;

/// `CacheLookupOptions`: request_headers handle, service ptr and length.
fn lookup_entry(cx: &Cx<'_>, key: (u32, u32), mask: u32, options: u32, transactional: bool, kind: Kind) -> Result<Entry, AbiError> {
    check_mask(mask, LOOKUP_KNOWN, LOOKUP_SERVICE)?;
    let key = read_key(cx, key.0, key.1)?;
    let headers = if mask & LOOKUP_REQUEST_HEADERS != 0 {
        let options = cx.mem.slice(options, 12)?;
        request_headers(cx.st, u32_at(options, 0))?
    } else {
        Vec::new()
    };
    Ok(Entry::new(key, headers, transactional, kind))
}

fn lookup(cx: &mut Cx<'_>, key: u32, key_len: u32, mask: u32, options: u32, handle_out: u32) -> AbiResult {
    let entry = lookup_entry(cx, (key, key_len), mask, options, false, Kind::Core)?;
    let h = handle::open(cx.st, entry);
    cx.mem.write_u32(handle_out, h)
}

/// The handle comes back at once; reading it waits while another request fills the key
/// (the SDK reads its state straight away).
fn transaction_lookup(cx: &mut Cx<'_>, key: u32, key_len: u32, mask: u32, options: u32, handle_out: u32) -> AbiResult {
    let entry = lookup_entry(cx, (key, key_len), mask, options, true, Kind::Core)?;
    let h = handle::open(cx.st, entry);
    cx.mem.write_u32(handle_out, h)
}

fn transaction_lookup_async(cx: &mut Cx<'_>, key: u32, key_len: u32, mask: u32, options: u32, busy_out: u32) -> AbiResult {
    let entry = lookup_entry(cx, (key, key_len), mask, options, true, Kind::Busy)?;
    let h = handle::open(cx.st, entry);
    cx.mem.write_u32(busy_out, h)
}

/// Waits until the busy lookup is decided; the busy handle becomes a cache handle.
fn cache_busy_handle_wait(cx: &mut Cx<'_>, busy: u32, handle_out: u32) -> AbiResult {
    entry(cx.st, busy, &[KindTag::Busy])?;
    wait_until(cx, move |cx| {
        if cx.st.handles.cache_entry(busy)?.decided.is_none() {
            return Err(AbiError::Pending);
        }
        let mut entry = cx.st.handles.take_cache_entry(busy)?;
        entry.kind = Kind::Core;
        let h = cx.st.handles.insert(Handle::Cache(entry));
        cx.mem.write_u32(handle_out, h)
    })
}

/// Dropping a lookup that must fill its key hands the fill on to the requests waiting for it.
fn close(cx: &mut Cx<'_>, h: u32) -> AbiResult {
    entry(cx.st, h, &[KindTag::Core, KindTag::Replace])?;
    let mut entry = cx.st.handles.take_cache_entry(h)?;
    handle::release(&cx.st.stores, &mut entry);
    Ok(())
}

fn close_busy(cx: &mut Cx<'_>, h: u32) -> AbiResult {
    entry(cx.st, h, &[KindTag::Busy])?;
    let mut entry = cx.st.handles.take_cache_entry(h)?;
    handle::release(&cx.st.stores, &mut entry);
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KindTag {
    Core,
    Busy,
    Replace,
}

/// The cache entry `h`, if it is one of `kinds` (BADF otherwise: another kind of handle).
fn entry<'s>(st: &'s State, h: u32, kinds: &[KindTag]) -> Result<&'s Entry, AbiError> {
    let entry = st.handles.cache_entry(h)?;
    let tag = match entry.kind {
        Kind::Core => KindTag::Core,
        Kind::Busy => KindTag::Busy,
        Kind::Replace => KindTag::Replace,
        Kind::Http(_) => return Err(Status::Badf.into()),
    };
    if !kinds.contains(&tag) {
        return Err(Status::Badf.into());
    }
    Ok(entry)
}

// ---- writing -------------------------------------------------------------------------------

/// `CacheWriteOptionsMask` bits.
const W_REQUEST_HEADERS: u32 = 1 << 1;
const W_VARY_RULE: u32 = 1 << 2;
const W_INITIAL_AGE_NS: u32 = 1 << 3;
const W_STALE_WHILE_REVALIDATE_NS: u32 = 1 << 4;
const W_SURROGATE_KEYS: u32 = 1 << 5;
const W_USER_METADATA: u32 = 1 << 7;
const W_SENSITIVE_DATA: u32 = 1 << 8;
const W_SERVICE: u32 = 1 << 10;
const W_KNOWN: u32 = (1 << 11) - 1;

/// `CacheWriteOptions` on wasm32: 80 bytes.
const WRITE_OPTIONS_SIZE: u32 = 80;

/// What the guest asked to store with an object.
#[derive(Debug, Default)]
struct WriteOptions {
    max_age_ns: u64,
    request_headers: Option<Vec<(String, Vec<u8>)>>,
    vary: Option<Vec<String>>,
    initial_age_ns: u64,
    stale_while_revalidate_ns: u64,
    surrogate_keys: Option<Vec<String>>,
    user_metadata: Option<Vec<u8>>,
    sensitive: bool,
}

/// Reads `CacheWriteOptions`: max_age_ns@0, request_headers@8, vary_rule ptr@12 len@16,
/// initial_age_ns@24, stale_while_revalidate_ns@32, surrogate_keys ptr@40 len@44, length@48,
/// user_metadata ptr@56 len@60, edge_max_age_ns@64, service ptr@72 len@76.
fn write_options(cx: &Cx<'_>, mask: u32, ptr: u32) -> Result<WriteOptions, AbiError> {
    check_mask(mask, W_KNOWN, W_SERVICE)?;
    let o = cx.mem.slice(ptr, WRITE_OPTIONS_SIZE)?;
    let words = |at: usize| -> Result<String, AbiError> { cx.mem.string(u32_at(o, at), u32_at(o, at + 4)) };
    let split = |s: String| -> Vec<String> { s.split_ascii_whitespace().map(String::from).collect() };
    Ok(WriteOptions {
        max_age_ns: u64_at(o, 0),
        request_headers: (mask & W_REQUEST_HEADERS != 0).then(|| request_headers(cx.st, u32_at(o, 8))).transpose()?,
        vary: (mask & W_VARY_RULE != 0)
            .then(|| words(12))
            .transpose()?
            .map(|v| split(v).into_iter().map(|n| n.to_ascii_lowercase()).collect()),
        initial_age_ns: if mask & W_INITIAL_AGE_NS != 0 { u64_at(o, 24) } else { 0 },
        stale_while_revalidate_ns: if mask & W_STALE_WHILE_REVALIDATE_NS != 0 { u64_at(o, 32) } else { 0 },
        surrogate_keys: (mask & W_SURROGATE_KEYS != 0).then(|| words(40)).transpose()?.map(split),
        user_metadata: (mask & W_USER_METADATA != 0).then(|| cx.mem.bytes(u32_at(o, 56), u32_at(o, 60))).transpose()?,
        sensitive: mask & W_SENSITIVE_DATA != 0,
    })
}

impl WriteOptions {
    /// The object these options describe for `key`, for a lookup made with `lookup_headers`.
    fn record(self, key: &str, lookup_headers: &[(String, Vec<u8>)], now: u64) -> CacheRecord {
        let headers = self.request_headers.as_deref().unwrap_or(lookup_headers);
        let mut record = handle::new_record(key, now);
        record.variant = variant_of(self.vary.as_deref().unwrap_or(&[]), headers);
        self.apply(&mut record);
        record
    }

    /// Sets the freshness and metadata of `record` (an insert, or an update of a found one).
    fn apply(self, record: &mut CacheRecord) {
        record.max_age_s = ns_to_s(self.max_age_ns);
        record.initial_age_s = self.initial_age_ns / NS_PER_S;
        record.stale_while_revalidate_s = ns_to_s(self.stale_while_revalidate_ns);
        record.ttl_source = String::from("the guest's max_age");
        record.soft_purged = false;
        if let Some(keys) = self.surrogate_keys {
            record.surrogate_keys = keys;
        }
        if let Some(metadata) = self.user_metadata {
            record.user_metadata = metadata;
        }
        record.pci = self.sensitive;
    }
}

/// A non-transactional insert: stored when the body closes, whoever else is filling the key.
fn insert(cx: &mut Cx<'_>, key: u32, key_len: u32, mask: u32, options: u32, body_out: u32) -> AbiResult {
    let key = read_key(cx, key, key_len)?;
    let options = write_options(cx, mask, options)?;
    let record = options.record(&key, &[], now_ms(cx.st));
    let body = handle::begin_write(cx.st, PendingWrite { record, ends_fill: false });
    cx.mem.write_u32(body_out, body)
}

/// The transaction `h` must fill its key: it gives up that duty to the write that does.
fn take_obligation(cx: &mut Cx<'_>, h: u32) -> Result<Entry, AbiError> {
    entry(cx.st, h, &[KindTag::Core])?;
    let entry = cx.st.handles.cache_entry_mut(h)?;
    let decision = entry.decided.as_mut().filter(|d| d.obligated).ok_or(Status::Badf)?;
    decision.obligated = false;
    Ok(entry.clone())
}

fn start_transaction_write(cx: &mut Cx<'_>, h: u32, mask: u32, options: u32) -> Result<u32, AbiError> {
    let options = write_options(cx, mask, options)?;
    let entry = take_obligation(cx, h)?;
    let record = options.record(&entry.key, &entry.request_headers, now_ms(cx.st));
    Ok(handle::begin_write(cx.st, PendingWrite { record, ends_fill: true }))
}

fn transaction_insert(cx: &mut Cx<'_>, h: u32, mask: u32, options: u32, body_out: u32) -> AbiResult {
    let body = start_transaction_write(cx, h, mask, options)?;
    cx.mem.write_u32(body_out, body)
}

/// Inserts, and hands back a handle that finds the object once its body is written.
fn transaction_insert_and_stream_back(cx: &mut Cx<'_>, h: u32, mask: u32, options: u32, body_out: u32, handle_out: u32) -> AbiResult {
    let body = start_transaction_write(cx, h, mask, options)?;
    let entry = cx.st.handles.cache_entry(h)?;
    let mut readback = Entry::new(entry.key.clone(), entry.request_headers.clone(), false, Kind::Core);
    readback.decided = Some(handle::Decision { state: FOUND | USABLE, awaiting_body: Some(body), ..Default::default() });
    let readback = cx.st.handles.insert(Handle::Cache(readback));
    cx.mem.write_u32(body_out, body)?;
    cx.mem.write_u32(handle_out, readback)
}

/// Freshens the found object with new metadata, keeping its body.
fn transaction_update(cx: &mut Cx<'_>, h: u32, mask: u32, options: u32) -> AbiResult {
    let options = write_options(cx, mask, options)?;
    entry(cx.st, h, &[KindTag::Core])?;
    let found = cx.st.handles.cache_entry(h)?.decided.as_ref().and_then(|d| d.found.clone()).ok_or(Status::Badf)?;
    let entry = take_obligation(cx, h)?;
    let now = now_ms(cx.st);
    let mut record = found;
    if let Some(vary) = &options.vary {
        record.variant = variant_of(vary, options.request_headers.as_deref().unwrap_or(&entry.request_headers));
    }
    options.apply(&mut record);
    record.stored_at_ms = now;
    store_update(cx.st, record, "updated by the transaction");
    Ok(())
}

/// Stores an updated object at once (no body to wait for) and ends the key's fill.
pub(super) fn store_update(st: &mut State, record: CacheRecord, why: &str) {
    let now = now_ms(st);
    let note = crate::cache::readthrough::CacheNote {
        outcome: crate::trace::CacheOutcome::Stored,
        key: record.key.clone(),
        age_s: record.age_s(now),
        ttl_left_s: record.ttl_left_s(now),
        hits: record.hits,
        note: String::from(why),
    };
    {
        let mut stores = st.stores.lock();
        stores.cache.end_fill(&record.key);
        // An update replaces the variant it freshens.
        stores.cache.insert(record);
    }
    crate::cache::readthrough::trace(st, handle::NO_IO, note);
}

fn transaction_cancel(cx: &mut Cx<'_>, h: u32) -> AbiResult {
    entry(cx.st, h, &[KindTag::Core])?;
    handle::release(&cx.st.stores, cx.st.handles.cache_entry_mut(h)?);
    Ok(())
}

// ---- replace -------------------------------------------------------------------------------

/// `CacheReplaceOptionsMask`: REQUEST_HEADERS, REPLACE_STRATEGY, SERVICE, ALWAYS_USE_REQUESTED_RANGE.
const REPLACE_REQUEST_HEADERS: u32 = 1 << 1;
const REPLACE_STRATEGY: u32 = 1 << 2;
const REPLACE_SERVICE: u32 = 1 << 3;
const REPLACE_KNOWN: u32 = 0b11111;

/// `CacheReplaceOptions`: request_headers@0, replace_strategy@4, service ptr@8 len@12.
fn replace(cx: &mut Cx<'_>, key: u32, key_len: u32, mask: u32, options: u32, handle_out: u32) -> AbiResult {
    check_mask(mask, REPLACE_KNOWN, REPLACE_SERVICE)?;
    let key = read_key(cx, key, key_len)?;
    let o = cx.mem.slice(options, 16)?;
    let strategy = u32_at(o, 4);
    if mask & REPLACE_STRATEGY != 0 && !(1..=3).contains(&strategy) {
        return Err(Status::Inval.into());
    }
    let headers = if mask & REPLACE_REQUEST_HEADERS != 0 { request_headers(cx.st, u32_at(o, 0))? } else { Vec::new() };
    let h = handle::open(cx.st, Entry::new(key, headers, false, Kind::Replace));
    cx.mem.write_u32(handle_out, h)
}

/// Writes the replacement; the replace handle is consumed.
fn replace_insert(cx: &mut Cx<'_>, h: u32, mask: u32, options: u32, body_out: u32) -> AbiResult {
    let options = write_options(cx, mask, options)?;
    entry(cx.st, h, &[KindTag::Replace])?;
    let entry = cx.st.handles.take_cache_entry(h)?;
    let record = options.record(&entry.key, &entry.request_headers, now_ms(cx.st));
    let body = handle::begin_write(cx.st, PendingWrite { record, ends_fill: false });
    cx.mem.write_u32(body_out, body)
}

// ---- reading a handle ----------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    Lookup,
    Replace,
}

impl Api {
    fn kinds(self) -> &'static [KindTag] {
        match self {
            Api::Lookup => &[KindTag::Core],
            Api::Replace => &[KindTag::Replace],
        }
    }
}

/// Runs `k` once handle `h` is decided and its object (if being written) is complete.
fn when_ready(cx: &mut Cx<'_>, api: Api, h: u32, k: impl FnMut(&mut Cx<'_>) -> AbiResult + Send + 'static) -> AbiResult {
    entry(cx.st, h, api.kinds())?;
    let mut k = k;
    wait_until(cx, move |cx| {
        match &entry(cx.st, h, api.kinds())?.decided {
            Some(decision) if decision.awaiting_body.is_none() => k(cx),
            _ => Err(AbiError::Pending),
        }
    })
}

fn get_state(cx: &mut Cx<'_>, api: Api, h: u32, out: u32) -> AbiResult {
    entry(cx.st, h, api.kinds())?;
    wait_until(cx, move |cx| match &entry(cx.st, h, api.kinds())?.decided {
        Some(decision) => cx.mem.write_u32(out, decision.state),
        None => Err(AbiError::Pending),
    })
}

/// The found object of a decided handle: NONE when nothing was found.
fn found(st: &State, api: Api, h: u32) -> Result<&CacheRecord, AbiError> {
    let entry = entry(st, h, api.kinds())?;
    entry.decided.as_ref().and_then(|d| d.found.as_ref()).ok_or_else(|| Status::None.into())
}

fn get_user_metadata(cx: &mut Cx<'_>, api: Api, h: u32, buf: (u32, u32), nwritten: u32) -> AbiResult {
    when_ready(cx, api, h, move |cx| {
        let metadata = &found(cx.st, api, h)?.user_metadata;
        cx.mem.write_fitting(buf.0, buf.1, metadata, nwritten)
    })
}

#[derive(Clone, Copy)]
enum Number {
    Length,
    MaxAge,
    StaleWhileRevalidate,
    Age,
    Hits,
}

fn get_number(cx: &mut Cx<'_>, api: Api, h: u32, number: Number, out: u32) -> AbiResult {
    when_ready(cx, api, h, move |cx| {
        let now = now_ms(cx.st);
        let record = found(cx.st, api, h)?;
        let value = match number {
            Number::Length => record.body.len() as u64,
            Number::MaxAge => record.max_age_s * NS_PER_S,
            Number::StaleWhileRevalidate => record.stale_while_revalidate_s * NS_PER_S,
            Number::Age => record.age_s(now) * NS_PER_S,
            Number::Hits => record.hits,
        };
        cx.mem.write_u64(out, value)
    })
}

/// `CacheGetBodyOptionsMask`: FROM, TO.
const BODY_FROM: u32 = 1 << 1;
const BODY_TO: u32 = 1 << 2;

/// The bytes of `body` a range asks for (both ends inclusive; `to` alone is a suffix length).
/// A range the object cannot satisfy gives the whole body, as production does for a body of
/// known length; `to` before `from` is INVAL.
pub(super) fn body_range(body: &[u8], from: Option<u64>, to: Option<u64>) -> Result<&[u8], AbiError> {
    let len = body.len() as u64;
    let range = match (from, to) {
        (Some(from), Some(to)) if to < from => return Err(Status::Inval.into()),
        (Some(from), Some(to)) if to < len => Some((from, to + 1)),
        (Some(from), None) if from < len => Some((from, len)),
        (None, Some(suffix)) if suffix <= len => Some((len - suffix, len)),
        _ => None,
    };
    Ok(match range {
        Some((start, end)) => &body[start as usize..end as usize],
        None => body,
    })
}

/// `CacheGetBodyOptions`: from@0, to@8. Each call gives a new body with the object's bytes.
fn get_body(cx: &mut Cx<'_>, api: Api, h: u32, options: (u32, u32), body_out: u32) -> AbiResult {
    let (mask, ptr) = options;
    if mask & !0b111 != 0 {
        return Err(Status::Inval.into());
    }
    let o = cx.mem.slice(ptr, 16)?;
    let from = (mask & BODY_FROM != 0).then(|| u64_at(o, 0));
    let to = (mask & BODY_TO != 0).then(|| u64_at(o, 8));
    when_ready(cx, api, h, move |cx| {
        let bytes = body_range(&found(cx.st, api, h)?.body, from, to)?.to_vec();
        let body = cx.st.handles.insert(Handle::Body(Body::from_bytes(bytes)));
        cx.mem.write_u32(body_out, body)
    })
}

#[cfg(test)]
mod tests;
