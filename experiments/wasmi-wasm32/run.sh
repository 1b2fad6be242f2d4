#!/usr/bin/env bash
# Builds every variant and runs the cpu guest's bench(n) on each; prints one JSON line per variant.
# Usage: ./run.sh [n] [runs]   (from this directory; the cpu guest must be built: `make guests`)
set -euo pipefail
cd "$(dirname "$0")"
N=${1:-200000}
RUNS=${2:-5}
GUEST=../../guests/target/wasm32-wasip1/release/cpu.wasm
PATCH='patch.crates-io.wasmi.path="../../vendor/wasmi-2.0.0-tailcall"'
WASM=wasm32-unknown-unknown/release/wasmi_wasm32_experiment.wasm
# RUSTFLAGS is always set explicitly: it overrides the repository's .cargo/config.toml, which
# turns +tail-call on for every wasm32-unknown-unknown build.
build() { # name, rustflags, cargo args...
  local name=$1 flags=$2; shift 2
  RUSTFLAGS="$flags" cargo build -q --release --lib --target wasm32-unknown-unknown --target-dir "target/$name" "$@"
}
build loop "-C target-feature=-tail-call"
build tail "-C target-feature=+tail-call" --no-default-features --features tail
build patched "-C target-feature=+tail-call" --no-default-features --features tail --config "$PATCH"
# Upstream's nightly-only path (`become` = musttail), through RUSTC_BOOTSTRAP: a reference only.
RUSTC_BOOTSTRAP=1 build become "-C target-feature=+tail-call" --no-default-features --features become
RUSTFLAGS="" cargo build -q --release --bin native-bench

count() { # how many dispatch calls are real tail calls, over the handlers that make any call
  wasm2wat --enable-all "$1" | awk '
    /^  \(func /{ handler = ($2 ~ /handler4exec/) }
    handler && /^ +return_call_indirect/ { tail++ }
    handler && /^ +call_indirect/ { plain++ }
    END { printf "{\"return_call_indirect\":%d,\"call_indirect\":%d}", tail, plain }'
}
echo "{\"variant\":\"native (x86_64, tail-call dispatch)\",\"wasmi\":$(./target/release/native-bench $GUEST $N $RUNS)}"
for v in loop tail patched become; do
  echo "{\"variant\":\"wasm32 $v\",\"handlers\":$(count target/$v/$WASM),\"node\":$(node bench.mjs target/$v/$WASM $GUEST $N $RUNS)}"
done
