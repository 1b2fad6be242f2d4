//! `fastly_http_cache`: the HTTP cache API, which the `fastly` crate uses for guest-side
//! caching. Once `is_request_cacheable` answers, `Request::send` of a Rust guest no longer
//! relies on the readthrough cache: it opens a transaction here, sends the suggested backend
//! request itself, and stores the response with the options suggested here (after its
//! `before_send` / `after_send` hooks had their say).
//!
//! The storage rules and the suggested options come from [`freshness`] — the readthrough
//! cache's rules — with the request's cache override applied, and objects go to the same
//! shared cache under the same keys, so both paths see each other's objects.
//!
//! Avoiding a second store: the suggested backend request is marked
//! [`RequestHead::cached_by_guest`], and `send` passes the readthrough cache for such requests
//! (it would otherwise store the response too, and wait for the very transaction that sent it).
//!
//! Simplifications: a response the rules refuse is not stored and not remembered
//! (no hit-for-pass object: the next request for the key collapses and fetches again);
//! `stale-if-error` is accepted and reported as 0 (nothing here serves stale on errors).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::cache::{ns_to_s, request_headers, store_update};
use super::{wait_until, AbiError, AbiResult, Cx, Registry};
use crate::body::Body;
use crate::cache::freshness::{self, Override};
use crate::cache::handle::{self, Decision, Entry, HttpLookup, Kind, PendingWrite, FOUND, USABLE};
use crate::cache::readthrough::{self, CacheNote};
use crate::cache::{variant_of, CacheRecord};
use crate::handles::Handle;
use crate::http::{RequestHead, ResponseHead};
use crate::state::State;
use crate::status::Status;
use crate::trace::CacheOutcome;

const M: &str = "fastly_http_cache";

pub fn link(r: &mut Registry<'_>) {
    r.func(M, "is_request_cacheable", is_request_cacheable);
    r.func(M, "get_suggested_cache_key", get_suggested_cache_key);
    r.func(M, "lookup", |cx: &mut Cx<'_>, req: u32, mask: u32, opts: u32, out: u32| open(cx, req, (mask, opts), false, out));
    r.func(M, "transaction_lookup", |cx: &mut Cx<'_>, req: u32, mask: u32, opts: u32, out: u32| open(cx, req, (mask, opts), true, out));
    r.func(M, "transaction_insert", transaction_insert);
    r.func(M, "transaction_insert_and_stream_back", transaction_insert_and_stream_back);
    r.func(M, "transaction_update", transaction_update);
    r.func(M, "transaction_update_and_return_fresh", transaction_update_and_return_fresh);
    r.func(M, "transaction_choose_stale", transaction_choose_stale);
    r.func(M, "transaction_record_not_cacheable", transaction_record_not_cacheable);
    r.func(M, "transaction_abandon", transaction_abandon);
    r.func(M, "close", close);
    r.func(M, "get_suggested_backend_request", get_suggested_backend_request);
    r.func(M, "get_suggested_cache_options", get_suggested_cache_options);
    r.func(M, "prepare_response_for_storage", prepare_response_for_storage);
    r.func(M, "get_found_response", get_found_response);
    r.func(M, "get_state", get_state);
    r.func(M, "get_length", |cx: &mut Cx<'_>, h: u32, out: u32| get_number(cx, h, Number::Length, out));
    r.func(M, "get_max_age_ns", |cx: &mut Cx<'_>, h: u32, out: u32| get_number(cx, h, Number::MaxAge, out));
    r.func(M, "get_stale_while_revalidate_ns", |cx: &mut Cx<'_>, h: u32, out: u32| {
        get_number(cx, h, Number::StaleWhileRevalidate, out)
    });
    r.func(M, "get_stale_if_error_ns", |cx: &mut Cx<'_>, h: u32, out: u32| get_number(cx, h, Number::StaleIfError, out));
    r.func(M, "get_age_ns", |cx: &mut Cx<'_>, h: u32, out: u32| get_number(cx, h, Number::Age, out));
    r.func(M, "get_hits", |cx: &mut Cx<'_>, h: u32, out: u32| get_number(cx, h, Number::Hits, out));
    r.func(M, "get_sensitive_data", get_sensitive_data);
    r.func(M, "get_surrogate_keys", |cx: &mut Cx<'_>, h: u32, buf: u32, len: u32, nw: u32| {
        get_words(cx, h, Words::SurrogateKeys, (buf, len), nw)
    });
    r.func(M, "get_vary_rule", |cx: &mut Cx<'_>, h: u32, buf: u32, len: u32, nw: u32| get_words(cx, h, Words::VaryRule, (buf, len), nw));
}

const NS_PER_S: u64 = 1_000_000_000;

fn now_ms(st: &State) -> u64 {
    st.platform.unix_time_ns() / 1_000_000
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

/// GET and HEAD are cached (a HEAD is answered from the GET's object); other methods pass.
fn cacheable(head: &RequestHead) -> bool {
    head.method == "GET" || head.method == "HEAD"
}

fn is_request_cacheable(cx: &mut Cx<'_>, req: u32, out: u32) -> AbiResult {
    let cacheable = cacheable(cx.st.handles.request(req)?);
    cx.mem.write_u32(out, cacheable as u32)
}

/// The key the readthrough cache would use, without a backend (none is named here).
fn get_suggested_cache_key(cx: &mut Cx<'_>, req: u32, buf: u32, buf_len: u32, nwritten: u32) -> AbiResult {
    let key = readthrough::cache_key(cx.st.handles.request(req)?, "");
    cx.mem.write_fitting(buf, buf_len, key.as_bytes(), nwritten)
}

/// The request's cache override, as the storage rules take it.
fn override_of(head: &RequestHead) -> Override {
    Override { ttl_s: head.cache_override.ttl, stale_while_revalidate_s: head.cache_override.stale_while_revalidate }
}

// ---- lookups ------------------------------------------------------------------------------

/// `HttpCacheLookupOptionsMask`: OVERRIDE_KEY, BACKEND_NAME.
const LOOKUP_OVERRIDE_KEY: u32 = 1 << 1;
const LOOKUP_BACKEND_NAME: u32 = 1 << 2;

/// `HttpCacheLookupOptions`: override_key ptr@0 len@4, backend_name ptr@8 len@12. The key is
/// the override, else the readthrough cache's key for the request and backend.
fn open(cx: &mut Cx<'_>, req: u32, options: (u32, u32), transactional: bool, handle_out: u32) -> AbiResult {
    let (mask, ptr) = options;
    if mask & !0b111 != 0 {
        return Err(Status::Inval.into());
    }
    let o = cx.mem.slice(ptr, 16)?;
    let backend = if mask & LOOKUP_BACKEND_NAME != 0 { cx.mem.string(u32_at(o, 8), u32_at(o, 12))? } else { String::new() };
    let request = cx.st.handles.request(req)?.clone();
    let key = if mask & LOOKUP_OVERRIDE_KEY != 0 {
        let len = u32_at(o, 4);
        if len as usize > handle::MAX_KEY_BYTES {
            return Err(Status::LimitExceeded.into());
        }
        handle::key_string(cx.mem.slice(u32_at(o, 0), len)?)
    } else {
        readthrough::cache_key(&request, &backend)
    };
    let headers = request_headers(cx.st, req)?;
    let kind = Kind::Http(Box::new(HttpLookup { request, not_stored_because: None }));
    let h = handle::open(cx.st, Entry::new(key, headers, transactional, kind));
    cx.mem.write_u32(handle_out, h)
}

fn http_entry(st: &State, h: u32) -> Result<&Entry, AbiError> {
    let entry = st.handles.cache_entry(h)?;
    match entry.kind {
        Kind::Http(_) => Ok(entry),
        _ => Err(Status::Badf.into()),
    }
}

fn http_lookup(entry: &mut Entry) -> &mut HttpLookup {
    match &mut entry.kind {
        Kind::Http(lookup) => lookup,
        _ => unreachable!("checked by http_entry"),
    }
}

fn close(cx: &mut Cx<'_>, h: u32) -> AbiResult {
    http_entry(cx.st, h)?;
    let mut entry = cx.st.handles.take_cache_entry(h)?;
    handle::release(&cx.st.stores, &mut entry);
    Ok(())
}

/// The request to send to the backend on a miss: the looked-up request (a HEAD becomes a GET,
/// so the object can serve both), marked so the readthrough cache leaves it alone.
fn get_suggested_backend_request(cx: &mut Cx<'_>, h: u32, req_out: u32) -> AbiResult {
    let Kind::Http(lookup) = &http_entry(cx.st, h)?.kind else { unreachable!("checked by http_entry") };
    let mut request = lookup.request.clone();
    if request.method == "HEAD" {
        request.method = String::from("GET");
    }
    request.cached_by_guest = true;
    let req = cx.st.handles.insert(Handle::Request(request));
    cx.mem.write_u32(req_out, req)
}

// ---- storage decisions ---------------------------------------------------------------------

/// A response's headers as the storage rules read them.
fn header_list(head: &ResponseHead) -> Vec<(String, Vec<u8>)> {
    head.headers.iter().map(|(n, v)| (String::from(n), v.to_vec())).collect()
}

fn policy_for(st: &State, h: u32, resp: u32) -> Result<freshness::Policy, AbiError> {
    let Kind::Http(lookup) = &http_entry(st, h)?.kind else { unreachable!("checked by http_entry") };
    let head = st.handles.response(resp)?;
    Ok(freshness::policy(head.status, header_list(head).as_slice(), override_of(&lookup.request), now_ms(st) / 1000))
}

/// `HttpStorageAction`.
const ACTION_INSERT: u32 = 0;
const ACTION_UPDATE: u32 = 1;
const ACTION_DO_NOT_STORE: u32 = 2;

/// Insert what may be stored; a 304 freshens the stale object it revalidates; the rest is
/// not stored (the reason goes to the trace when the guest abandons the transaction).
/// The response to store is a new handle: the SDK closes the one it passed in.
fn prepare_response_for_storage(cx: &mut Cx<'_>, h: u32, resp: u32, action_out: u32, resp_out: u32) -> AbiResult {
    let policy = policy_for(cx.st, h, resp)?;
    let status = cx.st.handles.response(resp)?.status;
    let entry = cx.st.handles.cache_entry_mut(h)?;
    let revalidates = status == 304 && entry.decided.as_ref().is_some_and(|d| d.found.is_some());
    let action = if revalidates {
        ACTION_UPDATE
    } else if let Some(reason) = policy.uncacheable {
        http_lookup(entry).not_stored_because = Some(reason);
        ACTION_DO_NOT_STORE
    } else {
        ACTION_INSERT
    };
    let prepared = cx.st.handles.response(resp)?.clone();
    cx.mem.write_u32(action_out, action)?;
    let prepared = cx.st.handles.insert(Handle::Response(prepared));
    cx.mem.write_u32(resp_out, prepared)
}

/// `HttpCacheWriteOptionsMask` bits.
const W_VARY_RULE: u32 = 1 << 1;
const W_INITIAL_AGE_NS: u32 = 1 << 2;
const W_STALE_WHILE_REVALIDATE_NS: u32 = 1 << 3;
const W_SURROGATE_KEYS: u32 = 1 << 4;
const W_SENSITIVE_DATA: u32 = 1 << 6;
const W_STALE_IF_ERROR_NS: u32 = 1 << 7;
/// (LENGTH, bit 5, is accepted and not needed: the object's length is its body's.)
const W_KNOWN: u32 = 0xff;

/// `HttpCacheWriteOptions` on wasm32: max_age_ns@0, vary_rule ptr@8 len@12, initial_age_ns@16,
/// stale_while_revalidate_ns@24, surrogate_keys ptr@32 len@36, length@40, stale_if_error_ns@48.
const WRITE_OPTIONS_SIZE: u32 = 56;

/// The options the storage rules suggest for `resp`, written into the guest's struct. The
/// vary rule and surrogate keys go into the buffers the guest passed in `options`; when one
/// does not fit, its length is reported and the answer is BUFLEN (the SDK retries).
fn get_suggested_cache_options(cx: &mut Cx<'_>, h: u32, resp: u32, mask: u32, options: u32, mask_out: u32, options_out: u32) -> AbiResult {
    if mask & !W_KNOWN != 0 {
        return Err(Status::Inval.into());
    }
    let policy = policy_for(cx.st, h, resp)?;
    let Kind::Http(lookup) = &http_entry(cx.st, h)?.kind else { unreachable!("checked by http_entry") };
    let over = &lookup.request.cache_override;
    let mut keys: Vec<String> = over.surrogate_keys.as_deref().map(readthrough::split_keys).unwrap_or_default();
    if let Some(tags) = cx.st.handles.response(resp)?.headers.get_str("surrogate-key") {
        keys.extend(readthrough::split_keys(tags));
    }
    let surrogate_keys = keys.join(" ");
    let vary_rule = policy.vary.join(" ");
    let sensitive = over.pci;

    let given = cx.mem.bytes(options, WRITE_OPTIONS_SIZE)?;
    let mut out = [0u8; WRITE_OPTIONS_SIZE as usize];
    let mut put = |at: usize, bytes: &[u8]| out[at..at + bytes.len()].copy_from_slice(bytes);
    put(0, &(policy.max_age_s * NS_PER_S).to_le_bytes());
    put(16, &(policy.initial_age_s * NS_PER_S).to_le_bytes());
    put(24, &(policy.stale_while_revalidate_s * NS_PER_S).to_le_bytes());
    let mut supplied = mask & (W_INITIAL_AGE_NS | W_STALE_WHILE_REVALIDATE_NS | W_STALE_IF_ERROR_NS);
    if sensitive {
        supplied |= mask & W_SENSITIVE_DATA;
    }
    let mut too_small = false;
    for (bit, at, text) in [(W_VARY_RULE, 8usize, &vary_rule), (W_SURROGATE_KEYS, 32, &surrogate_keys)] {
        if mask & bit == 0 {
            continue;
        }
        supplied |= bit;
        let (ptr, cap) = (u32_at(&given, at), u32_at(&given, at + 4));
        put(at, &ptr.to_le_bytes());
        put(at + 4, &(text.len() as u32).to_le_bytes());
        if text.len() > cap as usize {
            too_small = true;
        } else {
            cx.mem.write(ptr, text.as_bytes())?;
        }
    }
    cx.mem.write(options_out, &out)?;
    cx.mem.write_u32(mask_out, supplied)?;
    if too_small {
        return Err(Status::Buflen.into());
    }
    Ok(())
}

/// What the guest decided to store: the suggested options, possibly changed by its hooks.
#[derive(Debug)]
struct WriteOptions {
    max_age_ns: u64,
    vary: Option<Vec<String>>,
    initial_age_ns: u64,
    stale_while_revalidate_ns: u64,
    surrogate_keys: Option<Vec<String>>,
    sensitive: bool,
}

fn write_options(cx: &Cx<'_>, mask: u32, ptr: u32) -> Result<WriteOptions, AbiError> {
    if mask & !W_KNOWN != 0 {
        return Err(Status::Inval.into());
    }
    let o = cx.mem.slice(ptr, WRITE_OPTIONS_SIZE)?;
    let words = |at: usize| -> Result<Vec<String>, AbiError> {
        Ok(cx.mem.str(u32_at(o, at), u32_at(o, at + 4))?.split_ascii_whitespace().map(String::from).collect())
    };
    Ok(WriteOptions {
        max_age_ns: u64_at(o, 0),
        vary: (mask & W_VARY_RULE != 0)
            .then(|| words(8))
            .transpose()?
            .map(|names| names.into_iter().map(|n| n.to_ascii_lowercase()).collect()),
        initial_age_ns: if mask & W_INITIAL_AGE_NS != 0 { u64_at(o, 16) } else { 0 },
        stale_while_revalidate_ns: if mask & W_STALE_WHILE_REVALIDATE_NS != 0 { u64_at(o, 24) } else { 0 },
        surrogate_keys: (mask & W_SURROGATE_KEYS != 0).then(|| words(32)).transpose()?,
        sensitive: mask & W_SENSITIVE_DATA != 0,
    })
}

impl WriteOptions {
    /// Sets the freshness of `record`; `ttl_source` says where the TTL came from when it is
    /// the one the storage rules suggested.
    fn apply(self, record: &mut CacheRecord, suggested: &freshness::Policy) {
        record.max_age_s = ns_to_s(self.max_age_ns);
        record.initial_age_s = self.initial_age_ns / NS_PER_S;
        record.stale_while_revalidate_s = ns_to_s(self.stale_while_revalidate_ns);
        record.ttl_source = String::from(if record.max_age_s == suggested.max_age_s {
            suggested.ttl_source.as_str()
        } else {
            "the guest (a TTL override or its after_send hook)"
        });
        record.soft_purged = false;
        if let Some(mut keys) = self.surrogate_keys {
            // The SDK adds the response's Surrogate-Key to the suggested keys it got from here.
            let mut seen = Vec::new();
            keys.retain(|k| !seen.contains(k) && {
                seen.push(k.clone());
                true
            });
            record.surrogate_keys = keys;
        }
        record.pci = self.sensitive;
    }
}

/// The stored form of a response's head.
fn stored_headers(head: &ResponseHead) -> Vec<(String, String)> {
    head.headers.iter().map(|(n, v)| (String::from(n), String::from_utf8_lossy(v).into_owned())).collect()
}

/// The transaction `h` gives up its duty to fill the key (BADF when it had none).
fn take_obligation(st: &mut State, h: u32) -> Result<Entry, AbiError> {
    http_entry(st, h)?;
    let entry = st.handles.cache_entry_mut(h)?;
    let decision = entry.decided.as_mut().filter(|d| d.obligated).ok_or(Status::Badf)?;
    decision.obligated = false;
    Ok(entry.clone())
}

/// Starts storing response `resp` (consumed): its body is what the guest writes next.
fn start_insert(cx: &mut Cx<'_>, h: u32, resp: u32, mask: u32, options: u32) -> Result<(u32, Entry), AbiError> {
    let options = write_options(cx, mask, options)?;
    let policy = policy_for(cx.st, h, resp)?;
    let entry = take_obligation(cx.st, h)?;
    let head = cx.st.handles.take_response(resp)?;
    let mut record = handle::new_record(&entry.key, now_ms(cx.st));
    record.variant = variant_of(options.vary.as_deref().unwrap_or(&[]), &entry.request_headers);
    record.status = Some(head.status);
    record.headers = stored_headers(&head);
    options.apply(&mut record, &policy);
    let body = handle::begin_write(cx.st, PendingWrite { record, ends_fill: true });
    Ok((body, entry))
}

fn transaction_insert(cx: &mut Cx<'_>, h: u32, resp: u32, mask: u32, options: u32, body_out: u32) -> AbiResult {
    let (body, _) = start_insert(cx, h, resp, mask, options)?;
    cx.mem.write_u32(body_out, body)
}

#[allow(clippy::too_many_arguments)]
fn transaction_insert_and_stream_back(cx: &mut Cx<'_>, h: u32, resp: u32, mask: u32, options: u32, body_out: u32, handle_out: u32) -> AbiResult {
    let (body, mut entry) = start_insert(cx, h, resp, mask, options)?;
    entry.transactional = false;
    entry.decided = Some(Decision { state: FOUND | USABLE, awaiting_body: Some(body), ..Decision::default() });
    let readback = cx.st.handles.insert(Handle::Cache(entry));
    cx.mem.write_u32(body_out, body)?;
    cx.mem.write_u32(handle_out, readback)
}

/// Freshens the found object from a revalidation response (consumed): its headers replace
/// the stored ones of the same name; the body stays.
fn update(cx: &mut Cx<'_>, h: u32, resp: u32, mask: u32, options: u32) -> Result<Entry, AbiError> {
    let options = write_options(cx, mask, options)?;
    let policy = policy_for(cx.st, h, resp)?;
    let mut record = http_entry(cx.st, h)?.decided.as_ref().and_then(|d| d.found.clone()).ok_or(Status::Badf)?;
    let mut entry = take_obligation(cx.st, h)?;
    let head = cx.st.handles.take_response(resp)?;
    for (name, value) in stored_headers(&head) {
        if matches!(name.as_str(), "content-length" | "transfer-encoding") {
            continue;
        }
        record.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        record.headers.push((name, value));
    }
    if let Some(vary) = &options.vary {
        record.variant = variant_of(vary, &entry.request_headers);
    }
    options.apply(&mut record, &policy);
    record.stored_at_ms = now_ms(cx.st);
    store_update(cx.st, record.clone(), "freshened by a revalidation");
    entry.transactional = false;
    entry.decided = Some(Decision { state: FOUND | USABLE, found: Some(record), ..Decision::default() });
    Ok(entry)
}

fn transaction_update(cx: &mut Cx<'_>, h: u32, resp: u32, mask: u32, options: u32) -> AbiResult {
    update(cx, h, resp, mask, options).map(drop)
}

fn transaction_update_and_return_fresh(cx: &mut Cx<'_>, h: u32, resp: u32, mask: u32, options: u32, handle_out: u32) -> AbiResult {
    let fresh = update(cx, h, resp, mask, options)?;
    let fresh = cx.st.handles.insert(Handle::Cache(fresh));
    cx.mem.write_u32(handle_out, fresh)
}

/// Ends the transaction without storing: waiting requests go on (to fetch for themselves).
fn give_up(cx: &mut Cx<'_>, h: u32, default_reason: &str) -> AbiResult {
    http_entry(cx.st, h)?;
    let stores = cx.st.stores.clone();
    let entry = cx.st.handles.cache_entry_mut(h)?;
    let obligated = entry.decided.as_ref().is_some_and(|d| d.obligated);
    handle::release(&stores, entry);
    let key = entry.key.clone();
    let reason = http_lookup(entry).not_stored_because.unwrap_or(default_reason);
    if obligated {
        let note = CacheNote { outcome: CacheOutcome::NotStored, key, age_s: 0, ttl_left_s: 0, hits: 0, note: String::from(reason) };
        readthrough::trace(cx.st, handle::NO_IO, note);
    }
    Ok(())
}

fn transaction_abandon(cx: &mut Cx<'_>, h: u32) -> AbiResult {
    give_up(cx, h, "the guest abandoned the transaction")
}

/// No hit-for-pass object is kept (see the module notes): this only ends the transaction.
fn transaction_record_not_cacheable(cx: &mut Cx<'_>, h: u32, mask: u32, options: u32) -> AbiResult {
    write_options(cx, mask, options)?;
    give_up(cx, h, "the guest recorded the response as not cacheable")
}

/// Serve the stale object after all (the refresh failed): the transaction ends unfilled.
fn transaction_choose_stale(cx: &mut Cx<'_>, h: u32) -> AbiResult {
    if http_entry(cx.st, h)?.usable().is_none() {
        return Err(Status::Badf.into());
    }
    give_up(cx, h, "the guest chose the stale object")
}

// ---- reading a handle ----------------------------------------------------------------------

/// Runs `k` once handle `h` is decided and its object (if being written) is complete.
fn when_ready(cx: &mut Cx<'_>, h: u32, mut k: impl FnMut(&mut Cx<'_>) -> AbiResult + Send + 'static) -> AbiResult {
    http_entry(cx.st, h)?;
    wait_until(cx, move |cx| match &http_entry(cx.st, h)?.decided {
        Some(decision) if decision.awaiting_body.is_none() => k(cx),
        _ => Err(AbiError::Pending),
    })
}

fn get_state(cx: &mut Cx<'_>, h: u32, out: u32) -> AbiResult {
    http_entry(cx.st, h)?;
    wait_until(cx, move |cx| match &http_entry(cx.st, h)?.decided {
        Some(decision) => cx.mem.write_u32(out, decision.state),
        None => Err(AbiError::Pending),
    })
}

fn found(st: &State, h: u32) -> Result<&CacheRecord, AbiError> {
    http_entry(st, h)?.decided.as_ref().and_then(|d| d.found.as_ref()).ok_or_else(|| Status::None.into())
}

/// The found response, as a hit serves it (`transform_for_client`: with its `Age`, and no
/// body for a HEAD). NONE when nothing usable was found.
fn get_found_response(cx: &mut Cx<'_>, h: u32, transform_for_client: u32, resp_out: u32, body_out: u32) -> AbiResult {
    when_ready(cx, h, move |cx| {
        let entry = http_entry(cx.st, h)?;
        let record = entry.usable().ok_or(Status::None)?;
        let Kind::Http(lookup) = &entry.kind else { unreachable!("checked by http_entry") };
        let transform = transform_for_client != 0;
        let head_only = transform && lookup.request.method == "HEAD";
        let mut response = readthrough::response_from(record, now_ms(cx.st), head_only);
        if !transform {
            response.headers.retain(|(n, _)| n != "age");
            response.headers.extend(record.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("age")).map(|(n, v)| (n.clone(), v.clone().into_bytes())));
        }
        let head = ResponseHead {
            status: response.status,
            headers: response.headers.iter().map(|(n, v)| (n, v)).collect(),
            ..ResponseHead::default()
        };
        let resp = cx.st.handles.insert(Handle::Response(head));
        let body = cx.st.handles.insert(Handle::Body(Body::from_bytes(response.body)));
        cx.mem.write_u32(resp_out, resp)?;
        cx.mem.write_u32(body_out, body)
    })
}

#[derive(Clone, Copy)]
enum Number {
    Length,
    MaxAge,
    StaleWhileRevalidate,
    StaleIfError,
    Age,
    Hits,
}

fn get_number(cx: &mut Cx<'_>, h: u32, number: Number, out: u32) -> AbiResult {
    when_ready(cx, h, move |cx| {
        let now = now_ms(cx.st);
        let record = found(cx.st, h)?;
        let value = match number {
            Number::Length => record.body.len() as u64,
            Number::MaxAge => record.max_age_s * NS_PER_S,
            Number::StaleWhileRevalidate => record.stale_while_revalidate_s * NS_PER_S,
            Number::StaleIfError => 0,
            Number::Age => record.age_s(now) * NS_PER_S,
            Number::Hits => record.hits,
        };
        cx.mem.write_u64(out, value)
    })
}

fn get_sensitive_data(cx: &mut Cx<'_>, h: u32, out: u32) -> AbiResult {
    when_ready(cx, h, move |cx| {
        let pci = found(cx.st, h)?.pci;
        cx.mem.write_u32(out, pci as u32)
    })
}

#[derive(Clone, Copy)]
enum Words {
    SurrogateKeys,
    VaryRule,
}

/// Space-separated surrogate keys or `Vary` header names of the found object.
fn get_words(cx: &mut Cx<'_>, h: u32, words: Words, buf: (u32, u32), nwritten: u32) -> AbiResult {
    when_ready(cx, h, move |cx| {
        let record = found(cx.st, h)?;
        let text = match words {
            Words::SurrogateKeys => record.surrogate_keys.join(" "),
            Words::VaryRule => record.variant.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>().join(" "),
        };
        cx.mem.write_fitting(buf.0, buf.1, text.as_bytes(), nwritten)
    })
}

#[cfg(test)]
mod tests;
