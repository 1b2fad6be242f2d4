//! `make bench`: how long a guest takes from module bytes to its first response, and per warm
//! request, natively. Figures from one run; nothing here passes or fails on time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use host_core::native::{drive, StdPlatform};
use host_core::{CompileOptions, Config, DownstreamRequest, GuestModule, Stores};

fn guest(name: &str) -> Vec<u8> {
    let path = guest_path(&format!("wasm32-wasip1/release/{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (run `make guests`)"))
}

fn guest_path(under_target: &str) -> String {
    format!("{}/../guests/target/{under_target}", env!("CARGO_MANIFEST_DIR"))
}

/// The guests timed from bytes to first response and warm: Rust's hello, and the same in
/// JavaScript, whose module is a whole JS engine (~11 MB) with the script snapshotted in.
const STARTUP_GUESTS: [(&str, &str); 2] = [("hello", "wasm32-wasip1/release/hello.wasm"), ("js-hello", "js/hello.wasm")];

fn one_request(module: &GuestModule, config: &Arc<Config>) -> Duration {
    request(module, config, "http://localhost/")
}

fn request(module: &GuestModule, config: &Arc<Config>, url: &str) -> Duration {
    let (instantiate, run) = phases(module, config, url);
    instantiate + run
}

/// One request in two timed halves: `start` (instantiate) and `drive` (run the guest to the end).
fn phases(module: &GuestModule, config: &Arc<Config>, url: &str) -> (Duration, Duration) {
    let started = Instant::now();
    let session = module.start(config.clone(), DownstreamRequest::get(url), StdPlatform::new(), Stores::shared(config)).unwrap();
    let instantiated = Instant::now();
    let outcome = drive(session, Arc::new(|_| unreachable!("these guests make no backend requests")), |_| {});
    assert_eq!(outcome.response.status, 200);
    (instantiated - started, instantiated.elapsed())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The CPU-bound guest's request, as `e2e/bench.mjs` runs it in the browser.
pub const CPU_URL: &str = "http://localhost/?n=200000";

fn main() {
    let config = Arc::new(Config::default());
    let mut figures = Vec::new();
    for (name, under_target) in STARTUP_GUESTS {
        let path = guest_path(under_target);
        let Ok(bytes) = std::fs::read(&path) else {
            // The JS guests need Node.js to build; a bench without them still measures the rest.
            println!("native, {name}: skipped, {path} is missing (run `make guests`)");
            continue;
        };
        // Cold: compile + instantiate + run, as for a module just dropped into the page.
        let cold: Vec<Duration> = (0..20)
            .map(|_| {
                let started = Instant::now();
                let module = GuestModule::compile(&bytes, &CompileOptions::default()).unwrap();
                one_request(&module, &config);
                started.elapsed()
            })
            .collect();
        let compile: Vec<Duration> = (0..20)
            .map(|_| {
                let started = Instant::now();
                GuestModule::compile(&bytes, &CompileOptions::default()).unwrap();
                started.elapsed()
            })
            .collect();
        let module = GuestModule::compile(&bytes, &CompileOptions::default()).unwrap();
        one_request(&module, &config);
        let warm: Vec<Duration> = (0..200).map(|_| one_request(&module, &config)).collect();
        // Where a warm request's time goes: a fresh instance (memory, data segments) vs. the run.
        let phases: Vec<(Duration, Duration)> = (0..20).map(|_| phases(&module, &config, "http://localhost/")).collect();
        let instantiate = median(phases.iter().map(|p| p.0).collect());
        let run = median(phases.iter().map(|p| p.1).collect());
        let (cold, compile, warm) = (median(cold), median(compile), median(warm));
        println!("native, {name}.wasm ({} KiB):", bytes.len() / 1024);
        println!("  bytes -> first response   {:>8.2} ms  (median of 20)", ms(cold));
        println!("    of which compile        {:>8.2} ms", ms(compile));
        println!("  instantiate               {:>8.3} ms  (median of 20)", ms(instantiate));
        println!("  run to the response       {:>8.3} ms  (median of 20)", ms(run));
        println!("  warm request              {:>8.3} ms  (median of 200)", ms(warm));
        println!("  first / warm              {:>8.1}x", ms(cold) / ms(warm));
        figures.push(format!(r#""{name}": {{ "first_ms": {:.3}, "warm_ms": {:.4} }}"#, ms(cold), ms(warm)));
    }
    // Fuel metering is part of every run; a CPU-bound guest shows what the interpreter costs.
    let cpu = GuestModule::compile(&guest("cpu"), &CompileOptions::default()).unwrap();
    let runs: Vec<Duration> = (0..5).map(|_| request(&cpu, &config, CPU_URL)).collect();
    let cpu_ms = ms(median(runs));
    println!("native, cpu.wasm ({CPU_URL}):");
    println!("  request under wasmi       {cpu_ms:>8.2} ms  (median of 5)");
    figures.push(format!(r#""cpu": {{ "wasmi_ms": {cpu_ms:.3} }}"#));
    // The browser benchmark prints these beside its own figures.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-native.json");
    std::fs::write(path, format!("{{ {} }}\n", figures.join(", "))).unwrap();
}
