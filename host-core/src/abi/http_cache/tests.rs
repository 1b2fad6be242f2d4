use alloc::vec;

use super::*;
use crate::abi::testing::TestGuest;
use crate::cache::handle::{body_ended, MUST_INSERT_OR_UPDATE};

fn request(g: &mut TestGuest, method: &str, url: &str, headers: &[(&str, &str)]) -> u32 {
    let head = RequestHead {
        method: String::from(method),
        uri: String::from(url),
        headers: headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect(),
        ..RequestHead::default()
    };
    g.state.handles.insert(Handle::Request(head))
}

fn response(g: &mut TestGuest, status: u16, headers: &[(&str, &str)]) -> u32 {
    let head = ResponseHead { status, headers: headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect(), ..ResponseHead::default() };
    g.state.handles.insert(Handle::Response(head))
}

/// `transaction_lookup` with the backend name, as the SDK calls it.
fn transaction(g: &mut TestGuest, req: u32) -> u32 {
    let (bp, bl) = g.put("origin");
    let mut o = [0u8; 16];
    o[8..12].copy_from_slice(&bp.to_le_bytes());
    o[12..16].copy_from_slice(&bl.to_le_bytes());
    let opts = g.put(o).0;
    let out = g.alloc(4);
    assert_eq!(g.status(|cx| open(cx, req, (LOOKUP_BACKEND_NAME, opts), true, out)), Status::Ok);
    g.u32_at(out)
}

fn state_of(g: &mut TestGuest, h: u32) -> u32 {
    let out = g.alloc(4);
    assert_eq!(g.status(|cx| get_state(cx, h, out)), Status::Ok);
    g.u32_at(out)
}

/// Suggested options as the SDK asks for them: (mask out, options out, vary, surrogate keys).
fn suggested(g: &mut TestGuest, h: u32, resp: u32, buf_len: u32) -> (Status, u32, Vec<u8>, String, String) {
    let (vary_buf, keys_buf) = (g.alloc(buf_len.max(1)), g.alloc(buf_len.max(1)));
    let mut given = [0u8; WRITE_OPTIONS_SIZE as usize];
    given[8..12].copy_from_slice(&vary_buf.to_le_bytes());
    given[12..16].copy_from_slice(&buf_len.to_le_bytes());
    given[32..36].copy_from_slice(&keys_buf.to_le_bytes());
    given[36..40].copy_from_slice(&buf_len.to_le_bytes());
    let given = g.put(given).0;
    let (mask_out, out) = (g.alloc(4), g.alloc(WRITE_OPTIONS_SIZE));
    let status = g.status(|cx| get_suggested_cache_options(cx, h, resp, W_KNOWN, given, mask_out, out));
    let o = g.bytes_at(out, WRITE_OPTIONS_SIZE).to_vec();
    let text = |at: usize| {
        let len = u32_at(&o, at + 4);
        if status == Status::Ok { g.string_at(u32_at(&o, at), len) } else { alloc::format!("needs {len}") }
    };
    let (vary, keys) = (text(8), text(32));
    (status, g.u32_at(mask_out), o, vary, keys)
}

#[test]
fn get_and_head_are_cacheable_other_methods_are_not() {
    let mut g = TestGuest::new();
    for (method, want) in [("GET", 1), ("HEAD", 1), ("POST", 0), ("PURGE", 0)] {
        let req = request(&mut g, method, "http://example.com/", &[]);
        let out = g.alloc(4);
        assert_eq!(g.status(|cx| is_request_cacheable(cx, req, out)), Status::Ok);
        assert_eq!(g.u32_at(out), want, "{method}");
    }
}

#[test]
fn suggestions_follow_the_readthrough_rules_with_the_override_applied() {
    let mut g = TestGuest::new();
    let req = request(&mut g, "HEAD", "http://example.com/page?x=1", &[("accept-language", "pt")]);
    let h = transaction(&mut g, req);
    assert_eq!(state_of(&mut g, h), MUST_INSERT_OR_UPDATE);

    // The backend request: a GET for a HEAD, marked so the readthrough cache passes it.
    let out = g.alloc(4);
    assert_eq!(g.status(|cx| get_suggested_backend_request(cx, h, out)), Status::Ok);
    let backend_req = g.state.handles.request(g.u32_at(out)).unwrap().clone();
    assert_eq!((backend_req.method.as_str(), backend_req.cached_by_guest), ("GET", true));

    let headers = [
        ("cache-control", "public, max-age=120, stale-while-revalidate=30"),
        ("age", "20"),
        ("vary", "Accept-Language"),
        ("surrogate-key", "page-1 pages"),
    ];
    let resp = response(&mut g, 200, &headers);
    let (status, mask, o, vary, keys) = suggested(&mut g, h, resp, 64);
    assert_eq!(status, Status::Ok);
    assert_eq!(u64_at(&o, 0), 120 * NS_PER_S, "max-age");
    assert_eq!(u64_at(&o, 16), 20 * NS_PER_S, "the backend's Age");
    assert_eq!(u64_at(&o, 24), 30 * NS_PER_S, "stale-while-revalidate");
    assert_eq!((vary.as_str(), keys.as_str()), ("accept-language", "page-1 pages"));
    assert_eq!(mask & (W_VARY_RULE | W_SURROGATE_KEYS), W_VARY_RULE | W_SURROGATE_KEYS);
    assert_eq!(mask & W_SENSITIVE_DATA, 0);

    let (status, _, _, vary, _) = suggested(&mut g, h, resp, 4);
    assert_eq!((status, vary.as_str()), (Status::Buflen, "needs 15"), "a short buffer learns the length it needs");

    // A TTL override on the request wins over the response's max-age.
    let over = request(&mut g, "GET", "http://example.com/other", &[]);
    g.state.handles.request_mut(over).unwrap().cache_override.ttl = Some(30);
    let h2 = transaction(&mut g, over);
    let (_, _, o, _, _) = suggested(&mut g, h2, resp, 64);
    assert_eq!((u64_at(&o, 0), u64_at(&o, 16)), (30 * NS_PER_S, 0));
}

#[test]
fn storage_actions_follow_the_rules() {
    let mut g = TestGuest::new();
    let cases = [
        (200, ("cache-control", "max-age=60"), ACTION_INSERT),
        (200, ("cache-control", "private"), ACTION_DO_NOT_STORE),
        (200, ("set-cookie", "a=b"), ACTION_DO_NOT_STORE),
        (500, ("cache-control", "max-age=60"), ACTION_DO_NOT_STORE),
    ];
    for (i, (status, header, want)) in cases.into_iter().enumerate() {
        let req = request(&mut g, "GET", &alloc::format!("http://example.com/{i}"), &[]);
        let h = transaction(&mut g, req);
        let resp = response(&mut g, status, &[header]);
        let (action, resp_out) = (g.alloc(4), g.alloc(4));
        assert_eq!(g.status(|cx| prepare_response_for_storage(cx, h, resp, action, resp_out)), Status::Ok);
        assert_eq!(g.u32_at(action), want, "{status} {header:?}");
        let prepared = g.state.handles.response(g.u32_at(resp_out)).unwrap();
        assert_eq!(prepared.status, status, "a new handle with the same response");
        assert_ne!(g.u32_at(resp_out), resp, "the SDK closes the handle it passed in");
    }
}

#[test]
fn an_inserted_response_is_found_by_the_next_request_with_age_and_hits() {
    let mut g = TestGuest::new();
    let req = request(&mut g, "GET", "http://example.com/article", &[]);
    let h = transaction(&mut g, req);
    let resp = response(&mut g, 200, &[("content-type", "text/html"), ("cache-control", "max-age=60")]);
    let (_, _, mut o, _, _) = suggested(&mut g, h, resp, 64);
    // The SDK's after_send hook changed the TTL and the surrogate keys.
    o[0..8].copy_from_slice(&(90 * NS_PER_S).to_le_bytes());
    let (kp, kl) = g.put("news news front");
    o[32..36].copy_from_slice(&kp.to_le_bytes());
    o[36..40].copy_from_slice(&kl.to_le_bytes());
    let opts = g.put(&o).0;
    let (body_out, readback_out) = (g.alloc(4), g.alloc(4));
    let mask = W_VARY_RULE | W_SURROGATE_KEYS | W_INITIAL_AGE_NS;
    assert_eq!(g.status(|cx| transaction_insert_and_stream_back(cx, h, resp, mask, opts, body_out, readback_out)), Status::Ok);
    assert!(g.state.handles.response(resp).is_err(), "the response handle was consumed");
    let body = g.u32_at(body_out);
    g.state.handles.body_mut(body).unwrap().write_back(b"<p>news</p>");
    let bytes = g.state.handles.take_body(body).unwrap().take();
    body_ended(&mut g.state, body, bytes, true);

    let record = g.state.stores.lock().cache.records().next().unwrap().clone();
    assert_eq!((record.key.as_str(), record.max_age_s, record.status), ("example.com/article @origin", 90, Some(200)));
    assert_eq!(record.surrogate_keys, vec![String::from("news"), String::from("front")]);
    assert_eq!(record.ttl_source, "the guest (a TTL override or its after_send hook)");

    let next = request(&mut g, "GET", "http://example.com/article", &[]);
    let h = transaction(&mut g, next);
    assert_eq!(state_of(&mut g, h), FOUND | USABLE);
    let (resp_out, body_out) = (g.alloc(4), g.alloc(4));
    assert_eq!(g.status(|cx| get_found_response(cx, h, 1, resp_out, body_out)), Status::Ok);
    let head = g.state.handles.response(g.u32_at(resp_out)).unwrap().clone();
    assert_eq!((head.status, head.headers.get_str("content-type"), head.headers.get_str("age")), (200, Some("text/html"), Some("0")));
    assert_eq!(g.state.handles.take_body(g.u32_at(body_out)).unwrap().take(), b"<p>news</p>");
    let hits = g.alloc(8);
    assert_eq!(g.status(|cx| get_number(cx, h, Number::Hits, hits)), Status::Ok);
    assert_eq!(g.i64_at(hits), 1);
    let (buf, nw) = (g.alloc(32), g.alloc(4));
    assert_eq!(g.status(|cx| get_words(cx, h, Words::SurrogateKeys, (buf, 32), nw)), Status::Ok);
    assert_eq!(g.string_at(buf, g.u32_at(nw)), "news front");
}

#[test]
fn abandoning_releases_the_key_and_nothing_is_stored() {
    let mut g = TestGuest::new();
    let req = request(&mut g, "GET", "http://example.com/private", &[]);
    let h = transaction(&mut g, req);
    let resp = response(&mut g, 200, &[("cache-control", "private")]);
    let (action, resp_out) = (g.alloc(4), g.alloc(4));
    assert_eq!(g.status(|cx| prepare_response_for_storage(cx, h, resp, action, resp_out)), Status::Ok);
    assert_eq!(g.status(|cx| transaction_abandon(cx, h)), Status::Ok);
    assert!(g.state.stores.lock().cache.is_empty());
    let note = g.state.trace.events.iter().rev().find_map(|e| match &e.kind {
        crate::trace::EventKind::Cache { outcome: CacheOutcome::NotStored, note, .. } => Some(note.clone()),
        _ => None,
    });
    assert_eq!(note.as_deref(), Some("Cache-Control: private"));
    let again = transaction(&mut g, req);
    assert_eq!(state_of(&mut g, again), MUST_INSERT_OR_UPDATE, "the next request fetches it itself");
    let (r, b) = (g.alloc(4), g.alloc(4));
    assert_eq!(g.status(|cx| get_found_response(cx, again, 1, r, b)), Status::None);
    assert_eq!(g.status(|cx| transaction_choose_stale(cx, again)), Status::Badf, "nothing stale to choose");
}

#[test]
fn a_core_cache_handle_is_not_an_http_cache_handle() {
    let mut g = TestGuest::new();
    let core = handle::open(&mut g.state, Entry::new(String::from("k"), vec![], false, Kind::Core));
    let out = g.alloc(4);
    assert_eq!(g.status(|cx| get_state(cx, core, out)), Status::Badf);
    assert_eq!(g.status(|cx| close(cx, core)), Status::Badf);
}
