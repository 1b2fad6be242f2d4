//! Header hostcalls, written once for requests and responses (`fastly_http_req::header_*`,
//! `fastly_http_resp::header_*` have the same contracts).
//!
//! As the SDKs expect: an absent header is INVAL for `header_value_get` and `header_remove`
//! (the `fastly` crate reads INVAL as "no such header"; anything else makes it panic).

use alloc::vec::Vec;

use super::{AbiResult, Cx, GuestMemory};
use crate::http::{is_valid_header_name, is_valid_header_value, Headers};
use crate::state::State;
use crate::status::Status;

/// Which kind of handle the headers belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Request,
    Response,
    /// A body's trailers (`fastly_http_body::trailer_*`).
    Trailers,
}

fn headers(st: &State, owner: Owner, handle: u32) -> Result<&Headers, super::AbiError> {
    Ok(match owner {
        Owner::Request => &st.handles.request(handle)?.headers,
        Owner::Response => &st.handles.response(handle)?.headers,
        Owner::Trailers => &st.handles.body(handle)?.trailers,
    })
}

fn headers_mut(st: &mut State, owner: Owner, handle: u32) -> Result<&mut Headers, super::AbiError> {
    Ok(match owner {
        Owner::Request => &mut st.handles.request_mut(handle)?.headers,
        Owner::Response => &mut st.handles.response_mut(handle)?.headers,
        Owner::Trailers => &mut st.handles.body_mut(handle)?.trailers,
    })
}

/// A header name from the guest: a valid token, else INVAL.
pub fn name<'m>(mem: &'m GuestMemory<'_>, ptr: u32, len: u32) -> Result<&'m str, super::AbiError> {
    let bytes = mem.slice(ptr, len)?;
    if !is_valid_header_name(bytes) {
        return Err(Status::Inval.into());
    }
    Ok(core::str::from_utf8(bytes).expect("tokens are ASCII"))
}

/// A header value from the guest: no CR, LF or NUL, else INVAL.
pub fn value(mem: &GuestMemory<'_>, ptr: u32, len: u32) -> Result<Vec<u8>, super::AbiError> {
    let bytes = mem.slice(ptr, len)?;
    if !is_valid_header_value(bytes) {
        return Err(Status::Inval.into());
    }
    Ok(bytes.to_vec())
}

pub fn names_get(cx: &mut Cx<'_>, owner: Owner, h: u32, buf: (u32, u32), cursor: u32, out: (u32, u32)) -> AbiResult {
    let names = headers(cx.st, owner, h)?.names();
    cx.mem.write_multi(buf, names.iter().map(|n| n.as_bytes()), cursor, 0, out)
}

pub fn value_get(cx: &mut Cx<'_>, owner: Owner, h: u32, name_arg: (u32, u32), buf: (u32, u32), nwritten: u32) -> AbiResult {
    let name = name(&cx.mem, name_arg.0, name_arg.1)?;
    let value = headers(cx.st, owner, h)?.get(name).ok_or(Status::Inval)?;
    cx.mem.write_fitting(buf.0, buf.1, value, nwritten)
}

pub fn values_get(
    cx: &mut Cx<'_>,
    owner: Owner,
    h: u32,
    name_arg: (u32, u32),
    buf: (u32, u32),
    cursor: u32,
    out: (u32, u32),
) -> AbiResult {
    let name = alloc::string::String::from(name(&cx.mem, name_arg.0, name_arg.1)?);
    let values = headers(cx.st, owner, h)?.get_all(&name);
    cx.mem.write_multi(buf, values, cursor, 0, out)
}

/// Replaces every value of a header with a NUL-terminated list of values.
pub fn values_set(cx: &mut Cx<'_>, owner: Owner, h: u32, name_arg: (u32, u32), values_arg: (u32, u32)) -> AbiResult {
    let name = alloc::string::String::from(name(&cx.mem, name_arg.0, name_arg.1)?);
    let list = cx.mem.slice(values_arg.0, values_arg.1)?;
    let list = list.strip_suffix(&[0]).unwrap_or(list);
    let values: Vec<Vec<u8>> = if list.is_empty() { Vec::new() } else { list.split(|&b| b == 0).map(<[u8]>::to_vec).collect() };
    if !values.iter().all(|v| is_valid_header_value(v)) {
        return Err(Status::Inval.into());
    }
    let headers = headers_mut(cx.st, owner, h)?;
    headers.remove(&name);
    for value in values {
        headers.append(&name, &value);
    }
    Ok(())
}

pub fn insert(cx: &mut Cx<'_>, owner: Owner, h: u32, name_arg: (u32, u32), value_arg: (u32, u32)) -> AbiResult {
    let name = alloc::string::String::from(name(&cx.mem, name_arg.0, name_arg.1)?);
    let value = value(&cx.mem, value_arg.0, value_arg.1)?;
    headers_mut(cx.st, owner, h)?.insert(&name, &value);
    Ok(())
}

pub fn append(cx: &mut Cx<'_>, owner: Owner, h: u32, name_arg: (u32, u32), value_arg: (u32, u32)) -> AbiResult {
    let name = alloc::string::String::from(name(&cx.mem, name_arg.0, name_arg.1)?);
    let value = value(&cx.mem, value_arg.0, value_arg.1)?;
    headers_mut(cx.st, owner, h)?.append(&name, &value);
    Ok(())
}

pub fn remove(cx: &mut Cx<'_>, owner: Owner, h: u32, name_arg: (u32, u32)) -> AbiResult {
    let name = alloc::string::String::from(name(&cx.mem, name_arg.0, name_arg.1)?);
    if headers_mut(cx.st, owner, h)?.remove(&name) {
        Ok(())
    } else {
        Err(Status::Inval.into())
    }
}

/// Links the eight header hostcalls of `module` for `owner`'s handles.
pub fn link(registry: &mut super::Registry<'_>, module: &'static str, owner: Owner) {
    macro_rules! for_owner {
        ($owner:expr) => {{
            const O: Owner = $owner;
            registry.func(module, "header_names_get", |cx: &mut Cx<'_>, h: u32, buf: u32, len: u32, cursor: u32, end: u32, nw: u32| {
                names_get(cx, O, h, (buf, len), cursor, (end, nw))
            });
            registry.func(module, "header_value_get", |cx: &mut Cx<'_>, h: u32, n: u32, nl: u32, buf: u32, len: u32, nw: u32| {
                value_get(cx, O, h, (n, nl), (buf, len), nw)
            });
            registry.func(
                module,
                "header_values_get",
                |cx: &mut Cx<'_>, h: u32, n: u32, nl: u32, buf: u32, len: u32, cursor: u32, end: u32, nw: u32| {
                    values_get(cx, O, h, (n, nl), (buf, len), cursor, (end, nw))
                },
            );
            registry.func(module, "header_values_set", |cx: &mut Cx<'_>, h: u32, n: u32, nl: u32, v: u32, vl: u32| {
                values_set(cx, O, h, (n, nl), (v, vl))
            });
            registry.func(module, "header_insert", |cx: &mut Cx<'_>, h: u32, n: u32, nl: u32, v: u32, vl: u32| {
                insert(cx, O, h, (n, nl), (v, vl))
            });
            registry.func(module, "header_append", |cx: &mut Cx<'_>, h: u32, n: u32, nl: u32, v: u32, vl: u32| {
                append(cx, O, h, (n, nl), (v, vl))
            });
            registry.func(module, "header_remove", |cx: &mut Cx<'_>, h: u32, n: u32, nl: u32| remove(cx, O, h, (n, nl)));
        }};
    }
    match owner {
        Owner::Request => for_owner!(Owner::Request),
        Owner::Response => for_owner!(Owner::Response),
        Owner::Trailers => unreachable!("trailers have their own hostcall names"),
    }
}
