use super::*;
use crate::abi::http_req::body_downstream_get;
use crate::abi::http_resp::respond;
use crate::abi::testing::TestGuest;
use crate::config::Config;
use crate::http::ResponseHead;
use crate::state::DownstreamRequest;

const TLS_CONFIG: &str = r#"{ "client": { "ip": "2001:db8::7", "server_ip": "192.0.2.1", "compliance_region": "eu",
    "valid_fastly_keys": ["k-1", "k-2"],
    "tls": { "protocol": "TLSv1.2", "servername": "www.example.com", "client_hello": "160301",
             "ja3_md5": "e7d705a3286e19ea42f587b344ee6865", "client_cert": "-----BEGIN CERTIFICATE-----" },
    "bot": { "name": "ExampleBot", "category": "ai_crawler", "verified": false } } }"#;

fn guest_with(config: &str, headers: &[(&str, &str)]) -> TestGuest {
    let config = Config::from_json(config).unwrap();
    let mut request = DownstreamRequest::get("http://localhost/");
    request.headers = headers.iter().map(|(n, v)| (String::from(*n), v.as_bytes().to_vec())).collect();
    TestGuest::with_config(config, request)
}

fn guest() -> TestGuest {
    guest_with(TLS_CONFIG, &[("X-Mixed-Case", "1"), ("accept", "*/*"), ("Fastly-Key", "k-2")])
}

/// The client request's handle, as `Request::from_client()` gets it.
fn client_request(g: &mut TestGuest) -> u32 {
    let (req, body) = (g.alloc(4), g.alloc(4));
    assert_eq!(g.status(|cx| body_downstream_get(cx, req, body)), Status::Ok);
    g.u32_at(req)
}

fn text(g: &mut TestGuest, name: &str, h: u32) -> Result<String, Status> {
    let fact = TEXT_FACTS.iter().find(|(n, _)| *n == name).unwrap().1;
    let (buf, nw) = (g.alloc(256), g.alloc(4));
    match g.status(|cx| for_client(cx, h).and_then(|()| write_text(cx, fact, buf, 256, nw))) {
        Status::Ok => Ok(g.string_at(buf, g.u32_at(nw))),
        status => Err(status),
    }
}

fn flag(g: &mut TestGuest, name: &str, h: u32) -> Result<u32, Status> {
    let fact = FLAG_FACTS.iter().find(|(n, _)| *n == name).unwrap().1;
    let out = g.alloc(4);
    match g.status(|cx| for_client(cx, h).and_then(|()| write_flag(cx, fact, out))) {
        Status::Ok => Ok(g.u32_at(out)),
        status => Err(status),
    }
}

#[test]
fn addresses_come_from_the_config() {
    let mut g = guest();
    let (out, nw) = (g.alloc(16), g.alloc(4));
    assert_eq!(g.status(|cx| client_ip(cx, out, nw)), Status::Ok);
    assert_eq!(g.u32_at(nw), 16);
    assert_eq!(g.bytes_at(out, 16)[..4], [0x20, 0x01, 0x0d, 0xb8]);
    assert_eq!(g.status(|cx| server_ip(cx, out, nw)), Status::Ok);
    assert_eq!((g.u32_at(nw), g.bytes_at(out, 4)), (4, &[192, 0, 2, 1][..]));
}

#[test]
fn a_per_request_client_ip_wins() {
    let mut g = guest();
    g.state.downstream.client_ip = Some("198.51.100.9".into());
    let (out, nw) = (g.alloc(16), g.alloc(4));
    assert_eq!(g.status(|cx| client_ip(cx, out, nw)), Status::Ok);
    assert_eq!(g.bytes_at(out, g.u32_at(nw)), [198, 51, 100, 9]);
}

#[test]
fn original_header_names_keep_their_case_and_order() {
    let mut g = guest();
    let (buf, end, nw, count) = (g.alloc(64), g.alloc(8), g.alloc(4), g.alloc(4));
    assert_eq!(g.status(|cx| original_header_names(cx, buf, 64, 0, end, nw)), Status::Ok);
    assert_eq!(g.bytes_at(buf, g.u32_at(nw)), b"X-Mixed-Case\0accept\0Fastly-Key\0");
    assert_eq!(g.status(|cx| original_header_count(cx, count)), Status::Ok);
    assert_eq!(g.u32_at(count), 3);
}

#[test]
fn request_id_is_the_trace_id_and_pages_with_buflen() {
    let mut g = guest();
    let (buf, nw) = (g.alloc(64), g.alloc(4));
    let fact = TEXT_FACTS[2].1;
    assert_eq!(g.status(|cx| write_text(cx, fact, buf, 4, nw)), Status::Buflen);
    assert_eq!(g.u32_at(nw), 32);
    assert_eq!(g.status(|cx| write_text(cx, fact, buf, 64, nw)), Status::Ok);
    let trace_id = g.state.env.iter().find(|(k, _)| k == "FASTLY_TRACE_ID").unwrap().1.clone();
    assert_eq!(g.string_at(buf, 32), trace_id);
}

#[test]
fn tls_facts_come_from_the_config() {
    let mut g = guest();
    let h = client_request(&mut g);
    assert_eq!(text(&mut g, "downstream_tls_protocol", h).as_deref(), Ok("TLSv1.2"));
    assert_eq!(text(&mut g, "downstream_tls_cipher_openssl_name", h).as_deref(), Ok("TLS_AES_128_GCM_SHA256"));
    assert_eq!(text(&mut g, "downstream_tls_client_servername", h).as_deref(), Ok("www.example.com"));
    assert_eq!(text(&mut g, "downstream_tls_client_hello", h).map(String::into_bytes), Ok(alloc::vec![0x16, 0x03, 0x01]));
    assert_eq!(text(&mut g, "downstream_tls_raw_client_certificate", h).as_deref(), Ok("-----BEGIN CERTIFICATE-----"));
    assert_eq!(text(&mut g, "downstream_tls_ja4", h), Err(Status::None), "not configured");
    assert_eq!(flag(&mut g, "downstream_tls_client_cert_verify_result", h), Ok(0), "ok: a certificate was presented");
    let (out, nw) = (g.alloc(16), g.alloc(4));
    assert_eq!(g.status(|cx| ja3_md5(cx, out, nw)), Status::Ok);
    assert_eq!((g.u32_at(nw), g.bytes_at(out, 2)), (16, &[0xe7, 0xd7][..]));
}

#[test]
fn a_plain_http_request_has_no_tls_facts() {
    let mut g = guest_with("{}", &[]);
    let h = client_request(&mut g);
    for name in ["downstream_tls_protocol", "downstream_tls_cipher_openssl_name", "downstream_tls_client_hello"] {
        assert_eq!(text(&mut g, name, h), Err(Status::None), "{name}");
    }
    assert_eq!(flag(&mut g, "downstream_tls_client_cert_verify_result", h), Err(Status::None));
    let (out, nw) = (g.alloc(16), g.alloc(4));
    assert_eq!(g.status(|cx| ja3_md5(cx, out, nw)), Status::None);
    assert_eq!(text(&mut g, "downstream_compliance_region", h).as_deref(), Ok("none"));
    assert_eq!(flag(&mut g, "downstream_bot_analyzed", h), Ok(0));
    assert_eq!(flag(&mut g, "downstream_client_ddos_detected", h), Ok(0));
    assert_eq!(flag(&mut g, "downstream_resvpnproxy_is_anonymous", h), Err(Status::None));
}

#[test]
fn a_fastly_key_is_valid_when_the_service_knows_it() {
    let mut g = guest();
    let h = client_request(&mut g);
    assert_eq!(flag(&mut g, "fastly_key_is_valid", h), Ok(1));
    for headers in [&[("fastly-key", "k-3")][..], &[][..], &[("x-fastly-key", "k-1")][..]] {
        let mut g = guest_with(TLS_CONFIG, headers);
        let h = client_request(&mut g);
        assert_eq!(flag(&mut g, "fastly_key_is_valid", h), Ok(0), "{headers:?}");
    }
}

#[test]
fn bot_detection_facts_come_from_the_config() {
    let mut g = guest();
    let h = client_request(&mut g);
    assert_eq!(flag(&mut g, "downstream_bot_analyzed", h), Ok(1));
    assert_eq!(flag(&mut g, "downstream_bot_detected", h), Ok(1));
    assert_eq!(text(&mut g, "downstream_bot_name", h).as_deref(), Ok("ExampleBot"));
    assert_eq!(text(&mut g, "downstream_bot_category", h).as_deref(), Ok("AI-CRAWLER"));
    assert_eq!(flag(&mut g, "downstream_bot_category_kind", h), Ok(3));
    assert_eq!(flag(&mut g, "downstream_bot_verified", h), Ok(0));
    assert_eq!(text(&mut g, "downstream_compliance_region", h).as_deref(), Ok("eu"));
}

#[test]
fn only_the_client_request_has_client_facts() {
    let mut g = guest();
    client_request(&mut g);
    let own = g.state.handles.insert(Handle::Request(crate::http::RequestHead::default()));
    assert_eq!(text(&mut g, "downstream_tls_protocol", own), Err(Status::None));
    assert_eq!(flag(&mut g, "fastly_key_is_valid", own), Err(Status::None));
    let body = g.state.handles.insert(Handle::Body(crate::body::Body::from_bytes(Vec::new())));
    assert_eq!(text(&mut g, "downstream_tls_protocol", body), Err(Status::Badf));
}

// ---- reusable sandbox --------------------------------------------------------------------

fn promise(g: &mut TestGuest) -> Result<u32, Status> {
    let out = g.alloc(4);
    match g.status(|cx| next_request(cx, 0, 0, out)) {
        Status::Ok => Ok(g.u32_at(out)),
        status => Err(status),
    }
}

fn wait(g: &mut TestGuest, promise: u32) -> Result<(u32, u32), Status> {
    let (req, body) = (g.alloc(4), g.alloc(4));
    match g.status(|cx| next_request_wait(cx, promise, req, body)) {
        Status::Ok => Ok((g.u32_at(req), g.u32_at(body))),
        status => Err(status),
    }
}

fn answer(g: &mut TestGuest, status: u16) {
    respond(&mut g.state, ResponseHead { status, ..ResponseHead::default() }, b"done".to_vec(), false);
}

#[test]
fn a_queued_request_is_served_by_the_same_instance() {
    let mut g = guest();
    let first = client_request(&mut g);
    let mut next = DownstreamRequest::get("http://localhost/second");
    next.headers = alloc::vec![("Fastly-Key".into(), b"nope".to_vec())];
    g.state.queued_requests.push_back(next);

    let p = promise(&mut g).unwrap();
    assert_eq!(promise(&mut g), Err(Status::LimitExceeded), "one promise at a time");
    answer(&mut g, 201);
    let (req, body) = wait(&mut g, p).unwrap();
    assert_eq!(g.state.handles.request(req).unwrap().uri, "http://localhost/second");
    assert!(g.state.handles.body(body).is_ok());
    assert_eq!(g.state.served.len(), 1);
    assert_eq!(g.state.served[0].head.as_ref().map(|h| h.status), Some(201));
    assert!(g.state.response.head.is_none(), "the second request has no response yet");

    let second_id = text(&mut g, "downstream_client_request_id", req);
    assert_eq!(second_id.as_deref(), Ok("000102030405060708090a0b0c0d0e0f"), "a fresh id from the host's randomness");
    assert_eq!(flag(&mut g, "fastly_key_is_valid", req), Ok(0), "the second request's own headers");
    assert_eq!(text(&mut g, "downstream_tls_protocol", first), Err(Status::None), "no longer the client request");
    assert_eq!(wait(&mut g, p), Err(Status::Badf), "the promise was consumed");
}

#[test]
fn with_nothing_queued_the_session_ends() {
    let mut g = guest();
    client_request(&mut g);
    answer(&mut g, 200);
    let p = promise(&mut g).unwrap();
    assert_eq!(wait(&mut g, p), Err(Status::None));
    assert_eq!(g.state.served.len(), 0);
}

#[test]
fn the_next_request_waits_for_the_current_response() {
    let mut g = guest();
    client_request(&mut g);
    g.state.queued_requests.push_back(DownstreamRequest::get("http://localhost/second"));
    let p = promise(&mut g).unwrap();
    assert_eq!(wait(&mut g, p), Err(Status::Unsupported));
    assert_eq!(g.state.queued_requests.len(), 1, "still queued");
}

#[test]
fn a_promise_can_be_abandoned_and_options_are_checked() {
    let mut g = guest();
    let p = promise(&mut g).unwrap();
    assert_eq!(g.status(|cx| next_request_abandon(cx, p)), Status::Ok);
    assert_eq!(g.status(|cx| next_request_abandon(cx, p)), Status::Badf);
    let out = g.alloc(4);
    assert_eq!(g.status(|cx| next_request(cx, 1 << 5, 0, out)), Status::Inval);
    let options = g.put(5000u64.to_le_bytes()).0;
    assert_eq!(g.status(|cx| next_request(cx, OPTION_TIMEOUT, options, out)), Status::Ok);
}
