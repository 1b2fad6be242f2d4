//! The page: state lifted into one reducer, the worker behind it, components around it.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Deserialize;
use serde_bytes::ByteBuf;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, Worker};
use yew::prelude::*;

use crate::components::{CacheInspector, ConfigEditor, KvEditor, LogsView, ModulePanel, RequestComposer, ResponseView, TraceView};
use crate::protocol::{EngineChoice, FromWorker, ModuleSummary, RequestSpec, RunReport, StoreEdit, StoresView, ToWorker};

/// An example guest, as `examples/examples.json` lists it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Example {
    pub name: String,
    pub title: String,
    pub description: String,
    pub request: ExampleRequest,
    pub picker: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ExampleRequest {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub body: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ModuleState {
    Empty,
    /// Bytes received so far and the total, when the server says it.
    Loading { name: String, progress: Option<(usize, Option<usize>)> },
    Loaded(ModuleSummary),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    Idle,
    Running { head: Option<(u16, Vec<(String, String)>)>, body: Vec<u8> },
    Done(Box<RunReport>),
    Cancelled,
    Failed(String),
}

/// The request as the composer edits it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestDraft {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// A file chosen as the body instead of the text: its name and bytes.
    pub body_file: Option<(String, Rc<Vec<u8>>)>,
    pub client_ip: String,
}

impl RequestDraft {
    fn from_example(example: &ExampleRequest) -> Self {
        RequestDraft {
            method: example.method.clone(),
            url: example.url.clone(),
            headers: example.headers.clone(),
            body: example.body.clone().unwrap_or_default(),
            body_file: None,
            client_ip: String::new(),
        }
    }

    pub fn spec(&self) -> RequestSpec {
        RequestSpec {
            method: self.method.clone(),
            url: self.url.clone(),
            headers: self
                .headers
                .iter()
                .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
                .filter(|(n, _)| !n.is_empty())
                .collect(),
            body: ByteBuf::from(match &self.body_file {
                Some((_, bytes)) => bytes.to_vec(),
                None => self.body.clone().into_bytes(),
            }),
            client_ip: Some(self.client_ip.trim().to_string()).filter(|ip| !ip.is_empty()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub examples: Vec<Example>,
    pub selected: Option<String>,
    pub module: ModuleState,
    pub config_text: String,
    pub request: RequestDraft,
    pub run: RunState,
    /// The KV stores and the cache as the worker last reported them.
    pub stores: Option<StoresView>,
    /// Why the last change to the stores could not be made or saved.
    pub stores_error: Option<String>,
    /// Whether the worker could open IndexedDB to save the stores in.
    pub stores_saved: bool,
    /// Whether the browser promised to keep the saved stores (`navigator.storage.persist()`).
    pub storage_persisted: Option<bool>,
    /// Which engine runs the guest (the setting; the report says which one did).
    pub engine: EngineChoice,
    /// While the browser's engine runs the guest: (how often it resumed, its CPU ms left).
    pub watchdog: Option<(u64, f64)>,
}

pub enum Action {
    Examples(Vec<Example>),
    Select(String),
    Loading(String),
    Progress(usize, Option<usize>),
    Worker(FromWorker),
    ConfigText(String),
    Request(RequestDraft),
    Started,
    Cancelled,
    StoragePersisted(bool),
    Engine(EngineChoice),
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut state = (*self).clone();
        match action {
            Action::Examples(examples) => state.examples = examples,
            Action::Engine(engine) => state.engine = engine,
            Action::Select(name) => {
                if let Some(example) = state.examples.iter().find(|e| e.name == name) {
                    state.request = RequestDraft::from_example(&example.request);
                }
                state.selected = Some(name);
                state.run = RunState::Idle;
            }
            Action::Loading(name) => state.module = ModuleState::Loading { name, progress: None },
            Action::Progress(loaded, total) => {
                if let ModuleState::Loading { progress, .. } = &mut state.module {
                    *progress = Some((loaded, total));
                }
            }
            Action::ConfigText(text) => state.config_text = text,
            Action::Request(request) => state.request = request,
            Action::Started => state.run = RunState::Running { head: None, body: Vec::new() },
            Action::Cancelled => {
                state.run = RunState::Cancelled;
                state.watchdog = None;
            }
            Action::StoragePersisted(granted) => state.storage_persisted = Some(granted),
            Action::Worker(message) => match message {
                FromWorker::Ready => {}
                FromWorker::Loaded { info } => state.module = ModuleState::Loaded(info),
                FromWorker::LoadFailed { message } => state.module = ModuleState::Failed(message),
                FromWorker::Head { status, headers, .. } => {
                    if let RunState::Running { head, .. } = &mut state.run {
                        *head = Some((status, headers));
                    }
                }
                FromWorker::Chunk { bytes } => {
                    if let RunState::Running { body, .. } = &mut state.run {
                        body.extend_from_slice(&bytes);
                    }
                }
                FromWorker::Done { report } => {
                    state.run = RunState::Done(Box::new(report));
                    state.watchdog = None;
                }
                FromWorker::RunFailed { message } => {
                    state.run = RunState::Failed(message);
                    state.watchdog = None;
                }
                FromWorker::GuestRunning { cpu_left_ms } => {
                    let generation = state.watchdog.map_or(0, |(g, _)| g + 1);
                    state.watchdog = cpu_left_ms.map(|ms| (generation, ms));
                }
                FromWorker::Stores { view, saved, error } => {
                    state.stores = Some(view);
                    state.stores_saved = saved;
                    state.stores_error = error;
                }
                FromWorker::BenchResult { .. } => {}
            },
        }
        Rc::new(state)
    }
}

/// The worker and what it needs to be restarted after a cancel.
struct WorkerLink {
    worker: WorkerHandle,
    /// The loaded module, resent to a fresh worker.
    module: Option<(String, Rc<Vec<u8>>)>,
}

/// A worker that holds messages until it says it is ready: a worker only listens once its
/// wasm has started, and messages sent before that would be lost.
#[derive(Clone)]
struct WorkerHandle {
    worker: Worker,
    ready: Rc<std::cell::Cell<bool>>,
    queued: Rc<RefCell<Vec<JsValue>>>,
    _on_message: Rc<Closure<dyn FnMut(MessageEvent)>>,
}

impl WorkerHandle {
    fn spawn(dispatch: Callback<FromWorker>) -> WorkerHandle {
        let worker = Worker::new("./worker_loader.js").expect("the worker script is part of the site");
        let ready = Rc::new(std::cell::Cell::new(false));
        let queued: Rc<RefCell<Vec<JsValue>>> = Rc::default();
        let on_message = {
            let (worker, ready, queued) = (worker.clone(), ready.clone(), queued.clone());
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                match serde_wasm_bindgen::from_value::<FromWorker>(event.data()) {
                    Ok(FromWorker::Ready) => {
                        ready.set(true);
                        for message in queued.borrow_mut().drain(..) {
                            let _ = worker.post_message(&message);
                        }
                    }
                    Ok(message) => dispatch.emit(message),
                    Err(e) => web_sys::console::error_1(&format!("unreadable worker message: {e}").into()),
                }
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        WorkerHandle { worker, ready, queued, _on_message: Rc::new(on_message) }
    }

    fn send(&self, message: &ToWorker) {
        let Ok(value) = serde_wasm_bindgen::to_value(message) else { return };
        if self.ready.get() {
            let _ = self.worker.post_message(&value);
        } else {
            self.queued.borrow_mut().push(value);
        }
    }

    fn terminate(&self) {
        self.worker.terminate();
    }
}

async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    fetch_with_progress(url, |_, _| {}).await
}

/// Downloads a module, reporting bytes received as they arrive.
async fn fetch_with_progress(url: &str, on_progress: impl Fn(usize, Option<usize>)) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| {
            format!(
                "could not download {url}: the server is unreachable, or it does not let this page read \
                 the file (it must answer with Access-Control-Allow-Origin)"
            )
        })?
        .unchecked_into();
    if !response.ok() {
        return Err(format!("could not download {url}: HTTP {}", response.status()));
    }
    let total = response.headers().get("content-length").ok().flatten().and_then(|v| v.parse().ok());
    let Some(body) = response.body() else { return Ok(Vec::new()) };
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::with_capacity(total.unwrap_or(0));
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(|e| format!("{url}: download interrupted ({e:?})"))?;
        if js_sys::Reflect::get(&chunk, &"done".into()).ok().and_then(|d| d.as_bool()).unwrap_or(true) {
            return Ok(bytes);
        }
        let value: js_sys::Uint8Array = js_sys::Reflect::get(&chunk, &"value".into()).map_err(|e| format!("{e:?}"))?.unchecked_into();
        bytes.extend_from_slice(&value.to_vec());
        on_progress(bytes.len(), total);
    }
}

const CONFIG_KEY: &str = "edgeplay.config.";
/// Why a run on the browser's engine was ended from the page.
const BROWSER_CPU_LIMIT: &str = "cpu_limit: the guest ran past its CPU-time limit (limits.cpu_ms) on the browser's engine \
    without calling the host. That engine cannot pause a guest (it counts no fuel), so the worker was ended and \
    restarted. Choose the wasmi engine to see how far it got.";
/// The engine setting, remembered across visits.
const ENGINE_KEY: &str = "edgeplay.engine";

fn saved_engine() -> EngineChoice {
    match local_storage().and_then(|s| s.get_item(ENGINE_KEY).ok().flatten()).as_deref() {
        Some("wasmi") => EngineChoice::Wasmi,
        _ => EngineChoice::Browser,
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(|| State {
        examples: Vec::new(),
        selected: None,
        module: ModuleState::Empty,
        config_text: "{}".into(),
        request: RequestDraft::from_example(&ExampleRequest {
            method: "GET".into(),
            url: "http://localhost/".into(),
            headers: Vec::new(),
            body: None,
        }),
        run: RunState::Idle,
        stores: None,
        stores_error: None,
        stores_saved: true,
        storage_persisted: None,
        engine: saved_engine(),
        watchdog: None,
    });
    let link: Rc<RefCell<Option<WorkerLink>>> = use_mut_ref(|| None);

    // Start the worker once; its messages feed the reducer.
    {
        let link = link.clone();
        let dispatch = state.dispatcher();
        use_effect_with((), move |_| {
            let on_message = Callback::from(move |m| dispatch.dispatch(Action::Worker(m)));
            *link.borrow_mut() = Some(WorkerLink { worker: WorkerHandle::spawn(on_message), module: None });
        });
    }

    // Ask once that the saved stores survive storage pressure (workers cannot ask in every
    // browser, so the page does).
    {
        let dispatch = state.dispatcher();
        use_effect_with((), move |_| {
            let storage = web_sys::window().map(|w| w.navigator().storage());
            if let Some(promise) = storage.and_then(|s| s.persist().ok()) {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(granted) = JsFuture::from(promise).await {
                        dispatch.dispatch(Action::StoragePersisted(granted.as_bool().unwrap_or(false)));
                    }
                });
            }
        });
    }

    // Load the example list, then the first example.
    let load_module = {
        let link = link.clone();
        let dispatch = state.dispatcher();
        Callback::from(move |(name, bytes, config): (String, Rc<Vec<u8>>, String)| {
            dispatch.dispatch(Action::Loading(name.clone()));
            if let Some(link) = link.borrow_mut().as_mut() {
                link.worker.send(&ToWorker::Load { name: name.clone(), wasm: ByteBuf::from(bytes.to_vec()), config });
                link.module = Some((name, bytes));
            }
        })
    };
    let select_example = {
        let dispatch = state.dispatcher();
        let load_module = load_module.clone();
        Callback::from(move |name: String| {
            dispatch.dispatch(Action::Select(name.clone()));
            let (dispatch, load_module) = (dispatch.clone(), load_module.clone());
            wasm_bindgen_futures::spawn_local(async move {
                dispatch.dispatch(Action::Loading(name.clone()));
                let saved = local_storage().and_then(|s| s.get_item(&format!("{CONFIG_KEY}{name}")).ok().flatten());
                let config = match saved {
                    Some(text) => text,
                    None => fetch_bytes(&format!("examples/{name}.json"))
                        .await
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_else(|_| "{}".into()),
                };
                dispatch.dispatch(Action::ConfigText(config.clone()));
                match fetch_bytes(&format!("examples/{name}.wasm")).await {
                    Ok(bytes) => load_module.emit((name, Rc::new(bytes), config)),
                    Err(e) => dispatch.dispatch(Action::Worker(FromWorker::LoadFailed { message: e })),
                }
            });
        })
    };
    {
        let dispatch = state.dispatcher();
        let select_example = select_example.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let examples: Vec<Example> = fetch_bytes("examples/examples.json")
                    .await
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .unwrap_or_default();
                let first = examples.iter().find(|e| e.picker).map(|e| e.name.clone());
                dispatch.dispatch(Action::Examples(examples));
                if let Some(first) = first {
                    select_example.emit(first);
                }
            });
        });
    }

    let on_upload = {
        let load_module = load_module.clone();
        let dispatch = state.dispatcher();
        let config = state.config_text.clone();
        Callback::from(move |(name, bytes): (String, Vec<u8>)| {
            dispatch.dispatch(Action::Select(name.clone()));
            load_module.emit((name, Rc::new(bytes), config.clone()));
        })
    };

    let on_load_url = {
        let load_module = load_module.clone();
        let dispatch = state.dispatcher();
        let config = state.config_text.clone();
        Callback::from(move |url: String| {
            let name = url.rsplit('/').next().filter(|n| !n.is_empty()).unwrap_or("module.wasm").to_string();
            dispatch.dispatch(Action::Select(name.clone()));
            dispatch.dispatch(Action::Loading(name.clone()));
            let (dispatch, load_module, config) = (dispatch.clone(), load_module.clone(), config.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let progress = dispatch.clone();
                match fetch_with_progress(&url, move |loaded, total| progress.dispatch(Action::Progress(loaded, total))).await {
                    Ok(bytes) => load_module.emit((name, Rc::new(bytes), config)),
                    Err(message) => dispatch.dispatch(Action::Worker(FromWorker::LoadFailed { message })),
                }
            });
        })
    };

    let on_config = {
        let dispatch = state.dispatcher();
        let selected = state.selected.clone();
        Callback::from(move |text: String| {
            if let (Some(storage), Some(name)) = (local_storage(), &selected) {
                let _ = storage.set_item(&format!("{CONFIG_KEY}{name}"), &text);
            }
            dispatch.dispatch(Action::ConfigText(text));
        })
    };

    // Send runs with the last config that parses: an invalid edit never loses a working setup.
    let valid_config = use_mut_ref(|| String::from("{}"));
    if host_core::Config::from_json(&state.config_text).is_ok() {
        *valid_config.borrow_mut() = state.config_text.clone();
    }

    let on_send = {
        let link = link.clone();
        let dispatch = state.dispatcher();
        let request = state.request.clone();
        let valid_config = valid_config.clone();
        let ready = matches!(state.module, ModuleState::Loaded(_));
        let engine = state.engine;
        Callback::from(move |_| {
            if !ready {
                return;
            }
            if let Some(link) = link.borrow().as_ref() {
                dispatch.dispatch(Action::Started);
                link.worker.send(&ToWorker::Run { config: valid_config.borrow().clone(), request: request.spec(), engine });
            }
        })
    };

    // Cancel ends the worker at once, whatever the guest is doing, and starts a fresh one.
    let restart_worker = {
        let link = link.clone();
        let dispatch = state.dispatcher();
        let config = valid_config.clone();
        Callback::from(move |then: Action| {
            let mut slot = link.borrow_mut();
            let Some(old) = slot.take() else { return };
            old.worker.terminate();
            let dispatch_messages = dispatch.clone();
            let on_message = Callback::from(move |m| dispatch_messages.dispatch(Action::Worker(m)));
            let worker = WorkerHandle::spawn(on_message);
            if let Some((name, bytes)) = &old.module {
                worker.send(&ToWorker::Load { name: name.clone(), wasm: ByteBuf::from(bytes.to_vec()), config: config.borrow().clone() });
            }
            *slot = Some(WorkerLink { worker, module: old.module });
            dispatch.dispatch(then);
        })
    };
    let on_cancel = restart_worker.reform(|_| Action::Cancelled);

    // The browser's engine cannot pause a guest: one that runs past the CPU time it has left
    // without calling the host (the worker checks at each hostcall) is stopped by ending the
    // worker. The margin covers time spent in hostcalls, which is not the guest's CPU time.
    {
        let restart_worker = restart_worker.clone();
        use_effect_with(state.watchdog, move |watchdog| {
            let timer = watchdog.map(|(_, cpu_left_ms)| {
                gloo_timers::callback::Timeout::new((cpu_left_ms * 1.5 + 1_000.0) as u32, move || {
                    restart_worker.emit(Action::Worker(FromWorker::RunFailed { message: BROWSER_CPU_LIMIT.to_string() }))
                })
            });
            move || drop(timer)
        });
    }

    // Edits from the stores panels go to the worker, which owns the stores.
    let on_store_edit = {
        let link = link.clone();
        let valid_config = valid_config.clone();
        Callback::from(move |edit: StoreEdit| {
            if let Some(link) = link.borrow().as_ref() {
                link.worker.send(&ToWorker::Stores { config: valid_config.borrow().clone(), edit });
            }
        })
    };
    // A config edit can declare or drop KV stores: the panels follow it.
    {
        let on_store_edit = on_store_edit.clone();
        let loaded = state.stores.is_some();
        use_effect_with(valid_config.borrow().clone(), move |_| {
            if loaded {
                on_store_edit.emit(StoreEdit::Refresh);
            }
        });
    }
    let secret_stores = host_core::Config::from_json(&valid_config.borrow()).map(|c| c.secret_stores).unwrap_or_default();

    let on_request = {
        let dispatch = state.dispatcher();
        Callback::from(move |draft| dispatch.dispatch(Action::Request(draft)))
    };

    let on_engine = {
        let dispatch = state.dispatcher();
        Callback::from(move |event: Event| {
            let select: web_sys::HtmlSelectElement = event.target_unchecked_into();
            let engine = if select.value() == "browser" { EngineChoice::Browser } else { EngineChoice::Wasmi };
            if let Some(storage) = local_storage() {
                let _ = storage.set_item(ENGINE_KEY, &select.value());
            }
            dispatch.dispatch(Action::Engine(engine));
        })
    };

    let running = matches!(state.run, RunState::Running { .. });
    html! {
        <div class="app">
            <header class="topbar">
                <h1>{ "Edgeplay" }</h1>
                <span class="tagline">{ "Fastly Compute in your browser" }</span>
                <span class="spacer" />
                <span id="storage-status" class="muted small" title="KV stores and the cache are saved in this browser (IndexedDB)">
                    { match (state.stores_saved, state.storage_persisted) {
                        (false, _) => "Stores not saved: they last until the page closes",
                        (true, Some(true)) => "Stores saved in this browser · kept",
                        (true, Some(false)) => "Stores saved in this browser · may be evicted",
                        (true, None) => "Stores saved in this browser",
                    } }
                </span>
                <label class="small muted" title="The browser's own engine is faster but counts no fuel: a guest that never calls the host is stopped by restarting the worker">
                    { "Engine " }
                    <select id="engine-setting" onchange={on_engine}>
                        <option value="wasmi" selected={state.engine == EngineChoice::Wasmi}>{ "wasmi (interpreter)" }</option>
                        <option value="browser" selected={state.engine == EngineChoice::Browser}>{ "the browser's (JSPI), when it can" }</option>
                    </select>
                </label>
                <button id="reset-stores" class="small" title="Return KV stores and the cache to the config's initial values"
                    onclick={on_store_edit.reform(|_| StoreEdit::Reset)}>{ "Reset stores" }</button>
            </header>
            <main class="columns">
                <section class="column" aria-label="Module and config">
                    <ModulePanel examples={state.examples.clone()} selected={state.selected.clone()}
                        module={state.module.clone()} on_select={select_example} on_upload={on_upload} on_load_url={on_load_url} />
                    <ConfigEditor text={state.config_text.clone()} on_change={on_config} />
                    if let Some(stores) = &state.stores {
                        if let Some(error) = &state.stores_error {
                            <pre id="stores-error" class="error panel">{ error }</pre>
                        }
                        <CacheInspector objects={stores.cache.clone()} on_edit={on_store_edit.clone()} />
                        <KvEditor kv={stores.kv.clone()} secrets={secret_stores} on_edit={on_store_edit.clone()} />
                    }
                </section>
                <section class="column" aria-label="Request and response">
                    <RequestComposer draft={state.request.clone()} on_change={on_request}
                        on_send={on_send} on_cancel={on_cancel} running={running}
                        ready={matches!(state.module, ModuleState::Loaded(_))} />
                    <ResponseView run={state.run.clone()} />
                    if let RunState::Done(report) = &state.run {
                        <TraceView report={(**report).clone()} />
                        <LogsView report={(**report).clone()} />
                    }
                </section>
            </main>
        </div>
    }
}

/// The page's entry point.
pub fn start() {
    yew::Renderer::<App>::new().render();
}
