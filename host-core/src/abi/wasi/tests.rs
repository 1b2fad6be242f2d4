//! WASI preview1 contracts, one row per case.

use super::*;
use crate::abi::testing::TestGuest;
use crate::io::IoResult;
use alloc::string::String;

fn iovec(g: &mut TestGuest, parts: &[&str]) -> (u32, u32) {
    let mut vec = Vec::new();
    for part in parts {
        let (ptr, len) = g.put(part);
        vec.extend_from_slice(&ptr.to_le_bytes());
        vec.extend_from_slice(&len.to_le_bytes());
    }
    (g.put(&vec).0, parts.len() as u32)
}

fn errno(g: &mut TestGuest, f: impl FnOnce(&mut Cx<'_>) -> AbiResult) -> Option<Errno> {
    match g.call(f) {
        Ok(()) => None,
        Err(AbiError::Errno(e)) => Some(e),
        Err(other) => panic!("expected an errno, got {other:?}"),
    }
}

#[test]
fn fd_write_gathers_iovecs_into_stdout_and_stderr() {
    let mut g = TestGuest::new();
    let nw = g.alloc(4);
    let (iovs, n) = iovec(&mut g, &["hello, ", "world\n"]);
    assert_eq!(errno(&mut g, |cx| fd_write(cx, STDOUT, iovs, n, nw)), None);
    assert_eq!(g.u32_at(nw), 13);
    let (iovs, n) = iovec(&mut g, &["oops\n"]);
    assert_eq!(errno(&mut g, |cx| fd_write(cx, STDERR, iovs, n, nw)), None);
    assert_eq!(g.state.stdout, b"hello, world\n");
    assert_eq!(g.state.stderr, b"oops\n");
}

#[test]
fn bad_descriptors_and_pointers() {
    let mut g = TestGuest::new();
    let nw = g.alloc(4);
    let (iovs, n) = iovec(&mut g, &["x"]);
    assert_eq!(errno(&mut g, |cx| fd_write(cx, 7, iovs, n, nw)), Some(Errno::Badf), "an fd that is not open");
    assert_eq!(errno(&mut g, |cx| fd_write(cx, STDIN, iovs, n, nw)), Some(Errno::Badf), "writing to stdin");
    let mut bad = Vec::new();
    bad.extend_from_slice(&(u32::MAX - 4).to_le_bytes());
    bad.extend_from_slice(&16u32.to_le_bytes());
    let (bad_iov, _) = g.put(&bad);
    assert_eq!(errno(&mut g, |cx| fd_write(cx, STDOUT, bad_iov, 1, nw)), Some(Errno::Fault), "an iovec past memory");
    let out = g.alloc(8);
    assert_eq!(errno(&mut g, |cx| fd_prestat_get(cx, 3, out)), Some(Errno::Badf), "no preopens");
}

#[test]
fn stdin_is_empty() {
    let mut g = TestGuest::new();
    let (buf, _) = g.put([0u8; 16]);
    let mut vec = Vec::new();
    vec.extend_from_slice(&buf.to_le_bytes());
    vec.extend_from_slice(&16u32.to_le_bytes());
    let (iovs, _) = g.put(&vec);
    let nread = g.alloc(4);
    g.memory[nread as usize] = 99;
    assert_eq!(errno(&mut g, |cx| fd_read(cx, STDIN, iovs, 1, nread)), None);
    assert_eq!(g.u32_at(nread), 0);
}

#[test]
fn environ_lists_the_fastly_variables() {
    let mut g = TestGuest::new();
    let (count, size) = (g.alloc(4), g.alloc(4));
    assert_eq!(errno(&mut g, |cx| environ_sizes_get(cx, count, size)), None);
    let (n, bytes) = (g.u32_at(count), g.u32_at(size));
    let (ptrs, buf) = (g.alloc(4 * n), g.alloc(bytes));
    assert_eq!(errno(&mut g, |cx| environ_get(cx, ptrs, buf)), None);
    let all = String::from_utf8(g.bytes_at(buf, bytes).to_vec()).unwrap();
    let vars: Vec<&str> = all.split('\0').filter(|s| !s.is_empty()).collect();
    assert_eq!(vars.len() as u32, n);
    assert!(vars.contains(&"FASTLY_HOSTNAME=localhost"), "{vars:?}");
    assert!(vars.iter().any(|v| v.starts_with("FASTLY_TRACE_ID=")));
    assert_eq!(g.u32_at(ptrs + 4), buf + vars[0].len() as u32 + 1, "the second pointer follows the first string");
}

#[test]
fn args_are_the_program_name() {
    let mut g = TestGuest::new();
    let (count, size) = (g.alloc(4), g.alloc(4));
    assert_eq!(errno(&mut g, |cx| args_sizes_get(cx, count, size)), None);
    assert_eq!((g.u32_at(count), g.u32_at(size)), (1, 9));
    let (ptrs, buf) = (g.alloc(4), g.alloc(9));
    assert_eq!(errno(&mut g, |cx| args_get(cx, ptrs, buf)), None);
    assert_eq!(g.bytes_at(buf, 9), b"edgeplay\0");
}

#[test]
fn clocks_and_random() {
    let mut g = TestGuest::new();
    let out = g.alloc(8);
    assert_eq!(errno(&mut g, |cx| clock_time_get(cx, 0, 1, out)), None);
    assert_eq!(g.i64_at(out) as u64, 1_700_000_000_000_000_000, "realtime comes from the platform");
    assert_eq!(errno(&mut g, |cx| clock_time_get(cx, 9, 1, out)), Some(Errno::Inval), "an unknown clock");
    let buf = g.alloc(8);
    assert_eq!(errno(&mut g, |cx| random_get(cx, buf, 8)), None);
    assert_eq!(g.bytes_at(buf, 8), [0, 1, 2, 3, 4, 5, 6, 7]);
}

fn clock_subscription(g: &mut TestGuest, userdata: u64, timeout_ns: u64) -> u32 {
    let mut sub = [0u8; 48];
    sub[..8].copy_from_slice(&userdata.to_le_bytes());
    sub[8] = EVENT_CLOCK;
    sub[16..20].copy_from_slice(&1u32.to_le_bytes());
    sub[24..32].copy_from_slice(&timeout_ns.to_le_bytes());
    g.put(sub).0
}

#[test]
fn poll_oneoff_sleeps_through_the_embedder() {
    let mut g = TestGuest::new();
    let sub = clock_subscription(&mut g, 42, 250_000_000);
    let (events, nevents) = (g.alloc(32), g.alloc(4));
    let Err(AbiError::Block(mut k)) = g.call(|cx| poll_oneoff(cx, sub, events, 1, nevents)) else {
        panic!("a sleep waits")
    };
    let op = g.state.io.pop_queued().expect("a sleep for the embedder");
    assert_eq!(op.kind, IoKind::Sleep { ms: 250 });
    assert!(matches!(g.call(|cx| k(cx)), Err(AbiError::Pending)), "still asleep");
    g.state.complete_io(op.id, IoResult::Slept);
    assert!(g.call(|cx| k(cx)).is_ok());
    assert_eq!(g.u32_at(nevents), 1);
    assert_eq!(g.i64_at(events), 42, "the event carries the subscription's userdata");
}

#[test]
fn poll_oneoff_with_zero_timeout_returns_at_once() {
    let mut g = TestGuest::new();
    let sub = clock_subscription(&mut g, 7, 0);
    let (events, nevents) = (g.alloc(32), g.alloc(4));
    assert_eq!(errno(&mut g, |cx| poll_oneoff(cx, sub, events, 1, nevents)), None);
    assert_eq!(g.u32_at(nevents), 1);
    assert!(!g.state.io.has_queued());
    assert_eq!(errno(&mut g, |cx| poll_oneoff(cx, sub, events, 0, nevents)), Some(Errno::Inval), "no subscriptions");
}
