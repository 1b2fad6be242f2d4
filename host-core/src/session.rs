//! One downstream request: a fresh guest instance driven step by step by its embedder.
//!
//! The guest runs under wasmi's resumable calls. It stops, and `step` returns, when
//! - a hostcall started I/O the embedder must begin (`Step::Io`),
//! - a hostcall waits on I/O not yet complete (`Step::Blocked`),
//! - the fuel slice ran out (`Step::Yield`: let the event loop breathe, honour cancel),
//! - the guest finished or failed (`Step::Done`).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use wasmi::{Func, ResumableCall, ResumableCallHostTrap, ResumableCallOutOfFuel, Store, TrapCode, Val};

use crate::abi::{AbiError, Cx, GuestMemory, Suspend};
use crate::http::ResponseHead;
use crate::io::{IoId, IoRequest, IoResult};
use crate::state::{DownstreamRequest, LogLine, State};
use crate::trace::{EventKind, Trace};

/// What the embedder must do next.
#[derive(Debug)]
// `Done` carries the whole outcome and comes once per request: boxing it would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Step {
    /// Start this operation, then call `step` again without waiting for it; hand its result
    /// to `complete` whenever it arrives. (A simple embedder may perform it at once.)
    Io(IoRequest),
    /// The guest waits for I/O in flight: call `complete` with a result, then `step`.
    Blocked,
    /// The fuel slice is used up; call `step` again when convenient.
    Yield,
    /// The request is over.
    Done(Outcome),
}

/// Everything a request produced.
#[derive(Debug)]
pub struct Outcome {
    /// The response the client got: the guest's, or the 500 production sends when the guest
    /// fails before responding.
    pub response: ResponseHead,
    pub body: Vec<u8>,
    /// The responses to the further requests handed over with [`Session::queue_request`] that
    /// the guest took (a reusable sandbox), in order.
    pub next_responses: Vec<ServedResponse>,
    /// The guest failed: trapped, panicked, exited non-zero, hit a limit or was cancelled.
    pub error: Option<GuestError>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// When each write to stdout / stderr began: (offset in the stream, ms since the start).
    pub stdout_times: Vec<(usize, f64)>,
    pub stderr_times: Vec<(usize, f64)>,
    pub logs: BTreeMap<String, Vec<LogLine>>,
    pub trace: Trace,
    pub stats: Stats,
}

/// One response the client got.
#[derive(Debug)]
pub struct ServedResponse {
    pub response: ResponseHead,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub wall_ms: f64,
    /// Time spent executing guest code, waits excluded.
    pub cpu_ms: f64,
    pub fuel: u64,
    pub peak_heap_bytes: usize,
    pub hostcalls: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestError {
    pub kind: GuestErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestErrorKind {
    /// A wasm trap other than those below.
    Trap,
    /// A Rust panic (or another SDK's fatal error) that ended in a trap.
    Panic,
    /// `proc_exit` with a non-zero code.
    Exit,
    HeapLimit,
    StackOverflow,
    CpuLimit,
    WallTimeLimit,
    FuelLimit,
    Cancelled,
}

impl GuestErrorKind {
    /// The stable name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            GuestErrorKind::Trap => "trap",
            GuestErrorKind::Panic => "panic",
            GuestErrorKind::Exit => "exit",
            GuestErrorKind::HeapLimit => "heap_limit",
            GuestErrorKind::StackOverflow => "stack_overflow",
            GuestErrorKind::CpuLimit => "cpu_limit",
            GuestErrorKind::WallTimeLimit => "wall_time_limit",
            GuestErrorKind::FuelLimit => "fuel_limit",
            GuestErrorKind::Cancelled => "cancelled",
        }
    }
}

impl core::fmt::Display for GuestError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Where the guest stands between steps.
enum Paused {
    NotStarted,
    /// Inside a hostcall: `ready` holds its result once known; until then its continuation
    /// waits in `State::blocked`.
    InHostcall { call: ResumableCallHostTrap, ready: Option<u32> },
    OutOfFuel(ResumableCallOutOfFuel),
    /// The guest is done; a stale object's background refresh is still under way.
    Draining,
    Finished,
}

pub struct Session {
    store: Store<State>,
    start: Func,
    paused: Paused,
    fuel_used: u64,
}

impl Session {
    pub(crate) fn new(store: Store<State>, start: Func) -> Session {
        Session { store, start, paused: Paused::NotStarted, fuel_used: 0 }
    }

    /// Runs the guest for at most `fuel` units of work, or until it needs the embedder.
    pub fn step(&mut self, fuel: u64) -> Step {
        loop {
            if let Some(io) = self.store.data_mut().io.pop_queued() {
                return Step::Io(io);
            }
            if let Some(error) = self.time_limit_error() {
                return Step::Done(self.finish(Some(error)));
            }
            let run = match core::mem::replace(&mut self.paused, Paused::Finished) {
                Paused::Finished => return Step::Done(self.finish(None)),
                Paused::Draining if self.store.data().io.background_in_flight() => {
                    self.paused = Paused::Draining;
                    return Step::Blocked;
                }
                Paused::Draining => return Step::Done(self.finish(None)),
                Paused::NotStarted => self.run(fuel, |start, store| start.call_resumable(store, &[], &mut [])),
                Paused::InHostcall { call, ready: Some(code) } => {
                    let state = self.store.data_mut();
                    state.trace(EventKind::Resumed);
                    self.run(fuel, |_, store| call.resume(store, &[Val::I32(code as i32)], &mut []))
                }
                Paused::InHostcall { call, ready: None } => {
                    match self.retry_blocked() {
                        Ok(ready) => self.paused = Paused::InHostcall { call, ready },
                        Err(error) => {
                            drop(call);
                            return Step::Done(self.finish(Some(error)));
                        }
                    }
                    if matches!(self.paused, Paused::InHostcall { ready: None, .. }) && !self.store.data().io.has_queued() {
                        return self.blocked();
                    }
                    continue;
                }
                Paused::OutOfFuel(call) => {
                    // One instruction may need more than a slice (bulk memory ops): give it.
                    let fuel = fuel.max(call.required_fuel());
                    self.run(fuel, |_, store| call.resume(store, &mut []))
                }
            };
            match run {
                Ran::Paused(Paused::OutOfFuel(call)) => {
                    let next = call.required_fuel();
                    self.paused = Paused::OutOfFuel(call);
                    if let Some(error) = self.fuel_limit_error(next) {
                        return Step::Done(self.finish(Some(error)));
                    }
                    return Step::Yield;
                }
                Ran::Paused(paused) => {
                    let blocked = matches!(paused, Paused::InHostcall { ready: None, .. });
                    self.paused = paused;
                    if blocked {
                        self.store.data_mut().trace(EventKind::Blocked);
                        if !self.store.data().io.has_queued() {
                            return self.blocked();
                        }
                    }
                }
                Ran::Finished(None) if self.store.data().io.background_in_flight() => self.paused = Paused::Draining,
                Ran::Finished(error) => return Step::Done(self.finish(error)),
            }
        }
    }

    /// Hands this instance a further client request, which a guest serving several requests
    /// (`fastly::http::serve`) takes once it has answered the ones before. Production hands
    /// requests to a waiting instance as they arrive; here they wait in a queue, and a guest
    /// that asks for one more than was queued hears that no more will come. Their responses
    /// arrive in `Outcome::next_responses`; `response_head` and `take_streamed` follow the
    /// request being served.
    pub fn queue_request(&mut self, request: DownstreamRequest) {
        self.store.data_mut().queued_requests.push_back(request);
    }

    /// Hands the embedder's result for operation `id` to the session.
    pub fn complete(&mut self, id: IoId, result: IoResult) {
        self.store.data_mut().complete_io(id, result);
    }

    /// Operations started and not yet completed: what the embedder should be waiting on.
    pub fn in_flight(&self) -> Vec<IoId> {
        self.store.data().io.in_flight().collect()
    }

    /// Stops the guest now. The outcome says it was cancelled.
    pub fn cancel(mut self) -> Outcome {
        let error = GuestError { kind: GuestErrorKind::Cancelled, message: "the run was cancelled".to_string() };
        self.finish(Some(error))
    }

    /// Milliseconds left before the wall-time limit: how long an embedder may wait on I/O.
    pub fn wall_time_left_ms(&self) -> f64 {
        let state = self.store.data();
        (state.config.limits.wall_ms as f64 - state.now_ms()).max(0.0)
    }

    /// The response head once the guest has sent it (streaming or not).
    pub fn response_head(&self) -> Option<&ResponseHead> {
        self.store.data().response.head.as_ref()
    }

    /// Body bytes sent downstream since the last call: for embedders that stream.
    pub fn take_streamed(&mut self) -> Vec<u8> {
        let out = &mut self.store.data_mut().response;
        let new = out.body[out.taken..].to_vec();
        out.taken = out.body.len();
        new
    }

    /// Whether the guest has finished sending its response (it may still be running).
    pub fn response_finished(&self) -> bool {
        self.store.data().response.finished
    }

    /// The guest waits: on I/O in flight (the embedder delivers it), or on nothing that can
    /// ever complete — a request whose streaming body it never closed — which ends the run.
    fn blocked(&mut self) -> Step {
        if self.store.data().io.in_flight().next().is_some() {
            return Step::Blocked;
        }
        Step::Done(self.finish(Some(never_arrives())))
    }

    /// Runs the guest until it pauses, accounting CPU time and fuel.
    fn run(
        &mut self,
        fuel: u64,
        f: impl FnOnce(Func, &mut Store<State>) -> Result<ResumableCall, wasmi::Error>,
    ) -> Ran {
        let limit = self.store.data().config.limits.fuel;
        let slice = match limit {
            Some(total) => fuel.min(total.saturating_sub(self.fuel_used)).max(1),
            None => fuel,
        };
        self.store.set_fuel(slice).expect("fuel metering is enabled");
        let started = self.store.data().platform.monotonic_ms();
        self.store.data_mut().cpu.start(started);
        let result = f(self.start, &mut self.store);
        let stopped = self.store.data().platform.monotonic_ms();
        self.store.data_mut().cpu.stop(stopped);
        self.fuel_used += slice - self.store.get_fuel().unwrap_or(0);
        match result {
            Ok(ResumableCall::Finished) => Ran::Finished(None),
            Ok(ResumableCall::OutOfFuel(call)) => Ran::Paused(Paused::OutOfFuel(call)),
            Ok(ResumableCall::HostTrap(call)) => match call.host_error().downcast_ref::<Suspend>() {
                Some(Suspend::Ready(code)) => {
                    let code = *code;
                    Ran::Paused(Paused::InHostcall { call, ready: Some(code) })
                }
                Some(Suspend::Blocked) => Ran::Paused(Paused::InHostcall { call, ready: None }),
                Some(Suspend::Exit(code)) => Ran::Finished(exit_error(*code)),
                Some(Suspend::Trap(why)) => Ran::Finished(Some(self.trap_error(why.clone(), None))),
                None => Ran::Finished(Some(self.trap_error(format!("{}", call.host_error()), None))),
            },
            Err(error) => {
                if let Some(code) = error.i32_exit_status() {
                    return Ran::Finished(exit_error(code));
                }
                if let Some(Suspend::Exit(code)) = error.downcast_ref::<Suspend>() {
                    return Ran::Finished(exit_error(*code));
                }
                let code = error.as_trap_code();
                Ran::Finished(Some(self.trap_error(format!("{error}"), code)))
            }
        }
    }

    /// Runs the blocked hostcall's continuation: `Some(code)` once it has finished.
    fn retry_blocked(&mut self) -> Result<Option<u32>, GuestError> {
        let Some(memory) = self.store.data().memory else { return Ok(None) };
        let (bytes, state) = memory.data_and_store_mut(&mut self.store);
        retry_blocked(GuestMemory::new(bytes), state)
    }

    fn time_limit_error(&self) -> Option<GuestError> {
        time_limit_error(self.store.data())
    }

    /// The fuel budget is spent when what is left cannot pay for the guest's next step.
    fn fuel_limit_error(&self, next: u64) -> Option<GuestError> {
        let total = self.store.data().config.limits.fuel?;
        (self.fuel_used.saturating_add(next) > total).then(|| GuestError {
            kind: GuestErrorKind::FuelLimit,
            message: format!("the guest used its {total} units of fuel (limits.fuel)"),
        })
    }

    fn trap_error(&self, message: String, code: Option<TrapCode>) -> GuestError {
        trap_error(self.store.data(), message, code == Some(TrapCode::StackOverflow))
    }

    fn finish(&mut self, error: Option<GuestError>) -> Outcome {
        self.paused = Paused::Finished;
        let memory_bytes = self.store.data().memory.map(|memory| memory.data_size(&self.store));
        outcome(self.store.data_mut(), error, self.fuel_used, memory_bytes)
    }
}

enum Ran {
    Paused(Paused),
    Finished(Option<GuestError>),
}

pub(crate) fn exit_error(code: i32) -> Option<GuestError> {
    (code != 0).then(|| GuestError { kind: GuestErrorKind::Exit, message: format!("the guest exited with code {code}") })
}

/// The message of a Rust panic (`panicked at src/main.rs:3:5:\nmessage`) in captured stderr.
fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.find("panicked at ")?;
    let rest = &stderr[start + "panicked at ".len()..];
    let mut lines = rest.lines();
    let location = lines.next()?.trim_end_matches(':');
    let message: Vec<&str> = lines.take_while(|l| !l.starts_with("note:")).collect();
    Some(format!("{} (at {location})", message.join("\n").trim()))
}

/// The guest waits on nothing that can ever complete.
pub(crate) fn never_arrives() -> GuestError {
    GuestError {
        kind: GuestErrorKind::Trap,
        message: "the guest waits for a backend response that can never arrive: the request's \
                  streaming body was never closed (call `finish()` on it before waiting)"
            .to_string(),
    }
}

/// Runs the blocked hostcall's continuation: `Some(code)` once it has finished.
pub(crate) fn retry_blocked<'a>(mem: GuestMemory<'a>, state: &'a mut State) -> Result<Option<u32>, GuestError> {
    let Some(mut k) = state.blocked.take() else { return Ok(None) };
    let mut cx = Cx { mem, st: state };
    let result = k(&mut cx);
    let state = cx.st;
    match result {
        Err(AbiError::Block(next)) => {
            state.blocked = Some(next);
            Ok(None)
        }
        Err(AbiError::Pending) => {
            state.blocked = Some(k);
            Ok(None)
        }
        Err(AbiError::Exit(code)) => Err(exit_error(code).unwrap_or_else(|| GuestError {
            kind: GuestErrorKind::Exit,
            message: "the guest exited".to_string(),
        })),
        Err(AbiError::Trap(why)) => Err(trap_error(state, why, false)),
        Ok(()) => Ok(Some(0)),
        Err(AbiError::Status(status)) => Ok(Some(status as u32)),
        Err(AbiError::Errno(errno)) => Ok(Some(errno as u32)),
    }
}

/// The CPU-time or wall-time limit, once passed.
pub(crate) fn time_limit_error(state: &State) -> Option<GuestError> {
    let limits = &state.config.limits;
    let cpu_ms = state.cpu.spent_ms();
    if cpu_ms > limits.cpu_ms as f64 {
        return Some(GuestError {
            kind: GuestErrorKind::CpuLimit,
            message: format!(
                "the guest ran for {:.0} ms of CPU time, over the {} ms limit (limits.cpu_ms)",
                cpu_ms, limits.cpu_ms
            ),
        });
    }
    if state.now_ms() > limits.wall_ms as f64 {
        return Some(GuestError {
            kind: GuestErrorKind::WallTimeLimit,
            message: format!("the request took longer than the {} ms wall-time limit (limits.wall_ms)", limits.wall_ms),
        });
    }
    None
}

/// Names a trap as a person would: a heap or stack limit, a panic, or the trap itself.
pub(crate) fn trap_error(state: &State, message: String, stack_overflow: bool) -> GuestError {
    if let Some(wanted) = state.heap.refused {
        return GuestError {
            kind: GuestErrorKind::HeapLimit,
            message: format!(
                "the guest's heap reached the {} MB limit (limits.heap_mb): it asked to grow to {} MB, was refused, then stopped ({message})",
                state.config.limits.heap_mb,
                wanted.div_ceil(1 << 20)
            ),
        };
    }
    if stack_overflow {
        return GuestError { kind: GuestErrorKind::StackOverflow, message: format!("the guest overflowed its stack ({message})") };
    }
    let stderr = String::from_utf8_lossy(&state.stderr);
    if let Some(panic) = panic_message(&stderr) {
        return GuestError { kind: GuestErrorKind::Panic, message: format!("the guest panicked: {panic}") };
    }
    GuestError { kind: GuestErrorKind::Trap, message: format!("the guest trapped: {message}") }
}

/// The outcome of a run, from its state: the same for every engine. `memory_bytes` is the
/// guest memory's size at the end, if it has one.
pub(crate) fn outcome(state: &mut State, error: Option<GuestError>, fuel: u64, memory_bytes: Option<usize>) -> Outcome {
    let peak_heap_bytes = memory_bytes.map_or(0, |bytes| bytes.max(state.heap.peak_bytes));
    state.blocked = None;
    let wall_ms = state.now_ms();
    // A guest that ends normally without closing its streaming body ends the response.
    if error.is_none() && state.response.streaming && !state.response.finished {
        let body_bytes = state.response.body.len();
        state.trace(EventKind::ResponseFinished { body_bytes });
    }
    let mut responses = core::mem::take(&mut state.served);
    responses.push(core::mem::take(&mut state.response));
    let mut responses = responses.into_iter().map(|out| match out.head {
        Some(head) => ServedResponse { response: head, body: out.body },
        // Production answers 500 when the guest ends without a response, failed or not.
        None => ServedResponse { response: ResponseHead { status: 500, ..ResponseHead::default() }, body: Vec::new() },
    });
    let ServedResponse { response, body } = responses.next().expect("the first request's response is always there");
    let next_responses = responses.collect();
    let trace = core::mem::take(&mut state.trace);
    Outcome {
        response,
        body,
        next_responses,
        error,
        stdout: core::mem::take(&mut state.stdout),
        stderr: core::mem::take(&mut state.stderr),
        stdout_times: core::mem::take(&mut state.stdout_times),
        stderr_times: core::mem::take(&mut state.stderr_times),
        logs: core::mem::take(&mut state.logs),
        stats: Stats {
            wall_ms,
            cpu_ms: state.cpu.spent_ms(),
            fuel,
            peak_heap_bytes,
            hostcalls: trace.total_hostcalls(),
        },
        trace,
    }
}
