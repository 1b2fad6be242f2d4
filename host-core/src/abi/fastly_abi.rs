//! `fastly_abi`: the version handshake `#[fastly::main]` makes first.

use super::{AbiResult, Cx, Registry};
use crate::status::Status;

/// The one ABI version that exists (`fastly_shared::FASTLY_ABI_VERSION`).
const ABI_VERSION: u64 = 1;

pub fn link(r: &mut Registry<'_>) {
    r.func("fastly_abi", "init", init);
}

fn init(_cx: &mut Cx<'_>, abi_version: u64) -> AbiResult {
    if abi_version == ABI_VERSION {
        Ok(())
    } else {
        // What Viceroy answers for a version mismatch.
        Err(Status::Error.into())
    }
}
