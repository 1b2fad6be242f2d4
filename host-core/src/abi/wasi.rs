//! `wasi_snapshot_preview1`: the WASI calls Compute guests make.
//!
//! A Compute guest has stdin (empty), stdout and stderr (captured per request), arguments,
//! the `FASTLY_*` environment, clocks, randomness and sleeps — and no filesystem or sockets:
//! there are no preopened directories, so every path call fails the way WASI libcs expect.

use alloc::vec::Vec;

use super::{wait_until, AbiError, AbiResult, Cx, Registry};
use crate::io::IoKind;
use crate::state::IoSlot;
use crate::status::Errno;
use crate::trace::EventKind;

pub const MODULE: &str = "wasi_snapshot_preview1";
const M: &str = MODULE;

/// What the guest sees as `argv`.
const ARGS: &[&str] = &["edgeplay"];

const STDIN: u32 = 0;
const STDOUT: u32 = 1;
const STDERR: u32 = 2;

/// `filetype::character_device`.
const CHARACTER_DEVICE: u8 = 2;
/// `rights`: fd_read, fd_write, poll_fd_readwrite.
const RIGHT_FD_READ: u64 = 1 << 1;
const RIGHT_FD_WRITE: u64 = 1 << 6;
const RIGHT_POLL: u64 = 1 << 27;

pub fn link(r: &mut Registry<'_>) {
    r.func(M, "args_get", args_get);
    r.func(M, "args_sizes_get", args_sizes_get);
    r.func(M, "environ_get", environ_get);
    r.func(M, "environ_sizes_get", environ_sizes_get);
    r.func(M, "clock_res_get", clock_res_get);
    r.func(M, "clock_time_get", clock_time_get);
    r.func(M, "random_get", random_get);
    r.func(M, "fd_write", fd_write);
    r.func(M, "fd_pwrite", |_: &mut Cx<'_>, fd: u32, _: u32, _: u32, _: u64, _: u32| not_seekable(fd));
    r.func(M, "fd_read", fd_read);
    r.func(M, "fd_pread", |_: &mut Cx<'_>, fd: u32, _: u32, _: u32, _: u64, _: u32| not_seekable(fd));
    r.func(M, "fd_close", fd_close);
    r.func(M, "fd_fdstat_get", fd_fdstat_get);
    r.func(M, "fd_fdstat_set_flags", fd_fdstat_set_flags);
    r.func(M, "fd_fdstat_set_rights", |_: &mut Cx<'_>, fd: u32, _: u64, _: u64| stdio(fd));
    r.func(M, "fd_filestat_get", fd_filestat_get);
    r.func(M, "fd_filestat_set_size", |_: &mut Cx<'_>, fd: u32, _: u64| stdio(fd).and(Err(Errno::Inval.into())));
    r.func(M, "fd_filestat_set_times", |_: &mut Cx<'_>, fd: u32, _: u64, _: u64, _: u32| {
        stdio(fd).and(Err(Errno::Notsup.into()))
    });
    r.func(M, "fd_seek", |_: &mut Cx<'_>, fd: u32, _: i64, _: u32, _: u32| not_seekable(fd));
    r.func(M, "fd_tell", |_: &mut Cx<'_>, fd: u32, _: u32| not_seekable(fd));
    r.func(M, "fd_sync", |_: &mut Cx<'_>, fd: u32| stdio(fd));
    r.func(M, "fd_datasync", |_: &mut Cx<'_>, fd: u32| stdio(fd));
    r.func(M, "fd_advise", |_: &mut Cx<'_>, fd: u32, _: u64, _: u64, _: u32| not_seekable(fd));
    r.func(M, "fd_allocate", |_: &mut Cx<'_>, fd: u32, _: u64, _: u64| not_seekable(fd));
    r.func(M, "fd_readdir", |_: &mut Cx<'_>, fd: u32, _: u32, _: u32, _: u64, _: u32| {
        stdio(fd).and(Err(Errno::Notdir.into()))
    });
    r.func(M, "fd_renumber", |_: &mut Cx<'_>, from: u32, to: u32| stdio(from).and(stdio(to)).and(Err(Errno::Notsup.into())));
    // No preopened directories: wasi-libc and Rust's std stop scanning at the first BADF.
    r.func(M, "fd_prestat_get", fd_prestat_get);
    r.func(M, "fd_prestat_dir_name", |_: &mut Cx<'_>, _fd: u32, _path: u32, _len: u32| Err(Errno::Badf.into()));
    // Paths resolve relative to a directory fd; none exists, so every path call is BADF
    // (stdio fds are not directories: NOTDIR).
    r.func(M, "path_open", |_: &mut Cx<'_>, fd: u32, _: u32, _: u32, _: u32, _: u32, _: u64, _: u64, _: u32, _: u32| {
        no_directory(fd)
    });
    r.func(M, "path_filestat_get", |_: &mut Cx<'_>, fd: u32, _: u32, _: u32, _: u32, _: u32| no_directory(fd));
    r.func(M, "path_filestat_set_times", |_: &mut Cx<'_>, fd: u32, _: u32, _: u32, _: u32, _: u64, _: u64, _: u32| {
        no_directory(fd)
    });
    r.func(M, "path_create_directory", |_: &mut Cx<'_>, fd: u32, _: u32, _: u32| no_directory(fd));
    r.func(M, "path_remove_directory", |_: &mut Cx<'_>, fd: u32, _: u32, _: u32| no_directory(fd));
    r.func(M, "path_unlink_file", |_: &mut Cx<'_>, fd: u32, _: u32, _: u32| no_directory(fd));
    r.func(M, "path_readlink", |_: &mut Cx<'_>, fd: u32, _: u32, _: u32, _: u32, _: u32, _: u32| no_directory(fd));
    r.func(M, "path_rename", |_: &mut Cx<'_>, fd: u32, _: u32, _: u32, _: u32, _: u32, _: u32| no_directory(fd));
    r.func(M, "path_symlink", |_: &mut Cx<'_>, _: u32, _: u32, fd: u32, _: u32, _: u32| no_directory(fd));
    r.func(M, "path_link", |_: &mut Cx<'_>, fd: u32, _: u32, _: u32, _: u32, _: u32, _: u32, _: u32| no_directory(fd));
    r.func(M, "poll_oneoff", poll_oneoff);
    r.exit(M, "proc_exit");
    r.func(M, "proc_raise", |_: &mut Cx<'_>, _signal: u32| Err(Errno::Notsup.into()));
    r.func(M, "sched_yield", |_: &mut Cx<'_>| Ok(()));
    // A Compute guest has no sockets of its own: backends are reached through the ABI.
    r.func(M, "sock_accept", |_: &mut Cx<'_>, _: u32, _: u32, _: u32| Err(Errno::Notsup.into()));
    r.func(M, "sock_recv", |_: &mut Cx<'_>, _: u32, _: u32, _: u32, _: u32, _: u32, _: u32| Err(Errno::Notsup.into()));
    r.func(M, "sock_send", |_: &mut Cx<'_>, _: u32, _: u32, _: u32, _: u32, _: u32| Err(Errno::Notsup.into()));
    r.func(M, "sock_shutdown", |_: &mut Cx<'_>, _: u32, _: u32| Err(Errno::Notsup.into()));
}

fn fd_prestat_get(_cx: &mut Cx<'_>, _fd: u32, _prestat_out: u32) -> AbiResult {
    Err(Errno::Badf.into())
}

/// The three stdio descriptors are the only open files.
fn stdio(fd: u32) -> AbiResult {
    if fd <= STDERR {
        Ok(())
    } else {
        Err(Errno::Badf.into())
    }
}

fn not_seekable(fd: u32) -> AbiResult {
    stdio(fd).and(Err(Errno::Spipe.into()))
}

fn no_directory(fd: u32) -> AbiResult {
    stdio(fd).and(Err(Errno::Notdir.into()))
}

/// Writes a list of strings the WASI way: pointers into `argv`, NUL-terminated bytes into
/// `argv_buf`.
fn write_string_list(cx: &mut Cx<'_>, items: impl Iterator<Item = Vec<u8>>, ptrs: u32, buf: u32) -> AbiResult {
    let (mut pointers, mut strings) = (Vec::new(), Vec::new());
    for item in items {
        pointers.extend_from_slice(&buf.wrapping_add(strings.len() as u32).to_le_bytes());
        strings.extend_from_slice(&item);
        strings.push(0);
    }
    cx.mem.write(buf, &strings)?;
    cx.mem.write(ptrs, &pointers)
}

fn list_sizes(cx: &mut Cx<'_>, items: impl Iterator<Item = usize>, count_out: u32, size_out: u32) -> AbiResult {
    let (count, size) = items.fold((0u32, 0u32), |(n, s), len| (n + 1, s + len as u32 + 1));
    cx.mem.write_u32(count_out, count)?;
    cx.mem.write_u32(size_out, size)
}

fn args_get(cx: &mut Cx<'_>, argv: u32, argv_buf: u32) -> AbiResult {
    write_string_list(cx, ARGS.iter().map(|a| a.as_bytes().to_vec()), argv, argv_buf)
}

fn args_sizes_get(cx: &mut Cx<'_>, count_out: u32, size_out: u32) -> AbiResult {
    list_sizes(cx, ARGS.iter().map(|a| a.len()), count_out, size_out)
}

fn environ_entries(cx: &Cx<'_>) -> Vec<Vec<u8>> {
    cx.st.env.iter().map(|(k, v)| alloc::format!("{k}={v}").into_bytes()).collect()
}

fn environ_get(cx: &mut Cx<'_>, environ: u32, environ_buf: u32) -> AbiResult {
    let entries = environ_entries(cx);
    write_string_list(cx, entries.into_iter(), environ, environ_buf)
}

fn environ_sizes_get(cx: &mut Cx<'_>, count_out: u32, size_out: u32) -> AbiResult {
    let sizes: Vec<usize> = environ_entries(cx).iter().map(Vec::len).collect();
    list_sizes(cx, sizes.into_iter(), count_out, size_out)
}

/// `clockid`: realtime, monotonic, process and thread CPU time.
fn clock_ns(cx: &Cx<'_>, id: u32) -> Result<u64, AbiError> {
    match id {
        0 => Ok(cx.st.platform.unix_time_ns()),
        // Both CPU clocks count from the start of the request, like the monotonic clock:
        // the guest is the only thing running in its sandbox.
        1..=3 => Ok((cx.st.platform.monotonic_ms() * 1_000_000.0) as u64),
        _ => Err(Errno::Inval.into()),
    }
}

fn clock_res_get(cx: &mut Cx<'_>, id: u32, resolution_out: u32) -> AbiResult {
    clock_ns(cx, id)?;
    cx.mem.write_u64(resolution_out, 1_000)
}

fn clock_time_get(cx: &mut Cx<'_>, id: u32, _precision: u64, time_out: u32) -> AbiResult {
    let now = clock_ns(cx, id)?;
    cx.mem.write_u64(time_out, now)
}

fn random_get(cx: &mut Cx<'_>, buf: u32, len: u32) -> AbiResult {
    let platform = cx.st.platform.clone();
    cx.mem.check(buf, len)?;
    let mut random = alloc::vec![0; len as usize];
    platform.fill_random(&mut random);
    cx.mem.write(buf, &random)
}

/// Reads an iovec array: (pointer, length) pairs of 8 bytes each.
fn iovecs(cx: &Cx<'_>, iovs: u32, count: u32) -> Result<Vec<(u32, u32)>, AbiError> {
    let bytes = cx.mem.slice(iovs, count.checked_mul(8).ok_or(Errno::Inval)?).map_err(|_| Errno::Fault)?;
    Ok(bytes
        .chunks_exact(8)
        .map(|c| (u32::from_le_bytes(c[..4].try_into().unwrap()), u32::from_le_bytes(c[4..].try_into().unwrap())))
        .collect())
}

fn fd_write(cx: &mut Cx<'_>, fd: u32, iovs: u32, count: u32, nwritten_out: u32) -> AbiResult {
    if fd != STDOUT && fd != STDERR {
        return Err(Errno::Badf.into());
    }
    let mut data = Vec::new();
    for (ptr, len) in iovecs(cx, iovs, count)? {
        data.extend_from_slice(cx.mem.slice(ptr, len).map_err(|_| Errno::Fault)?);
    }
    let at = cx.st.now_ms();
    let (sink, times) =
        if fd == STDOUT { (&mut cx.st.stdout, &mut cx.st.stdout_times) } else { (&mut cx.st.stderr, &mut cx.st.stderr_times) };
    times.push((sink.len(), at));
    sink.extend_from_slice(&data);
    cx.mem.write_u32(nwritten_out, data.len() as u32).map_err(|_| Errno::Fault.into())
}

/// Stdin is empty: every read is the end of the file.
fn fd_read(cx: &mut Cx<'_>, fd: u32, iovs: u32, count: u32, nread_out: u32) -> AbiResult {
    if fd != STDIN {
        return Err(Errno::Badf.into());
    }
    iovecs(cx, iovs, count)?;
    cx.mem.write_u32(nread_out, 0).map_err(|_| Errno::Fault.into())
}

fn fd_close(_cx: &mut Cx<'_>, fd: u32) -> AbiResult {
    stdio(fd)
}

fn fd_fdstat_get(cx: &mut Cx<'_>, fd: u32, stat_out: u32) -> AbiResult {
    stdio(fd)?;
    let rights = if fd == STDIN { RIGHT_FD_READ | RIGHT_POLL } else { RIGHT_FD_WRITE | RIGHT_POLL };
    let mut stat = [0u8; 24];
    stat[0] = CHARACTER_DEVICE;
    stat[8..16].copy_from_slice(&rights.to_le_bytes());
    cx.mem.write(stat_out, &stat)
}

fn fd_fdstat_set_flags(_cx: &mut Cx<'_>, fd: u32, _flags: u32) -> AbiResult {
    stdio(fd)
}

fn fd_filestat_get(cx: &mut Cx<'_>, fd: u32, stat_out: u32) -> AbiResult {
    stdio(fd)?;
    let mut stat = [0u8; 64];
    stat[16] = CHARACTER_DEVICE;
    stat[24..32].copy_from_slice(&1u64.to_le_bytes());
    cx.mem.write(stat_out, &stat)
}

/// A subscription as `poll_oneoff` reads it (48 bytes each).
#[derive(Clone, Copy)]
enum Subscription {
    /// Due at this many nanoseconds on the monotonic clock of the request.
    Clock { userdata: u64, due_ms: f64 },
    /// Stdio is always ready.
    Fd { userdata: u64, kind: u8 },
}

const EVENT_CLOCK: u8 = 0;
const SUBCLOCK_ABSTIME: u16 = 1;

fn read_subscriptions(cx: &Cx<'_>, ptr: u32, count: u32) -> Result<Vec<Subscription>, AbiError> {
    let now_ms = cx.st.platform.monotonic_ms();
    let realtime_ms = cx.st.platform.unix_time_ns() as f64 / 1e6;
    let bytes = cx.mem.slice(ptr, count.checked_mul(48).ok_or(Errno::Inval)?)?;
    let u64_at = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap());
    bytes
        .chunks_exact(48)
        .map(|s| {
            let userdata = u64_at(s, 0);
            match s[8] {
                EVENT_CLOCK => {
                    let clock = u32::from_le_bytes(s[16..20].try_into().unwrap());
                    let timeout_ms = u64_at(s, 24) as f64 / 1e6;
                    let flags = u16::from_le_bytes(s[40..42].try_into().unwrap());
                    let due_ms = match (flags & SUBCLOCK_ABSTIME != 0, clock) {
                        (false, 0..=3) => now_ms + timeout_ms,
                        (true, 0) => now_ms + (timeout_ms - realtime_ms),
                        (true, 1..=3) => timeout_ms,
                        _ => return Err(Errno::Inval.into()),
                    };
                    Ok(Subscription::Clock { userdata, due_ms })
                }
                kind @ (1 | 2) => {
                    let fd = u32::from_le_bytes(s[16..20].try_into().unwrap());
                    stdio(fd)?;
                    Ok(Subscription::Fd { userdata, kind })
                }
                _ => Err(Errno::Inval.into()),
            }
        })
        .collect()
}

/// Waits for the first of its subscriptions: stdio is ready at once, clocks become a sleep
/// the embedder performs (a `Step::Io`), never a busy loop.
fn poll_oneoff(cx: &mut Cx<'_>, subs: u32, events: u32, count: u32, nevents_out: u32) -> AbiResult {
    if count == 0 {
        return Err(Errno::Inval.into());
    }
    let subscriptions = read_subscriptions(cx, subs, count)?;
    let ready: Vec<Subscription> = subscriptions.iter().copied().filter(|s| matches!(s, Subscription::Fd { .. })).collect();
    if !ready.is_empty() {
        return write_events(cx, &ready, events, nevents_out);
    }
    let now_ms = cx.st.platform.monotonic_ms();
    let (first, due_ms) = subscriptions
        .iter()
        .filter_map(|s| match *s {
            Subscription::Clock { due_ms, .. } => Some((*s, due_ms)),
            Subscription::Fd { .. } => None,
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("no fd subscriptions, so all are clocks");
    if due_ms <= now_ms {
        return write_events(cx, &[first], events, nevents_out);
    }
    let wait = due_ms - now_ms;
    // Round up (no `f64::ceil` without std): waking early would make the guest sleep again.
    let ms = wait as u64 + (wait % 1.0 > 0.0) as u64;
    let timer = cx.st.io.start(Some(IoKind::Sleep { ms }), IoSlot::Timer { fired: false });
    cx.st.trace(EventKind::Sleep { io: timer, ms });
    wait_until(cx, move |cx| {
        if !cx.st.io.is_done(timer) {
            return Err(AbiError::Pending);
        }
        cx.st.io.slots.remove(&timer);
        write_events(cx, &[first], events, nevents_out)
    })
}

/// Events are 32 bytes: userdata, errno, type, and for fd events the bytes available.
fn write_events(cx: &mut Cx<'_>, ready: &[Subscription], events: u32, nevents_out: u32) -> AbiResult {
    let mut all = Vec::with_capacity(32 * ready.len());
    for sub in ready {
        let mut event = [0u8; 32];
        let (userdata, kind) = match *sub {
            Subscription::Clock { userdata, .. } => (userdata, EVENT_CLOCK),
            Subscription::Fd { userdata, kind } => (userdata, kind),
        };
        event[..8].copy_from_slice(&userdata.to_le_bytes());
        event[10] = kind;
        all.extend_from_slice(&event);
    }
    cx.mem.write(events, &all)?;
    cx.mem.write_u32(nevents_out, ready.len() as u32)
}

#[cfg(test)]
mod tests;
