//! Error paths and contracts of `fastly_http_req`, one row per case.

use super::*;
use crate::abi::testing::TestGuest;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use crate::io::IoResult;

fn new_request(g: &mut TestGuest) -> u32 {
    let out = g.alloc(4);
    assert_eq!(g.status(|cx| new(cx, out)), Status::Ok);
    g.u32_at(out)
}

#[test]
fn unknown_and_wrong_kind_handles_are_badf() {
    let mut g = TestGuest::new();
    let body = g.alloc(4);
    g.call(|cx| crate::abi::http_body::new(cx, body)).unwrap();
    let body = g.u32_at(body);
    let out = g.alloc(16);
    for handle in [0, 999, INVALID_HANDLE, body] {
        assert_eq!(g.status(|cx| method_get(cx, handle, out, 16, out + 8)), Status::Badf, "handle {handle}");
        assert_eq!(g.status(|cx| version_set(cx, handle, 2)), Status::Badf, "handle {handle}");
        assert_eq!(g.status(|cx| close(cx, handle)), Status::Badf, "handle {handle}");
    }
}

#[test]
fn short_buffers_get_buflen_and_the_needed_length() {
    let mut g = TestGuest::new();
    let req = new_request(&mut g);
    let (uri, uri_len) = g.put("https://example.test/a/long/path?with=query");
    assert_eq!(g.status(|cx| uri_set(cx, req, uri, uri_len)), Status::Ok);
    let (buf, nwritten) = (g.alloc(64), g.alloc(4));
    assert_eq!(g.status(|cx| uri_get(cx, req, buf, 10, nwritten)), Status::Buflen);
    assert_eq!(g.u32_at(nwritten), uri_len);
    assert_eq!(g.status(|cx| uri_get(cx, req, buf, uri_len, nwritten)), Status::Ok);
    assert_eq!(g.string_at(buf, uri_len), "https://example.test/a/long/path?with=query");
}

#[test]
fn invalid_input_is_inval() {
    let mut g = TestGuest::new();
    let req = new_request(&mut g);
    let cases: [(&[u8], &str); 4] = [
        (b"GE T", "a method with a space"),
        (b"", "an empty method"),
        (b"G\xffT", "a method with a non-token byte"),
        (b"GET\n", "a method with a newline"),
    ];
    for (method, why) in cases {
        let (ptr, len) = g.put(method);
        assert_eq!(g.status(|cx| method_set(cx, req, ptr, len)), Status::Inval, "{why}");
    }
    let (bad_utf8, len) = g.put(b"/caf\xe9");
    assert_eq!(g.status(|cx| uri_set(cx, req, bad_utf8, len)), Status::Inval, "invalid UTF-8 URI");
    let (spaced, len) = g.put("/a b");
    assert_eq!(g.status(|cx| uri_set(cx, req, spaced, len)), Status::Inval, "a URI with a space");
    assert_eq!(g.status(|cx| version_set(cx, req, 9)), Status::Inval, "an unknown HTTP version");
    assert_eq!(g.status(|cx| uri_set(cx, req, u32::MAX - 2, 8)), Status::Inval, "a pointer past the end of memory");
    assert_eq!(g.status(|cx| framing_headers_mode_set(cx, req, 7)), Status::Inval, "an unknown framing mode");
}

#[test]
fn headers_follow_the_sdk_contract() {
    let mut g = TestGuest::new();
    let req = new_request(&mut g);
    let (name, name_len) = g.put("X-Tag");
    let (a, a_len) = g.put("one");
    let (b, b_len) = g.put("two");
    let (bad_value, bad_len) = g.put("evil\r\nx: y");
    let (bad_name, bad_name_len) = g.put("bad name");
    /// `headers::append` / `insert`: (owner, handle, name, value).
    type HeaderWrite = fn(&mut Cx<'_>, Owner, u32, (u32, u32), (u32, u32)) -> AbiResult;
    let h = |cx: &mut Cx<'_>, f: HeaderWrite, v: (u32, u32)| {
        f(cx, Owner::Request, req, (name, name_len), v)
    };
    assert_eq!(g.status(|cx| h(cx, headers::append, (a, a_len))), Status::Ok);
    assert_eq!(g.status(|cx| h(cx, headers::append, (b, b_len))), Status::Ok);
    assert_eq!(g.status(|cx| h(cx, headers::append, (bad_value, bad_len))), Status::Inval, "CRLF in a value");
    assert_eq!(
        g.status(|cx| headers::append(cx, Owner::Request, req, (bad_name, bad_name_len), (a, a_len))),
        Status::Inval,
        "a space in a name"
    );

    // Both values, NUL-terminated; then page through them one at a time.
    let (buf, end, nw) = (g.alloc(64), g.alloc(8), g.alloc(4));
    let values = |cx: &mut Cx<'_>, cap: u32, cursor: u32| {
        headers::values_get(cx, Owner::Request, req, (name, name_len), (buf, cap), cursor, (end, nw))
    };
    assert_eq!(g.status(|cx| values(cx, 64, 0)), Status::Ok);
    assert_eq!(g.bytes_at(buf, g.u32_at(nw)), b"one\0two\0");
    assert_eq!(g.i64_at(end), -1);
    assert_eq!(g.status(|cx| values(cx, 5, 0)), Status::Ok, "room for the first value only");
    assert_eq!(g.bytes_at(buf, g.u32_at(nw)), b"one\0");
    assert_eq!(g.i64_at(end), 1);
    assert_eq!(g.status(|cx| values(cx, 5, 1)), Status::Ok);
    assert_eq!(g.bytes_at(buf, g.u32_at(nw)), b"two\0");
    assert_eq!(g.status(|cx| values(cx, 2, 0)), Status::Buflen, "not even one value fits");
    assert_eq!(g.u32_at(nw), 4, "the size the first value needs, terminator included");

    // A missing header is INVAL for value_get and remove: the `fastly` crate reads it as None.
    let (missing, missing_len) = g.put("x-missing");
    assert_eq!(
        g.status(|cx| headers::value_get(cx, Owner::Request, req, (missing, missing_len), (buf, 64), nw)),
        Status::Inval
    );
    assert_eq!(g.status(|cx| headers::remove(cx, Owner::Request, req, (missing, missing_len))), Status::Inval);
    assert_eq!(g.status(|cx| headers::remove(cx, Owner::Request, req, (name, name_len))), Status::Ok);
}

#[test]
fn header_names_page_with_a_cursor() {
    let mut g = TestGuest::new();
    let req = new_request(&mut g);
    for name in ["alpha", "beta", "gamma"] {
        let (n, nl) = g.put(name);
        let (v, vl) = g.put("v");
        g.call(|cx| headers::append(cx, Owner::Request, req, (n, nl), (v, vl))).unwrap();
    }
    let (buf, end, nw) = (g.alloc(64), g.alloc(8), g.alloc(4));
    let mut names = Vec::new();
    let mut cursor = 0;
    loop {
        assert_eq!(g.status(|cx| headers::names_get(cx, Owner::Request, req, (buf, 8), cursor, (end, nw))), Status::Ok);
        names.extend(g.bytes_at(buf, g.u32_at(nw)).split(|&b| b == 0).filter(|s| !s.is_empty()).map(|s| String::from_utf8_lossy(s).into_owned()));
        match g.i64_at(end) {
            -1 => break,
            next => cursor = next as u32,
        }
    }
    assert_eq!(names, ["alpha", "beta", "gamma"]);
}

#[test]
fn cache_override_is_recorded_on_the_request() {
    let mut g = TestGuest::new();
    let req = new_request(&mut g);
    let (sk, sk_len) = g.put("key1 key2");
    assert_eq!(g.status(|cx| cache_override_v2_set(cx, req, TAG_TTL | TAG_SWR, 30, 5, sk, sk_len)), Status::Ok);
    let over = &g.state.handles.request(req).unwrap().cache_override;
    assert_eq!((over.ttl, over.stale_while_revalidate, over.pass), (Some(30), Some(5), false));
    assert_eq!(over.surrogate_keys.as_deref(), Some("key1 key2"));
    assert_eq!(g.status(|cx| cache_override_set(cx, req, 1 << 9, 0, 0)), Status::Inval, "an unknown tag bit");
}

fn put_backend_send(g: &mut TestGuest, backend: &str) -> (u32, u32, (u32, u32)) {
    let req = new_request(g);
    let (uri, uri_len) = g.put("http://localhost/path?q");
    g.call(|cx| uri_set(cx, req, uri, uri_len)).unwrap();
    let body_out = g.alloc(4);
    g.call(|cx| crate::abi::http_body::new(cx, body_out)).unwrap();
    let body = g.u32_at(body_out);
    (req, body, g.put(backend))
}

fn guest_with_backends() -> TestGuest {
    let config = crate::config::Config::from_json(
        r#"{ "backends": { "origin": { "url": "https://origin.test/prefix/" },
                          "mock": { "mock": { "status": 418, "body": "teapot" } } } }"#,
    )
    .unwrap();
    TestGuest::with_config(config, crate::state::DownstreamRequest::get("http://localhost/"))
}

#[test]
fn sending_to_an_unknown_backend_is_inval_and_keeps_the_request() {
    let mut g = guest_with_backends();
    let (req, body, (be, be_len)) = put_backend_send(&mut g, "nope");
    let out = g.alloc(4);
    assert_eq!(g.status(|cx| send_async(cx, req, body, be, be_len, out)), Status::Inval);
    assert!(g.state.handles.request(req).is_ok(), "nothing was consumed");
    assert!(!g.state.io.has_queued());
}

#[test]
fn send_async_queues_a_fetch_and_wait_delivers_its_response() {
    let mut g = guest_with_backends();
    let (req, body, (be, be_len)) = put_backend_send(&mut g, "origin");
    let pending_out = g.alloc(4);
    assert_eq!(g.status(|cx| send_async(cx, req, body, be, be_len, pending_out)), Status::Ok);
    let pending = g.u32_at(pending_out);
    assert!(g.state.handles.request(req).is_err(), "the request handle is consumed");
    let op = g.state.io.pop_queued().expect("a fetch to start");
    let crate::io::IoKind::Fetch(sent) = &op.kind else { panic!("{op:?}") };
    assert_eq!(sent.url, "https://origin.test/prefix/path?q");
    assert_eq!(sent.headers[0], ("host".into(), b"localhost".to_vec()));

    let (err, resp_out, body_out) = (g.alloc(20), g.alloc(4), g.alloc(4));
    let Err(AbiError::Block(mut k)) = g.call(|cx| pending_req_wait_v2(cx, pending, err, resp_out, body_out)) else {
        panic!("waits while the fetch is in flight")
    };
    g.state.complete_io(
        op.id,
        IoResult::Fetched(Ok(BackendResponse { status: 201, headers: vec![], body: b"made".to_vec(), remote_addr: None })),
    );
    assert!(g.call(|cx| k(cx)).is_ok());
    assert_eq!(g.u32_at(err), 1, "SendErrorDetailTag::Ok");
    let resp = g.u32_at(resp_out);
    assert_eq!(g.state.handles.response(resp).unwrap().status, 201);
    assert_eq!(g.state.handles.body(g.u32_at(body_out)).unwrap().remaining(), b"made");
    assert_eq!(g.status(|cx| pending_req_poll(cx, pending, err, resp_out, body_out)), Status::Badf, "a pending handle is used once");
}

#[test]
fn a_mock_backend_answers_without_io() {
    let mut g = guest_with_backends();
    let (req, body, (be, be_len)) = put_backend_send(&mut g, "mock");
    let (err, resp_out, body_out) = (g.alloc(20), g.alloc(4), g.alloc(4));
    assert_eq!(g.status(|cx| send_v2(cx, req, body, be, be_len, err, resp_out, body_out)), Status::Ok);
    assert!(!g.state.io.has_queued());
    assert_eq!(g.state.handles.response(g.u32_at(resp_out)).unwrap().status, 418);
}

#[test]
fn a_failed_fetch_gives_error_detail_and_invalid_handles() {
    let mut g = guest_with_backends();
    let (req, body, (be, be_len)) = put_backend_send(&mut g, "origin");
    let pending_out = g.alloc(4);
    g.call(|cx| send_async(cx, req, body, be, be_len, pending_out)).unwrap();
    let op = g.state.io.pop_queued().unwrap();
    let refused = FetchError { kind: crate::io::FetchErrorKind::ConnectionRefused, message: "refused".into() };
    g.state.complete_io(op.id, IoResult::Fetched(Err(refused)));
    let (list, list_len) = g.put(g.u32_at(pending_out).to_le_bytes());
    let (err, done, resp_out, body_out) = (g.alloc(20), g.alloc(4), g.alloc(4), g.alloc(4));
    assert_eq!(g.status(|cx| pending_req_select_v2(cx, list, list_len / 4, err, done, resp_out, body_out)), Status::Ok);
    assert_eq!(g.u32_at(done), 0);
    assert_eq!(g.u32_at(err), 7, "SendErrorDetailTag::ConnectionRefused");
    assert_eq!((g.u32_at(resp_out), g.u32_at(body_out)), (INVALID_HANDLE, INVALID_HANDLE));
}

#[test]
fn the_backend_request_limit_is_enforced() {
    let config = crate::config::Config::from_json(
        // `no-store`: each send goes to the backend (a cache hit is not a backend request).
        r#"{ "backends": { "mock": { "mock": { "headers": { "cache-control": "no-store" } } } },
            "limits": { "backend_requests": 2 } }"#,
    )
    .unwrap();
    let mut g = TestGuest::with_config(config, crate::state::DownstreamRequest::get("http://localhost/"));
    let out = g.alloc(4);
    for expected in [Status::Ok, Status::Ok, Status::LimitExceeded] {
        let (req, body, (be, be_len)) = put_backend_send(&mut g, "mock");
        assert_eq!(g.status(|cx| send_async(cx, req, body, be, be_len, out)), expected);
    }
}
