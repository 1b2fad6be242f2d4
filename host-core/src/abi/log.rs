//! `fastly_log`: named log endpoints. Any name is accepted, as local Compute hosts do, so
//! every line a guest logs is shown; production only knows the endpoints a service defines.

use alloc::string::String;

use super::{AbiResult, Cx, Registry};
use crate::handles::Handle;
use crate::state::LogLine;
use crate::status::Status;

pub fn link(r: &mut Registry<'_>) {
    r.func("fastly_log", "endpoint_get", endpoint_get);
    r.func("fastly_log", "write", write);
}

/// Names production refuses: empty, with a newline or a colon, or reserved for its own use.
fn is_valid_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !name.is_empty()
        && !name.contains(['\n', '\r', ':'])
        && lower != "stdout"
        && lower != "stderr"
        && !lower.starts_with("fst_managed_")
}

fn endpoint_get(cx: &mut Cx<'_>, name: u32, name_len: u32, handle_out: u32) -> AbiResult {
    let name = cx.mem.string(name, name_len)?;
    if !is_valid_name(&name) {
        return Err(Status::Inval.into());
    }
    let handle = cx.st.handles.insert(Handle::LogEndpoint(name));
    cx.mem.write_u32(handle_out, handle)
}

/// Each write is one log record. The `fastly` crate sends a line per write, newline included;
/// records are stored without it.
fn write(cx: &mut Cx<'_>, h: u32, msg: u32, msg_len: u32, nwritten_out: u32) -> AbiResult {
    let endpoint = cx.st.handles.log_endpoint(h)?.clone();
    let bytes = cx.mem.slice(msg, msg_len)?;
    let text = String::from_utf8_lossy(bytes.strip_suffix(b"\n").unwrap_or(bytes)).into_owned();
    let at_ms = cx.st.now_ms();
    cx.st.logs.entry(endpoint).or_default().push(LogLine { at_ms, text });
    cx.mem.write_u32(nwritten_out, msg_len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::TestGuest;

    #[test]
    fn each_write_is_one_line_of_its_endpoint() {
        let mut g = TestGuest::new();
        let (name, name_len) = g.put("my_endpoint");
        let out = g.alloc(4);
        assert_eq!(g.status(|cx| endpoint_get(cx, name, name_len, out)), Status::Ok);
        let endpoint = g.u32_at(out);
        let nw = g.alloc(4);
        for line in ["first\n", "second"] {
            let (msg, msg_len) = g.put(line);
            assert_eq!(g.status(|cx| write(cx, endpoint, msg, msg_len, nw)), Status::Ok);
            assert_eq!(g.u32_at(nw), msg_len);
        }
        let lines: alloc::vec::Vec<&str> = g.state.logs["my_endpoint"].iter().map(|l| l.text.as_str()).collect();
        assert_eq!(lines, ["first", "second"]);
    }

    #[test]
    fn bad_names_and_handles() {
        let mut g = TestGuest::new();
        let out = g.alloc(4);
        assert_eq!(g.status(|cx| endpoint_get(cx, 0, 0, out)), Status::Inval, "an empty name");
        for reserved in ["stdout", "STDERR", "fst_managed_x", "a:b", "two\nlines"] {
            let (name, len) = g.put(reserved);
            assert_eq!(g.status(|cx| endpoint_get(cx, name, len, out)), Status::Inval, "{reserved:?}");
        }
        let (msg, msg_len) = g.put("x");
        assert_eq!(g.status(|cx| write(cx, 77, msg, msg_len, out)), Status::Badf);
    }
}
