//! The worker: compiles guests and runs requests through host-core, performing its I/O with
//! the browser (fetch, timers) and reporting progress to the page.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use futures_channel::mpsc;
use futures_util::StreamExt;
use host_core::stores::kv::{check_key, Insert, KvError};
use host_core::Platform as _;
use host_core::trace::EventKind;
use host_core::http::ResponseHead;
use host_core::{
    BridgeSession, Change, CompileOptions, Config, DownstreamRequest, GuestModule, IoKind, IoRequest, IoResult, Outcome, Session,
    SharedStores, Step, Stores,
};
use serde_bytes::ByteBuf;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::io::idb::Db;
use crate::io::{fetch, platform::BrowserPlatform};
use crate::jspi;
use crate::protocol::{
    CacheDecision, CachedObject, EngineChoice, FromWorker, GuestFailure, KvOperation, ModuleSummary, RequestSpec, RunReport, RunStats, StoreEdit,
    StoresView,
    ToWorker, TraceRow,
};

/// Guest work between looks at the outside world.
const FUEL_SLICE: u64 = 2_000_000;
/// How often a busy guest lets the worker's event loop run (I/O completions, progress).
const YIELD_EVERY_MS: f64 = 50.0;

struct Worker {
    module: Option<Loaded>,
}

/// The module runs use: compiled for wasmi (which also checks and plans its imports) and, where
/// the browser can suspend wasm, for the browser's own engine.
struct Loaded {
    module: Rc<GuestModule>,
    /// Resolves to the `WebAssembly.Module` (rejects with why it could not compile).
    browser: Option<js_sys::Promise>,
}

/// KV stores and the cache, shared by every run in this worker, and where they are saved.
#[derive(Default)]
struct Persisted {
    /// The database, or why the stores are not saved (IndexedDB missing, refused, broken).
    db: Option<Result<Db, String>>,
    /// The saved KV rows, for restoring a store that an edited config declares again.
    kv_rows: BTreeMap<String, Change>,
    /// Saved cache rows, until the stores are first made.
    cache_rows: Vec<Change>,
    stores: Option<SharedStores>,
}

thread_local! {
    static PERSISTED: RefCell<Persisted> = RefCell::default();
}

/// How long start-up waits for IndexedDB before going on without saving.
const OPEN_TIMEOUT_MS: u32 = 5_000;

/// Opens the database and loads what earlier visits saved.
async fn open_persisted() {
    let opened = async {
        let db = Db::open().await?;
        let rows = db.load().await?;
        Ok::<_, String>((db, rows))
    };
    let timeout = gloo_timers::future::TimeoutFuture::new(OPEN_TIMEOUT_MS);
    let opened = match futures_util::future::select(Box::pin(opened), timeout).await {
        futures_util::future::Either::Left((opened, _)) => opened,
        futures_util::future::Either::Right(_) => Err("IndexedDB did not open in time (is another tab upgrading it?)".into()),
    };
    PERSISTED.with_borrow_mut(|p| match opened {
        Ok((db, rows)) => {
            p.db = Some(Ok(db));
            for row in rows {
                match row {
                    Change::CachePut { .. } | Change::CacheDelete { .. } => p.cache_rows.push(row),
                    _ => {
                        p.kv_rows.insert(row.key(), row);
                    }
                }
            }
        }
        Err(e) => p.db = Some(Err(format!("not saved in this browser: {e}"))),
    });
}

/// The worker's stores, following the config's KV store declarations: made from the config's
/// seed with the saved rows over it, the first time.
fn stores_for(config: &Config) -> SharedStores {
    PERSISTED.with_borrow_mut(|p| {
        let stores = match &p.stores {
            Some(stores) => stores.clone(),
            None => {
                let stores = Stores::shared(config);
                stores.lock().restore(p.cache_rows.drain(..).chain(p.kv_rows.values().cloned()));
                p.stores = Some(stores.clone());
                stores
            }
        };
        let mut guard = stores.lock();
        let before: Vec<String> = guard.kv.keys().cloned().collect();
        guard.adopt_config(config);
        let added: Vec<&String> = guard.kv.keys().filter(|name| !before.contains(name)).collect();
        if !added.is_empty() {
            let rows: Vec<Change> = p
                .kv_rows
                .values()
                .filter(|row| matches!(row, Change::KvPut { store, .. } | Change::KvDelete { store, .. } if added.contains(&store)))
                .cloned()
                .collect();
            guard.restore(rows);
        }
        drop(guard);
        stores
    })
}

/// Saves the changes since the last save, in one transaction, before the page hears that the
/// run or edit is done.
async fn persist(stores: &SharedStores) -> Result<(), String> {
    let changes = stores.lock().take_journal();
    let db = PERSISTED.with_borrow(|p| p.db.clone()).unwrap_or_else(|| Err("the database is not open yet".into()))?;
    db.write(&changes).await?;
    PERSISTED.with_borrow_mut(|p| {
        for change in changes.into_iter().filter(|c| matches!(c, Change::KvPut { .. } | Change::KvDelete { .. })) {
            p.kv_rows.insert(change.key(), change);
        }
    });
    Ok(())
}

/// The stores as the panels show them (cache bodies stay in the worker).
fn view(stores: &SharedStores) -> StoresView {
    let stores = stores.lock();
    StoresView {
        kv: stores.kv.iter().map(|(name, store)| (name.clone(), store.entries.clone())).collect(),
        cache: stores
            .cache
            .records()
            .map(|record| CachedObject {
                id: record.id(),
                size: record.body.len(),
                record: host_core::cache::CacheRecord { body: Vec::new(), ..record.clone() },
            })
            .collect(),
    }
}

/// The startup error, if the stores cannot be saved at all: shown with every view.
fn storage_error() -> Option<String> {
    PERSISTED.with_borrow(|p| p.db.as_ref().and_then(|db| db.as_ref().err().cloned()))
}

fn post_stores(stores: &SharedStores, error: Option<String>) {
    let unsaved = storage_error();
    post(&FromWorker::Stores { view: view(stores), saved: unsaved.is_none(), error: error.or(unsaved) });
}

async fn edit_stores(config: String, edit: StoreEdit) {
    let config = match Config::from_json(&config) {
        Ok(config) => config,
        Err(e) => return post(&FromWorker::RunFailed { message: format!("config: {e}") }),
    };
    let stores = stores_for(&config);
    let result = apply_edit(&stores, &config, edit).await;
    let saved = persist(&stores).await;
    post_stores(&stores, result.and(saved).err());
}

/// The wall clock KV writes are stamped with.
fn now_ns() -> u64 {
    BrowserPlatform.unix_time_ns()
}

async fn apply_edit(stores: &SharedStores, config: &Config, edit: StoreEdit) -> Result<(), String> {
    let mut guard = stores.lock();
    match edit {
        StoreEdit::Refresh => {}
        // Through the store's own rules, as a guest's write would be: production's key checks,
        // a new generation, journaled for IndexedDB.
        StoreEdit::KvPut { store, key, value, metadata } => {
            check_key(&key).map_err(|e| e.to_string())?;
            let insert = Insert { metadata: metadata.map(ByteBuf::into_vec), ..Insert::default() };
            guard.kv_insert(&store, &key, value.into_vec(), &insert, now_ns()).map_err(|e| format!("{store}/{key}: {e}"))?;
        }
        StoreEdit::KvDelete { store, key } => match guard.kv_delete(&store, &key, now_ns()) {
            Ok(()) | Err(KvError::NotFound) => {}
            Err(e) => return Err(format!("{store}/{key}: {e}")),
        },
        StoreEdit::PurgeRecord { id } => {
            guard.cache.purge_record(&id);
        }
        StoreEdit::PurgeSurrogateKey { key, soft } => {
            guard.cache.purge_surrogate_key(&key, soft);
        }
        StoreEdit::ClearCache => guard.cache.clear(),
        StoreEdit::Reset => {
            *guard = Stores::from_config(config);
            drop(guard);
            PERSISTED.with_borrow_mut(|p| p.kv_rows.clear());
            let db = PERSISTED.with_borrow(|p| p.db.clone()).unwrap_or_else(|| Err("the database is not open yet".into()))?;
            return db.clear().await;
        }
    }
    Ok(())
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

pub(crate) fn post(message: &FromWorker) {
    match serde_wasm_bindgen::to_value(message) {
        Ok(value) => {
            let _ = scope().post_message(&value);
        }
        Err(e) => web_sys::console::error_1(&format!("cannot post a message: {e}").into()),
    }
}

/// The worker's entry point: it says it is ready once the saved stores are loaded.
pub fn start() {
    wasm_bindgen_futures::spawn_local(async {
        open_persisted().await;
        listen();
    });
}

fn listen() {
    let worker = Rc::new(RefCell::new(Worker { module: None }));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        match serde_wasm_bindgen::from_value::<ToWorker>(event.data()) {
            Ok(ToWorker::Load { name, wasm, config }) => load(&worker, name, &wasm, &js_bytes(&event), &config),
            Ok(ToWorker::Run { config, request, engine }) => {
                let loaded = worker.borrow().module.as_ref().map(|l| (l.module.clone(), l.browser.clone()));
                match loaded {
                    Some((module, browser)) => {
                        let browser = browser.filter(|_| engine == EngineChoice::Browser);
                        wasm_bindgen_futures::spawn_local(run(module, browser, engine, config, request))
                    }
                    None => post(&FromWorker::RunFailed { message: "no module is loaded".into() }),
                }
            }
            Ok(ToWorker::Bench { wasm, config, request, warm_runs, engine }) => {
                let bytes = js_bytes(&event);
                wasm_bindgen_futures::spawn_local(bench(wasm.into_vec(), bytes, engine, config, request, warm_runs))
            }
            Ok(ToWorker::Stores { config, edit }) => wasm_bindgen_futures::spawn_local(edit_stores(config, edit)),
            Err(e) => web_sys::console::error_1(&format!("unreadable message: {e}").into()),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&FromWorker::Ready);
}

/// The message's module bytes as the JS `Uint8Array` they arrived in: the browser's engine
/// compiles them from there, with no copy through Rust.
fn js_bytes(event: &MessageEvent) -> js_sys::Uint8Array {
    js_sys::Reflect::get(&event.data(), &"wasm".into()).map(JsCast::unchecked_into).unwrap_or_else(|_| js_sys::Uint8Array::new_with_length(0))
}

/// Compiles for the browser's engine in the background; `None` where it cannot suspend wasm.
fn compile_for_browser(bytes: js_sys::Uint8Array) -> Option<js_sys::Promise> {
    jspi::available().then(|| {
        wasm_bindgen_futures::future_to_promise(async move { jspi::compile(&bytes).await.map(JsValue::from).map_err(JsValue::from) })
    })
}

fn load(worker: &Rc<RefCell<Worker>>, name: String, wasm: &[u8], js_wasm: &js_sys::Uint8Array, config: &str) {
    // The config decides how unknown imports link; a config that does not parse yet must not
    // stop the module from loading.
    let config = Config::from_json(config).ok();
    let options = config.as_ref().map(CompileOptions::from_config).unwrap_or_default();
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
            let browser = compile_for_browser(js_wasm.clone());
            worker.borrow_mut().module = Some(Loaded { module: Rc::new(module), browser });
            post(&FromWorker::Loaded { info: summary });
            if let Some(config) = config {
                post_stores(&stores_for(&config), None);
            }
        }
        Err(e) => post(&FromWorker::LoadFailed { message: e.to_string() }),
    }
}

pub(crate) fn now() -> f64 {
    use host_core::Platform;
    BrowserPlatform.monotonic_ms()
}

/// The SDK and toolchain that built the module, from its `producers` section: the SDKs do not
/// name themselves there, but each Compute SDK has one language and toolchain.
fn producer(wasm: &[u8]) -> Option<String> {
    let tools = host_core::module::producers(wasm)?;
    let lower = tools.to_ascii_lowercase();
    // The JavaScript SDK's engine is itself built with Rust and C++, so it is checked first.
    let sdk = if lower.contains("starlingmonkey") || lower.contains("js-compute") || lower.contains("spidermonkey") {
        Some("JavaScript, @fastly/js-compute")
    } else if lower.contains("rustc") {
        Some("Rust, the fastly crate")
    } else if lower.contains("tinygo") || lower.contains("go ") || lower.starts_with("go") {
        Some("Go, compute-sdk-go")
    } else {
        None
    };
    Some(match sdk {
        Some(sdk) => format!("{sdk} ({tools})"),
        None => tools,
    })
}

async fn run(module: Rc<GuestModule>, browser: Option<js_sys::Promise>, engine: EngineChoice, config: String, spec: RequestSpec) {
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
    let stores = stores_for(&config);
    let mut dropped = BTreeMap::new();
    let (outcome, engine) = match run_on(&module, browser, engine, config, request, stores.clone(), &mut dropped).await {
        Ok(ran) => ran,
        Err(message) => return post(&FromWorker::RunFailed { message }),
    };
    let mut report = report(outcome, &dropped);
    report.engine = engine;
    report.persist_error = persist(&stores).await.err();
    post_stores(&stores, None);
    post(&FromWorker::Done { report });
}

/// Runs one request on the engine chosen: the outcome and the engine's name for the page.
async fn run_on(
    module: &GuestModule,
    browser: Option<js_sys::Promise>,
    engine: EngineChoice,
    config: Arc<Config>,
    request: DownstreamRequest,
    stores: SharedStores,
    dropped: &mut BTreeMap<u32, Vec<String>>,
) -> Result<(Outcome, String), String> {
    // Only wasmi counts fuel: a fuel limit keeps the run there.
    let browser = browser.filter(|_| config.limits.fuel.is_none());
    if let Some(compiled) = browser {
        let compiled: js_sys::WebAssembly::Module =
            wasm_bindgen_futures::JsFuture::from(compiled).await.map_err(|e| e.as_string().unwrap_or_default())?.unchecked_into();
        let session = module.start_bridged(config, request, Arc::new(BrowserPlatform), stores);
        let outcome = jspi::run(&compiled, session, dropped, &mut Progress::default()).await?;
        return Ok((outcome, BROWSER_ENGINE.to_string()));
    }
    let session = module.start(config.clone(), request, Arc::new(BrowserPlatform), stores)?;
    let name = match engine {
        EngineChoice::Browser if config.limits.fuel.is_some() => "wasmi (limits.fuel is set, and only wasmi counts fuel)",
        EngineChoice::Browser => "wasmi (this browser cannot suspend WebAssembly on a hostcall: no JSPI)",
        EngineChoice::Wasmi => "wasmi",
    };
    Ok((drive(session, dropped).await, name.to_string()))
}

/// How the page names the browser's engine: no fuel, and a run over its CPU time that never
/// calls the host is ended by ending the worker.
pub const BROWSER_ENGINE: &str = "the browser's engine (JSPI; no fuel: a guest that never calls the host is stopped by ending the worker)";

/// One request start to finish, for the benchmark: the outcome's status and body.
async fn bench_request(
    module: &GuestModule,
    browser: Option<js_sys::Promise>,
    engine: EngineChoice,
    config: &Arc<Config>,
    spec: &RequestSpec,
) -> Result<(u16, Vec<u8>), String> {
    let request = DownstreamRequest {
        method: spec.method.clone(),
        url: spec.url.clone(),
        headers: spec.headers.iter().map(|(n, v)| (n.clone(), v.clone().into_bytes())).collect(),
        body: spec.body.to_vec(),
        client_ip: None,
    };
    let stores = Stores::shared(config);
    let (outcome, _) = run_on(module, browser, engine, config.clone(), request, stores, &mut BTreeMap::new()).await?;
    match outcome.error {
        Some(error) => Err(error.message),
        None => Ok((outcome.response.status, outcome.body)),
    }
}

async fn bench(wasm: Vec<u8>, js_wasm: js_sys::Uint8Array, engine: EngineChoice, config: String, spec: RequestSpec, warm_runs: u32) {
    let result = async {
        let config = Arc::new(Config::from_json(&config).map_err(|e| e.to_string())?);
        let started = now();
        let module = GuestModule::compile(&wasm, &CompileOptions::from_config(&config)).map_err(|e| e.to_string())?;
        let browser = if engine == EngineChoice::Browser { compile_for_browser(js_wasm) } else { None };
        if let Some(compiled) = &browser {
            wasm_bindgen_futures::JsFuture::from(compiled.clone()).await.map_err(|e| e.as_string().unwrap_or_default())?;
        }
        let compile_ms = now() - started;
        let (status, body) = bench_request(&module, browser.clone(), engine, &config, &spec).await?;
        let first_ms = now() - started;
        let mut warm = Vec::new();
        for _ in 0..warm_runs.max(1) {
            // Requests in the page come seconds apart: let work the last one left for idle time
            // (the browser engine's next instance) happen before the clock starts.
            gloo_timers::future::TimeoutFuture::new(0).await;
            let started = now();
            bench_request(&module, browser.clone(), engine, &config, &spec).await?;
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
    let mut progress = Progress::default();
    let mut last_yield = now();
    loop {
        match session.step(FUEL_SLICE) {
            Step::Io(op) => start_io(op, done_tx.clone(), dropped),
            Step::Blocked => {
                progress.report(&mut session);
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
                    progress.report(&mut session);
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

/// Starts one I/O operation as its own future, which reports on `done` when it completes.
pub(crate) fn start_io(op: IoRequest, done: mpsc::UnboundedSender<(u32, IoResult)>, dropped: &mut BTreeMap<u32, Vec<String>>) {
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
        let _ = done.unbounded_send((op.id, result));
    });
}

/// A running request's response as the page has seen it so far.
pub(crate) trait Streams {
    fn response_head(&self) -> Option<&ResponseHead>;
    fn take_streamed(&mut self) -> Vec<u8>;
}

impl Streams for Session {
    fn response_head(&self) -> Option<&ResponseHead> {
        Session::response_head(self)
    }
    fn take_streamed(&mut self) -> Vec<u8> {
        Session::take_streamed(self)
    }
}

impl Streams for BridgeSession {
    fn response_head(&self) -> Option<&ResponseHead> {
        BridgeSession::response_head(self)
    }
    fn take_streamed(&mut self) -> Vec<u8> {
        BridgeSession::take_streamed(self)
    }
}

/// Sends the response head and new body bytes while the guest is still running.
#[derive(Default)]
pub(crate) struct Progress {
    head_sent: bool,
}

impl Progress {
    pub(crate) fn report(&mut self, session: &mut impl Streams) {
        if let Some(head) = session.response_head() {
            if !self.head_sent {
                self.head_sent = true;
                post(&FromWorker::Head { status: head.status, headers: text_headers(head.headers.iter()), at_ms: now() });
            }
            let bytes = session.take_streamed();
            if !bytes.is_empty() {
                post(&FromWorker::Chunk { bytes: ByteBuf::from(bytes) });
            }
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
    let (mut sleeps, mut waits, mut blocked_since, mut cache, mut kv) = (Vec::new(), Vec::new(), None, Vec::new(), Vec::new());
    for event in &outcome.trace.events {
        match &event.kind {
            EventKind::Kv { op, store, key, outcome } => kv.push(KvOperation {
                at_ms: event.at_ms,
                op: op.to_string(),
                store: store.clone(),
                key: key.clone(),
                outcome: outcome.clone(),
            }),
            EventKind::Cache { io, outcome, key, age_s, ttl_left_s, hits, note } => cache.push(CacheDecision {
                io: *io,
                at_ms: event.at_ms,
                outcome: outcome.as_str().to_string(),
                key: key.clone(),
                age_s: *age_s,
                ttl_left_s: *ttl_left_s,
                hits: *hits,
                note: note.clone(),
            }),
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
        cache,
        kv,
        persist_error: None,
        engine: String::new(),
    }
}
