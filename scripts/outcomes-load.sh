#!/usr/bin/env bash
# Latency of POST /v1/outcomes with the national offers loaded (issue 18), at a fixed rate.
#
#   scripts/outcomes-load.sh [RATE_PER_SECOND] [SECONDS]      (defaults: 100 writes/s for 20 s)
#
# Needs python3 and a release build (MATCHER_BIN, default target/release/matcher). Generates
# the national data set (SEED, default 1; invented), loads its 33,000 offers into a fresh database, stores
# RATE×SECONDS candidates and accepts one decision for each (the setup, not measured), then
# records one outcome per decision at RATE per second from 4 connections. The schedule is
# open-loop: each request's latency is counted from the moment it was due, so a slow answer
# also delays (and charges) the ones queued behind it. Prints p50, p99 and max, and the
# service's CPU for the writes (the evidence refreshes they ask for included): what outcomes
# take from the suggestions beside them.
set -euo pipefail
RATE=${1:-100}
DURATION=${2:-20}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/serve-national.sh
source "$ROOT/scripts/serve-national.sh"
BIN=${MATCHER_BIN:-$ROOT/target/release/matcher}
WORK=$(mktemp -d /tmp/brobygger-outcomes.XXXXXX)
PORT=${PORT:-18191}
cleanup() { [[ -n "${PID:-}" ]] && kill "$PID" 2>/dev/null; wait "${PID:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$BIN" gen --scale national --seed "${SEED:-1}" --out "$WORK/national" | tail -1
DB="$WORK/load.db"
CW=$("$BIN" token create --municipality 0101 --role caseworker --user load-caseworker --db "$DB")
serve_national "$WORK/national" "$DB"
echo "== load average (the machine may be shared): $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$WORK" "$PORT" "$CW" "$RATE" "$DURATION" <<'PY'
import csv, http.client, json, sys, time
work, port, token, rate, duration = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
n = int(rate * duration)
headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
rows = []
with open(f"{work}/national/candidates.csv") as f:
    for r in csv.DictReader(f):
        if r["municipality"] in ("0101", "101") and not r["current_offer"] and not r["excluded_offers"]:
            rows.append({k: v for k, v in r.items() if v != ""})
conn = http.client.HTTPConnection("127.0.0.1", port)
def call(c, method, path, body, ok=(200, 201)):
    c.request(method, path, json.dumps(body), headers)
    r = c.getresponse()
    data = r.read()
    if r.status not in ok:
        raise SystemExit(f"{method} {path}: {r.status} {data[:300]!r}")
    return r.status, (json.loads(data) if data else None)
for i in range(0, len(rows), 5000):
    call(conn, "POST", "/v1/candidates", rows[i:i + 5000])
# Each candidate accepts its best suggestion that still has a place (not measured).
decisions = []
started = time.time()
for c in rows:
    if len(decisions) == n:
        break
    _, answer = call(conn, "POST", "/v1/suggestions", {"candidate_id": c["id"], "k": 5})
    for s in answer["suggestions"]:
        body = {"candidate_id": c["id"], "offer_id": s["offer_id"], "action": "accept", "reason": "load test"}
        status, d = call(conn, "POST", "/v1/decisions", body, ok=(201, 409))
        if status == 201:
            decisions.append(d["id"])
            break
print(f"setup: {len(decisions)} accepted decisions in {time.time() - started:.1f} s")
json.dump(decisions, open(f"{work}/decisions.json", "w"))
PY
python3 "$ROOT/scripts/outcome-writes.py" "$WORK" "$PORT" "$CW" "$RATE" "$PID"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
