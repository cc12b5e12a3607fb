#!/usr/bin/env bash
# API fuzzing with a real client: schemathesis (PyPI) against `matcher serve --demo` on
# loopback, driven by the service's own /openapi.json. Not part of CI: run it by hand.
#
#   scripts/schemathesis.sh [MAX_EXAMPLES_PER_OPERATION] [ROLE]
#
# Checks every response: no 5xx, status codes, content types, headers and bodies as the
# document says, and that invalid input is refused. ROLE is a demo token's role (caseworker
# by default: it may use every tenant route and decide; admin also writes offers). Needs
# python3 and a build of `matcher` (MATCHER_BIN, default target/release/matcher). The venv
# lives in SCHEMATHESIS_VENV (default /var/tmp/schemathesis-venv) and is not committed.
set -euo pipefail
MAX_EXAMPLES=${1:-100}
ROLE=${2:-caseworker}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${MATCHER_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/matcher}
VENV=${SCHEMATHESIS_VENV:-/var/tmp/schemathesis-venv}
PORT=${PORT:-18282}
WORK=$(mktemp -d /tmp/brobygger-st.XXXXXX)
cleanup() { [[ -n "${PID:-}" ]] && kill "$PID" 2>/dev/null; wait "${PID:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

if [[ ! -x "$VENV/bin/schemathesis" ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q schemathesis
fi
"$BIN" serve --demo --bind "127.0.0.1:$PORT" --db "$WORK/st.db" --today 2026-09-01 \
  >"$WORK/serve.out" 2>"$WORK/serve.err" &
PID=$!
for _ in $(seq 1 300); do
  grep -q '^listening on' "$WORK/serve.out" 2>/dev/null && break
  sleep 0.2
done
TOKEN=$(awk -v r="role=$ROLE" '$1 == "demo" && $4 == r && $5 !~ /other/ { print $NF; exit }' "$WORK/serve.out")
[[ -n "$TOKEN" ]] || { echo "no demo token for role $ROLE"; cat "$WORK/serve.out"; exit 1; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
set +e
"$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/openapi.json" \
  -H "Authorization: Bearer $TOKEN" \
  --checks all \
  --max-examples "$MAX_EXAMPLES" --workers 2 --request-timeout 30 \
  --suppress-health-check all --continue-on-failure \
  --report junit --report-dir "$WORK/report" 2>&1 | tee "$WORK/st.log"
status=${PIPESTATUS[0]}
set -e
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "5xx answers logged by the server: $(grep -c 'internal error\|panicked' "$WORK/serve.err" || true)"
exit "$status"
