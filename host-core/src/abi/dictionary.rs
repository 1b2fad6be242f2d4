//! `fastly_dictionary`: Edge Dictionaries from config `dictionaries` (see `kv_lookup`).

use super::kv_lookup::{self, StoreKind};
use super::{Cx, Registry};

pub fn link(r: &mut Registry<'_>) {
    r.func("fastly_dictionary", "open", |cx: &mut Cx<'_>, name: u32, name_len: u32, out: u32| {
        kv_lookup::open(cx, StoreKind::Dictionary, (name, name_len), out)
    });
    r.func("fastly_dictionary", "get", |cx: &mut Cx<'_>, h: u32, key: u32, key_len: u32, buf: u32, len: u32, nw: u32| {
        kv_lookup::get(cx, StoreKind::Dictionary, h, (key, key_len), (buf, len), nw)
    });
}
