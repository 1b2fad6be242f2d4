//! `fastly_object_store`: the KV store API from before it was renamed, kept for older guests
//! (and still used by parts of the JS SDK). The same stores, handles and rules as
//! `fastly_kv_store`; only the results travel differently: statuses instead of `kv_error`, as
//! Viceroy answers them — a missing key is no body (the out-parameter gets the invalid handle),
//! a missing key on delete is NONE, any other refusal INVAL.

use alloc::string::String;
use alloc::vec::Vec;

use super::kv_store::{self, store_and_key, take_value};
use super::{AbiError, AbiResult, Cx, Registry};
use crate::body::Body;
use crate::handles::Handle;
use crate::status::Status;
use crate::stores::kv::{Insert, KvEntry, KvError};

const M: &str = "fastly_object_store";

/// fastly-shared `INVALID_BODY_HANDLE`: "no value".
const INVALID_BODY_HANDLE: u32 = u32::MAX - 1;

pub fn link(r: &mut Registry<'_>) {
    r.func(M, "open", kv_store::open);
    r.func(M, "lookup", lookup);
    r.func(M, "lookup_async", |cx: &mut Cx<'_>, store: u32, key: u32, key_len: u32, out: u32| {
        kv_store::lookup(cx, store, (key, key_len), out)
    });
    r.func(M, "pending_lookup_wait", pending_lookup_wait);
    r.func(M, "insert", insert);
    r.func(M, "insert_async", insert_async);
    // fastly-sys declares this one with a `kv_error` out-parameter (Viceroy's witx has none):
    // it answers as `fastly_kv_store::insert_wait` does.
    r.func(M, "pending_insert_wait", kv_store::insert_wait);
    r.func(M, "delete_async", |cx: &mut Cx<'_>, store: u32, key: u32, key_len: u32, out: u32| {
        kv_store::delete(cx, store, (key, key_len), out)
    });
    r.func(M, "pending_delete_wait", pending_delete_wait);
}

fn status_for(error: KvError) -> AbiError {
    match error {
        KvError::NotFound => Status::None.into(),
        KvError::UnknownStore => Status::Error.into(),
        _ => Status::Inval.into(),
    }
}

fn lookup(cx: &mut Cx<'_>, store: u32, key: u32, key_len: u32, body_out: u32) -> AbiResult {
    let (store, key) = store_and_key(cx, store, (key, key_len))?;
    let now = cx.st.platform.unix_time_ns();
    let found = cx.st.stores.lock().kv_lookup(&store, &key, now);
    deliver(cx, found, body_out)
}

fn pending_lookup_wait(cx: &mut Cx<'_>, h: u32, body_out: u32) -> AbiResult {
    cx.st.handles.kv_lookup(h)?;
    cx.mem.slice(body_out, 4)?;
    let found = cx.st.handles.take_kv_lookup(h)?;
    deliver(cx, found, body_out)
}

/// A lookup's value as a new body, or the invalid handle for a missing key.
fn deliver(cx: &mut Cx<'_>, found: Result<Option<KvEntry>, KvError>, body_out: u32) -> AbiResult {
    let handle = match found.map_err(status_for)? {
        Some(entry) => cx.st.handles.insert(Handle::Body(Body::from_bytes(entry.value))),
        None => INVALID_BODY_HANDLE,
    };
    cx.mem.write_u32(body_out, handle)
}

fn insert(cx: &mut Cx<'_>, store: u32, key: u32, key_len: u32, body: u32) -> AbiResult {
    let (store, key, value) = insert_arguments(cx, store, (key, key_len), body)?;
    overwrite(cx, &store, &key, value).map_err(status_for)
}

fn insert_async(cx: &mut Cx<'_>, store: u32, key: u32, key_len: u32, body: u32, pending_out: u32) -> AbiResult {
    cx.mem.slice(pending_out, 4)?;
    let (store, key, value) = insert_arguments(cx, store, (key, key_len), body)?;
    let result = overwrite(cx, &store, &key, value);
    let handle = cx.st.handles.insert(Handle::KvInsert(result));
    cx.mem.write_u32(pending_out, handle)
}

fn insert_arguments(cx: &mut Cx<'_>, store: u32, key: (u32, u32), body: u32) -> Result<(String, String, Vec<u8>), AbiError> {
    let (store, key) = store_and_key(cx, store, key)?;
    Ok((store, key, take_value(cx, body)?))
}

fn pending_delete_wait(cx: &mut Cx<'_>, h: u32) -> AbiResult {
    cx.st.handles.take_kv_delete(h)?.map_err(status_for)
}

/// The old API's insert: always an overwrite, without options.
fn overwrite(cx: &mut Cx<'_>, store: &str, key: &str, value: Vec<u8>) -> Result<(), KvError> {
    let now = cx.st.platform.unix_time_ns();
    cx.st.stores.lock().kv_insert(store, key, value, &Insert::default(), now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::TestGuest;
    use crate::config::Config;
    use crate::state::DownstreamRequest;

    fn guest() -> TestGuest {
        let config = Config::from_json(r#"{ "kv_stores": { "legacy": { "greeting": "hello" } } }"#).unwrap();
        TestGuest::with_config(config, DownstreamRequest::get("http://localhost/"))
    }

    fn open(g: &mut TestGuest, name: &str) -> (Status, u32) {
        let (p, l) = g.put(name);
        let out = g.alloc(4);
        (g.status(|cx| kv_store::open(cx, p, l, out)), g.u32_at(out))
    }

    fn body_text(g: &mut TestGuest, h: u32) -> String {
        String::from_utf8(g.state.handles.take_body(h).unwrap().take()).unwrap()
    }

    fn new_body(g: &mut TestGuest, text: &str) -> u32 {
        g.state.handles.insert(Handle::Body(Body::from_bytes(text.as_bytes().to_vec())))
    }

    #[test]
    fn lookups_answer_a_body_or_the_invalid_handle() {
        let mut g = guest();
        assert_eq!(open(&mut g, "missing").0, Status::Inval, "an unknown store");
        let (status, store) = open(&mut g, "legacy");
        assert_eq!(status, Status::Ok);
        let out = g.alloc(4);
        let (key, key_len) = g.put("greeting");
        assert_eq!(g.status(|cx| lookup(cx, store, key, key_len, out)), Status::Ok);
        let found = g.u32_at(out);
        assert_eq!(body_text(&mut g, found), "hello");

        let (missing, missing_len) = g.put("nope");
        assert_eq!(g.status(|cx| kv_store::lookup(cx, store, (missing, missing_len), out)), Status::Ok);
        let pending = g.u32_at(out);
        assert_eq!(g.status(|cx| pending_lookup_wait(cx, pending, out)), Status::Ok);
        assert_eq!(g.u32_at(out), INVALID_BODY_HANDLE, "a missing key is no body");
        assert_eq!(g.status(|cx| pending_lookup_wait(cx, pending, out)), Status::Badf, "a wait consumes the handle");

        let (bad, bad_len) = g.put("a?b");
        assert_eq!(g.status(|cx| lookup(cx, store, bad, bad_len, out)), Status::Inval, "a key production refuses");
        assert_eq!(g.status(|cx| lookup(cx, found, key, key_len, out)), Status::Badf, "a body is not a store");
    }

    #[test]
    fn inserts_overwrite_and_deletes_report_missing_keys() {
        let mut g = guest();
        let (_, store) = open(&mut g, "legacy");
        let out = g.alloc(4);
        let (key, key_len) = g.put("greeting");
        let value = new_body(&mut g, "replaced");
        assert_eq!(g.status(|cx| insert(cx, store, key, key_len, value)), Status::Ok);
        let value = new_body(&mut g, "again");
        assert_eq!(g.status(|cx| insert_async(cx, store, key, key_len, value, out)), Status::Ok);
        let (pending, kv_error) = (g.u32_at(out), g.alloc(4));
        assert_eq!(g.status(|cx| kv_store::insert_wait(cx, pending, kv_error)), Status::Ok);
        assert_eq!(g.u32_at(kv_error), 1, "OK");
        let now = g.state.platform.unix_time_ns();
        let stored = g.state.stores.lock().kv_lookup("legacy", "greeting", now).unwrap().unwrap();
        assert_eq!(stored.value, b"again", "the same store as fastly_kv_store");

        for expected in [Status::Ok, Status::None] {
            assert_eq!(g.status(|cx| kv_store::delete(cx, store, (key, key_len), out)), Status::Ok);
            let pending = g.u32_at(out);
            assert_eq!(g.status(|cx| pending_delete_wait(cx, pending)), expected);
        }
    }
}
