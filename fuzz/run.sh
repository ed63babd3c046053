#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds each (default 600): `make fuzz` (long runs) and
# `make fuzz-smoke` (CI: a short run of each). The corpus grows under ~/.cache/xtsync/corpus,
# seeded from fuzz/seeds/; a crash stops the run, its input is left in fuzz/artifacts/<target>/
# (turn it into a regression test in src/ before fixing).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(expression scoping_filter scim_listing graph_response certificate)

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
export CARGO_TARGET_DIR="$HOME/.cache/xtsync/fuzz-target"
# libFuzzer's instrumentation needs nightly flags: the nightly toolchain when there is one,
# else the stable one with RUSTC_BOOTSTRAP (the same compiler, its unstable flags allowed).
if rustup run nightly rustc --version >/dev/null 2>&1; then
  cargo_fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  cargo_fuzz=(cargo fuzz)
fi
for target in "${targets[@]}"; do
  corpus="$HOME/.cache/xtsync/corpus/$target"
  mkdir -p "$corpus"
  echo "fuzz: $target for ${seconds}s"
  log="$HOME/.cache/xtsync/fuzz-$target.log"
  if ! "${cargo_fuzz[@]}" run --fuzz-dir fuzz -O "$target" "$corpus" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -max_len=65536 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    tail -60 "$log"
    echo "fuzz: $target FAILED (input in fuzz/artifacts/$target/)"
    exit 1
  fi
  grep -E "^(Done |stat::number_of_executed_units|stat::peak_rss_mb)" "$log" || true
  echo "fuzz: $target corpus $(ls "$corpus" | wc -l) inputs"
done
