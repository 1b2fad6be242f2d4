use alloc::vec;

use super::*;
use crate::abi::testing::TestGuest;
use crate::cache::handle::{MUST_INSERT_OR_UPDATE, STALE};
use crate::io::IoResult;

/// `CacheWriteOptions` with a max age, and optional user metadata and surrogate keys.
fn write_opts(g: &mut TestGuest, max_age_s: u64, metadata: &[u8], keys: &str) -> (u32, u32) {
    let (meta_ptr, meta_len) = g.put(metadata);
    let (keys_ptr, keys_len) = g.put(keys);
    let mut o = [0u8; WRITE_OPTIONS_SIZE as usize];
    o[0..8].copy_from_slice(&(max_age_s * NS_PER_S).to_le_bytes());
    o[40..44].copy_from_slice(&keys_ptr.to_le_bytes());
    o[44..48].copy_from_slice(&keys_len.to_le_bytes());
    o[56..60].copy_from_slice(&meta_ptr.to_le_bytes());
    o[60..64].copy_from_slice(&meta_len.to_le_bytes());
    let mut mask = 0;
    if !metadata.is_empty() {
        mask |= W_USER_METADATA;
    }
    if !keys.is_empty() {
        mask |= W_SURROGATE_KEYS;
    }
    (mask, g.put(o).0)
}

/// What closing a body does (`fastly_http_body::close`): the cache write it carries is stored.
fn write_and_close(g: &mut TestGuest, body: u32, bytes: &[u8]) {
    g.state.handles.body_mut(body).unwrap().write_back(bytes);
    let bytes = g.state.handles.take_body(body).unwrap().take();
    handle::body_ended(&mut g.state, body, bytes, true);
}

fn insert_value(g: &mut TestGuest, key: &[u8], max_age_s: u64, value: &[u8]) {
    let (kp, kl) = g.put(key);
    let (mask, opts) = write_opts(g, max_age_s, b"meta", "tag-a tag-b");
    let out = g.alloc(4);
    assert_eq!(g.status(|cx| insert(cx, kp, kl, mask, opts, out)), Status::Ok);
    let body = g.u32_at(out);
    write_and_close(g, body, value);
}

fn open_lookup(g: &mut TestGuest, key: &[u8], transactional: bool) -> u32 {
    let (kp, kl) = g.put(key);
    let out = g.alloc(4);
    let f = if transactional { transaction_lookup } else { lookup };
    assert_eq!(g.status(|cx| f(cx, kp, kl, 0, 0, out)), Status::Ok);
    g.u32_at(out)
}

fn state_of(g: &mut TestGuest, h: u32) -> Result<u32, Status> {
    let out = g.alloc(4);
    match g.call(|cx| get_state(cx, Api::Lookup, h, out)) {
        Ok(()) => Ok(g.u32_at(out)),
        Err(AbiError::Status(s)) => Err(s),
        Err(AbiError::Block(_)) => Err(Status::Again),
        Err(other) => panic!("{other:?}"),
    }
}

fn number(g: &mut TestGuest, h: u32, n: Number) -> Result<u64, Status> {
    let out = g.alloc(8);
    match g.status(|cx| get_number(cx, Api::Lookup, h, n, out)) {
        Status::Ok => Ok(g.i64_at(out) as u64),
        other => Err(other),
    }
}

fn body_of(g: &mut TestGuest, h: u32, range: (Option<u64>, Option<u64>)) -> Result<Vec<u8>, Status> {
    let mut o = [0u8; 16];
    let mut mask = 0;
    if let Some(from) = range.0 {
        o[0..8].copy_from_slice(&from.to_le_bytes());
        mask |= BODY_FROM;
    }
    if let Some(to) = range.1 {
        o[8..16].copy_from_slice(&to.to_le_bytes());
        mask |= BODY_TO;
    }
    let opts = g.put(o).0;
    let out = g.alloc(4);
    match g.status(|cx| get_body(cx, Api::Lookup, h, (mask, opts), out)) {
        Status::Ok => Ok(g.state.handles.take_body(g.u32_at(out)).unwrap().take()),
        other => Err(other),
    }
}

/// A second request on the same stores.
fn other_request(g: &TestGuest) -> TestGuest {
    let mut other = TestGuest::new();
    other.state.stores = g.state.stores.clone();
    other
}

/// Lets the session's poll sleep end, as the embedder would report it.
fn finish_poll(g: &mut TestGuest) {
    let id = *g.state.io.slots.iter().find(|(_, s)| matches!(s, crate::state::IoSlot::CacheWait)).expect("a poll is armed").0;
    g.state.complete_io(id, IoResult::Slept);
}

#[test]
fn an_inserted_object_is_found_with_its_metadata_and_hits() {
    let mut g = TestGuest::new();
    let h = open_lookup(&mut g, b"greeting", false);
    assert_eq!(state_of(&mut g, h), Ok(0), "nothing stored yet");
    assert_eq!(number(&mut g, h, Number::Hits), Err(Status::None));

    insert_value(&mut g, b"greeting", 60, b"hello, cache");
    let h = open_lookup(&mut g, b"greeting", false);
    assert_eq!(state_of(&mut g, h), Ok(FOUND | USABLE));
    assert_eq!(body_of(&mut g, h, (None, None)).unwrap(), b"hello, cache");
    assert_eq!(number(&mut g, h, Number::Length), Ok(12));
    assert_eq!(number(&mut g, h, Number::MaxAge), Ok(60 * NS_PER_S));
    assert_eq!(number(&mut g, h, Number::Age), Ok(0));
    assert_eq!(number(&mut g, h, Number::Hits), Ok(1));
    let (buf, nw) = (g.alloc(16), g.alloc(4));
    assert_eq!(g.status(|cx| get_user_metadata(cx, Api::Lookup, h, (buf, 16), nw)), Status::Ok);
    assert_eq!(g.bytes_at(buf, g.u32_at(nw)), b"meta");
    let h = open_lookup(&mut g, b"greeting", false);
    assert_eq!(number(&mut g, h, Number::Hits), Ok(2), "each lookup that finds it is a hit");
    let stored = g.state.stores.lock().cache.records().next().unwrap().clone();
    assert_eq!(stored.surrogate_keys, vec![String::from("tag-a"), String::from("tag-b")]);
}

#[test]
fn body_ranges_are_inclusive_and_fall_back_to_the_whole_body() {
    let body = b"0123456789";
    type Range = (Option<u64>, Option<u64>);
    let cases: [(Range, Result<&[u8], Status>); 7] = [
        ((None, None), Ok(b"0123456789")),
        ((Some(2), Some(4)), Ok(b"234")),
        ((Some(7), None), Ok(b"789")),
        ((None, Some(3)), Ok(b"789")),
        ((Some(4), Some(4)), Ok(b"4")),
        ((Some(2), Some(99)), Ok(b"0123456789")),
        ((Some(5), Some(1)), Err(Status::Inval)),
    ];
    for ((from, to), want) in cases {
        let got = body_range(body, from, to).map_err(|e| match e {
            AbiError::Status(s) => s,
            other => panic!("{other:?}"),
        });
        assert_eq!(got, want, "from {from:?} to {to:?}");
    }
    let mut g = TestGuest::new();
    insert_value(&mut g, b"digits", 60, body);
    let h = open_lookup(&mut g, b"digits", false);
    assert_eq!(body_of(&mut g, h, (Some(2), Some(4))).unwrap(), b"234");
}

#[test]
fn keys_are_bytes_and_at_most_4_kib() {
    assert_eq!(handle::key_string(b"plain"), "plain");
    assert_eq!(handle::key_string(&[0xff, 0x00, 0x41]), "0xff0041");
    let mut g = TestGuest::new();
    insert_value(&mut g, &[0xff, 0x01], 60, b"binary key");
    let h = open_lookup(&mut g, &[0xff, 0x01], false);
    assert_eq!(body_of(&mut g, h, (None, None)).unwrap(), b"binary key");
    let (kp, kl) = g.put(vec![b'k'; 4097]);
    let out = g.alloc(4);
    assert_eq!(g.status(|cx| lookup(cx, kp, kl, 0, 0, out)), Status::LimitExceeded);
}

#[test]
fn acting_for_another_service_is_unsupported_and_unknown_bits_are_invalid() {
    let mut g = TestGuest::new();
    let (kp, kl) = g.put("k");
    let opts = g.put([0u8; 16]).0;
    let out = g.alloc(4);
    assert_eq!(g.status(|cx| lookup(cx, kp, kl, LOOKUP_SERVICE, opts, out)), Status::Unsupported);
    assert_eq!(g.status(|cx| lookup(cx, kp, kl, 1 << 9, opts, out)), Status::Inval);
    let (_, wopts) = write_opts(&mut g, 1, b"", "");
    assert_eq!(g.status(|cx| insert(cx, kp, kl, W_SERVICE, wopts, out)), Status::Unsupported);
}

#[test]
fn the_first_transaction_inserts_and_the_next_one_waits_for_its_value() {
    let mut leader = TestGuest::new();
    let mut follower = other_request(&leader);
    let lh = open_lookup(&mut leader, b"slow", true);
    assert_eq!(state_of(&mut leader, lh), Ok(MUST_INSERT_OR_UPDATE));

    // Another request for the key waits: its state is not known until the leader is done.
    let fh = open_lookup(&mut follower, b"slow", true);
    let out = follower.alloc(4);
    let Err(AbiError::Block(mut k)) = follower.call(|cx| get_state(cx, Api::Lookup, fh, out)) else { panic!("should wait") };
    finish_poll(&mut follower);
    assert!(matches!(follower.call(|cx| k(cx)), Err(AbiError::Pending)), "still filling");

    let (mask, opts) = write_opts(&mut leader, 30, b"", "");
    let body_out = leader.alloc(4);
    let readback_out = leader.alloc(4);
    assert_eq!(leader.status(|cx| transaction_insert_and_stream_back(cx, lh, mask, opts, body_out, readback_out)), Status::Ok);
    let (body, readback) = (leader.u32_at(body_out), leader.u32_at(readback_out));
    assert_eq!(leader.status(|cx| transaction_insert(cx, lh, mask, opts, body_out)), Status::Badf, "one insert per transaction");
    write_and_close(&mut leader, body, b"computed once");
    assert_eq!(body_of(&mut leader, readback, (None, None)).unwrap(), b"computed once");

    finish_poll(&mut follower);
    assert_eq!(follower.call(|cx| k(cx)).map_err(|e| alloc::format!("{e:?}")), Ok(()));
    assert_eq!(follower.u32_at(out), FOUND | USABLE);
    assert_eq!(body_of(&mut follower, fh, (None, None)).unwrap(), b"computed once");
    assert_eq!(number(&mut follower, fh, Number::Hits), Ok(1));
}

#[test]
fn a_cancelled_or_abandoned_transaction_hands_the_insert_to_the_next_request() {
    let mut leader = TestGuest::new();
    let mut next = other_request(&leader);
    let lh = open_lookup(&mut leader, b"k", true);
    assert_eq!(leader.status(|cx| transaction_cancel(cx, lh)), Status::Ok);
    let nh = open_lookup(&mut next, b"k", true);
    assert_eq!(state_of(&mut next, nh), Ok(MUST_INSERT_OR_UPDATE));

    // The insert's body dropped without `finish` (abandoned): nothing stored, key free again.
    let (mask, opts) = write_opts(&mut next, 30, b"", "");
    let out = next.alloc(4);
    assert_eq!(next.status(|cx| transaction_insert(cx, nh, mask, opts, out)), Status::Ok);
    let body = next.u32_at(out);
    next.state.handles.take_body(body).unwrap();
    handle::body_ended(&mut next.state, body, Vec::new(), false);
    assert!(next.state.stores.lock().cache.is_empty());
    let third = open_lookup(&mut leader, b"k", true);
    assert_eq!(state_of(&mut leader, third), Ok(MUST_INSERT_OR_UPDATE));

    // A request that ends holding the duty (cancelled, trapped) gives it up too.
    drop(leader);
    let mut last = other_request(&next);
    let h = open_lookup(&mut last, b"k", true);
    assert_eq!(state_of(&mut last, h), Ok(MUST_INSERT_OR_UPDATE));
}

#[test]
fn an_update_freshens_the_object_without_a_new_body() {
    let mut g = TestGuest::new();
    insert_value(&mut g, b"page", 1, b"kept body");
    // Make it stale within stale-while-revalidate by ageing the stored copy.
    {
        let mut stores = g.state.stores.lock();
        let mut record = stores.cache.records().next().unwrap().clone();
        record.stored_at_ms -= 5_000;
        record.stale_while_revalidate_s = 60;
        stores.cache.insert(record);
    }
    let h = open_lookup(&mut g, b"page", true);
    assert_eq!(state_of(&mut g, h), Ok(FOUND | USABLE | STALE | MUST_INSERT_OR_UPDATE));
    let (mask, opts) = write_opts(&mut g, 120, b"", "");
    assert_eq!(g.status(|cx| transaction_update(cx, h, mask, opts)), Status::Ok);
    let h = open_lookup(&mut g, b"page", true);
    assert_eq!(state_of(&mut g, h), Ok(FOUND | USABLE));
    assert_eq!(number(&mut g, h, Number::MaxAge), Ok(120 * NS_PER_S));
    assert_eq!(body_of(&mut g, h, (None, None)).unwrap(), b"kept body");
}

#[test]
fn replace_sees_the_current_object_and_stores_a_new_one() {
    let mut g = TestGuest::new();
    insert_value(&mut g, b"r", 60, b"old");
    let (kp, kl) = g.put("r");
    let opts = g.put([0u8; 16]).0;
    let out = g.alloc(4);
    assert_eq!(g.status(|cx| replace(cx, kp, kl, 0, opts, out)), Status::Ok);
    let rh = g.u32_at(out);
    let state_out = g.alloc(4);
    assert_eq!(g.status(|cx| get_state(cx, Api::Replace, rh, state_out)), Status::Ok);
    assert_eq!(g.u32_at(state_out), FOUND | USABLE);
    assert_eq!(g.status(|cx| get_state(cx, Api::Lookup, rh, state_out)), Status::Badf, "a replace handle is not a lookup");
    let (mask, wopts) = write_opts(&mut g, 60, b"", "");
    assert_eq!(g.status(|cx| replace_insert(cx, rh, mask, wopts, out)), Status::Ok);
    let body = g.u32_at(out);
    write_and_close(&mut g, body, b"new");
    let h = open_lookup(&mut g, b"r", false);
    assert_eq!(body_of(&mut g, h, (None, None)).unwrap(), b"new");
}

#[test]
fn a_busy_handle_becomes_a_cache_handle_when_waited_on() {
    let mut g = TestGuest::new();
    let (kp, kl) = g.put("b");
    let out = g.alloc(4);
    assert_eq!(g.status(|cx| transaction_lookup_async(cx, kp, kl, 0, 0, out)), Status::Ok);
    let busy = g.u32_at(out);
    assert_eq!(state_of(&mut g, busy), Err(Status::Badf), "a busy handle has no state yet");
    assert_eq!(g.status(|cx| cache_busy_handle_wait(cx, busy, out)), Status::Ok);
    let h = g.u32_at(out);
    assert_eq!(state_of(&mut g, h), Ok(MUST_INSERT_OR_UPDATE));
    assert_eq!(g.status(|cx| close_busy(cx, busy)), Status::Badf, "the busy handle was consumed");
    assert_eq!(g.status(|cx| close(cx, h)), Status::Ok);
}
