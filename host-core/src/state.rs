//! The per-request state hostcalls read and write: handles, I/O, the response going out,
//! captured output. It lives in the wasmi `Store` for the length of one downstream request.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::abi::backend::DynamicBackend;
use crate::abi::Continuation;
use crate::cache::readthrough::Fill;
use crate::config::{Config, MockResponse};
use crate::handles::HandleTable;
use crate::http::ResponseHead;
use crate::io::{BackendRequest, BackendResponse, FetchError, IoId, IoKind, IoRequest, IoResult};
use crate::stores::SharedStores;
use crate::trace::{EventKind, Trace};

/// What the embedder provides besides I/O: clocks and randomness.
pub trait Platform: Send + Sync {
    /// Milliseconds on a monotonic clock with any origin.
    fn monotonic_ms(&self) -> f64;
    /// Nanoseconds since the Unix epoch.
    fn unix_time_ns(&self) -> u64;
    fn fill_random(&self, buf: &mut [u8]);
}

/// The request a client sent, as the session receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownstreamRequest {
    pub method: String,
    /// Absolute URL, e.g. `http://localhost/path?q`.
    pub url: String,
    /// Header fields in order, names as the client sent them.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    /// Overrides `client.ip` from the config for this request.
    pub client_ip: Option<String>,
}

impl DownstreamRequest {
    pub fn get(url: &str) -> DownstreamRequest {
        DownstreamRequest {
            method: String::from("GET"),
            url: String::from(url),
            headers: Vec::new(),
            body: Vec::new(),
            client_ip: None,
        }
    }
}

/// The downstream response as far as the guest has sent it.
#[derive(Debug, Default)]
pub struct ResponseOut {
    pub head: Option<ResponseHead>,
    /// Every body byte sent so far.
    pub body: Vec<u8>,
    /// How much of `body` the embedder has already taken with `take_streamed`.
    pub taken: usize,
    pub streaming: bool,
    /// The last byte has been sent.
    pub finished: bool,
    /// The guest abandoned its streaming body: the client got a truncated response.
    pub aborted: bool,
}

/// One operation the session started.
#[derive(Debug)]
pub enum IoSlot {
    Fetch {
        backend: String,
        /// A mock backend with a delay: answered with this when its sleep completes.
        mock_after_sleep: Option<MockResponse>,
        outcome: Option<Result<BackendResponse, FetchError>>,
        /// The readthrough cache's part in this send.
        cache: CacheRole,
        /// A stale object's refresh: nobody takes its response, the cache does.
        background: bool,
    },
    Timer {
        fired: bool,
    },
    /// A cache lookup waits for another request's fill: check again when this sleep ends.
    CacheWait,
}

/// What the readthrough cache does with a send's result.
#[derive(Debug, Default)]
pub enum CacheRole {
    #[default]
    None,
    /// Store the response (if it may be stored).
    Fill(Box<Fill>),
    /// An identical request is fetching the object: check again when the sleep `id` fires,
    /// then take the stored object or send `request` after all.
    Wait { fill: Box<Fill>, request: Box<BackendRequest> },
}

impl IoSlot {
    /// A send whose result is known or will be delivered by the embedder.
    pub fn fetch(backend: String, cache: CacheRole, outcome: Option<Result<BackendResponse, FetchError>>) -> IoSlot {
        IoSlot::Fetch { backend, mock_after_sleep: None, outcome, cache, background: false }
    }
}

#[derive(Debug, Default)]
pub struct IoTable {
    next_id: IoId,
    queue: VecDeque<IoRequest>,
    pub slots: BTreeMap<IoId, IoSlot>,
    /// Backend requests made so far, against `limits.backend_requests`.
    pub backend_requests: u32,
    /// Requests whose body the guest is still streaming: (body handle, id, what to start).
    deferred: Vec<(u32, IoId, IoKind)>,
}

impl IoTable {
    /// Registers an operation. With `kind`, the embedder is asked to perform it.
    pub fn start(&mut self, kind: Option<IoKind>, slot: IoSlot) -> IoId {
        self.next_id += 1;
        let id = self.next_id;
        self.slots.insert(id, slot);
        if let Some(kind) = kind {
            self.queue.push_back(IoRequest { id, kind });
        }
        id
    }

    /// Records send `id`'s result.
    pub fn set_outcome(&mut self, id: IoId, result: Result<BackendResponse, FetchError>) {
        if let Some(IoSlot::Fetch { outcome, .. }) = self.slots.get_mut(&id) {
            *outcome = Some(result);
        }
    }

    /// Takes what the readthrough cache was to do with send `id`'s result.
    pub fn take_cache_role(&mut self, id: IoId) -> CacheRole {
        match self.slots.get_mut(&id) {
            Some(IoSlot::Fetch { cache, .. }) => core::mem::take(cache),
            _ => CacheRole::None,
        }
    }

    pub fn set_cache_role(&mut self, id: IoId, role: CacheRole) {
        if let Some(IoSlot::Fetch { cache, .. }) = self.slots.get_mut(&id) {
            *cache = role;
        }
    }

    /// Asks the embedder to perform `kind` for the registered operation `id`.
    pub fn queue(&mut self, id: IoId, kind: IoKind) {
        self.queue.push_back(IoRequest { id, kind });
    }

    /// `kind` for operation `id` starts once the guest closes its streaming body `body`.
    pub fn defer_until_closed(&mut self, body: u32, id: IoId, kind: IoKind) {
        self.deferred.push((body, id, kind));
    }

    /// The guest closed streaming body `body`: the request waiting for it leaves now.
    pub fn release(&mut self, body: u32, bytes: Vec<u8>) {
        let Some(index) = self.deferred.iter().position(|(b, _, _)| *b == body) else { return };
        let (_, id, mut kind) = self.deferred.remove(index);
        if let IoKind::Fetch(request) = &mut kind {
            request.body = bytes;
        }
        self.queue.push_back(IoRequest { id, kind });
    }

    pub fn has_queued(&self) -> bool {
        !self.queue.is_empty()
    }

    pub fn pop_queued(&mut self) -> Option<IoRequest> {
        self.queue.pop_front()
    }

    /// Whether the operation has completed (an unknown id counts as done: nothing to wait for).
    pub fn is_done(&self, id: IoId) -> bool {
        match self.slots.get(&id) {
            Some(IoSlot::Fetch { outcome, .. }) => outcome.is_some(),
            Some(IoSlot::Timer { fired }) => *fired,
            Some(IoSlot::CacheWait) => false,
            None => true,
        }
    }

    /// Background refreshes still under way: the request is not over until they end.
    pub fn background_in_flight(&self) -> bool {
        self.in_flight().any(|id| matches!(self.slots.get(&id), Some(IoSlot::Fetch { background: true, .. })))
    }

    /// Ids handed to the embedder and not completed.
    pub fn in_flight(&self) -> impl Iterator<Item = IoId> + '_ {
        self.slots.keys().copied().filter(|&id| !self.is_done(id) && !self.deferred.iter().any(|(_, d, _)| *d == id))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub at_ms: f64,
    pub text: String,
}

pub struct State {
    pub config: Arc<Config>,
    pub platform: Arc<dyn Platform>,
    /// KV stores and the cache, shared with every other request.
    pub stores: SharedStores,
    pub handles: HandleTable,
    /// The guest's exported memory, set once the instance exists.
    pub memory: Option<wasmi::Memory>,
    pub heap: HeapLimiter,
    pub cpu: CpuMeter,
    pub downstream: DownstreamRequest,
    /// The request and body handles `body_downstream_get` gave out.
    pub downstream_handles: Option<(u32, u32)>,
    /// The client request's id (`downstream_client_request_id`).
    pub request_id: String,
    /// Further client requests for this instance (a reusable sandbox), in the order the guest
    /// takes them with `next_request_wait`.
    pub queued_requests: VecDeque<DownstreamRequest>,
    /// The responses to the client requests served before the current one, in order.
    pub served: Vec<ResponseOut>,
    pub response: ResponseOut,
    pub io: IoTable,
    /// The continuation of the hostcall the guest is blocked in.
    pub blocked: Option<Continuation>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// When each write to stdout / stderr began: (offset in the stream, ms since the start).
    pub stdout_times: Vec<(usize, f64)>,
    pub stderr_times: Vec<(usize, f64)>,
    /// Lines written to each log endpoint.
    pub logs: BTreeMap<String, Vec<LogLine>>,
    pub trace: Trace,
    /// `monotonic_ms` when the request started.
    pub started_ms: f64,
    /// Environment variables as the guest sees them.
    pub env: Vec<(String, String)>,
    /// Dictionary and config store lookups so far, against `limits.dictionary_lookups`.
    pub lookups: u32,
    /// Backends the guest registered during this request (`register_dynamic_backend`), by name.
    pub dynamic_backends: BTreeMap<String, DynamicBackend>,
    /// Cache objects whose body the guest is writing, by body handle.
    pub cache_writes: Vec<(u32, crate::cache::handle::PendingWrite)>,
}

impl State {
    pub fn new(config: Arc<Config>, platform: Arc<dyn Platform>, stores: SharedStores, downstream: DownstreamRequest) -> State {
        let started_ms = platform.monotonic_ms();
        let env = crate::module::guest_env(&config, platform.as_ref());
        // The first request's id is the instance's trace id, so the two can be matched up.
        let request_id = env.iter().find(|(k, _)| k == "FASTLY_TRACE_ID").map(|(_, v)| v.clone()).unwrap_or_default();
        let heap = HeapLimiter {
            limit_bytes: (config.limits.heap_mb as usize).saturating_mul(1 << 20),
            ..HeapLimiter::default()
        };
        State {
            config,
            platform,
            stores,
            handles: HandleTable::new(),
            memory: None,
            heap,
            cpu: CpuMeter::default(),
            downstream,
            downstream_handles: None,
            request_id,
            queued_requests: VecDeque::new(),
            served: Vec::new(),
            response: ResponseOut::default(),
            io: IoTable::default(),
            blocked: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
            stdout_times: Vec::new(),
            stderr_times: Vec::new(),
            logs: BTreeMap::new(),
            trace: Trace::default(),
            started_ms,
            env,
            lookups: 0,
            dynamic_backends: BTreeMap::new(),
            cache_writes: Vec::new(),
        }
    }

    /// Milliseconds since the request started.
    pub fn now_ms(&self) -> f64 {
        self.platform.monotonic_ms() - self.started_ms
    }

    pub fn trace(&mut self, kind: EventKind) {
        let at = self.now_ms();
        self.trace.push(at, kind);
    }

    /// Records an I/O completion from the embedder.
    pub fn complete_io(&mut self, id: IoId, result: IoResult) {
        match (self.io.slots.get_mut(&id), result) {
            (None, _) => {}
            (Some(IoSlot::Timer { fired }), _) => *fired = true,
            (Some(IoSlot::CacheWait), _) => crate::cache::handle::poll_done(self, id),
            (Some(IoSlot::Fetch { .. }), IoResult::Slept) => crate::abi::http_req::on_sleep_done(self, id),
            (Some(IoSlot::Fetch { .. }), IoResult::Fetched(result)) => crate::abi::http_req::complete_fetch(self, id, result),
        }
    }
}

impl Drop for State {
    /// A request that ends before its backend answered (cancelled, trapped) releases the keys
    /// it was fetching, so requests collapsed onto it go to the backend themselves; so do
    /// cache transactions it never completed.
    fn drop(&mut self) {
        crate::cache::handle::release_all(self);
        for slot in self.io.slots.values() {
            if let IoSlot::Fetch { cache: CacheRole::Fill(fill), .. } = slot {
                crate::cache::readthrough::abandon_fill(&self.stores, fill);
            }
        }
    }
}

/// Time spent executing guest code, waits excluded: the session runs the meter while the
/// guest runs, and a hostcall (`get_vcpu_ms`) reads it mid-run.
#[derive(Debug, Default)]
pub struct CpuMeter {
    spent_ms: f64,
    running_since: Option<f64>,
}

impl CpuMeter {
    pub fn start(&mut self, now_ms: f64) {
        self.running_since = Some(now_ms);
    }

    pub fn stop(&mut self, now_ms: f64) {
        if let Some(since) = self.running_since.take() {
            self.spent_ms += now_ms - since;
        }
    }

    /// CPU time of the runs that have ended.
    pub fn spent_ms(&self) -> f64 {
        self.spent_ms
    }

    /// CPU time up to `now_ms`, the current run included.
    pub fn at(&self, now_ms: f64) -> f64 {
        self.spent_ms + self.running_since.map_or(0.0, |since| now_ms - since)
    }
}

/// Enforces the heap limit and remembers that it did, so the trap that usually follows a
/// refused `memory.grow` can be reported as the limit it is.
#[derive(Debug, Default)]
pub struct HeapLimiter {
    pub limit_bytes: usize,
    pub peak_bytes: usize,
    /// The size a refused `memory.grow` asked for.
    pub refused: Option<usize>,
}

impl wasmi::ResourceLimiter for HeapLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> Result<bool, wasmi_core::LimiterError> {
        if desired > self.limit_bytes || maximum.is_some_and(|max| desired > max) {
            self.refused = Some(desired);
            return Ok(false);
        }
        self.peak_bytes = self.peak_bytes.max(desired);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> Result<bool, wasmi_core::LimiterError> {
        Ok(maximum.is_none_or(|max| desired <= max) && desired <= 1_000_000)
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        100
    }

    fn memories(&self) -> usize {
        1
    }
}
