//! The worker: compiles guests and runs requests through host-core, performing its I/O with
//! the browser (fetch, timers) and reporting progress to the page.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use futures_channel::mpsc;
use futures_util::StreamExt;
use host_core::trace::EventKind;
use host_core::{CompileOptions, Config, DownstreamRequest, GuestModule, IoKind, IoResult, Outcome, Session, SharedStores, Step, Stores};
use serde_bytes::ByteBuf;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::io::{fetch, platform::BrowserPlatform};
use crate::protocol::{FromWorker, GuestFailure, ModuleSummary, RequestSpec, RunReport, RunStats, ToWorker, TraceRow};

/// Guest work between looks at the outside world.
const FUEL_SLICE: u64 = 2_000_000;
/// How often a busy guest lets the worker's event loop run (I/O completions, progress).
const YIELD_EVERY_MS: f64 = 50.0;

struct Worker {
    module: Option<(String, Rc<GuestModule>)>,
}

thread_local! {
    /// KV stores and the cache, shared by every run in this worker.
    static STORES: SharedStores = Stores::shared(&Config::default());
}

/// The worker's stores, following the config's KV store declarations.
fn stores_for(config: &Config) -> SharedStores {
    let stores = STORES.with(Clone::clone);
    stores.lock().adopt_config(config);
    stores
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(message: &FromWorker) {
    match serde_wasm_bindgen::to_value(message) {
        Ok(value) => {
            let _ = scope().post_message(&value);
        }
        Err(e) => web_sys::console::error_1(&format!("cannot post a message: {e}").into()),
    }
}

/// The worker's entry point.
pub fn start() {
    let worker = Rc::new(RefCell::new(Worker { module: None }));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        match serde_wasm_bindgen::from_value::<ToWorker>(event.data()) {
            Ok(ToWorker::Load { name, wasm, config }) => load(&worker, name, &wasm, &config),
            Ok(ToWorker::Run { config, request }) => {
                let module = worker.borrow().module.as_ref().map(|(_, m)| m.clone());
                match module {
                    Some(module) => wasm_bindgen_futures::spawn_local(run(module, config, request)),
                    None => post(&FromWorker::RunFailed { message: "no module is loaded".into() }),
                }
            }
            Ok(ToWorker::Bench { wasm, config, request, warm_runs }) => {
                wasm_bindgen_futures::spawn_local(bench(wasm.into_vec(), config, request, warm_runs))
            }
            Err(e) => web_sys::console::error_1(&format!("unreadable message: {e}").into()),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&FromWorker::Ready);
}

fn load(worker: &Rc<RefCell<Worker>>, name: String, wasm: &[u8], config: &str) {
    // The config decides how unknown imports link; a config that does not parse yet must not
    // stop the module from loading.
    let options = Config::from_json(config).map(|c| CompileOptions::from_config(&c)).unwrap_or_default();
    let started = now();
    match GuestModule::compile(wasm, &options) {
        Ok(module) => {
            let info = module.info();
            let summary = ModuleSummary {
                name: name.clone(),
                size_bytes: wasm.len(),
                producer: producer(wasm),
                imports: info.imports.len(),
                unsupported: info
                    .imports
                    .iter()
                    .filter(|i| i.status != host_core::ImportStatus::Implemented)
                    .map(|i| format!("{}::{}", i.module, i.name))
                    .collect(),
                compile_ms: now() - started,
            };
            worker.borrow_mut().module = Some((name, Rc::new(module)));
            post(&FromWorker::Loaded { info: summary });
        }
        Err(e) => post(&FromWorker::LoadFailed { message: e.to_string() }),
    }
}

fn now() -> f64 {
    use host_core::Platform;
    BrowserPlatform.monotonic_ms()
}

/// The SDK and toolchain that built the module, from its `producers` section: the SDKs do not
/// name themselves there, but each Compute SDK has one language and toolchain.
fn producer(wasm: &[u8]) -> Option<String> {
    let tools = host_core::module::producers(wasm)?;
    let lower = tools.to_ascii_lowercase();
    let sdk = if lower.contains("rustc") {
        Some("Rust, the fastly crate")
    } else if lower.contains("tinygo") || lower.contains("go ") || lower.starts_with("go") {
        Some("Go, compute-sdk-go")
    } else if lower.contains("starlingmonkey") || lower.contains("js-compute") || lower.contains("spidermonkey") {
        Some("JavaScript, @fastly/js-compute")
    } else {
        None
    };
    Some(match sdk {
        Some(sdk) => format!("{sdk} ({tools})"),
        None => tools,
    })
}

async fn run(module: Rc<GuestModule>, config: String, spec: RequestSpec) {
    let config = match Config::from_json(&config) {
        Ok(config) => Arc::new(config),
        Err(e) => return post(&FromWorker::RunFailed { message: format!("config: {e}") }),
    };
    let request = DownstreamRequest {
        method: spec.method,
        url: spec.url,
        headers: spec.headers.into_iter().map(|(n, v)| (n, v.into_bytes())).collect(),
        body: spec.body.into_vec(),
        client_ip: spec.client_ip.filter(|ip| !ip.is_empty()),
    };
    let session = match module.start(config.clone(), request, Arc::new(BrowserPlatform), stores_for(&config)) {
        Ok(session) => session,
        Err(message) => return post(&FromWorker::RunFailed { message }),
    };
    let mut dropped = BTreeMap::new();
    let outcome = drive(session, &mut dropped).await;
    post(&FromWorker::Done { report: report(outcome, &dropped) });
}

/// One request start to finish, for the benchmark: the outcome's status and body.
async fn bench_request(module: &GuestModule, config: &Arc<Config>, spec: &RequestSpec) -> Result<(u16, Vec<u8>), String> {
    let request = DownstreamRequest {
        method: spec.method.clone(),
        url: spec.url.clone(),
        headers: spec.headers.iter().map(|(n, v)| (n.clone(), v.clone().into_bytes())).collect(),
        body: spec.body.to_vec(),
        client_ip: None,
    };
    let session = module.start(config.clone(), request, Arc::new(BrowserPlatform), Stores::shared(config))?;
    let outcome = drive(session, &mut BTreeMap::new()).await;
    match outcome.error {
        Some(error) => Err(error.message),
        None => Ok((outcome.response.status, outcome.body)),
    }
}

async fn bench(wasm: Vec<u8>, config: String, spec: RequestSpec, warm_runs: u32) {
    let result = async {
        let config = Arc::new(Config::from_json(&config).map_err(|e| e.to_string())?);
        let started = now();
        let module = GuestModule::compile(&wasm, &CompileOptions::from_config(&config)).map_err(|e| e.to_string())?;
        let compile_ms = now() - started;
        let (status, body) = bench_request(&module, &config, &spec).await?;
        let first_ms = now() - started;
        let mut warm = Vec::new();
        for _ in 0..warm_runs.max(1) {
            let started = now();
            bench_request(&module, &config, &spec).await?;
            warm.push(now() - started);
        }
        warm.sort_by(f64::total_cmp);
        let warm_ms = warm[warm.len() / 2];
        Ok::<_, String>(FromWorker::BenchResult {
            compile_ms,
            first_ms,
            warm_ms,
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
    .await;
    post(&result.unwrap_or_else(|message| FromWorker::RunFailed { message }));
}

/// The step loop of DESIGN.md with the browser's I/O: each fetch and timer runs as its own
/// future and reports on a channel; the guest waits on that channel when it blocks.
async fn drive(mut session: Session, dropped: &mut BTreeMap<u32, Vec<String>>) -> Outcome {
    let (done_tx, mut done_rx) = mpsc::unbounded::<(u32, IoResult)>();
    let mut head_sent = false;
    let mut last_yield = now();
    loop {
        match session.step(FUEL_SLICE) {
            Step::Io(op) => {
                let done_tx = done_tx.clone();
                if let IoKind::Fetch(request) = &op.kind {
                    dropped.insert(op.id, fetch::dropped_headers(request));
                }
                wasm_bindgen_futures::spawn_local(async move {
                    let result = match op.kind {
                        IoKind::Fetch(request) => IoResult::Fetched(fetch::fetch(request).await),
                        IoKind::Sleep { ms } => {
                            gloo_timers::future::TimeoutFuture::new(ms.min(u32::MAX as u64) as u32).await;
                            IoResult::Slept
                        }
                    };
                    let _ = done_tx.unbounded_send((op.id, result));
                });
            }
            Step::Blocked => {
                report_progress(&mut session, &mut head_sent);
                let wait = session.wall_time_left_ms().min(u32::MAX as f64) as u32;
                let timeout = gloo_timers::future::TimeoutFuture::new(wait);
                // Nothing by the wall-time limit: the next step reports it.
                if let futures_util::future::Either::Left((Some((id, result)), _)) =
                    futures_util::future::select(done_rx.next(), timeout).await
                {
                    session.complete(id, result);
                }
                while let Ok((id, result)) = done_rx.try_recv() {
                    session.complete(id, result);
                }
                last_yield = now();
            }
            Step::Yield => {
                if now() - last_yield > YIELD_EVERY_MS {
                    report_progress(&mut session, &mut head_sent);
                    gloo_timers::future::TimeoutFuture::new(0).await;
                    while let Ok((id, result)) = done_rx.try_recv() {
                        session.complete(id, result);
                    }
                    last_yield = now();
                }
            }
            Step::Done(outcome) => return outcome,
        }
    }
}

/// Sends the response head and new body bytes while the guest is still running.
fn report_progress(session: &mut Session, head_sent: &mut bool) {
    if let Some(head) = session.response_head() {
        if !*head_sent {
            *head_sent = true;
            post(&FromWorker::Head { status: head.status, headers: text_headers(head.headers.iter()), at_ms: now() });
        }
        let bytes = session.take_streamed();
        if !bytes.is_empty() {
            post(&FromWorker::Chunk { bytes: ByteBuf::from(bytes) });
        }
    }
}

fn text_headers<'a>(headers: impl Iterator<Item = (&'a str, &'a [u8])>) -> Vec<(String, String)> {
    headers.map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v).into_owned())).collect()
}

/// A captured stream as lines, each with the time of the write it began in.
fn timed_lines(bytes: &[u8], times: &[(usize, f64)]) -> Vec<(f64, String)> {
    let mut lines = Vec::new();
    let mut start = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let at = times.iter().take_while(|(offset, _)| *offset <= start).last().map_or(0.0, |(_, at)| *at);
        lines.push((at, String::from_utf8_lossy(line.strip_suffix(b"\n").unwrap_or(line)).into_owned()));
        start += line.len();
    }
    lines
}

fn report(outcome: Outcome, dropped: &BTreeMap<u32, Vec<String>>) -> RunReport {
    let calls = outcome.trace.backend_calls();
    let backend_ios: Vec<u32> = calls.iter().map(|c| c.io).collect();
    let trace: Vec<TraceRow> = calls
        .into_iter()
        .map(|call| TraceRow {
            dropped_headers: dropped.get(&call.io).cloned().unwrap_or_default(),
            end_ms: call.ms.map(|ms| call.start_ms + ms),
            backend: call.backend,
            method: call.method,
            url: call.url,
            mock: call.mock,
            start_ms: call.start_ms,
            status: call.status,
            error: call.error,
        })
        .collect();
    let (mut sleeps, mut waits, mut blocked_since) = (Vec::new(), Vec::new(), None);
    for event in &outcome.trace.events {
        match &event.kind {
            // A mock backend's delay is shown on its own row; other sleeps are the guest's.
            EventKind::Sleep { io, ms } if !backend_ios.contains(io) => sleeps.push((event.at_ms, *ms as f64)),
            EventKind::Blocked => blocked_since = blocked_since.or(Some(event.at_ms)),
            EventKind::Resumed => {
                if let Some(start) = blocked_since.take() {
                    waits.push((start, event.at_ms));
                }
            }
            _ => {}
        }
    }
    let mut hostcalls: Vec<(String, u32)> =
        outcome.trace.hostcalls.iter().map(|((m, n), count)| (format!("{m}::{n}"), *count)).collect();
    hostcalls.extend(outcome.trace.unsupported.iter().map(|(name, count)| (format!("{name} (unsupported)"), *count)));
    hostcalls.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    RunReport {
        status: outcome.response.status,
        headers: text_headers(outcome.response.headers.iter()),
        body: ByteBuf::from(outcome.body),
        error: outcome.error.map(|e| GuestFailure { kind: e.kind.as_str().to_string(), message: e.message }),
        stdout: timed_lines(&outcome.stdout, &outcome.stdout_times),
        stderr: timed_lines(&outcome.stderr, &outcome.stderr_times),
        logs: outcome
            .logs
            .into_iter()
            .map(|(endpoint, lines)| (endpoint, lines.into_iter().map(|l| (l.at_ms, l.text)).collect()))
            .collect(),
        trace,
        sleeps,
        waits,
        hostcalls,
        stats: RunStats {
            wall_ms: outcome.stats.wall_ms,
            cpu_ms: outcome.stats.cpu_ms,
            fuel: outcome.stats.fuel,
            peak_heap_bytes: outcome.stats.peak_heap_bytes,
            hostcalls: outcome.stats.hostcalls,
        },
    }
}
