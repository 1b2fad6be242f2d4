//! `fastly_acl`: IP access control lists from config `acls`.
//!
//! A lookup answers in two layers, as in production: the status says whether the call itself
//! worked (BADF for a bad handle, INVAL for an address that is not 4 or 16 bytes), and
//! `acl_error_out` says what the ACL found — `Ok` with a body holding the matching entry as
//! `{"action": "BLOCK", "prefix": "203.0.113.0/24"}`, or `NoContent` when no prefix contains
//! the address. The longest matching prefix wins; among equal ones, the last entry.

use alloc::string::{String, ToString};
use core::net::IpAddr;

use super::{AbiResult, Cx, Registry};
use crate::body::Body;
use crate::config::AclEntry;
use crate::handles::Handle;
use crate::ip::{self, IpPrefix};
use crate::status::Status;

const M: &str = "fastly_acl";

/// `fastly_sys::fastly_acl::AclError`.
const ACL_OK: u32 = 1;
const ACL_NO_CONTENT: u32 = 2;

pub fn link(r: &mut Registry<'_>) {
    r.func(M, "open", open);
    r.func(M, "lookup", lookup);
}

/// An unknown name is NONE, which the `fastly` crate reports as `AclNotFound`.
fn open(cx: &mut Cx<'_>, name: u32, name_len: u32, handle_out: u32) -> AbiResult {
    let name = cx.mem.string(name, name_len)?;
    if !cx.st.config.acls.contains_key(&name) {
        return Err(Status::None.into());
    }
    let handle = cx.st.handles.insert(Handle::Acl(name));
    cx.mem.write_u32(handle_out, handle)
}

fn lookup(cx: &mut Cx<'_>, h: u32, addr: u32, addr_len: u32, body_out: u32, acl_error_out: u32) -> AbiResult {
    let name = cx.st.handles.acl(h)?;
    let addr = ip::from_octets(cx.mem.slice(addr, addr_len)?).ok_or(Status::Inval)?;
    let acl = cx.st.config.acls.get(name).ok_or(Status::Badf)?;
    let Some((prefix, entry)) = longest_match(&acl.entries, addr) else {
        return cx.mem.write_u32(acl_error_out, ACL_NO_CONTENT);
    };
    let body = match_json(prefix, entry);
    let body = cx.st.handles.insert(Handle::Body(Body::from_bytes(body.into_bytes())));
    cx.mem.write_u32(body_out, body)?;
    cx.mem.write_u32(acl_error_out, ACL_OK)
}

fn longest_match(entries: &[AclEntry], addr: IpAddr) -> Option<(IpPrefix, &AclEntry)> {
    let mut best: Option<(IpPrefix, &AclEntry)> = None;
    for entry in entries {
        // Validated with the config: an entry that does not parse cannot be here.
        let Ok(prefix) = IpPrefix::parse(&entry.prefix) else { continue };
        if prefix.contains(addr) && best.is_none_or(|(b, _)| prefix.prefix_len() >= b.prefix_len()) {
            best = Some((prefix, entry));
        }
    }
    best
}

/// The matching entry as production's body gives it: the prefix in CIDR form with host bits
/// cleared, the action upper-case.
fn match_json(prefix: IpPrefix, entry: &AclEntry) -> String {
    let json = serde_json::json!({ "action": entry.action.to_ascii_uppercase(), "prefix": alloc::format!("{prefix}") });
    json.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::TestGuest;
    use crate::config::Config;
    use crate::state::DownstreamRequest;

    fn guest() -> TestGuest {
        let config = Config::from_json(
            r#"{ "acls": { "office": { "entries": [
                { "prefix": "192.168.0.0/16", "action": "BLOCK" },
                { "prefix": "192.168.100.0/24", "action": "allow" },
                { "prefix": "192.0.0.0/8", "action": "BLOCK" },
                { "prefix": "2001:db8::/32", "action": "ALLOW" },
                { "prefix": "2001:db8:dead::/48", "action": "BLOCK" },
                { "prefix": "198.51.100.7", "action": "BLOCK" } ] },
                "empty": {} } }"#,
        )
        .unwrap();
        TestGuest::with_config(config, DownstreamRequest::get("http://localhost/"))
    }

    fn open_acl(g: &mut TestGuest, name: &str) -> u32 {
        let (p, l) = g.put(name);
        let out = g.alloc(4);
        assert_eq!(g.status(|cx| open(cx, p, l, out)), Status::Ok);
        g.u32_at(out)
    }

    /// Looks `addr` up: the body's JSON, or None for no match.
    fn look(g: &mut TestGuest, h: u32, addr: &str) -> Option<String> {
        let octets = match addr.parse::<IpAddr>().unwrap() {
            IpAddr::V4(v4) => v4.octets().to_vec(),
            IpAddr::V6(v6) => v6.octets().to_vec(),
        };
        let (p, l) = g.put(octets);
        let (body_out, err_out) = (g.alloc(4), g.alloc(4));
        assert_eq!(g.status(|cx| lookup(cx, h, p, l, body_out, err_out)), Status::Ok, "{addr}");
        match g.u32_at(err_out) {
            ACL_NO_CONTENT => None,
            ACL_OK => {
                let body = g.state.handles.body(g.u32_at(body_out)).unwrap();
                Some(String::from_utf8(body.remaining().to_vec()).unwrap())
            }
            other => panic!("acl error {other}"),
        }
    }

    #[test]
    fn the_longest_prefix_wins_in_both_families() {
        let mut g = guest();
        let h = open_acl(&mut g, "office");
        let rows = [
            ("192.168.100.9", Some(r#"{"action":"ALLOW","prefix":"192.168.100.0/24"}"#)),
            ("192.168.7.1", Some(r#"{"action":"BLOCK","prefix":"192.168.0.0/16"}"#)),
            ("192.1.2.3", Some(r#"{"action":"BLOCK","prefix":"192.0.0.0/8"}"#)),
            ("198.51.100.7", Some(r#"{"action":"BLOCK","prefix":"198.51.100.7/32"}"#)),
            ("198.51.100.8", None),
            ("2001:db8::1", Some(r#"{"action":"ALLOW","prefix":"2001:db8::/32"}"#)),
            ("2001:db8:dead:beef::1", Some(r#"{"action":"BLOCK","prefix":"2001:db8:dead::/48"}"#)),
            ("::ffff:192.168.100.9", None),
        ];
        for (addr, expected) in rows {
            assert_eq!(look(&mut g, h, addr).as_deref(), expected, "{addr}");
        }
    }

    #[test]
    fn an_empty_acl_matches_nothing() {
        let mut g = guest();
        let h = open_acl(&mut g, "empty");
        assert_eq!(look(&mut g, h, "10.0.0.1"), None);
    }

    #[test]
    fn unknown_names_bad_handles_and_bad_addresses() {
        let mut g = guest();
        let (p, l) = g.put("nope");
        let out = g.alloc(4);
        assert_eq!(g.status(|cx| open(cx, p, l, out)), Status::None);
        let h = open_acl(&mut g, "office");
        let (addr, len) = g.put([10, 0, 0]);
        let (body_out, err_out) = (g.alloc(4), g.alloc(4));
        assert_eq!(g.status(|cx| lookup(cx, h, addr, len, body_out, err_out)), Status::Inval);
        let (addr, len) = g.put([10, 0, 0, 1]);
        assert_eq!(g.status(|cx| lookup(cx, h + 100, addr, len, body_out, err_out)), Status::Badf);
    }
}
