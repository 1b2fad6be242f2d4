//! panic: a guest that crashes before it responds.
//!
//! Contract — any request:
//!   stderr gets "about to panic\n", then Rust's panic report, which contains
//!     "panicked at panic/src/main.rs:<line>:<col>:\nsomething went wrong"
//!   then the module traps (panics abort on wasm32-wasip1, ending in `unreachable`)
//!   without sending a response; the host is expected to answer 500.

fn main() {
    eprintln!("about to panic");
    panic!("something went wrong");
}
