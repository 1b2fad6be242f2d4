//! One downstream request run by an engine other than wasmi (the browser's own `WebAssembly`),
//! with the same hostcalls, the same state and the same outcome as [`crate::Session`].
//!
//! The embedder instantiates the guest itself and routes import `i` to [`BridgeSession::call`].
//! What it cannot get from a foreign engine it does differently: there is no fuel (a guest that
//! computes without calling the host can only be stopped by terminating the engine), CPU time
//! is measured between hostcalls, and the heap limit is checked at each hostcall and at the end.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::abi::memory::ExternalMemory;
use crate::abi::{run_hostcall, GuestMemory, HostcallInfo, RawHostcall, Suspend};
use crate::http::ResponseHead;
use crate::io::{IoId, IoRequest, IoResult};
use crate::session::{self, GuestError, Outcome};
use crate::state::State;
use crate::trace::EventKind;

/// How one of the guest's imports is answered, in the module's import order.
pub struct BridgeImport {
    pub module: String,
    pub name: String,
    /// Per parameter: whether it is an `i64` (a JavaScript BigInt) rather than an `i32`.
    pub wide_params: Vec<bool>,
    pub(crate) provider: Provider,
}

pub(crate) enum Provider {
    Hostcall(usize),
    /// A stand-in for an import we do not implement: counted, answers this code.
    Constant(u32),
    Trap(String),
}

/// What the hostcalls are and how to reach them, for one compiled module.
pub struct Bridge {
    pub imports: Vec<BridgeImport>,
    pub(crate) hostcalls: Vec<HostcallInfo>,
    pub(crate) calls: Vec<RawHostcall>,
}

/// What an import call answers the guest.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// Return this code. Start any I/O `pop_queued` hands out first.
    Value(u32),
    /// Suspend the guest: call `retry_blocked` after each I/O completion until it has a code.
    Blocked,
    /// Unwind the guest: the run is over (`proc_exit`, a trap raised by the host, a limit).
    Stop,
}

pub struct BridgeSession {
    state: State,
    bridge: Arc<Bridge>,
    /// Why the guest was stopped from the host side; `Some(None)` for `proc_exit(0)`.
    stopped: Option<Option<GuestError>>,
}

impl BridgeSession {
    pub(crate) fn new(state: State, bridge: Arc<Bridge>) -> BridgeSession {
        BridgeSession { state, bridge, stopped: None }
    }

    pub fn imports(&self) -> &[BridgeImport] {
        &self.bridge.imports
    }

    /// The guest starts (or resumes after a suspension): its CPU time runs from now.
    pub fn guest_running(&mut self) {
        let now = self.state.platform.monotonic_ms();
        self.state.cpu.start(now);
    }

    /// The CPU time the guest has left before its limit.
    pub fn cpu_left_ms(&self) -> f64 {
        let now = self.state.platform.monotonic_ms();
        (self.state.config.limits.cpu_ms as f64 - self.state.cpu.at(now)).max(0.0)
    }

    /// Import `index` called with `args` (each `i32` as its unsigned bits).
    pub fn call(&mut self, index: usize, args: &[u64], memory: &mut dyn ExternalMemory) -> Answer {
        let now = self.state.platform.monotonic_ms();
        self.state.cpu.stop(now);
        if let Some(error) = self.limit_error(memory.size_bytes()) {
            return self.stop(Some(error));
        }
        let bridge = self.bridge.clone();
        let result = match &bridge.imports[index].provider {
            Provider::Hostcall(i) => {
                let info = &bridge.hostcalls[*i];
                let call = &bridge.calls[*i];
                run_hostcall(GuestMemory::external(memory), &mut self.state, (info.module, info.name), |cx| call(cx, args))
            }
            Provider::Constant(code) => {
                let import = &bridge.imports[index];
                *self.state.trace.unsupported.entry(format!("{}::{}", import.module, import.name)).or_insert(0) += 1;
                Ok(*code)
            }
            Provider::Trap(why) => Err(Suspend::Trap(why.clone())),
        };
        match result {
            Ok(code) => {
                self.guest_running();
                Answer::Value(code)
            }
            Err(Suspend::Ready(code)) => {
                self.state.trace(EventKind::Resumed);
                self.guest_running();
                Answer::Value(code)
            }
            Err(Suspend::Blocked) => {
                self.state.trace(EventKind::Blocked);
                Answer::Blocked
            }
            Err(Suspend::Exit(code)) => self.stop(session::exit_error(code)),
            Err(Suspend::Trap(why)) => {
                let error = session::trap_error(&self.state, why, false);
                self.stop(Some(error))
            }
        }
    }

    fn stop(&mut self, error: Option<GuestError>) -> Answer {
        self.stopped = Some(error);
        Answer::Stop
    }

    /// A time or heap limit passed, checked where the host gets control.
    fn limit_error(&mut self, memory_bytes: usize) -> Option<GuestError> {
        if memory_bytes > self.state.heap.limit_bytes {
            self.state.heap.refused = Some(memory_bytes);
            return Some(session::trap_error(&self.state, "its memory grew past the limit".into(), false));
        }
        self.state.heap.peak_bytes = self.state.heap.peak_bytes.max(memory_bytes);
        session::time_limit_error(&self.state)
    }

    /// Runs the blocked hostcall's continuation: `Ok(Some(code))` once it has finished, to
    /// resolve the suspended import with; `Err` ends the run.
    pub fn retry_blocked(&mut self, memory: &mut dyn ExternalMemory) -> Result<Option<u32>, GuestError> {
        let ready = session::retry_blocked(GuestMemory::external(memory), &mut self.state)?;
        if ready.is_some() {
            self.state.trace(EventKind::Resumed);
            self.guest_running();
        }
        Ok(ready)
    }

    /// I/O a hostcall started that the embedder must begin now.
    pub fn pop_queued(&mut self) -> Option<IoRequest> {
        self.state.io.pop_queued()
    }

    pub fn complete(&mut self, id: IoId, result: IoResult) {
        self.state.complete_io(id, result);
    }

    /// The guest waits, but nothing it waits on is in flight: the run cannot go on.
    pub fn stuck(&self) -> Option<GuestError> {
        self.state.io.in_flight().next().is_none().then(session::never_arrives)
    }

    pub fn background_in_flight(&self) -> bool {
        self.state.io.background_in_flight()
    }

    pub fn wall_time_left_ms(&self) -> f64 {
        (self.state.config.limits.wall_ms as f64 - self.state.now_ms()).max(0.0)
    }

    /// The wall-time limit, once passed (CPU time cannot pass while the guest waits).
    pub fn time_limit_error(&self) -> Option<GuestError> {
        session::time_limit_error(&self.state)
    }

    pub fn response_head(&self) -> Option<&ResponseHead> {
        self.state.response.head.as_ref()
    }

    pub fn take_streamed(&mut self) -> Vec<u8> {
        let out = &mut self.state.response;
        let new = out.body[out.taken..].to_vec();
        out.taken = out.body.len();
        new
    }

    /// The guest's `_start` returned (`Ok`) or was unwound with `message` (a trap the engine
    /// raised, or the host's stop): what the run ended with.
    pub fn ended(&mut self, result: Result<(), (String, bool)>) -> Option<GuestError> {
        let now = self.state.platform.monotonic_ms();
        self.state.cpu.stop(now);
        match (self.stopped.take(), result) {
            (Some(stopped), _) => stopped,
            (None, Ok(())) => None,
            (None, Err((message, stack_overflow))) => Some(session::trap_error(&self.state, message, stack_overflow)),
        }
    }

    /// The outcome: as [`crate::Session`] builds it; no fuel is counted.
    pub fn finish(mut self, error: Option<GuestError>, memory_bytes: Option<usize>) -> Outcome {
        let error = error.or_else(|| {
            let bytes = memory_bytes?;
            (bytes > self.state.heap.limit_bytes).then(|| {
                self.state.heap.refused = Some(bytes);
                session::trap_error(&self.state, "its memory grew past the limit".into(), false)
            })
        });
        session::outcome(&mut self.state, error, 0, memory_bytes)
    }
}
