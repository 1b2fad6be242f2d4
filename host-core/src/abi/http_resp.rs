//! `fastly_http_resp`: responses, and sending one downstream to the client.

use super::headers::{self, Owner};
use super::{wait_until, AbiError, AbiResult, Cx, Registry};
use crate::body::BodyRole;
use crate::handles::Handle;
use crate::http::{HttpVersion, ResponseHead};
use crate::state::State;
use crate::status::Status;
use crate::trace::EventKind;

const M: &str = "fastly_http_resp";

pub fn link(r: &mut Registry<'_>) {
    headers::link(r, M, Owner::Response);
    r.func(M, "new", new);
    r.func(M, "close", close);
    r.func(M, "status_get", status_get);
    r.func(M, "status_set", status_set);
    r.func(M, "version_get", version_get);
    r.func(M, "version_set", version_set);
    r.func(M, "framing_headers_mode_set", framing_headers_mode_set);
    r.func(M, "http_keepalive_mode_set", http_keepalive_mode_set);
    r.func(M, "send_downstream", send_downstream);
    r.func(M, "send_downstream_pending", send_downstream_pending);
    r.func(M, "get_addr_dest_ip", get_addr_dest_ip);
    r.func(M, "get_addr_dest_port", get_addr_dest_port);
}

pub(crate) fn new(cx: &mut Cx<'_>, handle_out: u32) -> AbiResult {
    let handle = cx.st.handles.insert(Handle::Response(ResponseHead::default()));
    cx.mem.write_u32(handle_out, handle)
}

fn close(cx: &mut Cx<'_>, h: u32) -> AbiResult {
    cx.st.handles.take_response(h).map(drop)
}

fn status_get(cx: &mut Cx<'_>, h: u32, status_out: u32) -> AbiResult {
    let status = cx.st.handles.response(h)?.status;
    cx.mem.write_u16(status_out, status)
}

/// Any three-digit status, as `http::StatusCode` accepts.
fn status_set(cx: &mut Cx<'_>, h: u32, status: u32) -> AbiResult {
    if !(100..=999).contains(&status) {
        return Err(Status::Inval.into());
    }
    cx.st.handles.response_mut(h)?.status = status as u16;
    Ok(())
}

fn version_get(cx: &mut Cx<'_>, h: u32, version_out: u32) -> AbiResult {
    let version = cx.st.handles.response(h)?.version;
    cx.mem.write_u32(version_out, version as u32)
}

fn version_set(cx: &mut Cx<'_>, h: u32, version: u32) -> AbiResult {
    let version = HttpVersion::from_abi(version).ok_or(Status::Inval)?;
    cx.st.handles.response_mut(h)?.version = version;
    Ok(())
}

fn framing_headers_mode_set(cx: &mut Cx<'_>, h: u32, mode: u32) -> AbiResult {
    let framing = super::http_req::framing_mode(mode)?;
    cx.st.handles.response_mut(h)?.framing = framing;
    Ok(())
}

/// `HttpKeepaliveMode`: 0 automatic, 1 no keep-alive. Connection reuse is the embedder's
/// business here, so the mode is checked and has no further effect.
fn http_keepalive_mode_set(cx: &mut Cx<'_>, h: u32, mode: u32) -> AbiResult {
    cx.st.handles.response(h)?;
    if mode > 1 {
        return Err(Status::Inval.into());
    }
    Ok(())
}

/// Sends the response to the client. Only one response per request: a second is an error.
/// Streaming keeps the body handle open; what the guest writes to it goes out at once.
pub(crate) fn send_downstream(cx: &mut Cx<'_>, resp: u32, body: u32, streaming: u32) -> AbiResult {
    cx.st.handles.response(resp)?;
    cx.st.handles.body(body)?;
    if cx.st.response.head.is_some() {
        return Err(Status::Error.into());
    }
    let head = cx.st.handles.take_response(resp)?;
    let bytes = if streaming != 0 {
        let body = cx.st.handles.body_mut(body)?;
        body.role = BodyRole::StreamingDownstream;
        body.take()
    } else {
        cx.st.handles.take_body(body)?.take()
    };
    respond(cx.st, head, bytes, streaming != 0);
    Ok(())
}

pub(super) fn respond(st: &mut State, head: ResponseHead, body: alloc::vec::Vec<u8>, streaming: bool) {
    st.trace(EventKind::ResponseSent { status: head.status, streaming });
    st.response.head = Some(head);
    st.response.body = body;
    st.response.streaming = streaming;
    if !streaming {
        finish_response(st);
    }
}

/// The last byte of the response has gone out.
pub(super) fn finish_response(st: &mut State) {
    if !st.response.finished {
        st.response.finished = true;
        let body_bytes = st.response.body.len();
        st.trace(EventKind::ResponseFinished { body_bytes });
    }
}

/// Sends a pending request's response downstream, whole, once it arrives.
fn send_downstream_pending(cx: &mut Cx<'_>, pending: u32) -> AbiResult {
    cx.st.handles.pending_request(pending)?;
    if cx.st.response.head.is_some() {
        return Err(Status::Error.into());
    }
    wait_until(cx, move |cx| {
        let (resp, body) = match super::http_req::take_pending(cx.st, pending)? {
            None => return Err(AbiError::Pending),
            Some(Ok(handles)) => handles,
            Some(Err(_)) => return Err(Status::Error.into()),
        };
        let head = cx.st.handles.take_response(resp)?;
        let bytes = cx.st.handles.take_body(body)?.take();
        respond(cx.st, head, bytes, false);
        Ok(())
    })
}

fn get_addr_dest_ip(cx: &mut Cx<'_>, h: u32, octets_out: u32, nwritten_out: u32) -> AbiResult {
    let (ip, _) = cx.st.handles.response(h)?.remote_addr.as_ref().ok_or(Status::None)?;
    let ip = ip.clone();
    cx.mem.write(octets_out, &ip)?;
    cx.mem.write_u32(nwritten_out, ip.len() as u32)
}

fn get_addr_dest_port(cx: &mut Cx<'_>, h: u32, port_out: u32) -> AbiResult {
    let (_, port) = cx.st.handles.response(h)?.remote_addr.as_ref().ok_or(Status::None)?;
    let port = *port;
    cx.mem.write_u16(port_out, port)
}

