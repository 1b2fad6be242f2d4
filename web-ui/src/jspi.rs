//! Runs a guest on the browser's own WebAssembly engine, its imports routed to host-core's
//! hostcalls through a [`BridgeSession`]. A hostcall that must wait suspends the guest with
//! JavaScript Promise Integration: every import is wrapped in `WebAssembly.Suspending` (one
//! that answers at once does not suspend), `_start` in `WebAssembly.promising`.
//!
//! No fuel: the worker cannot pause a guest that computes without calling the host; the page
//! ends such a run by ending the worker (see `app.rs`). CPU time is measured between hostcalls.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use futures_channel::mpsc;
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use host_core::abi::memory::ExternalMemory;
use host_core::{Answer, BridgeSession, GuestError, IoResult, Outcome};
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array, WebAssembly};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::protocol::FromWorker;
use crate::worker::{post, start_io, Progress};

/// Whether this browser can suspend wasm on a promise (Chromium 137+ ships it on).
pub fn available() -> bool {
    let wasm = Reflect::get(&js_sys::global(), &"WebAssembly".into()).unwrap_or(JsValue::UNDEFINED);
    let has = |name: &str| Reflect::get(&wasm, &name.into()).map(|f| f.is_function()).unwrap_or(false);
    has("Suspending") && has("promising")
}

thread_local! {
    /// Compiled modules by the SHA-256 of their bytes: a guest loaded again starts at once.
    static COMPILED: RefCell<BTreeMap<String, Promise>> = RefCell::default();
}

/// Compiles `bytes` (a JS `Uint8Array`) with the browser's engine, once per distinct module.
pub async fn compile(bytes: &Uint8Array) -> Result<WebAssembly::Module, String> {
    let hash = sha256_hex(bytes).await?;
    let promise = COMPILED.with_borrow_mut(|cache| {
        cache.entry(hash).or_insert_with(|| WebAssembly::compile(bytes).unchecked_into()).clone()
    });
    JsFuture::from(promise).await.map(JsCast::unchecked_into).map_err(|e| format!("the browser could not compile it: {}", message(&e)))
}

async fn sha256_hex(bytes: &Uint8Array) -> Result<String, String> {
    let subtle = Reflect::get(&js_sys::global(), &"crypto".into())
        .and_then(|crypto| Reflect::get(&crypto, &"subtle".into()))
        .map_err(|_| "no crypto.subtle".to_string())?;
    let digest: Function = Reflect::get(&subtle, &"digest".into()).map_err(|_| "no digest")?.unchecked_into();
    let promise: Promise = digest.call2(&subtle, &"SHA-256".into(), bytes).map_err(|e| message(&e))?.unchecked_into();
    let hash = JsFuture::from(promise).await.map_err(|e| message(&e))?;
    Ok(Uint8Array::new(&hash).to_vec().iter().map(|b| format!("{b:02x}")).collect())
}

/// The guest's exported memory, read and written range by range.
struct JsMemory(Option<WebAssembly::Memory>);

impl JsMemory {
    fn view(&self, at: u32, len: usize) -> Uint8Array {
        let memory = self.0.as_ref().expect("checked by size_bytes: no memory has size 0");
        Uint8Array::new_with_byte_offset_and_length(&memory.buffer(), at, len as u32)
    }
}

impl ExternalMemory for JsMemory {
    fn size_bytes(&self) -> usize {
        self.0.as_ref().map_or(0, |memory| memory.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length() as usize)
    }

    fn read(&self, at: u32, out: &mut [u8]) {
        self.view(at, out.len()).copy_to(out);
    }

    fn write(&mut self, at: u32, data: &[u8]) {
        self.view(at, data.len()).copy_from(data);
    }
}

/// What the import functions and the drive loop share.
struct Shared {
    session: BridgeSession,
    memory: JsMemory,
    /// Resolves the suspended import with its code.
    resume: Option<Function>,
    io: mpsc::UnboundedSender<(u32, IoResult)>,
    dropped: BTreeMap<u32, Vec<String>>,
    /// Set when the run must end while the guest is suspended (a continuation failed).
    failed: Option<GuestError>,
}

/// The value thrown into the guest to unwind it when the host stops the run.
const STOP: &str = "edgeplay: the host stopped the guest";

/// Runs one request: `Err` when the guest cannot be instantiated.
pub async fn run(
    module: &WebAssembly::Module,
    session: BridgeSession,
    dropped: &mut BTreeMap<u32, Vec<String>>,
    progress: &mut Progress,
) -> Result<Outcome, String> {
    let (io_tx, mut io_rx) = mpsc::unbounded::<(u32, IoResult)>();
    let shared = Rc::new(RefCell::new(Shared {
        session,
        memory: JsMemory(None),
        resume: None,
        io: io_tx,
        dropped: BTreeMap::new(),
        failed: None,
    }));
    let prepared = match take_spare(module) {
        Some(prepared) => prepared,
        None => prepare(module)?,
    };
    *prepared.slot.borrow_mut() = Some(shared.clone());
    let exports = prepared.instance.exports();
    shared.borrow_mut().memory = JsMemory(Reflect::get(&exports, &"memory".into()).ok().and_then(|m| m.dyn_into().ok()));
    let start = Reflect::get(&exports, &"_start".into()).expect("checked at compile time");
    let promising: Function = Reflect::get(&Reflect::get(&js_sys::global(), &"WebAssembly".into()).unwrap(), &"promising".into())
        .unwrap()
        .unchecked_into();
    let start: Function = promising.call1(&JsValue::NULL, &start).expect("_start is a function").unchecked_into();
    shared.borrow_mut().session.guest_running();
    running(Some(shared.borrow().session.cpu_left_ms()));
    // Runs the guest until it first suspends or ends: no borrow of `shared` may be held here.
    let result: Promise = start.call0(&JsValue::NULL).map(JsCast::unchecked_into).unwrap_or_else(|e| Promise::reject(&e));
    let mut done = JsFuture::from(result);
    let error = loop {
        let wait = shared.borrow().session.wall_time_left_ms().min(u32::MAX as f64) as u32;
        let timeout = gloo_timers::future::TimeoutFuture::new(wait);
        let event = select(&mut done, select(io_rx.next(), timeout)).await;
        progress.report(&mut shared.borrow_mut().session);
        match event {
            Either::Left((ended, _)) => {
                let ended = ended.map(drop).map_err(|e| (trap_message(&e), e.is_instance_of::<js_sys::RangeError>()));
                break shared.borrow_mut().session.ended(ended);
            }
            Either::Right((Either::Left((Some((id, result)), _)), _)) => {
                let mut shared = shared.borrow_mut();
                shared.session.complete(id, result);
                while let Ok((id, result)) = io_rx.try_recv() {
                    shared.session.complete(id, result);
                }
                if let Err(error) = retry(&mut shared) {
                    break Some(error);
                }
            }
            Either::Right(_) => {
                if let Some(error) = shared.borrow().session.time_limit_error() {
                    break Some(error);
                }
            }
        }
    };
    // A stale object's background refresh may still be under way once the guest is done.
    if error.is_none() {
        while shared.borrow().session.background_in_flight() {
            let wait = shared.borrow().session.wall_time_left_ms().min(u32::MAX as f64) as u32;
            let timeout = gloo_timers::future::TimeoutFuture::new(wait);
            match select(io_rx.next(), timeout).await {
                Either::Left((Some((id, result)), _)) => shared.borrow_mut().session.complete(id, result),
                _ => break,
            }
        }
    }
    // The guest may stay suspended forever (a limit hit while it waited): its stack goes with
    // the instance, which nothing calls again.
    prepared.slot.borrow_mut().take();
    drop(prepared);
    // The next request gets a fresh instance made while the page reads this one's response.
    let module = module.clone();
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(prepared) = prepare(&module) {
            SPARE.with_borrow_mut(|spare| *spare = Some((module, prepared)));
        }
    });
    let mut shared = Rc::try_unwrap(shared).ok().expect("only the bridge closure shared it").into_inner();
    dropped.append(&mut shared.dropped);
    let memory_bytes = shared.memory.0.as_ref().map(|_| shared.memory.size_bytes());
    let error = shared.failed.take().or(error);
    Ok(shared.session.finish(error, memory_bytes))
}

/// Retries the suspended hostcall after I/O completed; resolves the import once it has a code.
fn retry(shared: &mut Shared) -> Result<(), GuestError> {
    if shared.resume.is_none() {
        return Ok(());
    }
    let Shared { session, memory, .. } = shared;
    match session.retry_blocked(memory)? {
        Some(code) => {
            start_queued(shared);
            running(Some(shared.session.cpu_left_ms()));
            let resume = shared.resume.take().expect("checked above");
            let _ = resume.call1(&JsValue::NULL, &JsValue::from(code as i32));
            Ok(())
        }
        None => {
            start_queued(shared);
            shared.session.stuck().map_or(Ok(()), Err)
        }
    }
}

/// Starts the I/O hostcalls queued, each as its own future reporting on the channel.
fn start_queued(shared: &mut Shared) {
    while let Some(op) = shared.session.pop_queued() {
        start_io(op, shared.io.clone(), &mut shared.dropped);
    }
}

/// The Rust side of every import: `bridge(index, args)` answers a code, a promise, or throws.
type BridgeFn = Closure<dyn FnMut(u32, Array) -> Result<JsValue, JsValue>>;

/// An instance made ahead of its request, its imports bound to whichever run holds the slot.
struct Prepared {
    instance: WebAssembly::Instance,
    slot: Rc<RefCell<Option<Rc<RefCell<Shared>>>>>,
    _bridge: BridgeFn,
}

thread_local! {
    /// One instance ready for the next request to the module last run: instantiating (its
    /// memory made, its data copied in) is most of a warm request's time.
    static SPARE: RefCell<Option<(WebAssembly::Module, Prepared)>> = RefCell::default();
}

fn take_spare(module: &WebAssembly::Module) -> Option<Prepared> {
    SPARE.with_borrow_mut(|spare| match spare.take() {
        Some((of, prepared)) if Object::is(&of, module) => Some(prepared),
        _ => None,
    })
}

/// Instantiates `module` with every import calling `bridge(index, args)` through `Suspending`.
fn prepare(module: &WebAssembly::Module) -> Result<Prepared, String> {
    let slot: Rc<RefCell<Option<Rc<RefCell<Shared>>>>> = Rc::default();
    let bridge = {
        let slot = slot.clone();
        BridgeFn::new(move |index: u32, args: Array| {
            let shared = slot.borrow().clone().ok_or_else(|| JsValue::from_str(STOP))?;
            let mut guard = shared.borrow_mut();
            let shared = &mut *guard;
            let import = &shared.session.imports()[index as usize];
            let bits: Vec<u64> = import
                .wide_params
                .iter()
                .enumerate()
                .map(|(i, wide)| {
                    let arg = args.get(i as u32);
                    if *wide {
                        let unsigned = js_sys::BigInt::as_uint_n(64.0, arg.unchecked_ref());
                        u64::try_from(JsValue::from(unsigned)).unwrap_or(0)
                    } else {
                        arg.as_f64().unwrap_or(0.0) as i32 as u32 as u64
                    }
                })
                .collect();
            let Shared { session, memory, .. } = shared;
            let answer = session.call(index as usize, &bits, memory);
            start_queued(shared);
            match answer {
                Answer::Value(code) => Ok(JsValue::from(code as i32)),
                Answer::Blocked => {
                    if let Some(error) = shared.session.stuck() {
                        shared.failed = Some(error);
                        return Err(JsValue::from_str(STOP));
                    }
                    running(None);
                    let mut resume = None;
                    let promise = Promise::new(&mut |resolve, _reject| resume = Some(resolve));
                    shared.resume = resume;
                    Ok(promise.into())
                }
                Answer::Stop => Err(JsValue::from_str(STOP)),
            }
        })
    };
    let wasm = Reflect::get(&js_sys::global(), &"WebAssembly".into()).unwrap();
    let suspending: Function = Reflect::get(&wasm, &"Suspending".into()).unwrap().unchecked_into();
    // One small JS function per import forwards its arguments (any arity) with its index.
    let forwarder = Function::new_with_args("bridge, index", "return function (...args) { return bridge(index, args); };");
    let imports = Object::new();
    // The module's imports in order, as host-core's bridge plan numbers them.
    for (index, import) in WebAssembly::Module::imports(module).iter().enumerate() {
        let field = |name: &str| Reflect::get(&import, &name.into()).unwrap_or(JsValue::UNDEFINED);
        let (module_name, name) = (field("module"), field("name"));
        let module = Reflect::get(&imports, &module_name).ok().filter(|m| m.is_object()).unwrap_or_else(|| {
            let module = Object::new();
            let _ = Reflect::set(&imports, &module_name, &module);
            module.into()
        });
        let forward = forwarder.call2(&JsValue::NULL, bridge.as_ref(), &JsValue::from(index as u32)).expect("plain JS");
        let wrapped = Reflect::construct(&suspending, &Array::of1(&forward)).expect("Suspending wraps a function");
        let _ = Reflect::set(&module, &name, &wrapped);
    }
    let instance = WebAssembly::Instance::new(module, &imports)
        .map_err(|e| format!("the guest could not be instantiated: {}", message(&e)))?;
    Ok(Prepared { instance, slot, _bridge: bridge })
}

/// Tells the page the guest runs (with the CPU time it has left) or waits: its watchdog.
fn running(cpu_left_ms: Option<f64>) {
    post(&FromWorker::GuestRunning { cpu_left_ms });
}

/// A trap in wasmi's words, so a failing guest reads the same on either engine.
fn trap_message(error: &JsValue) -> String {
    let v8 = message(error);
    let wasmi = match v8.as_str() {
        "unreachable" => "wasm `unreachable` instruction executed",
        "memory access out of bounds" => "out of bounds memory access",
        "divide by zero" | "remainder by zero" => "integer divide by zero",
        "divide result unrepresentable" => "integer overflow",
        "float unrepresentable in integer range" => "invalid conversion to integer",
        "table index is out of bounds" | "invalid index into function table" => "undefined element: out of bounds table access",
        "null function or function signature mismatch" => "indirect call type mismatch",
        "Maximum call stack size exceeded" => "call stack exhausted",
        _ => return v8,
    };
    wasmi.to_string()
}

fn message(error: &JsValue) -> String {
    if let Some(error) = error.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    error.as_string().unwrap_or_else(|| format!("{error:?}"))
}
