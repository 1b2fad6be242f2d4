//! `fastly_compute_runtime`: what the instance can learn about its own run.

use super::{AbiResult, Cx, Registry};

const M: &str = "fastly_compute_runtime";

pub fn link(r: &mut Registry<'_>) {
    r.func(M, "get_vcpu_ms", get_vcpu_ms);
    r.func(M, "get_heap_mib", get_heap_mib);
    // Products a service can have enabled (the SDK's `compute_runtime::products()`): none is in
    // the playground, so each answers "no", as `fastly_image_optimizer` answers UNSUPPORTED.
    r.func(M, "has_domain_inspector", not_enabled);
    r.func(M, "has_image_optimizer", not_enabled);
    r.func(M, "has_origin_inspector", not_enabled);
}

/// Milliseconds of CPU time the guest has used so far, waits excluded: the figure the
/// `limits.cpu_ms` limit is checked against.
fn get_vcpu_ms(cx: &mut Cx<'_>, ms_out: u32) -> AbiResult {
    let now = cx.st.platform.monotonic_ms();
    let ms = cx.st.cpu.at(now) as u64;
    cx.mem.write_u64(ms_out, ms)
}

/// The size of the guest's linear memory, in MiB rounded up: what the heap limit
/// (`limits.heap_mb`) applies to.
fn get_heap_mib(cx: &mut Cx<'_>, mib_out: u32) -> AbiResult {
    let mib = cx.mem.size_bytes().div_ceil(1 << 20) as u32;
    cx.mem.write_u32(mib_out, mib)
}

fn not_enabled(cx: &mut Cx<'_>, out: u32) -> AbiResult {
    cx.mem.write_u32(out, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::testing::TestGuest;
    use crate::status::Status;

    #[test]
    fn vcpu_counts_finished_runs_and_the_current_one() {
        let mut g = TestGuest::new();
        g.state.cpu.start(0.0);
        g.state.cpu.stop(12.6);
        let out = g.alloc(8);
        assert_eq!(g.status(|cx| get_vcpu_ms(cx, out)), Status::Ok);
        assert_eq!(g.i64_at(out), 12);
    }

    #[test]
    fn heap_is_the_memory_size_in_mib_rounded_up() {
        let mut g = TestGuest::new();
        let out = g.alloc(4);
        assert_eq!(g.status(|cx| get_heap_mib(cx, out)), Status::Ok);
        assert_eq!(g.u32_at(out), 1, "the test guest's 64 KiB memory");
    }

    #[test]
    fn no_product_is_enabled() {
        let mut g = TestGuest::new();
        let out = g.put(1u32.to_le_bytes()).0;
        assert_eq!(g.status(|cx| not_enabled(cx, out)), Status::Ok);
        assert_eq!(g.u32_at(out), 0);
    }
}
