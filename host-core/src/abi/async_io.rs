//! `fastly_async_io`: waiting on several async items (pending requests, bodies) at once.

use alloc::vec::Vec;

use super::{wait_until, AbiError, AbiResult, Cx, Registry};
use crate::handles::Handle;
use crate::io::IoKind;
use crate::state::{IoSlot, State};
use crate::status::Status;
use crate::trace::EventKind;

const M: &str = "fastly_async_io";

pub fn link(r: &mut Registry<'_>) {
    r.func(M, "select", select);
    r.func(M, "is_ready", is_ready);
}

/// Whether an async item is ready: a pending request once its response (or error) has
/// arrived; a body always, because bodies here are whole in memory when the guest gets them;
/// a request promise always, because it resolves at once (`http_downstream::next_request_wait`).
/// a KV operation always, because it completed when it was made (the JS SDK selects on them).
fn ready(st: &State, h: u32) -> Result<bool, AbiError> {
    match st.handles.get(h) {
        Some(Handle::PendingRequest(pending)) => Ok(st.io.is_done(pending.io)),
        Some(Handle::Body(_)) => Ok(true),
        Some(Handle::RequestPromise) => Ok(true),
        Some(handle) if handle.is_kv_pending() => Ok(true),
        // A cache lookup is ready once decided (not waiting for another request's fill).
        Some(Handle::Cache(entry)) => Ok(entry.decided.is_some()),
        _ => Err(Status::Badf.into()),
    }
}

fn is_ready(cx: &mut Cx<'_>, h: u32, ready_out: u32) -> AbiResult {
    let ready = ready(cx.st, h)?;
    cx.mem.write_u32(ready_out, ready as u32)
}

/// The index of the first ready item, waiting up to `timeout_ms` (0: no timeout). On
/// timeout the index is `u32::MAX`, as the SDKs expect.
fn select(cx: &mut Cx<'_>, ptr: u32, len: u32, timeout_ms: u32, done_out: u32) -> AbiResult {
    if len == 0 && timeout_ms == 0 {
        return Err(Status::Inval.into());
    }
    let bytes = cx.mem.slice(ptr, len.checked_mul(4).ok_or(Status::Inval)?)?;
    let handles: Vec<u32> = bytes.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect();
    for &h in &handles {
        ready(cx.st, h)?;
    }
    let timer = (timeout_ms > 0).then(|| {
        let ms = timeout_ms as u64;
        let id = cx.st.io.start(Some(IoKind::Sleep { ms }), IoSlot::Timer { fired: false });
        cx.st.trace(EventKind::Sleep { io: id, ms });
        id
    });
    wait_until(cx, move |cx| {
        for (index, &h) in handles.iter().enumerate() {
            if ready(cx.st, h)? {
                return cx.mem.write_u32(done_out, index as u32);
            }
        }
        match timer {
            Some(id) if cx.st.io.is_done(id) => cx.mem.write_u32(done_out, u32::MAX),
            _ => Err(AbiError::Pending),
        }
    })
}
