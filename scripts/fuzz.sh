#!/usr/bin/env bash
# Fuzzes every parser for a bounded time (not part of CI: run it by hand).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). Works on the stable toolchain:
# RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z flags; the sanitizer is off by default
# (the workspace forbids unsafe code; FUZZ_SANITIZER=address turns ASan on for the
# dependencies' unsafe code, at about half the speed). The corpus of each target grows in
# fuzz/corpus/TARGET (not committed), seeded from fuzz/seeds/TARGET. A crash stops the run
# and leaves its input in fuzz/artifacts/TARGET; minimise it with `cargo fuzz tmin` and turn
# it into a regression test in the crate that owns the parser. Prints executions per target.
set -euo pipefail
SECONDS_EACH=${1:-60}
shift || true
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ALL=(dataset_csv dataset_json policy_toml peers_instance snapshot api_bodies warm_solve cpr_text)
TARGETS=("${@:-${ALL[@]}}")
export RUSTC_BOOTSTRAP=1
# Its own target dir: the instrumented build must not evict the normal one.
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$ROOT/fuzz/target}
SANITIZER=${FUZZ_SANITIZER:-none}
cd "$ROOT/fuzz"
cargo fuzz build -O --sanitizer "$SANITIZER"
echo "load average before fuzzing: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
for t in "${TARGETS[@]}"; do
  # seeds/TARGET may be absent (git keeps no empty folder): libFuzzer refuses a missing one.
  mkdir -p "corpus/$t" "artifacts/$t" "seeds/$t"
  log=$(mktemp)
  # rss/malloc limits turn a huge allocation driven by the input into a reported crash.
  if cargo fuzz run -O --sanitizer "$SANITIZER" "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
      -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    result=CRASH
    status=1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  printf '%-16s %-6s %12s executions  %s  corpus %s files\n' "$t" "$result" "$execs" "$cov" "$(ls "corpus/$t" | wc -l)"
  if [[ $result == CRASH ]]; then
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -8
  fi
  rm -f "$log"
done
echo "load average after fuzzing: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
