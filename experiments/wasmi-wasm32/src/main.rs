//! Native wasmi on the cpu guest: `native-bench <guest.wasm> <n> <runs>`; prints the median.
use std::time::Instant;
use wasmi_wasm32_experiment::Bench;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let wasm = std::fs::read(&args[1]).expect("guest module");
    let n: u32 = args[2].parse().unwrap();
    let runs: usize = args[3].parse().unwrap();
    let mut bench = Bench::new(&wasm).expect("instantiate");
    let mut times = Vec::new();
    let mut count = 0;
    for _ in 0..runs {
        let started = Instant::now();
        count = bench.run(n).expect("bench");
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!("{{\"count\":{count},\"median_ms\":{:.1}}}", times[runs / 2]);
}
