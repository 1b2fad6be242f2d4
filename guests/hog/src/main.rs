//! hog (test fixture): eats memory until the host says no.
//!
//! Contract — never responds and makes no fastly hostcall. It allocates 1 MiB buffers, writes
//! one byte in each 4 KiB page of each, and keeps them all, growing linear memory until a
//! `memory.grow` is refused. The allocation failure then aborts the guest: stderr gets
//! "memory allocation of <n> bytes failed\n" (n is 1048576 unless the hoard's own, much
//! smaller, reallocation is the one refused) and the module traps (`unreachable`) —
//! unless the host traps first when the limit is crossed.

use std::hint::black_box;

const CHUNK: usize = 1 << 20;
const PAGE: usize = 4096;

fn main() {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        // Fresh linear memory is already zero, so a zeroed Vec may never be written to;
        // touching every page makes the memory really used, as a real workload would.
        let mut chunk = vec![0u8; CHUNK];
        for i in (0..CHUNK).step_by(PAGE) {
            chunk[i] = 1;
        }
        hoard.push(black_box(chunk));
    }
}
