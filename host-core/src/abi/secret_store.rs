//! `fastly_secret_store`: secrets from config `secret_stores`, read-only.
//!
//! Statuses as the Rust SDK reads them (`fastly::secret_store`) and Viceroy answers: a name
//! production could not have — empty, longer than 255 bytes, or with characters other than
//! letters, digits, `-`, `_` and `.` (Fastly's naming rule for stores and secrets) — is INVAL;
//! an unknown store or secret is NONE; a handle of the wrong kind BADF. A secret holds at most
//! 64 KiB, so `from_bytes` refuses more with INVAL, as the SDK does before calling.

use super::{AbiResult, Cx, Registry};
use crate::handles::Handle;
use crate::status::Status;

const M: &str = "fastly_secret_store";

const MAX_NAME_LEN: usize = 255;
const MAX_SECRET_BYTES: u32 = 64 * 1024;

pub fn link(r: &mut Registry<'_>) {
    r.func(M, "open", open);
    r.func(M, "get", get);
    r.func(M, "plaintext", plaintext);
    r.func(M, "from_bytes", from_bytes);
}

/// A store or secret name production could have.
fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn open(cx: &mut Cx<'_>, name: u32, name_len: u32, handle_out: u32) -> AbiResult {
    let name = cx.mem.string(name, name_len)?;
    if !valid_name(&name) {
        return Err(Status::Inval.into());
    }
    if !cx.st.config.secret_stores.contains_key(&name) {
        return Err(Status::None.into());
    }
    let handle = cx.st.handles.insert(Handle::SecretStore(name));
    cx.mem.write_u32(handle_out, handle)
}

fn get(cx: &mut Cx<'_>, store: u32, name: u32, name_len: u32, secret_out: u32) -> AbiResult {
    let store = cx.st.handles.secret_store(store)?;
    let name = cx.mem.str(name, name_len)?;
    if !valid_name(name) {
        return Err(Status::Inval.into());
    }
    let plaintext = cx.st.config.secret_stores.get(store).and_then(|secrets| secrets.get(name)).ok_or(Status::None)?;
    let handle = cx.st.handles.insert(Handle::Secret(plaintext.as_bytes().to_vec()));
    cx.mem.write_u32(secret_out, handle)
}

fn plaintext(cx: &mut Cx<'_>, secret: u32, buf: u32, buf_len: u32, nwritten: u32) -> AbiResult {
    let plaintext = cx.st.handles.secret(secret)?.clone();
    cx.mem.write_fitting(buf, buf_len, &plaintext, nwritten)
}

fn from_bytes(cx: &mut Cx<'_>, buf: u32, len: u32, secret_out: u32) -> AbiResult {
    if len > MAX_SECRET_BYTES {
        return Err(Status::Inval.into());
    }
    let plaintext = cx.mem.bytes(buf, len)?;
    let handle = cx.st.handles.insert(Handle::Secret(plaintext));
    cx.mem.write_u32(secret_out, handle)
}

#[cfg(test)]
mod tests {
    use alloc::string::String;

    use super::*;
    use crate::abi::testing::TestGuest;
    use crate::config::Config;
    use crate::state::DownstreamRequest;

    fn guest() -> TestGuest {
        let config = Config::from_json(
            r#"{ "secret_stores": { "vault": { "api-key": "s3cret", "empty": "" } } }"#,
        )
        .unwrap();
        TestGuest::with_config(config, DownstreamRequest::get("http://localhost/"))
    }

    fn open_store(g: &mut TestGuest, name: &str) -> (Status, u32) {
        let (p, l) = g.put(name);
        let out = g.alloc(4);
        (g.status(|cx| open(cx, p, l, out)), g.u32_at(out))
    }

    fn get_secret(g: &mut TestGuest, store: u32, name: &str) -> (Status, u32) {
        let (p, l) = g.put(name);
        let out = g.alloc(4);
        (g.status(|cx| get(cx, store, p, l, out)), g.u32_at(out))
    }

    /// Reads a secret into a `cap`-byte buffer: the status and what was written (or needed).
    fn read(g: &mut TestGuest, secret: u32, cap: u32) -> (Status, u32, String) {
        let (buf, nw) = (g.alloc(cap.max(1)), g.alloc(4));
        let status = g.status(|cx| plaintext(cx, secret, buf, cap, nw));
        let text = if status == Status::Ok { g.string_at(buf, g.u32_at(nw)) } else { String::new() };
        (status, g.u32_at(nw), text)
    }

    #[test]
    fn opening_a_store_checks_the_name_then_the_config() {
        let mut g = guest();
        let cases = [
            ("vault", Status::Ok),
            ("missing", Status::None),
            ("", Status::Inval),
            ("has space", Status::Inval),
            ("ünïcode", Status::Inval),
            ("ok-name_1.2", Status::None),
        ];
        for (name, expected) in cases {
            assert_eq!(open_store(&mut g, name).0, expected, "{name:?}");
        }
        assert_eq!(open_store(&mut g, &"n".repeat(256)).0, Status::Inval, "a name over 255 bytes");
    }

    #[test]
    fn secrets_are_found_by_name_and_read_in_full() {
        let mut g = guest();
        let (_, vault) = open_store(&mut g, "vault");
        let (status, key) = get_secret(&mut g, vault, "api-key");
        assert_eq!(status, Status::Ok);
        assert_eq!(read(&mut g, key, 4), (Status::Buflen, 6, String::new()), "a short buffer learns the size");
        assert_eq!(read(&mut g, key, 6), (Status::Ok, 6, String::from("s3cret")));
        let (status, empty) = get_secret(&mut g, vault, "empty");
        assert_eq!(status, Status::Ok, "an empty secret exists");
        assert_eq!(read(&mut g, empty, 0), (Status::Ok, 0, String::new()));
        assert_eq!(get_secret(&mut g, vault, "nope").0, Status::None);
        assert_eq!(get_secret(&mut g, vault, "bad name!").0, Status::Inval);
        assert_eq!(get_secret(&mut g, key, "api-key").0, Status::Badf, "a secret is not a store");
        assert_eq!(read(&mut g, vault, 16).0, Status::Badf, "a store is not a secret");
    }

    #[test]
    fn from_bytes_makes_a_secret_of_up_to_64_kib() {
        let mut g = guest();
        let (p, l) = g.put(b"\x00binary\xff");
        let out = g.alloc(4);
        assert_eq!(g.status(|cx| from_bytes(cx, p, l, out)), Status::Ok);
        let secret = g.u32_at(out);
        assert_eq!(g.state.handles.secret(secret).unwrap().as_slice(), b"\x00binary\xff");
        assert_eq!(g.status(|cx| from_bytes(cx, 0, 64 * 1024 + 1, out)), Status::Inval);
        assert_eq!(g.status(|cx| from_bytes(cx, 0, 64 * 1024, out)), Status::Ok, "exactly 64 KiB fits");
    }
}
