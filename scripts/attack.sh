#!/usr/bin/env bash
# Issue 15's attacks on `matcher serve --demo` on loopback, with figures for docs/reliability.md.
#
#   scripts/attack.sh [SLOW_CONNECTIONS] [SECONDS]      (default 260 connections, 30 s)
#
# Needs python3 and a release build (MATCHER_BIN, default $CARGO_TARGET_DIR or target,
# release/matcher). Starts the server with the defaults a municipality would run (256 slots,
# 10 s read timeout), runs scripts/attack.py (slow bodies and heads, capacity 4294967295,
# the bad-input corpus, every written CPR form), then checks the server log for panics.
# Bounded: at most SLOW_CONNECTIONS + 50 sockets, SECONDS plus the corpus (~1 minute).
set -euo pipefail
SLOW=${1:-260}
SECONDS_=${2:-30}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${MATCHER_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/matcher}
[[ -x "$BIN" ]] || { echo "no release binary at $BIN (cargo build --release, or set MATCHER_BIN)" >&2; exit 2; }
PORT=${PORT:-18415}
WORK=$(mktemp -d /tmp/brobygger-attack.XXXXXX)
cleanup() { [[ -n "${PID:-}" ]] && kill "$PID" 2>/dev/null; wait "${PID:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
ulimit -n 4096 2>/dev/null || true

"$BIN" serve --demo --bind "127.0.0.1:$PORT" --db "$WORK/attack.db" --today 2026-09-01 \
  >"$WORK/serve.out" 2>"$WORK/serve.err" &
PID=$!
for _ in $(seq 1 600); do grep -q '^listening on' "$WORK/serve.out" 2>/dev/null && break; sleep 0.2; done
token() { awk -v role="role=$1" '$1 == "demo" && $4 == role && $5 !~ /other/ { print $NF; exit }' "$WORK/serve.out"; }
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
python3 "$ROOT/scripts/attack.py" "$PORT" "$(token caseworker)" "$(token admin)" "$(token system)" "$SLOW" "$SECONDS_" || status=$?
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
if ! kill -0 "$PID" 2>/dev/null; then echo "FAILED: the server died"; status=1; fi
if grep -q panicked "$WORK/serve.err"; then echo "FAILED: the server log holds a panic"; grep -m3 panicked "$WORK/serve.err"; status=1; fi
echo "server log: $(grep -c ERROR "$WORK/serve.err" || true) ERROR lines"
exit $status
