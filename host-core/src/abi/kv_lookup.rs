//! The read-only string stores — dictionaries and config stores — share one contract, as the
//! SDKs' error mapping shows: an empty name is NONE, a too-long one UNSUPPORTED, invalid UTF-8
//! INVAL, an unknown store BADF; a missing key NONE, a too-long key UNSUPPORTED, and each
//! execution may make `limits.dictionary_lookups` lookups (then LIMITEXCEEDED).

use super::{AbiError, AbiResult, Cx};
use crate::config::StringMap;
use crate::handles::Handle;
use crate::status::Status;

/// Longest store name and key production accepts.
const MAX_NAME_LEN: u32 = 255;
const MAX_KEY_LEN: u32 = 256;

#[derive(Clone, Copy)]
pub enum StoreKind {
    Dictionary,
    ConfigStore,
}

fn stores<'a>(cx: &'a Cx<'_>, kind: StoreKind) -> &'a alloc::collections::BTreeMap<alloc::string::String, StringMap> {
    match kind {
        StoreKind::Dictionary => &cx.st.config.dictionaries,
        StoreKind::ConfigStore => &cx.st.config.config_stores,
    }
}

pub fn open(cx: &mut Cx<'_>, kind: StoreKind, name: (u32, u32), handle_out: u32) -> AbiResult {
    if name.1 == 0 {
        return Err(Status::None.into());
    }
    if name.1 > MAX_NAME_LEN {
        return Err(Status::Unsupported.into());
    }
    let name = cx.mem.string(name.0, name.1)?;
    if !stores(cx, kind).contains_key(&name) {
        return Err(Status::Badf.into());
    }
    let handle = cx.st.handles.insert(match kind {
        StoreKind::Dictionary => Handle::Dictionary(name),
        StoreKind::ConfigStore => Handle::ConfigStore(name),
    });
    cx.mem.write_u32(handle_out, handle)
}

pub fn get(cx: &mut Cx<'_>, kind: StoreKind, h: u32, key: (u32, u32), buf: (u32, u32), nwritten: u32) -> AbiResult {
    let name = match kind {
        StoreKind::Dictionary => cx.st.handles.dictionary(h)?,
        StoreKind::ConfigStore => cx.st.handles.config_store(h)?,
    }
    .clone();
    if key.1 > MAX_KEY_LEN {
        return Err(Status::Unsupported.into());
    }
    if cx.st.lookups >= cx.st.config.limits.dictionary_lookups {
        return Err(Status::LimitExceeded.into());
    }
    let key = cx.mem.str(key.0, key.1)?;
    let config = cx.st.config.clone();
    let store = match kind {
        StoreKind::Dictionary => &config.dictionaries,
        StoreKind::ConfigStore => &config.config_stores,
    };
    let value = store.get(&name).and_then(|s| s.get(key)).ok_or(AbiError::Status(Status::None));
    cx.st.lookups += 1;
    cx.mem.write_fitting(buf.0, buf.1, value?.as_bytes(), nwritten)
}
