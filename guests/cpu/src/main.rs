//! cpu: counts the primes below `n` by trial division — pure integer work, no allocation.
//!
//! Contract — `GET /?n=N` (default 200000): 200, text/plain, body "<count> primes below N\n".
//! The same loop is exported as `bench(n) -> count`, which `make bench` calls directly on the
//! browser's own WebAssembly engine to compare against wasmi.

use fastly::{Error, Request, Response};

#[unsafe(no_mangle)]
pub extern "C" fn bench(n: u32) -> u32 {
    (2..n).filter(|&k| is_prime(k)).count() as u32
}

fn is_prime(k: u32) -> bool {
    let mut d = 2;
    while d * d <= k {
        if k % d == 0 {
            return false;
        }
        d += 1;
    }
    true
}

#[fastly::main]
fn main(req: Request) -> Result<Response, Error> {
    let n = req.get_query_parameter("n").and_then(|n| n.parse().ok()).unwrap_or(200_000);
    let count = bench(n);
    Ok(Response::from_body(format!("{count} primes below {n}\n")).with_content_type(fastly::mime::TEXT_PLAIN_UTF_8))
}
