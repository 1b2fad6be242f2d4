//! Messages between the page and the worker, moved as plain JS values.

use std::collections::BTreeMap;

use host_core::cache::CacheRecord;
use host_core::stores::kv::KvEntry;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

/// What the page asks the worker to do.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToWorker {
    /// Compile a module once; later runs reuse it.
    Load { name: String, wasm: ByteBuf, config: String },
    /// Run one request against the loaded module.
    Run {
        config: String,
        request: RequestSpec,
        #[serde(default)]
        engine: EngineChoice,
    },
    /// `make bench`: compile `wasm`, run `request` once cold and `warm_runs` times warm.
    Bench {
        wasm: ByteBuf,
        config: String,
        request: RequestSpec,
        warm_runs: u32,
        #[serde(default)]
        engine: EngineChoice,
    },
    /// Change the KV stores or the cache (or only look at them); the worker answers `Stores`.
    Stores { config: String, edit: StoreEdit },
}

/// Which engine runs the guest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineChoice {
    /// host-core's wasmi interpreter: fuel, pausing, the same everywhere.
    Wasmi,
    /// The browser's own WebAssembly engine when it can suspend on a hostcall (JSPI), else wasmi.
    /// The default: the same answers, and CPU-bound guests run about 25x faster.
    #[default]
    Browser,
}

/// What the stores panels ask of the stores the worker owns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum StoreEdit {
    /// Nothing: send the stores as they are (after a config edit, say).
    Refresh,
    KvPut { store: String, key: String, value: ByteBuf, metadata: Option<ByteBuf> },
    KvDelete { store: String, key: String },
    PurgeRecord { id: String },
    PurgeSurrogateKey { key: String, soft: bool },
    ClearCache,
    /// Back to the config's seed values: the cache empties, what was persisted goes.
    Reset,
}

/// What the worker tells the page.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker is up (its persisted stores loaded) and waiting for a module.
    Ready,
    Loaded { info: ModuleSummary },
    LoadFailed { message: String },
    /// The response head, as soon as the guest sends it.
    Head { status: u16, headers: Vec<(String, String)>, at_ms: f64 },
    /// Body bytes sent so far since the last chunk (streaming responses).
    Chunk { bytes: ByteBuf },
    Done { report: RunReport },
    /// The browser's engine is about to run the guest, which has this much CPU time left (the
    /// page ends the worker if it hears nothing more for that long), or `None`: the guest waits.
    GuestRunning { cpu_left_ms: Option<f64> },
    /// The run could not start (bad config, instantiation failure).
    RunFailed { message: String },
    /// The stores after a run or an edit; `saved` when IndexedDB keeps them, `error` when the
    /// edit failed or could not be saved.
    Stores { view: StoresView, saved: bool, error: Option<String> },
    /// Milliseconds: compiling, bytes to the end of the first response, a warm request (median).
    BenchResult { compile_ms: f64, first_ms: f64, warm_ms: f64, status: u16, body: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestSpec {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: ByteBuf,
    pub client_ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleSummary {
    pub name: String,
    pub size_bytes: usize,
    /// The toolchain that produced it, from the `producers` section.
    pub producer: Option<String>,
    pub imports: usize,
    pub unsupported: Vec<String>,
    pub compile_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: ByteBuf,
    pub error: Option<GuestFailure>,
    /// Lines with the time (ms since the request started) of the write they began in.
    pub stdout: Vec<(f64, String)>,
    pub stderr: Vec<(f64, String)>,
    /// Endpoint → lines with their time (ms since the request started).
    pub logs: Vec<(String, Vec<(f64, String)>)>,
    pub trace: Vec<TraceRow>,
    /// Sleeps the guest asked for (start, duration), in ms since the request started.
    pub sleeps: Vec<(f64, f64)>,
    /// Stretches in which the guest waited on I/O (start, end).
    pub waits: Vec<(f64, f64)>,
    pub hostcalls: Vec<(String, u32)>,
    pub stats: RunStats,
    /// The readthrough cache's decisions, in order.
    pub cache: Vec<CacheDecision>,
    /// KV store operations, in order.
    pub kv: Vec<KvOperation>,
    /// Why this run's changes to the stores could not be saved in the browser.
    pub persist_error: Option<String>,
    /// The engine that ran the guest, as the page names it.
    pub engine: String,
}

/// One readthrough cache decision for a backend send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheDecision {
    pub io: u32,
    pub at_ms: f64,
    /// `HIT`, `MISS`, `PASS`, `STALE`, `COLLAPSED`, `STORED`, `NOT STORED`.
    pub outcome: String,
    pub key: String,
    pub age_s: u64,
    pub ttl_left_s: i64,
    pub hits: u64,
    pub note: String,
}

/// One KV store operation and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KvOperation {
    pub at_ms: f64,
    /// `lookup`, `insert`, `delete`, `list`.
    pub op: String,
    pub store: String,
    pub key: String,
    pub outcome: String,
}

/// The KV stores and the cache as the panels show them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoresView {
    pub kv: BTreeMap<String, BTreeMap<String, KvEntry>>,
    pub cache: Vec<CachedObject>,
}

/// A cache record without its body: the inspector shows only the body's size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedObject {
    pub id: String,
    pub record: CacheRecord,
    pub size: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuestFailure {
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    pub wall_ms: f64,
    pub cpu_ms: f64,
    pub fuel: u64,
    pub peak_heap_bytes: usize,
    pub hostcalls: u64,
}

/// One backend request as the trace shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceRow {
    pub backend: String,
    pub method: String,
    pub url: String,
    pub mock: bool,
    pub start_ms: f64,
    pub end_ms: Option<f64>,
    pub status: Option<u16>,
    pub error: Option<String>,
    /// Headers the browser would not let the page send (`Host`, `Cookie`, …).
    pub dropped_headers: Vec<String>,
}
