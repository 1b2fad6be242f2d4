//! spin (test fixture): burns CPU forever.
//!
//! Contract — never responds and, after WASI start-up, makes no hostcall at all: it loops
//! until the host stops it (CPU-time, wall-clock or fuel limit).

use std::hint::black_box;

fn main() {
    let mut counter: u64 = 0;
    loop {
        // black_box makes the counter opaque to the optimiser, so the loop body cannot be
        // proven useless and folded away.
        counter = black_box(counter.wrapping_add(1));
    }
}
