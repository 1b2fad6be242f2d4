//! `fastly_kv_store`: the KV stores from config `kv_stores`, shared by every request. The rules
//! (key checks, insert modes, generations, TTLs, list pages) are in `stores/kv.rs`; these
//! hostcalls only move arguments and results across the ABI.
//!
//! Each operation happens when the guest starts it — the stores are in memory — and its
//! handle keeps the result until the guest waits for it. So an insert or delete the guest
//! never waits for still happens, as in production.
//!
//! Statuses, as Viceroy answers and the SDKs read them: starting an operation answers BADF
//! for a bad handle and INVAL for a bad key or option (the Rust SDK calls it "bad request",
//! the JS SDK too); the outcome arrives from `*_wait` with status OK, in its `kv_error`
//! out-parameter. Opening an unknown store is INVAL (the Rust SDK's `StoreNotFound`).

use alloc::string::String;

use super::{AbiError, AbiResult, Cx, Registry};
use crate::body::{Body, BodyRole};
use crate::handles::Handle;
use crate::status::Status;
use crate::trace::EventKind;
use crate::stores::kv::{check_key, Insert, InsertMode, KvError, ListQuery};

const M: &str = "fastly_kv_store";

/// fastly-sys `KvError`: the `kv_error` out-parameter.
const KV_OK: u32 = 1;

fn kv_error_code(error: KvError) -> u32 {
    match error {
        KvError::BadRequest => 2,
        KvError::NotFound => 3,
        KvError::PreconditionFailed => 4,
        KvError::PayloadTooLarge => 5,
        // INTERNAL_ERROR: the store went away under an open handle.
        KvError::UnknownStore => 6,
    }
}

fn outcome_code<T>(result: &Result<T, KvError>) -> u32 {
    result.as_ref().map_or_else(|e| kv_error_code(*e), |_| KV_OK)
}

/// `InsertConfigOptions` bits. `BACKGROUND_FETCH` needs nothing: writes are visible at once.
const INSERT_METADATA: u32 = 1 << 3;
const INSERT_TTL: u32 = 1 << 4;
const INSERT_IF_GENERATION_MATCH: u32 = 1 << 5;

/// `ListConfigOptions` bits.
const LIST_CURSOR: u32 = 1 << 1;
const LIST_LIMIT: u32 = 1 << 2;
const LIST_PREFIX: u32 = 1 << 3;

pub fn link(r: &mut Registry<'_>) {
    r.func(M, "open", open);
    r.func(M, "lookup", |cx: &mut Cx<'_>, store: u32, key: u32, key_len: u32, _mask: u32, _config: u32, out: u32| {
        // `LookupConfig` has only a reserved field.
        lookup(cx, store, (key, key_len), out)
    });
    r.func(M, "lookup_wait", |cx: &mut Cx<'_>, h: u32, body: u32, meta: u32, meta_len: u32, nw: u32, generation: u32, err: u32| {
        lookup_wait(cx, h, body, (meta, meta_len), nw, GenerationOut::Low32At(generation), err)
    });
    r.func(M, "lookup_wait_v2", |cx: &mut Cx<'_>, h: u32, body: u32, meta: u32, meta_len: u32, nw: u32, generation: u32, err: u32| {
        lookup_wait(cx, h, body, (meta, meta_len), nw, GenerationOut::Full64At(generation), err)
    });
    r.func(M, "insert", insert);
    r.func(M, "insert_wait", insert_wait);
    r.func(M, "delete", |cx: &mut Cx<'_>, store: u32, key: u32, key_len: u32, _mask: u32, _config: u32, out: u32| {
        // `DeleteConfig` has only a reserved field.
        delete(cx, store, (key, key_len), out)
    });
    r.func(M, "delete_wait", delete_wait);
    r.func(M, "list", list);
    r.func(M, "list_wait", list_wait);
}

/// Opens the store `name`: INVAL when there is none by that name.
pub(super) fn open(cx: &mut Cx<'_>, name: u32, name_len: u32, handle_out: u32) -> AbiResult {
    let name = cx.mem.string(name, name_len)?;
    if !cx.st.stores.lock().kv.contains_key(&name) {
        return Err(Status::Inval.into());
    }
    let handle = cx.st.handles.insert(Handle::KvStore(name));
    cx.mem.write_u32(handle_out, handle)
}

/// The store behind handle `h` and the key at `key`: BADF, or INVAL for a key production refuses.
pub(super) fn store_and_key(cx: &Cx<'_>, h: u32, key: (u32, u32)) -> Result<(String, String), AbiError> {
    let store = cx.st.handles.kv_store(h)?.clone();
    let key = cx.mem.str(key.0, key.1)?;
    check_key(key).map_err(|_| Status::Inval)?;
    Ok((store, String::from(key)))
}

/// Records a KV operation in the trace: the operations complete when they are made.
fn trace_kv(cx: &mut Cx<'_>, op: &'static str, store: String, key: String, outcome: String) {
    cx.st.trace(EventKind::Kv { op, store, key, outcome });
}

fn done_or<T>(result: &Result<T, KvError>, done: &str) -> String {
    match result {
        Ok(_) => String::from(done),
        Err(e) => alloc::format!("{e}"),
    }
}

pub(super) fn lookup(cx: &mut Cx<'_>, store: u32, key: (u32, u32), pending_out: u32) -> AbiResult {
    let (store, key) = store_and_key(cx, store, key)?;
    let now = cx.st.platform.unix_time_ns();
    let result = cx.st.stores.lock().kv_lookup(&store, &key, now);
    let outcome = match &result {
        Ok(Some(entry)) => alloc::format!("found, {} B, generation {}", entry.value.len(), entry.generation),
        Ok(None) => String::from("not found"),
        Err(e) => alloc::format!("{e}"),
    };
    trace_kv(cx, "lookup", store, key, outcome);
    let handle = cx.st.handles.insert(Handle::KvLookup(result));
    cx.mem.write_u32(pending_out, handle)
}

/// Where `lookup_wait` writes the generation: the first version had a 32-bit out-parameter.
enum GenerationOut {
    Low32At(u32),
    Full64At(u32),
}

/// Delivers a lookup: body handle, metadata and generation, or the error in `kv_error`.
/// Metadata that does not fit is BUFLEN with the size needed, and the lookup stays pending so
/// the guest can wait again with a larger buffer.
fn lookup_wait(cx: &mut Cx<'_>, h: u32, body_out: u32, meta: (u32, u32), nwritten: u32, generation: GenerationOut, err: u32) -> AbiResult {
    let entry = match cx.st.handles.kv_lookup(h)? {
        Ok(Some(entry)) => entry.clone(),
        outcome => {
            let code = match outcome {
                Ok(_) => kv_error_code(KvError::NotFound),
                Err(e) => kv_error_code(*e),
            };
            cx.mem.write_u32(err, code)?;
            return cx.st.handles.take_kv_lookup(h).map(drop);
        }
    };
    let metadata = entry.metadata.as_deref().unwrap_or_default();
    cx.mem.write_u32(nwritten, metadata.len() as u32)?;
    if metadata.len() > meta.1 as usize {
        return Err(Status::Buflen.into());
    }
    cx.mem.write(meta.0, metadata)?;
    match generation {
        // The low half: all a 32-bit out-parameter can carry.
        GenerationOut::Low32At(out) => cx.mem.write_u32(out, entry.generation as u32)?,
        GenerationOut::Full64At(out) => cx.mem.write_u64(out, entry.generation)?,
    }
    cx.mem.write_u32(err, KV_OK)?;
    cx.mem.slice(body_out, 4)?;
    cx.st.handles.take_kv_lookup(h).map(drop)?;
    let body = cx.st.handles.insert(Handle::Body(Body::from_bytes(entry.value)));
    cx.mem.write_u32(body_out, body)
}

/// Takes body `h` as a value to store: it must be an ordinary, whole body.
pub(super) fn take_value(cx: &mut Cx<'_>, h: u32) -> Result<alloc::vec::Vec<u8>, AbiError> {
    if cx.st.handles.body(h)?.role != BodyRole::Buffer {
        return Err(Status::Inval.into());
    }
    Ok(cx.st.handles.take_body(h)?.take())
}

/// Reads `InsertConfig` (repr(C) on wasm32: mode, reserved, metadata ptr and length, TTL,
/// then the 8-aligned generation at 24). The mode is read whatever the mask: the SDKs always set it.
fn insert_options(cx: &Cx<'_>, mask: u32, config: u32) -> Result<Insert, AbiError> {
    let mode = match cx.mem.read_u32(config)? {
        0 => InsertMode::Overwrite,
        1 => InsertMode::Add,
        2 => InsertMode::Append,
        3 => InsertMode::Prepend,
        _ => return Err(Status::Inval.into()),
    };
    let metadata = if mask & INSERT_METADATA != 0 {
        let (ptr, len) = (cx.mem.read_u32(config + 8)?, cx.mem.read_u32(config + 12)?);
        if len == 0 {
            return Err(Status::Inval.into());
        }
        Some(cx.mem.bytes(ptr, len)?)
    } else {
        None
    };
    let ttl_sec = if mask & INSERT_TTL != 0 { Some(cx.mem.read_u32(config + 16)?) } else { None };
    let if_generation_match =
        if mask & INSERT_IF_GENERATION_MATCH != 0 { Some(cx.mem.read_u64(config + 24)?) } else { None };
    Ok(Insert { mode, if_generation_match, metadata, ttl_sec })
}

#[allow(clippy::too_many_arguments)] // the ABI's signature
fn insert(cx: &mut Cx<'_>, store: u32, key: u32, key_len: u32, body: u32, mask: u32, config: u32, pending_out: u32) -> AbiResult {
    let (store, key) = store_and_key(cx, store, (key, key_len))?;
    let options = insert_options(cx, mask, config)?;
    cx.mem.slice(pending_out, 4)?;
    let value = take_value(cx, body)?;
    let now = cx.st.platform.unix_time_ns();
    let result = cx.st.stores.lock().kv_insert(&store, &key, value, &options, now);
    trace_kv(cx, "insert", store, key, done_or(&result, "stored"));
    let handle = cx.st.handles.insert(Handle::KvInsert(result));
    cx.mem.write_u32(pending_out, handle)
}

pub(super) fn insert_wait(cx: &mut Cx<'_>, h: u32, kv_error_out: u32) -> AbiResult {
    cx.mem.write_u32(kv_error_out, outcome_code(cx.st.handles.kv_insert(h)?))?;
    cx.st.handles.take_kv_insert(h).map(drop)
}

pub(super) fn delete(cx: &mut Cx<'_>, store: u32, key: (u32, u32), pending_out: u32) -> AbiResult {
    let (store, key) = store_and_key(cx, store, key)?;
    cx.mem.slice(pending_out, 4)?;
    let now = cx.st.platform.unix_time_ns();
    let result = cx.st.stores.lock().kv_delete(&store, &key, now);
    trace_kv(cx, "delete", store, key, done_or(&result, "deleted"));
    let handle = cx.st.handles.insert(Handle::KvDelete(result));
    cx.mem.write_u32(pending_out, handle)
}

fn delete_wait(cx: &mut Cx<'_>, h: u32, kv_error_out: u32) -> AbiResult {
    cx.mem.write_u32(kv_error_out, outcome_code(cx.st.handles.kv_delete(h)?))?;
    cx.st.handles.take_kv_delete(h).map(drop)
}

/// Reads an optional string option of `ListConfig`: present but empty is INVAL, as in Viceroy.
fn list_text(cx: &Cx<'_>, present: bool, ptr_at: u32) -> Result<Option<String>, AbiError> {
    if !present {
        return Ok(None);
    }
    let (ptr, len) = (cx.mem.read_u32(ptr_at)?, cx.mem.read_u32(ptr_at + 4)?);
    if len == 0 {
        return Err(Status::Inval.into());
    }
    cx.mem.string(ptr, len).map(Some)
}

/// Reads `ListConfig` (mode, cursor ptr and length, limit, prefix ptr and length).
fn list_query(cx: &Cx<'_>, mask: u32, config: u32) -> Result<ListQuery, AbiError> {
    let eventual = match cx.mem.read_u32(config)? {
        0 => false,
        1 => true,
        _ => return Err(Status::Inval.into()),
    };
    let cursor = list_text(cx, mask & LIST_CURSOR != 0, config + 4)?;
    let limit = if mask & LIST_LIMIT != 0 { Some(cx.mem.read_u32(config + 12)?) } else { None };
    let prefix = list_text(cx, mask & LIST_PREFIX != 0, config + 16)?;
    Ok(ListQuery { prefix, limit, cursor, eventual })
}

fn list(cx: &mut Cx<'_>, store: u32, mask: u32, config: u32, pending_out: u32) -> AbiResult {
    let store = cx.st.handles.kv_store(store)?.clone();
    let query = list_query(cx, mask, config)?;
    let now = cx.st.platform.unix_time_ns();
    let prefix = query.prefix.clone().unwrap_or_default();
    let result = cx.st.stores.lock().kv_list(&store, &query, now).map(|page| page.to_json());
    trace_kv(cx, "list", store, prefix, done_or(&result, "listed"));
    let handle = cx.st.handles.insert(Handle::KvList(result));
    cx.mem.write_u32(pending_out, handle)
}

/// Delivers a list page as a body of JSON, or the error in `kv_error`.
fn list_wait(cx: &mut Cx<'_>, h: u32, body_out: u32, err: u32) -> AbiResult {
    let code = outcome_code(cx.st.handles.kv_list(h)?);
    cx.mem.write_u32(err, code)?;
    cx.mem.slice(body_out, 4)?;
    if let Ok(json) = cx.st.handles.take_kv_list(h)? {
        let body = cx.st.handles.insert(Handle::Body(Body::from_bytes(json)));
        cx.mem.write_u32(body_out, body)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
