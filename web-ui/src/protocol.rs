//! Messages between the page and the worker, moved as plain JS values.

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

/// What the page asks the worker to do.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToWorker {
    /// Compile a module once; later runs reuse it.
    Load { name: String, wasm: ByteBuf, config: String },
    /// Run one request against the loaded module.
    Run { config: String, request: RequestSpec },
    /// `make bench`: compile `wasm`, run `request` once cold and `warm_runs` times warm.
    Bench { wasm: ByteBuf, config: String, request: RequestSpec, warm_runs: u32 },
}

/// What the worker tells the page.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker is up and waiting for a module.
    Ready,
    Loaded { info: ModuleSummary },
    LoadFailed { message: String },
    /// The response head, as soon as the guest sends it.
    Head { status: u16, headers: Vec<(String, String)>, at_ms: f64 },
    /// Body bytes sent so far since the last chunk (streaming responses).
    Chunk { bytes: ByteBuf },
    Done { report: RunReport },
    /// The run could not start (bad config, instantiation failure).
    RunFailed { message: String },
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
