//! Running example guests in tests: find the built module, run one request natively.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use host_core::native::{drive, Backends, StdPlatform};
use host_core::{CompileOptions, Config, DownstreamRequest, GuestModule, Outcome, Platform, Session, SharedStores, Stores};

#[derive(Debug, Clone, Copy)]
pub enum Guest {
    Hello,
    Inspector,
    CachingProxy,
    Streaming,
    Fanout,
    Stores,
    Lookups,
    Kv,
    Logging,
    Panic,
    Spin,
    Hog,
    EdgeFeatures,
    CoreCache,
    HttpCache,
    /// The JavaScript guests (`guests/js`, Fastly's JS SDK).
    JsHello,
    JsProxy,
    JsKvCounter,
    JsGeo,
}

impl Guest {
    pub fn name(self) -> &'static str {
        match self {
            Guest::Hello => "hello",
            Guest::Inspector => "inspector",
            Guest::CachingProxy => "caching-proxy",
            Guest::Streaming => "streaming",
            Guest::Fanout => "fanout",
            Guest::Stores => "stores",
            Guest::Lookups => "lookups",
            Guest::Kv => "kv",
            Guest::Logging => "logging",
            Guest::Panic => "panic",
            Guest::Spin => "spin",
            Guest::Hog => "hog",
            Guest::EdgeFeatures => "edge-features",
            Guest::CoreCache => "core-cache",
            Guest::HttpCache => "http-cache",
            Guest::JsHello => "js-hello",
            Guest::JsProxy => "js-proxy",
            Guest::JsKvCounter => "js-kv-counter",
            Guest::JsGeo => "js-geo",
        }
    }

    /// Where `make guests` writes the module: Rust guests by cargo, `js-<name>` by the JS SDK.
    pub fn wasm_path(self) -> PathBuf {
        let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../guests/target");
        match self.name().strip_prefix("js-") {
            Some(js) => target.join("js").join(format!("{js}.wasm")),
            None => target.join("wasm32-wasip1/release").join(format!("{}.wasm", self.name())),
        }
    }

    /// The example's own config, as the playground loads it.
    pub fn example_config(self) -> String {
        let path = match self.name().strip_prefix("js-") {
            Some(js) => guest_dir("js").join(format!("{js}.config.json")),
            None => guest_dir(self.name()).join("config.json"),
        };
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

pub fn guest_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../guests").join(name)
}

pub fn guest_wasm(guest: Guest) -> Vec<u8> {
    let path = guest.wasm_path();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (build the example guests with `make guests`)", path.display()))
}

/// A backend for configs that only use mocks: any real request is a test failure.
pub fn no_network(request: host_core::BackendRequest) -> Result<host_core::BackendResponse, host_core::FetchError> {
    panic!("unexpected network request to {}", request.url)
}

pub fn run(guest: Guest, config: &str, request: DownstreamRequest) -> Outcome {
    run_with(guest, config, request, no_network)
}

pub fn run_with(guest: Guest, config: &str, request: DownstreamRequest, backends: impl Backends) -> Outcome {
    start_and_drive(guest, config, request, Arc::new(backends), |_| {})
}

pub fn run_observing(guest: Guest, config: &str, request: DownstreamRequest, on_progress: impl FnMut(&mut Session)) -> Outcome {
    start_and_drive(guest, config, request, Arc::new(no_network), on_progress)
}

fn start_and_drive(
    guest: Guest,
    config: &str,
    request: DownstreamRequest,
    backends: Arc<dyn Backends>,
    on_progress: impl FnMut(&mut Session),
) -> Outcome {
    Host::new(guest, config).request_observing(request, backends, on_progress)
}

mod bridged {
    use std::sync::Arc;

    use host_core::abi::memory::ExternalMemory;
    use host_core::{Answer, BridgeSession, Config, DownstreamRequest, GuestModule, Outcome, Platform, SharedStores};
    use wasmi::{Caller, Engine, Linker, Memory, Module, Store, Val};

    struct Slice<'a>(&'a mut [u8]);

    impl ExternalMemory for Slice<'_> {
        fn size_bytes(&self) -> usize {
            self.0.len()
        }
        fn read(&self, at: u32, out: &mut [u8]) {
            out.copy_from_slice(&self.0[at as usize..at as usize + out.len()]);
        }
        fn write(&mut self, at: u32, data: &[u8]) {
            self.0[at as usize..at as usize + data.len()].copy_from_slice(data);
        }
    }

    struct Guest {
        session: BridgeSession,
        memory: Option<Memory>,
    }

    #[derive(Debug)]
    struct Stopped;
    impl std::fmt::Display for Stopped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("stopped by the host")
        }
    }
    impl wasmi::errors::HostError for Stopped {}

    pub fn run(
        module: &GuestModule,
        wasm: &[u8],
        config: Arc<Config>,
        request: DownstreamRequest,
        platform: Arc<dyn Platform>,
        stores: SharedStores,
    ) -> Outcome {
        let session = module.start_bridged(config, request, platform, stores);
        let engine = Engine::default();
        let compiled = Module::new(&engine, wasm).expect("compiles");
        let mut linker = Linker::<Guest>::new(&engine);
        for (index, import) in compiled.imports().enumerate() {
            let wasmi::ExternType::Func(ty) = import.ty() else { panic!("only functions are imported") };
            linker
                .func_new(import.module(), import.name(), ty.clone(), move |mut caller: Caller<'_, Guest>, params, results| {
                    let bits: Vec<u64> = params
                        .iter()
                        .map(|value| match value {
                            Val::I32(v) => *v as u32 as u64,
                            Val::I64(v) => *v as u64,
                            other => panic!("unexpected {other:?}"),
                        })
                        .collect();
                    let memory = caller.data().memory.expect("the guest exports its memory");
                    let (bytes, guest) = memory.data_and_store_mut(&mut caller);
                    match guest.session.call(index, &bits, &mut Slice(bytes)) {
                        Answer::Value(code) => {
                            if let Some(result) = results.first_mut() {
                                *result = Val::I32(code as i32);
                            }
                            Ok(())
                        }
                        Answer::Blocked => panic!("this harness cannot suspend: use a guest that does not wait"),
                        Answer::Stop => Err(wasmi::Error::host(Stopped)),
                    }
                })
                .expect("linked once");
        }
        let mut store = Store::new(&engine, Guest { session, memory: None });
        let instance = linker.instantiate_and_start(&mut store, &compiled).expect("instantiates");
        store.data_mut().memory = instance.get_memory(&store, "memory");
        let start = instance.get_typed_func::<(), ()>(&store, "_start").expect("a command");
        store.data_mut().session.guest_running();
        let result = start.call(&mut store, ()).map_err(|e| (e.to_string(), false));
        let memory_bytes = store.data().memory.map(|m| m.data_size(&store));
        let Guest { mut session, .. } = store.into_data();
        let error = session.ended(result);
        session.finish(error, memory_bytes)
    }
}

/// One guest with the stores its requests share, and a clock a test can move forward.
pub struct Host {
    module: GuestModule,
    wasm: Vec<u8>,
    pub config: Arc<Config>,
    pub stores: SharedStores,
    pub clock: Arc<SteppedClock>,
}

impl Host {
    pub fn new(guest: Guest, config: &str) -> Host {
        let config = Config::from_json(config).expect("valid config");
        let wasm = guest_wasm(guest);
        let module = GuestModule::compile(&wasm, &CompileOptions::from_config(&config)).expect("compiles");
        let stores = Stores::shared(&config);
        Host { module, wasm, config: Arc::new(config), stores, clock: Arc::new(SteppedClock::default()) }
    }

    /// One request through a `BridgeSession`, as the page's JSPI path runs it, with wasmi
    /// standing in for the browser's engine. Only for guests that never wait on I/O.
    pub fn request_bridged(&self, request: DownstreamRequest) -> Outcome {
        bridged::run(&self.module, &self.wasm, self.config.clone(), request, self.clock.clone(), self.stores.clone())
    }

    pub fn request(&self, request: DownstreamRequest, backends: impl Backends) -> Outcome {
        self.request_observing(request, Arc::new(backends), |_| {})
    }

    /// One instance handed `first` and then each of `further` (a reusable sandbox).
    pub fn requests_to_one_instance(&self, first: DownstreamRequest, further: Vec<DownstreamRequest>) -> Outcome {
        let mut session = self.module.start(self.config.clone(), first, self.clock.clone(), self.stores.clone()).expect("starts");
        for request in further {
            session.queue_request(request);
        }
        drive(session, Arc::new(no_network), |_| {})
    }

    pub fn request_observing(
        &self,
        request: DownstreamRequest,
        backends: Arc<dyn Backends>,
        on_progress: impl FnMut(&mut Session),
    ) -> Outcome {
        let session = self.module.start(self.config.clone(), request, self.clock.clone(), self.stores.clone()).expect("starts");
        drive(session, backends, on_progress)
    }
}

/// The real clock, with the wall clock (what cache ages and KV TTLs read) moved forward on
/// demand, so a test can let 31 seconds pass at once.
pub struct SteppedClock {
    real: Arc<StdPlatform>,
    skipped_ms: AtomicU64,
}

impl Default for SteppedClock {
    fn default() -> Self {
        SteppedClock { real: StdPlatform::new(), skipped_ms: AtomicU64::new(0) }
    }
}

impl SteppedClock {
    pub fn advance(&self, seconds: u64) {
        self.skipped_ms.fetch_add(seconds * 1000, Ordering::SeqCst);
    }
}

impl Platform for SteppedClock {
    fn monotonic_ms(&self) -> f64 {
        self.real.monotonic_ms()
    }

    fn unix_time_ns(&self) -> u64 {
        self.real.unix_time_ns() + self.skipped_ms.load(Ordering::SeqCst) * 1_000_000
    }

    fn fill_random(&self, buf: &mut [u8]) {
        self.real.fill_random(buf)
    }
}

pub fn header<'a>(outcome: &'a Outcome, name: &str) -> Option<&'a str> {
    outcome.response.headers.get_str(name)
}
