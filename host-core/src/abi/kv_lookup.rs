//! The read-only string stores — dictionaries and config stores — share one contract, as the
//! SDKs' error mapping shows: an empty name is NONE, a too-long one UNSUPPORTED, invalid UTF-8
//! INVAL, an unknown store BADF; a missing key NONE, a too-long key UNSUPPORTED, and each
//! execution may make `limits.dictionary_lookups` lookups (then LIMITEXCEEDED).
//!
//! In production a dictionary *is* a config store (the newer name for the same thing), so each
//! API opens a store from either config section, its own first.

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

/// The named store: from the API's own config section, else from the other one.
fn find<'a>(config: &'a crate::config::Config, kind: StoreKind, name: &str) -> Option<&'a StringMap> {
    let (own, other) = match kind {
        StoreKind::Dictionary => (&config.dictionaries, &config.config_stores),
        StoreKind::ConfigStore => (&config.config_stores, &config.dictionaries),
    };
    own.get(name).or_else(|| other.get(name))
}

pub fn open(cx: &mut Cx<'_>, kind: StoreKind, name: (u32, u32), handle_out: u32) -> AbiResult {
    if name.1 == 0 {
        return Err(Status::None.into());
    }
    if name.1 > MAX_NAME_LEN {
        return Err(Status::Unsupported.into());
    }
    let name = cx.mem.string(name.0, name.1)?;
    if find(&cx.st.config, kind, &name).is_none() {
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
    let value = find(&config, kind, &name).and_then(|s| s.get(key)).ok_or(AbiError::Status(Status::None));
    cx.st.lookups += 1;
    cx.mem.write_fitting(buf.0, buf.1, value?.as_bytes(), nwritten)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::TestGuest;
    use crate::config::Config;

    fn guest(limit: u32) -> TestGuest {
        let text = alloc::format!(
            r#"{{ "dictionaries": {{ "flags": {{ "beta": "on" }} }},
                 "config_stores": {{ "settings": {{ "greeting": "hello there" }} }},
                 "limits": {{ "dictionary_lookups": {limit} }} }}"#
        );
        TestGuest::with_config(Config::from_json(&text).unwrap(), crate::state::DownstreamRequest::get("http://localhost/"))
    }

    fn open_store(g: &mut TestGuest, kind: StoreKind, name: &str) -> (Status, u32) {
        let (p, l) = g.put(name);
        let out = g.alloc(4);
        (g.status(|cx| open(cx, kind, (p, l), out)), g.u32_at(out))
    }

    #[test]
    fn opening_follows_the_sdk_error_mapping() {
        let mut g = guest(32);
        for kind in [StoreKind::Dictionary, StoreKind::ConfigStore] {
            assert_eq!(open_store(&mut g, kind, "").0, Status::None, "an empty name");
            assert_eq!(open_store(&mut g, kind, &"n".repeat(256)).0, Status::Unsupported, "a name too long");
            assert_eq!(open_store(&mut g, kind, "missing").0, Status::Badf, "an unknown store");
        }
        let (p, l) = g.put(b"\xff\xfe");
        let out = g.alloc(4);
        assert_eq!(g.status(|cx| open(cx, StoreKind::Dictionary, (p, l), out)), Status::Inval, "invalid UTF-8");
    }

    #[test]
    fn lookups_find_values_report_absence_and_short_buffers() {
        let mut g = guest(32);
        let (status, settings) = open_store(&mut g, StoreKind::ConfigStore, "settings");
        assert_eq!(status, Status::Ok);
        let (buf, nw) = (g.alloc(64), g.alloc(4));
        let (key, key_len) = g.put("greeting");
        assert_eq!(g.status(|cx| get(cx, StoreKind::ConfigStore, settings, (key, key_len), (buf, 4), nw)), Status::Buflen);
        assert_eq!(g.u32_at(nw), 11, "the length needed");
        assert_eq!(g.status(|cx| get(cx, StoreKind::ConfigStore, settings, (key, key_len), (buf, 64), nw)), Status::Ok);
        assert_eq!(g.string_at(buf, g.u32_at(nw)), "hello there");
        let (missing, missing_len) = g.put("nope");
        assert_eq!(g.status(|cx| get(cx, StoreKind::ConfigStore, settings, (missing, missing_len), (buf, 64), nw)), Status::None);
        let (status, settings_as_dictionary) = open_store(&mut g, StoreKind::Dictionary, "settings");
        assert_eq!(status, Status::Ok, "a config store opens as a dictionary: they are one thing");
        assert_eq!(
            g.status(|cx| get(cx, StoreKind::Dictionary, settings_as_dictionary, (key, key_len), (buf, 64), nw)),
            Status::Ok
        );
        assert_eq!(g.string_at(buf, g.u32_at(nw)), "hello there");
        let (status, flags) = open_store(&mut g, StoreKind::Dictionary, "flags");
        assert_eq!(status, Status::Ok);
        assert_eq!(
            g.status(|cx| get(cx, StoreKind::ConfigStore, flags, (key, key_len), (buf, 64), nw)),
            Status::Badf,
            "a dictionary handle is not a config store handle"
        );
        let (long, long_len) = g.put("k".repeat(300));
        assert_eq!(g.status(|cx| get(cx, StoreKind::Dictionary, flags, (long, long_len), (buf, 64), nw)), Status::Unsupported);
    }

    #[test]
    fn lookups_per_execution_are_limited() {
        let mut g = guest(2);
        let (_, flags) = open_store(&mut g, StoreKind::Dictionary, "flags");
        let (key, key_len) = g.put("beta");
        let (buf, nw) = (g.alloc(8), g.alloc(4));
        for expected in [Status::Ok, Status::Ok, Status::LimitExceeded] {
            assert_eq!(g.status(|cx| get(cx, StoreKind::Dictionary, flags, (key, key_len), (buf, 8), nw)), expected);
        }
    }
}
