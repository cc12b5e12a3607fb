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
BIN=${MATCHER_BIN:-$ROOT/target/release/matcher}
WORK=$(mktemp -d /tmp/brobygger-outcomes.XXXXXX)
PORT=${PORT:-18191}
cleanup() { [[ -n "${PID:-}" ]] && kill "$PID" 2>/dev/null; wait "${PID:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$BIN" gen --scale national --seed "${SEED:-1}" --out "$WORK/national" | tail -1
DB="$WORK/load.db"
CW=$("$BIN" token create --municipality 0101 --role caseworker --user load-caseworker --db "$DB")
"$BIN" serve --bind "127.0.0.1:$PORT" --db "$DB" --offers-from "$WORK/national" --today 2026-09-01 \
  >"$WORK/serve.out" 2>"$WORK/serve.err" &
PID=$!
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
echo "== load average (the machine may be shared): $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$WORK" "$PORT" "$CW" "$RATE" "$DURATION" "$PID" "$(getconf CLK_TCK)" <<'PY'
import csv, http.client, json, os, sys, threading, time
work, port, token, rate, duration = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
pid, tick = int(sys.argv[6]), float(sys.argv[7])
def cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick
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
lat, lock = [], threading.Lock()
cpu0 = cpu()
t0 = time.monotonic() + 0.5
def worker(w, workers=4):
    c = http.client.HTTPConnection("127.0.0.1", port)
    for k in range(w, len(decisions), workers):
        due = t0 + k / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        c.request("POST", "/v1/outcomes", json.dumps({"decision_id": decisions[k], "result": "in_work"}), headers)
        r = c.getresponse(); r.read()
        done = time.monotonic()
        if r.status != 201:
            print("outcome status", r.status)
        with lock:
            lat.append((done - due) * 1000)
threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
[t.start() for t in threads]; [t.join() for t in threads]
# The evidence refreshes the writes asked for run on after the last answer: the service's
# CPU is read once it has stopped moving (the refreshes and the writes, for the writes).
before, after = -1.0, cpu()
while after != before:
    time.sleep(0.6)
    before, after = after, cpu()
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))]
print(f"POST /v1/outcomes at {rate:.0f}/s for {duration:.0f} s: {len(lat)} writes, p50 {q(50):.2f} ms, p99 {q(99):.2f} ms, max {lat[-1]:.2f} ms")
print(f"service CPU for them, evidence refreshes included: {after - cpu0:.1f} s ({(after - cpu0) / max(len(lat), 1) * 1000:.1f} ms per write)")
PY
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
