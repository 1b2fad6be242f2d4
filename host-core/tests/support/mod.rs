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

/// One guest with the stores its requests share, and a clock a test can move forward.
pub struct Host {
    module: GuestModule,
    pub config: Arc<Config>,
    pub stores: SharedStores,
    pub clock: Arc<SteppedClock>,
}

impl Host {
    pub fn new(guest: Guest, config: &str) -> Host {
        let config = Config::from_json(config).expect("valid config");
        let module = GuestModule::compile(&guest_wasm(guest), &CompileOptions::from_config(&config)).expect("compiles");
        let stores = Stores::shared(&config);
        Host { module, config: Arc::new(config), stores, clock: Arc::new(SteppedClock::default()) }
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
