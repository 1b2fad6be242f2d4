//! Contracts of `fastly_http_body`.

use super::*;
use crate::abi::testing::TestGuest;
use alloc::vec::Vec;

fn body_with(g: &mut TestGuest, bytes: &[u8]) -> u32 {
    let out = g.alloc(4);
    assert_eq!(g.status(|cx| new(cx, out)), Status::Ok);
    let h = g.u32_at(out);
    let (ptr, len) = g.put(bytes);
    let nw = g.alloc(4);
    assert_eq!(g.status(|cx| write(cx, h, ptr, len, WRITE_BACK, nw)), Status::Ok);
    assert_eq!(g.u32_at(nw), len);
    h
}

fn read_all(g: &mut TestGuest, h: u32, chunk: u32) -> Vec<u8> {
    let (buf, nread) = (g.alloc(chunk), g.alloc(4));
    let mut all = Vec::new();
    loop {
        assert_eq!(g.status(|cx| read(cx, h, buf, chunk, nread)), Status::Ok);
        let n = g.u32_at(nread);
        if n == 0 {
            return all;
        }
        all.extend_from_slice(g.bytes_at(buf, n));
    }
}

#[test]
fn reads_in_chunks_until_empty() {
    let mut g = TestGuest::new();
    let h = body_with(&mut g, b"hello, body");
    assert_eq!(read_all(&mut g, h, 4), b"hello, body");
}

#[test]
fn writes_at_front_and_back_and_appends_bodies() {
    let mut g = TestGuest::new();
    let h = body_with(&mut g, b"middle");
    let (front, front_len) = g.put("front-");
    let nw = g.alloc(4);
    assert_eq!(g.status(|cx| write(cx, h, front, front_len, WRITE_FRONT, nw)), Status::Ok);
    let other = body_with(&mut g, b"-back");
    assert_eq!(g.status(|cx| append(cx, h, other)), Status::Ok);
    assert_eq!(g.status(|cx| append(cx, h, other)), Status::Badf, "the appended body is consumed");
    assert_eq!(g.status(|cx| append(cx, h, h)), Status::Inval, "a body cannot be appended to itself");
    assert_eq!(read_all(&mut g, h, 64), b"front-middle-back");
}

#[test]
fn known_length_counts_unread_bytes() {
    let mut g = TestGuest::new();
    let h = body_with(&mut g, b"12345");
    let out = g.alloc(8);
    assert_eq!(g.status(|cx| known_length(cx, h, out)), Status::Ok);
    assert_eq!(g.i64_at(out), 5);
}

#[test]
fn bad_handles_pointers_and_ends() {
    let mut g = TestGuest::new();
    let h = body_with(&mut g, b"x");
    let nw = g.alloc(4);
    assert_eq!(g.status(|cx| write(cx, h, 0, 1, 2, nw)), Status::Inval, "an unknown write end");
    assert_eq!(g.status(|cx| write(cx, h, u32::MAX, 2, WRITE_BACK, nw)), Status::Inval, "a buffer past memory");
    assert_eq!(g.status(|cx| read(cx, h, u32::MAX - 1, 4, nw)), Status::Inval, "a read buffer past memory");
    assert_eq!(read_all(&mut g, h, 8), b"x", "a failed read loses nothing");
    assert_eq!(g.status(|cx| close(cx, h)), Status::Ok);
    assert_eq!(g.status(|cx| close(cx, h)), Status::Badf, "closed twice");
    assert_eq!(g.status(|cx| read(cx, 12345, 0, 0, nw)), Status::Badf);
}

#[test]
fn trailers_behave_like_headers() {
    let mut g = TestGuest::new();
    let h = body_with(&mut g, b"");
    let (n, nl) = g.put("x-checksum");
    let (v, vl) = g.put("abc");
    assert_eq!(g.status(|cx| headers::append(cx, Owner::Trailers, h, (n, nl), (v, vl))), Status::Ok);
    let (buf, nw) = (g.alloc(16), g.alloc(4));
    assert_eq!(g.status(|cx| headers::value_get(cx, Owner::Trailers, h, (n, nl), (buf, 16), nw)), Status::Ok);
    assert_eq!(g.bytes_at(buf, g.u32_at(nw)), b"abc");
}

#[test]
fn a_streaming_response_body_goes_out_as_written() {
    let mut g = TestGuest::new();
    let out = g.alloc(4);
    g.call(|cx| crate::abi::http_resp::new(cx, out)).unwrap();
    let resp = g.u32_at(out);
    let h = body_with(&mut g, b"first ");
    g.call(|cx| crate::abi::http_resp::send_downstream(cx, resp, h, 1)).unwrap();
    assert_eq!(g.state.response.body, b"first ");
    let (more, more_len) = g.put("second");
    let nw = g.alloc(4);
    assert_eq!(g.status(|cx| write(cx, h, more, more_len, WRITE_BACK, nw)), Status::Ok);
    assert_eq!(g.status(|cx| write(cx, h, more, more_len, WRITE_FRONT, nw)), Status::Inval, "sent bytes cannot be preceded");
    assert_eq!(g.state.response.body, b"first second");
    assert!(!g.state.response.finished);
    assert_eq!(g.status(|cx| close(cx, h)), Status::Ok);
    assert!(g.state.response.finished);
}
