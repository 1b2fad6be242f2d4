//! `fastly_purge`: purging the shared cache by surrogate key, hard (removed) or soft (marked
//! stale: still served within stale-while-revalidate while it is refetched).

use super::{AbiResult, Cx, Registry};
use crate::status::Status;
use crate::trace::EventKind;

/// `PurgeOptionsMask` bits.
const SOFT_PURGE: u32 = 1 << 0;
const RET_BUF: u32 = 1 << 1;

pub fn link(r: &mut Registry<'_>) {
    r.func("fastly_purge", "purge_surrogate_key", purge_surrogate_key);
}

/// With `RET_BUF`, `options` points at `PurgeOptions { ret_buf_ptr, ret_buf_len,
/// ret_buf_nwritten_out }` and receives the JSON production's purge API answers with.
fn purge_surrogate_key(cx: &mut Cx<'_>, key: u32, key_len: u32, mask: u32, options: u32) -> AbiResult {
    if mask & !(SOFT_PURGE | RET_BUF) != 0 {
        return Err(Status::Inval.into());
    }
    let surrogate_key = cx.mem.string(key, key_len)?;
    if surrogate_key.is_empty() || surrogate_key.contains(char::is_whitespace) {
        return Err(Status::Inval.into());
    }
    let soft = mask & SOFT_PURGE != 0;
    let purged = cx.st.stores.lock().cache.purge_surrogate_key(&surrogate_key, soft);
    cx.st.trace(EventKind::Purge { surrogate_key: surrogate_key.clone(), soft, purged });
    if mask & RET_BUF != 0 {
        let fields = cx.mem.slice(options, 12)?;
        let field = |i: usize| u32::from_le_bytes(fields[4 * i..4 * i + 4].try_into().unwrap());
        let (buf, buf_len, nwritten) = (field(0), field(1), field(2));
        // Production answers with the purge's id; ours names the key and how many objects went.
        let json = alloc::format!(r#"{{"status": "ok", "id": "{}-{purged}"}}"#, surrogate_key.replace('"', ""));
        cx.mem.write_fitting(buf, buf_len, json.as_bytes(), nwritten)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::TestGuest;
    use crate::cache::CacheRecord;

    fn tagged(key: &str, tags: &[&str]) -> CacheRecord {
        CacheRecord {
            key: key.into(),
            variant: Default::default(),
            status: Some(200),
            headers: Default::default(),
            body: b"x".to_vec(),
            user_metadata: Default::default(),
            stored_at_ms: 0,
            max_age_s: 1_000_000_000,
            initial_age_s: 0,
            stale_while_revalidate_s: 0,
            surrogate_keys: tags.iter().map(|t| (*t).into()).collect(),
            hits: 0,
            soft_purged: false,
            pci: false,
            ttl_source: Default::default(),
        }
    }

    #[test]
    fn hard_and_soft_purges_by_surrogate_key() {
        let mut g = TestGuest::new();
        {
            let mut stores = g.state.stores.lock();
            stores.cache.insert(tagged("a", &["news"]));
            stores.cache.insert(tagged("b", &["news", "sport"]));
            stores.cache.insert(tagged("c", &["weather"]));
        }
        let (k, k_len) = g.put("sport");
        assert_eq!(g.status(|cx| purge_surrogate_key(cx, k, k_len, SOFT_PURGE, 0)), Status::Ok);
        assert!(g.state.stores.lock().cache.lookup("b", &[]).unwrap().soft_purged);
        let (k, k_len) = g.put("news");
        let (buf, nw) = (g.alloc(64), g.alloc(4));
        let (opts, _) = g.put([buf.to_le_bytes(), 64u32.to_le_bytes(), nw.to_le_bytes()].concat());
        assert_eq!(g.status(|cx| purge_surrogate_key(cx, k, k_len, RET_BUF, opts)), Status::Ok);
        assert_eq!(g.string_at(buf, g.u32_at(nw)), r#"{"status": "ok", "id": "news-2"}"#);
        let keys: alloc::vec::Vec<_> = g.state.stores.lock().cache.records().map(|r| r.key.clone()).collect();
        assert_eq!(keys, ["c"]);
    }

    #[test]
    fn a_key_with_spaces_or_unknown_options_is_inval() {
        let mut g = TestGuest::new();
        let (k, k_len) = g.put("two keys");
        assert_eq!(g.status(|cx| purge_surrogate_key(cx, k, k_len, 0, 0)), Status::Inval);
        let (k, k_len) = g.put("one");
        assert_eq!(g.status(|cx| purge_surrogate_key(cx, k, k_len, 1 << 5, 0)), Status::Inval);
    }
}
