#!/usr/bin/env bash
# Crash consistency, by hand (CI runs 3 service cycles and 5 batch kills).
#
#   scripts/crash.sh [CYCLES]      (default 50; SKIP_SERVER=1 runs only part 2)
#
# 1. `matcher serve`: the e2e test `kill_9_at_random_moments_...` with CYCLES kill -9 cycles:
#    4 clients stream decisions (accepts on a 40-place offer and a large one, declines) and
#    outcomes; the server is killed at a random moment, restarted, and must hold every
#    acknowledged decision and outcome exactly once, places taken equal to accepts, no offer
#    overbooked.
# 2. `matcher batch`: killed with SIGKILL at a random moment CYCLES times; each time the
#    published run (the --out link) must be byte for byte one complete run: the previous one,
#    or the new one exactly as an undisturbed run of the same day writes it (run.json, which
#    holds timings, aside), and its report.json must parse.
set -euo pipefail
CYCLES=${1:-50}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ -z "${SKIP_SERVER:-}" ]]; then
echo "== 1. matcher serve: $CYCLES kill -9 cycles"
BROBYGGER_CRASH_CYCLES=$CYCLES cargo test -p matcher-service --test e2e --locked -- \
  --exact reliability::kill_9_at_random_moments_keeps_acknowledged_writes_once_and_never_overbooks --nocapture 2>&1 |
  grep -E 'crash test seed|kill -9 cycles|test result|panicked|FAILED'
fi

echo "== 2. matcher batch: $CYCLES kills at random moments"
# The release build: a debug batch run is slow enough to make 50 kills take an hour.
cargo build --release -p matcher-service --locked --quiet
BIN=${MATCHER_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/matcher}
WORK=$(mktemp -d /tmp/brobygger-crash.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
DATA=$ROOT/data/demo
sums() { (cd "$1" && find . -type f ! -name run.json | sort | xargs sha256sum); }
# Reference runs of the two days the loop alternates between.
for day in 2026-11-23 2026-11-24; do
  "$BIN" batch --today "$day" --quiet --no-baselines --data "$DATA" --out "$WORK/ref-$day"
  sums "$WORK/ref-$day" >"$WORK/ref-$day.sums"
done
OUT=$WORK/tonight
"$BIN" batch --today 2026-11-23 --quiet --no-baselines --data "$DATA" --out "$OUT"
start=$(date +%s%N)
"$BIN" batch --today 2026-11-24 --quiet --no-baselines --data "$DATA" --out "$OUT"
run_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "one undisturbed run takes ${run_ms} ms; kills land uniformly in [0, $((run_ms + 50))] ms"
kept_old=0; published_new=0
for i in $(seq 1 "$CYCLES"); do
  # Always the other day than the published run's, so that old and new runs differ.
  published_day=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["date"])' "$OUT/report.json")
  day=$([[ $published_day == 2026-11-23 ]] && echo 2026-11-24 || echo 2026-11-23)
  before=$(sums "$OUT")
  "$BIN" batch --today "$day" --quiet --no-baselines --data "$DATA" --out "$OUT" &
  pid=$!
  sleep "$(awk -v r="$RANDOM" -v ms="$run_ms" 'BEGIN { printf "%.3f", (r / 32767) * (ms + 50) / 1000 }')"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  now=$(sums "$OUT")
  if [[ "$now" == "$before" ]]; then
    kept_old=$((kept_old + 1))
  elif [[ "$now" == "$(cat "$WORK/ref-$day.sums")" ]]; then
    published_new=$((published_new + 1))
  else
    echo "cycle $i: the published run is neither the previous one nor a whole new one"; exit 1
  fi
  python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$OUT/report.json"
done
echo "batch: $CYCLES kills, previous run kept intact $kept_old times, new run whole $published_new times"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
