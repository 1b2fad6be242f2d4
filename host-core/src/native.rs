//! A native embedder: clocks from std, each I/O operation on its own thread so that several
//! backend requests really overlap. The CLI and the tests drive sessions with it.

use alloc::boxed::Box;
use alloc::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use crate::io::{BackendRequest, BackendResponse, FetchError, IoKind, IoResult};
use crate::session::{Outcome, Session, Step};
use crate::state::Platform;

/// How much guest work runs between looks at the outside world (about 10 ms natively).
pub const FUEL_SLICE: u64 = 10_000_000;

pub struct StdPlatform {
    origin: Instant,
}

impl StdPlatform {
    pub fn new() -> Arc<StdPlatform> {
        Arc::new(StdPlatform { origin: Instant::now() })
    }
}

impl Platform for StdPlatform {
    fn monotonic_ms(&self) -> f64 {
        self.origin.elapsed().as_secs_f64() * 1000.0
    }

    fn unix_time_ns(&self) -> u64 {
        SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
    }

    fn fill_random(&self, buf: &mut [u8]) {
        // Not for secrets: guests get unpredictable-enough bytes from the clock and a counter,
        // which is all `random_get` promises a Compute guest here (no key material).
        use core::hash::{BuildHasher, Hasher};
        static COUNTER: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
        for chunk in buf.chunks_mut(8) {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u64(self.unix_time_ns());
            hasher.write_u64(COUNTER.fetch_add(1, core::sync::atomic::Ordering::Relaxed));
            let bytes = hasher.finish().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// Performs backend requests. Closures work: `|req| Ok(BackendResponse { .. })`.
pub trait Backends: Send + Sync + 'static {
    fn fetch(&self, request: BackendRequest) -> Result<BackendResponse, FetchError>;
}

impl<F> Backends for F
where
    F: Fn(BackendRequest) -> Result<BackendResponse, FetchError> + Send + Sync + 'static,
{
    fn fetch(&self, request: BackendRequest) -> Result<BackendResponse, FetchError> {
        self(request)
    }
}

/// Runs a session to the end. `on_progress` is called whenever the guest pauses, so a
/// caller can forward a streaming response as it grows.
pub fn drive(mut session: Session, backends: Arc<dyn Backends>, mut on_progress: impl FnMut(&mut Session)) -> Outcome {
    let (done_tx, done_rx) = mpsc::channel();
    loop {
        match session.step(FUEL_SLICE) {
            Step::Io(op) => {
                let done_tx = done_tx.clone();
                let backends = backends.clone();
                let perform: Box<dyn FnOnce() -> IoResult + Send> = match op.kind {
                    IoKind::Fetch(request) => Box::new(move || IoResult::Fetched(backends.fetch(request))),
                    IoKind::Sleep { ms } => Box::new(move || {
                        std::thread::sleep(Duration::from_millis(ms));
                        IoResult::Slept
                    }),
                };
                std::thread::spawn(move || {
                    // The session may be gone (cancelled, timed out): then nobody listens.
                    let _ = done_tx.send((op.id, perform()));
                });
            }
            Step::Blocked => {
                on_progress(&mut session);
                let wait = Duration::from_secs_f64(session.wall_time_left_ms() / 1000.0 + 0.001);
                if let Ok((id, result)) = done_rx.recv_timeout(wait) {
                    session.complete(id, result);
                }
                while let Ok((id, result)) = done_rx.try_recv() {
                    session.complete(id, result);
                }
            }
            Step::Yield => {
                on_progress(&mut session);
                while let Ok((id, result)) = done_rx.try_recv() {
                    session.complete(id, result);
                }
            }
            Step::Done(outcome) => return outcome,
        }
    }
}
