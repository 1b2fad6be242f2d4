//! `fastly_http_req`: requests, and sending them to backends.
//!
//! A send starts an I/O operation (or, for a mock backend, answers from the config); the
//! blocking forms (`send*`, `pending_req_wait*`, `pending_req_select*`) wait for it with
//! [`wait_until`], which suspends the guest until the embedder completes the operation.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::headers::{self, Owner};
use super::{wait_until, AbiError, AbiResult, Cx, Registry};
use crate::body::{Body, BodyRole};
use crate::config::{Backend, BackendUrl, MockResponse};
use crate::handles::{Handle, HeaderEdit, PendingRequest};
use crate::http::{is_valid_method, FramingMode, HttpVersion, RequestHead, ResponseHead};
use crate::io::{BackendRequest, BackendResponse, FetchError, IoId, IoKind};
use crate::cache::readthrough::{self, CacheNote, Lookup, Retry};
use crate::state::{CacheRole, IoSlot, State};
use crate::status::Status;
use crate::trace::EventKind;

const M: &str = "fastly_http_req";

/// The handle value the SDKs treat as "no handle" (`fastly_shared::INVALID_*_HANDLE`).
pub const INVALID_HANDLE: u32 = u32::MAX - 1;

pub fn link(r: &mut Registry<'_>) {
    headers::link(r, M, Owner::Request);
    r.func(M, "new", new);
    r.func(M, "close", close);
    r.func(M, "body_downstream_get", body_downstream_get);
    r.func(M, "method_get", method_get);
    r.func(M, "method_set", method_set);
    r.func(M, "uri_get", uri_get);
    r.func(M, "uri_set", uri_set);
    r.func(M, "version_get", version_get);
    r.func(M, "version_set", version_set);
    r.func(M, "cache_override_set", cache_override_set);
    r.func(M, "cache_override_v2_set", cache_override_v2_set);
    r.func(M, "cache_override_v3_set", cache_override_v3_set);
    r.func(M, "framing_headers_mode_set", framing_headers_mode_set);
    r.func(M, "auto_decompress_response_set", auto_decompress_response_set);
    r.func(M, "send", send);
    r.func(M, "send_v2", send_v2);
    r.func(M, "send_v3", send_v2);
    r.func(M, "send_async", send_async);
    r.func(M, "send_async_streaming", send_async_streaming);
    r.func(M, "send_async_v2", send_async_v2);
    r.func(M, "pending_req_poll", pending_req_poll);
    r.func(M, "pending_req_poll_v2", pending_req_poll_v2);
    r.func(M, "pending_req_wait", pending_req_wait);
    r.func(M, "pending_req_wait_v2", pending_req_wait_v2);
    r.func(M, "pending_req_select", pending_req_select);
    r.func(M, "pending_req_select_v2", pending_req_select_v2);
    r.func(M, "pending_req_header_append", pending_req_header_append);
    r.func(M, "pending_req_header_insert", pending_req_header_insert);
    r.func(M, "pending_req_header_remove", pending_req_header_remove);
}

// ---- the request head ------------------------------------------------------------------

fn new(cx: &mut Cx<'_>, handle_out: u32) -> AbiResult {
    let handle = cx.st.handles.insert(Handle::Request(RequestHead::default()));
    cx.mem.write_u32(handle_out, handle)
}

fn close(cx: &mut Cx<'_>, h: u32) -> AbiResult {
    cx.st.handles.take_request(h).map(drop)
}

/// The client's request and body. Called again, it returns the same handles.
pub(super) fn body_downstream_get(cx: &mut Cx<'_>, req_out: u32, body_out: u32) -> AbiResult {
    let (req, body) = match cx.st.downstream_handles {
        Some(handles) => handles,
        None => {
            let downstream = &cx.st.downstream;
            let head = RequestHead {
                method: downstream.method.clone(),
                uri: downstream.url.clone(),
                headers: downstream.headers.iter().map(|(n, v)| (n, v)).collect(),
                ..RequestHead::default()
            };
            let body = Body::from_bytes(downstream.body.clone());
            let handles = (cx.st.handles.insert(Handle::Request(head)), cx.st.handles.insert(Handle::Body(body)));
            cx.st.downstream_handles = Some(handles);
            handles
        }
    };
    cx.mem.write_u32(req_out, req)?;
    cx.mem.write_u32(body_out, body)
}

fn method_get(cx: &mut Cx<'_>, h: u32, buf: u32, buf_len: u32, nwritten: u32) -> AbiResult {
    let method = &cx.st.handles.request(h)?.method;
    cx.mem.write_fitting(buf, buf_len, method.as_bytes(), nwritten)
}

fn method_set(cx: &mut Cx<'_>, h: u32, ptr: u32, len: u32) -> AbiResult {
    let method = cx.mem.slice(ptr, len)?;
    if !is_valid_method(method) {
        return Err(Status::Inval.into());
    }
    let method = String::from_utf8_lossy(method).into_owned();
    cx.st.handles.request_mut(h)?.method = method;
    Ok(())
}

fn uri_get(cx: &mut Cx<'_>, h: u32, buf: u32, buf_len: u32, nwritten: u32) -> AbiResult {
    let uri = &cx.st.handles.request(h)?.uri;
    cx.mem.write_fitting(buf, buf_len, uri.as_bytes(), nwritten)
}

/// A URI is printable ASCII without spaces (percent-encoded otherwise), as `http::Uri` accepts.
fn uri_set(cx: &mut Cx<'_>, h: u32, ptr: u32, len: u32) -> AbiResult {
    let uri = cx.mem.str(ptr, len)?;
    if uri.is_empty() || !uri.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Status::Inval.into());
    }
    let uri = uri.to_string();
    cx.st.handles.request_mut(h)?.uri = uri;
    Ok(())
}

fn version_get(cx: &mut Cx<'_>, h: u32, version_out: u32) -> AbiResult {
    let version = cx.st.handles.request(h)?.version;
    cx.mem.write_u32(version_out, version as u32)
}

fn version_set(cx: &mut Cx<'_>, h: u32, version: u32) -> AbiResult {
    let version = HttpVersion::from_abi(version).ok_or(Status::Inval)?;
    cx.st.handles.request_mut(h)?.version = version;
    Ok(())
}

fn framing_headers_mode_set(cx: &mut Cx<'_>, h: u32, mode: u32) -> AbiResult {
    let framing = framing_mode(mode)?;
    cx.st.handles.request_mut(h)?.framing = framing;
    Ok(())
}

pub(super) fn framing_mode(mode: u32) -> Result<FramingMode, AbiError> {
    match mode {
        0 => Ok(FramingMode::Automatic),
        1 => Ok(FramingMode::ManuallyFromHeaders),
        _ => Err(Status::Inval.into()),
    }
}

/// `ContentEncodings`: only gzip (bit 0) exists.
fn auto_decompress_response_set(cx: &mut Cx<'_>, h: u32, encodings: u32) -> AbiResult {
    if encodings & !1 != 0 {
        return Err(Status::Inval.into());
    }
    cx.st.handles.request_mut(h)?.auto_decompress = encodings;
    Ok(())
}

// ---- cache override: recorded on the request; the readthrough cache gives it effect ------

/// `CacheOverrideTag` bits.
const TAG_PASS: u32 = 1 << 0;
const TAG_TTL: u32 = 1 << 1;
const TAG_SWR: u32 = 1 << 2;
const TAG_PCI: u32 = 1 << 3;
const TAG_LOOKUP_TIMEOUT: u32 = 1 << 4;

fn set_cache_override(cx: &mut Cx<'_>, h: u32, tag: u32, ttl: u32, swr: u32, surrogate_keys: Option<String>) -> AbiResult {
    if tag & !(TAG_PASS | TAG_TTL | TAG_SWR | TAG_PCI | TAG_LOOKUP_TIMEOUT) != 0 {
        return Err(Status::Inval.into());
    }
    let over = &mut cx.st.handles.request_mut(h)?.cache_override;
    over.pass = tag & TAG_PASS != 0;
    over.ttl = (tag & TAG_TTL != 0).then_some(ttl);
    over.stale_while_revalidate = (tag & TAG_SWR != 0).then_some(swr);
    over.pci = tag & TAG_PCI != 0;
    over.surrogate_keys = surrogate_keys;
    Ok(())
}

fn cache_override_set(cx: &mut Cx<'_>, h: u32, tag: u32, ttl: u32, swr: u32) -> AbiResult {
    set_cache_override(cx, h, tag, ttl, swr, None)
}

fn cache_override_v2_set(cx: &mut Cx<'_>, h: u32, tag: u32, ttl: u32, swr: u32, sk: u32, sk_len: u32) -> AbiResult {
    let keys = (sk_len > 0).then(|| cx.mem.string(sk, sk_len)).transpose()?;
    set_cache_override(cx, h, tag, ttl, swr, keys)
}

/// `fastly_sys::CacheOverride`: ttl, swr, surrogate_keys ptr+len, lookup_timeout_ms.
fn cache_override_v3_set(cx: &mut Cx<'_>, h: u32, tag: u32, ptr: u32) -> AbiResult {
    let fields = cx.mem.slice(ptr, 20)?;
    let field = |i: usize| u32::from_le_bytes(fields[4 * i..4 * i + 4].try_into().unwrap());
    let (ttl, swr, sk, sk_len) = (field(0), field(1), field(2), field(3));
    let keys = (sk_len > 0).then(|| cx.mem.string(sk, sk_len)).transpose()?;
    set_cache_override(cx, h, tag, ttl, swr, keys)
}

// ---- sending -----------------------------------------------------------------------------

/// Starts sending request `req` with body `body` to the backend named at `backend`.
/// The request and (unless streaming) the body handles are consumed, as in production.
/// The readthrough cache answers first when it can: a hit makes no backend request.
fn start_send(cx: &mut Cx<'_>, req: u32, body: u32, backend: (u32, u32), streaming: bool) -> Result<IoId, AbiError> {
    let name = cx.mem.string(backend.0, backend.1)?;
    let config = cx.st.config.clone();
    let Some(backend) = &super::backend::resolve_backend(cx.st, &name) else {
        return Err(Status::Inval.into());
    };
    cx.st.handles.request(req)?;
    cx.st.handles.body(body)?;
    if cx.st.io.backend_requests >= config.limits.backend_requests {
        return Err(Status::LimitExceeded.into());
    }
    let head = cx.st.handles.take_request(req)?;
    let body_bytes = if streaming {
        cx.st.handles.body_mut(body)?.role = BodyRole::StreamingToBackend;
        Vec::new()
    } else {
        cx.st.handles.take_body(body)?.take()
    };
    let request = backend_request(&name, backend, &head, body_bytes);
    let st = &mut *cx.st;
    let (lookup, note) = if streaming {
        (Lookup::Pass("streaming"), None)
    } else if head.cached_by_guest {
        // The guest's HTTP cache transaction stores the response (`abi::http_cache`), and the
        // trace already shows its decision: storing here too would cache it twice, and
        // collapsing onto that transaction would wait for itself.
        (Lookup::Pass("cached by the guest"), None)
    } else {
        let (lookup, note) = readthrough::lookup(st, &head, &name);
        (lookup, Some(note))
    };
    let cache = match lookup {
        Lookup::Hit(response) => return Ok(answered_from_cache(st, name, response, note)),
        Lookup::Stale(response, fill) => {
            let id = answered_from_cache(st, name.clone(), response, note);
            if fill.leader {
                st.io.backend_requests += 1;
                let refresh = st.io.start(None, IoSlot::Fetch {
                    backend: name,
                    mock_after_sleep: None,
                    outcome: None,
                    cache: CacheRole::Fill(Box::new(fill)),
                    background: true,
                });
                to_backend(st, refresh, request, backend, None);
            }
            return Ok(id);
        }
        Lookup::Wait(fill) => {
            let id = st.io.start(Some(IoKind::Sleep { ms: COLLAPSED_POLL_MS }), IoSlot::fetch(name, CacheRole::Wait { fill: Box::new(fill), request: Box::new(request) }, None));
            if let Some(note) = note {
                readthrough::trace(st, id, note);
            }
            return Ok(id);
        }
        Lookup::Miss(fill) => CacheRole::Fill(Box::new(fill)),
        Lookup::Pass(_) => CacheRole::None,
    };
    st.io.backend_requests += 1;
    let id = st.io.start(None, IoSlot::fetch(name, cache, None));
    if let Some(note) = note {
        readthrough::trace(st, id, note);
    }
    to_backend(st, id, request, backend, streaming.then_some(body));
    Ok(id)
}

/// How often a request waiting on an identical one in flight checks whether it is done.
const COLLAPSED_POLL_MS: u64 = 2;

/// A send the cache answered: a completed operation with the stored response.
fn answered_from_cache(st: &mut State, backend: String, response: BackendResponse, note: Option<CacheNote>) -> IoId {
    let id = st.io.start(None, IoSlot::fetch(backend, CacheRole::None, Some(Ok(response))));
    if let Some(note) = note {
        readthrough::trace(st, id, note);
    }
    id
}

/// Sends operation `id`'s request on: a real fetch (after the guest closes `streaming_body`,
/// if any), a mock's delay, or a mock's answer at once.
fn to_backend(st: &mut State, id: IoId, request: BackendRequest, backend: &Backend, streaming_body: Option<u32>) {
    trace_request(st, id, &request, backend.mock.is_some());
    let kind = match &backend.mock {
        Some(mock) if mock.delay_ms == 0 => return complete_fetch(st, id, Ok(mock_response(mock))),
        Some(mock) => {
            if let Some(IoSlot::Fetch { mock_after_sleep, .. }) = st.io.slots.get_mut(&id) {
                *mock_after_sleep = Some(mock.clone());
            }
            let at = st.now_ms();
            st.trace.push(at, EventKind::Sleep { io: id, ms: mock.delay_ms as u64 });
            IoKind::Sleep { ms: mock.delay_ms as u64 }
        }
        None => IoKind::Fetch(request),
    };
    match streaming_body {
        Some(body) => st.io.defer_until_closed(body, id, kind),
        None => st.io.queue(id, kind),
    }
}

/// A send's result arrived: record it, and let the readthrough cache store it.
pub(crate) fn complete_fetch(st: &mut State, id: IoId, result: Result<BackendResponse, FetchError>) {
    let at = st.now_ms();
    st.trace.push(at, match &result {
        Ok(resp) => EventKind::BackendResponse { io: id, status: resp.status, body_bytes: resp.body.len() },
        Err(e) => EventKind::BackendError { io: id, error: alloc::format!("{e}") },
    });
    match (st.io.take_cache_role(id), &result) {
        (CacheRole::Fill(fill), Ok(response)) => readthrough::store(st, id, &fill, response),
        (CacheRole::Fill(fill), Err(_)) => readthrough::abandon(st, &fill),
        _ => {}
    }
    st.io.set_outcome(id, result);
}

/// A send's sleep ended: a delayed mock answers, or a collapsed request checks again.
pub(crate) fn on_sleep_done(st: &mut State, id: IoId) {
    let Some(IoSlot::Fetch { mock_after_sleep, backend, .. }) = st.io.slots.get_mut(&id) else { return };
    if let Some(mock) = mock_after_sleep.take() {
        return complete_fetch(st, id, Ok(mock_response(&mock)));
    }
    let backend_name = backend.clone();
    let CacheRole::Wait { mut fill, request } = st.io.take_cache_role(id) else { return };
    match readthrough::retry_wait(st, &mut fill) {
        Retry::StillWaiting => {
            st.io.set_cache_role(id, CacheRole::Wait { fill, request });
            st.io.queue(id, IoKind::Sleep { ms: COLLAPSED_POLL_MS });
        }
        Retry::Hit(response, note) => {
            readthrough::trace(st, id, note);
            st.io.set_outcome(id, Ok(response));
        }
        Retry::Fetch => {
            // Resolved as at the send, so a dynamic backend is found too.
            let Some(backend) = super::backend::resolve_backend(st, &backend_name) else { return };
            st.io.set_cache_role(id, if fill.leader { CacheRole::Fill(fill) } else { CacheRole::None });
            st.io.backend_requests += 1;
            to_backend(st, id, *request, &backend, None);
        }
    }
}

fn trace_request(st: &mut State, io: IoId, request: &BackendRequest, mock: bool) {
    st.trace(EventKind::BackendRequest {
        io,
        backend: request.backend.clone(),
        method: request.method.clone(),
        url: request.url.clone(),
        mock,
    });
}

/// The request as it leaves for a backend: the backend's origin and path prefix with the
/// request's path and query; `Host` from `override_host`, else the request's own `Host`
/// header, else its URL's authority (production forwards the client's `Host`).
fn backend_request(name: &str, backend: &Backend, head: &RequestHead, body: Vec<u8>) -> BackendRequest {
    let url = match backend.url.as_deref().map(BackendUrl::parse) {
        Some(Ok(base)) => alloc::format!("{}://{}{}{}", base.scheme, base.authority, base.path_prefix, head.path_and_query()),
        _ => alloc::format!("mock://{name}{}", head.path_and_query()),
    };
    let host = backend
        .override_host
        .clone()
        .or_else(|| head.headers.get_str("host").map(String::from))
        .or_else(|| head.authority().map(String::from))
        .or_else(|| backend.url.as_deref().and_then(|u| BackendUrl::parse(u).ok()).map(|b| b.authority.to_string()));
    let mut headers: Vec<(String, Vec<u8>)> = Vec::with_capacity(head.headers.len() + 1);
    if let Some(host) = host {
        headers.push((String::from("host"), host.into_bytes()));
    }
    headers.extend(head.headers.iter().filter(|(n, _)| *n != "host").map(|(n, v)| (n.to_string(), v.to_vec())));
    BackendRequest {
        backend: name.to_string(),
        method: head.method.clone(),
        url,
        headers,
        body,
        connect_timeout_ms: backend.connect_timeout_ms,
        first_byte_timeout_ms: backend.first_byte_timeout_ms,
        between_bytes_timeout_ms: backend.between_bytes_timeout_ms,
        proxy: backend.proxy.clone(),
    }
}

/// The response a mock backend gives.
pub fn mock_response(mock: &MockResponse) -> BackendResponse {
    BackendResponse {
        status: mock.status,
        headers: mock.headers.iter().map(|(n, v)| (n.clone(), v.as_bytes().to_vec())).collect(),
        body: mock.body.as_bytes().to_vec(),
        remote_addr: None,
    }
}

/// A finished send: new response and body handles, or why it failed.
type Delivered = Result<(u32, u32), FetchError>;

/// Takes the result of a completed send as new response and body handles.
/// `None` while it is still in flight.
fn take_response(st: &mut State, io: IoId, edits: &[HeaderEdit]) -> Option<Delivered> {
    if !st.io.is_done(io) {
        return None;
    }
    let Some(IoSlot::Fetch { backend, outcome: Some(outcome), .. }) = st.io.slots.remove(&io) else {
        return Some(Err(FetchError { kind: crate::io::FetchErrorKind::Internal, message: "no such request".into() }));
    };
    Some(outcome.map(|response| {
        let mut head = ResponseHead {
            status: response.status,
            headers: response.headers.iter().map(|(n, v)| (n, v)).collect(),
            backend: Some(backend),
            remote_addr: response.remote_addr,
            ..ResponseHead::default()
        };
        for edit in edits {
            match edit {
                HeaderEdit::Append(name, value) => head.headers.append(name, value),
                HeaderEdit::Insert(name, value) => head.headers.insert(name, value),
                HeaderEdit::Remove(name) => drop(head.headers.remove(name)),
            }
        }
        let resp = st.handles.insert(Handle::Response(head));
        let body = st.handles.insert(Handle::Body(Body::from_bytes(response.body)));
        (resp, body)
    }))
}

/// `SendErrorDetail`: `tag` at offset 0 and `mask` at 4 are all a host must fill in.
fn write_error_detail(cx: &mut Cx<'_>, ptr: u32, error: Option<&FetchError>) -> AbiResult {
    const TAG_OK: u32 = 1;
    let tag = error.map_or(TAG_OK, |e| e.kind.send_error_tag());
    let mut detail = [0u8; 8];
    detail[..4].copy_from_slice(&tag.to_le_bytes());
    cx.mem.write(ptr, &detail)
}

/// Where a finished send's results go in guest memory.
#[derive(Clone, Copy)]
struct Outputs {
    error_detail: Option<u32>,
    resp_out: u32,
    body_out: u32,
}

/// Writes a finished send's handles (or its error) for `send*` and `pending_req_wait*`.
fn deliver(cx: &mut Cx<'_>, result: Delivered, out: Outputs) -> AbiResult {
    match result {
        Ok((resp, body)) => {
            if let Some(ptr) = out.error_detail {
                write_error_detail(cx, ptr, None)?;
            }
            cx.mem.write_u32(out.resp_out, resp)?;
            cx.mem.write_u32(out.body_out, body)
        }
        Err(error) => {
            if let Some(ptr) = out.error_detail {
                write_error_detail(cx, ptr, Some(&error))?;
            }
            cx.mem.write_u32(out.resp_out, INVALID_HANDLE)?;
            cx.mem.write_u32(out.body_out, INVALID_HANDLE)?;
            Err(Status::Error.into())
        }
    }
}

fn send_and_wait(cx: &mut Cx<'_>, req: u32, body: u32, backend: (u32, u32), out: Outputs) -> AbiResult {
    let io = start_send(cx, req, body, backend, false)?;
    wait_until(cx, move |cx| match take_response(cx.st, io, &[]) {
        None => Err(AbiError::Pending),
        Some(result) => deliver(cx, result, out),
    })
}

fn send(cx: &mut Cx<'_>, req: u32, body: u32, be: u32, be_len: u32, resp_out: u32, body_out: u32) -> AbiResult {
    send_and_wait(cx, req, body, (be, be_len), Outputs { error_detail: None, resp_out, body_out })
}

#[allow(clippy::too_many_arguments)]
fn send_v2(cx: &mut Cx<'_>, req: u32, body: u32, be: u32, be_len: u32, err: u32, resp_out: u32, body_out: u32) -> AbiResult {
    send_and_wait(cx, req, body, (be, be_len), Outputs { error_detail: Some(err), resp_out, body_out })
}

fn send_async_common(cx: &mut Cx<'_>, req: u32, body: u32, backend: (u32, u32), streaming: bool, out: u32) -> AbiResult {
    let io = start_send(cx, req, body, backend, streaming)?;
    let handle = cx.st.handles.insert(Handle::PendingRequest(PendingRequest { io, response_header_edits: Vec::new() }));
    cx.mem.write_u32(out, handle)
}

fn send_async(cx: &mut Cx<'_>, req: u32, body: u32, be: u32, be_len: u32, out: u32) -> AbiResult {
    send_async_common(cx, req, body, (be, be_len), false, out)
}

fn send_async_streaming(cx: &mut Cx<'_>, req: u32, body: u32, be: u32, be_len: u32, out: u32) -> AbiResult {
    send_async_common(cx, req, body, (be, be_len), true, out)
}

fn send_async_v2(cx: &mut Cx<'_>, req: u32, body: u32, be: u32, be_len: u32, streaming: u32, out: u32) -> AbiResult {
    send_async_common(cx, req, body, (be, be_len), streaming != 0, out)
}

// ---- pending requests --------------------------------------------------------------------

/// Takes pending request `h`'s response if it has arrived; the pending handle is then gone.
pub(super) fn take_pending(st: &mut State, h: u32) -> Result<Option<Delivered>, AbiError> {
    let pending = st.handles.pending_request(h)?;
    if !st.io.is_done(pending.io) {
        return Ok(None);
    }
    let pending = st.handles.take_pending_request(h)?;
    Ok(take_response(st, pending.io, &pending.response_header_edits))
}

fn poll(cx: &mut Cx<'_>, h: u32, is_done_out: u32, out: Outputs) -> AbiResult {
    match take_pending(cx.st, h)? {
        None => {
            cx.mem.write_u32(is_done_out, 0)?;
            cx.mem.write_u32(out.resp_out, INVALID_HANDLE)?;
            cx.mem.write_u32(out.body_out, INVALID_HANDLE)
        }
        Some(result) => {
            cx.mem.write_u32(is_done_out, 1)?;
            deliver(cx, result, out)
        }
    }
}

fn pending_req_poll(cx: &mut Cx<'_>, h: u32, is_done_out: u32, resp_out: u32, body_out: u32) -> AbiResult {
    poll(cx, h, is_done_out, Outputs { error_detail: None, resp_out, body_out })
}

fn pending_req_poll_v2(cx: &mut Cx<'_>, h: u32, err: u32, is_done_out: u32, resp_out: u32, body_out: u32) -> AbiResult {
    poll(cx, h, is_done_out, Outputs { error_detail: Some(err), resp_out, body_out })
}

fn wait(cx: &mut Cx<'_>, h: u32, out: Outputs) -> AbiResult {
    cx.st.handles.pending_request(h)?;
    wait_until(cx, move |cx| match take_pending(cx.st, h)? {
        None => Err(AbiError::Pending),
        Some(result) => deliver(cx, result, out),
    })
}

fn pending_req_wait(cx: &mut Cx<'_>, h: u32, resp_out: u32, body_out: u32) -> AbiResult {
    wait(cx, h, Outputs { error_detail: None, resp_out, body_out })
}

fn pending_req_wait_v2(cx: &mut Cx<'_>, h: u32, err: u32, resp_out: u32, body_out: u32) -> AbiResult {
    wait(cx, h, Outputs { error_detail: Some(err), resp_out, body_out })
}

/// Waits for the first of several pending requests. A failed one is reported with OK, its
/// index, invalid handles and the error detail (what the `fastly` crate expects).
fn select(cx: &mut Cx<'_>, list: (u32, u32), done_out: u32, out: Outputs) -> AbiResult {
    let (ptr, len) = list;
    if len == 0 {
        return Err(Status::Inval.into());
    }
    let bytes = cx.mem.slice(ptr, len.checked_mul(4).ok_or(Status::Inval)?)?;
    let handles: Vec<u32> = bytes.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect();
    for &h in &handles {
        cx.st.handles.pending_request(h)?;
    }
    wait_until(cx, move |cx| {
        let Some(index) = handles.iter().position(|&h| cx.st.handles.pending_request(h).is_ok_and(|p| cx.st.io.is_done(p.io)))
        else {
            return Err(AbiError::Pending);
        };
        let result = take_pending(cx.st, handles[index])?.expect("checked done");
        cx.mem.write_u32(done_out, index as u32)?;
        match deliver(cx, result, out) {
            Err(AbiError::Status(Status::Error)) => Ok(()),
            other => other,
        }
    })
}

fn pending_req_select(cx: &mut Cx<'_>, hs: u32, hs_len: u32, done_out: u32, resp_out: u32, body_out: u32) -> AbiResult {
    select(cx, (hs, hs_len), done_out, Outputs { error_detail: None, resp_out, body_out })
}

#[allow(clippy::too_many_arguments)]
fn pending_req_select_v2(cx: &mut Cx<'_>, hs: u32, hs_len: u32, err: u32, done_out: u32, resp_out: u32, body_out: u32) -> AbiResult {
    select(cx, (hs, hs_len), done_out, Outputs { error_detail: Some(err), resp_out, body_out })
}

/// `PendingResponseKind`: 0 any, 1 a response, 2 an error. Only real responses are handed to
/// the guest here, so edits aimed at errors have nothing to apply to.
fn record_edit(cx: &mut Cx<'_>, h: u32, target: u32, edit: HeaderEdit) -> AbiResult {
    if target > 2 {
        return Err(Status::Inval.into());
    }
    let pending = cx.st.handles.pending_request_mut(h)?;
    if target != 2 {
        pending.response_header_edits.push(edit);
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn pending_req_header_append(cx: &mut Cx<'_>, h: u32, n: u32, nl: u32, v: u32, vl: u32, target: u32) -> AbiResult {
    let edit = HeaderEdit::Append(headers::name(&cx.mem, n, nl)?.to_string(), headers::value(&cx.mem, v, vl)?);
    record_edit(cx, h, target, edit)
}

#[allow(clippy::too_many_arguments)]
fn pending_req_header_insert(cx: &mut Cx<'_>, h: u32, n: u32, nl: u32, v: u32, vl: u32, target: u32) -> AbiResult {
    let edit = HeaderEdit::Insert(headers::name(&cx.mem, n, nl)?.to_string(), headers::value(&cx.mem, v, vl)?);
    record_edit(cx, h, target, edit)
}

fn pending_req_header_remove(cx: &mut Cx<'_>, h: u32, n: u32, nl: u32, target: u32) -> AbiResult {
    let edit = HeaderEdit::Remove(headers::name(&cx.mem, n, nl)?.to_string());
    record_edit(cx, h, target, edit)
}

#[cfg(test)]
mod tests;
