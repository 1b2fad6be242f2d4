//! `fastly_http_body`: reading and writing bodies, trailers, and closing streams.

use super::headers::{self, Owner};
use super::http_resp::finish_response;
use super::{AbiResult, Cx, Registry};
use crate::body::{Body, BodyRole};
use crate::handles::Handle;
use crate::status::Status;

const M: &str = "fastly_http_body";

/// `BodyWriteEnd`.
const WRITE_BACK: u32 = 0;
const WRITE_FRONT: u32 = 1;

pub fn link(r: &mut Registry<'_>) {
    r.func(M, "new", new);
    r.func(M, "append", append);
    r.func(M, "read", read);
    r.func(M, "write", write);
    r.func(M, "close", close);
    r.func(M, "abandon", abandon);
    r.func(M, "known_length", known_length);
    r.func(M, "trailer_append", |cx: &mut Cx<'_>, h: u32, n: u32, nl: u32, v: u32, vl: u32| {
        headers::append(cx, Owner::Trailers, h, (n, nl), (v, vl))
    });
    r.func(M, "trailer_names_get", |cx: &mut Cx<'_>, h: u32, buf: u32, len: u32, cursor: u32, end: u32, nw: u32| {
        headers::names_get(cx, Owner::Trailers, h, (buf, len), cursor, (end, nw))
    });
    r.func(M, "trailer_value_get", |cx: &mut Cx<'_>, h: u32, n: u32, nl: u32, buf: u32, len: u32, nw: u32| {
        headers::value_get(cx, Owner::Trailers, h, (n, nl), (buf, len), nw)
    });
    r.func(
        M,
        "trailer_values_get",
        |cx: &mut Cx<'_>, h: u32, n: u32, nl: u32, buf: u32, len: u32, cursor: u32, end: u32, nw: u32| {
            headers::values_get(cx, Owner::Trailers, h, (n, nl), (buf, len), cursor, (end, nw))
        },
    );
}

pub(crate) fn new(cx: &mut Cx<'_>, handle_out: u32) -> AbiResult {
    let handle = cx.st.handles.insert(Handle::Body(Body::new()));
    cx.mem.write_u32(handle_out, handle)
}

/// Moves all of `src` to the end of `dest`; `src` is consumed.
fn append(cx: &mut Cx<'_>, dest: u32, src: u32) -> AbiResult {
    cx.st.handles.body(dest)?;
    if dest == src {
        return Err(Status::Inval.into());
    }
    let bytes = cx.st.handles.take_body(src)?.take();
    write_to(cx, dest, &bytes, WRITE_BACK)
}

fn read(cx: &mut Cx<'_>, h: u32, buf: u32, buf_len: u32, nread_out: u32) -> AbiResult {
    let body = cx.st.handles.body_mut(h)?;
    if body.role == BodyRole::StreamingDownstream {
        // What went to the client cannot be read back.
        return Err(Status::Inval.into());
    }
    // Check the guest buffer before consuming bytes, so a bad pointer loses nothing.
    cx.mem.slice(buf, buf_len)?;
    let chunk = body.read(buf_len as usize);
    cx.mem.write(buf, chunk)?;
    cx.mem.write_u32(nread_out, chunk.len() as u32)
}

fn write(cx: &mut Cx<'_>, h: u32, buf: u32, buf_len: u32, end: u32, nwritten_out: u32) -> AbiResult {
    cx.st.handles.body(h)?;
    if end != WRITE_BACK && end != WRITE_FRONT {
        return Err(Status::Inval.into());
    }
    let bytes = cx.mem.bytes(buf, buf_len)?;
    write_to(cx, h, &bytes, end)?;
    cx.mem.write_u32(nwritten_out, buf_len)
}

fn write_to(cx: &mut Cx<'_>, h: u32, bytes: &[u8], end: u32) -> AbiResult {
    let body = cx.st.handles.body_mut(h)?;
    match (body.role, end) {
        // Bytes already sent cannot be preceded.
        (BodyRole::StreamingDownstream, WRITE_FRONT) => Err(Status::Inval.into()),
        (BodyRole::StreamingDownstream, _) => {
            cx.st.response.body.extend_from_slice(bytes);
            Ok(())
        }
        (_, WRITE_FRONT) => {
            body.write_front(bytes);
            Ok(())
        }
        (_, _) => {
            body.write_back(bytes);
            Ok(())
        }
    }
}

/// Closing a streaming body ends it: the client's response is complete, the backend
/// request waiting for its body leaves, or the cache object it carries is stored.
fn close(cx: &mut Cx<'_>, h: u32) -> AbiResult {
    let mut body = cx.st.handles.take_body(h)?;
    match body.role {
        BodyRole::StreamingDownstream => finish_response(cx.st),
        BodyRole::StreamingToBackend => cx.st.io.release(h, body.take()),
        BodyRole::Buffer => crate::cache::handle::body_ended(cx.st, h, body.take(), true),
    }
    Ok(())
}

/// Ends a body as an error: a streaming response stops where it is (the client sees a
/// truncated body), a streaming request leaves as far as it got, a cache object is not stored.
fn abandon(cx: &mut Cx<'_>, h: u32) -> AbiResult {
    let mut body = cx.st.handles.take_body(h)?;
    match body.role {
        BodyRole::StreamingDownstream => {
            cx.st.response.aborted = true;
            finish_response(cx.st);
        }
        BodyRole::StreamingToBackend => cx.st.io.release(h, body.take()),
        BodyRole::Buffer => crate::cache::handle::body_ended(cx.st, h, body.take(), false),
    }
    Ok(())
}

fn known_length(cx: &mut Cx<'_>, h: u32, length_out: u32) -> AbiResult {
    let length = cx.st.handles.body(h)?.known_length().ok_or(Status::None)?;
    cx.mem.write_u64(length_out, length)
}

#[cfg(test)]
mod tests;

