#!/usr/bin/env bash
# Latency of POST /v1/offers, one offer per write, with the national offers loaded (issue 18).
#
#   scripts/offer-writes.sh [MATCHER_BIN] [WRITES]     (defaults: target/release/matcher, 40)
#
# Generates the national data set (seed $SEED, default 1, invented) once into $NATIONAL (default
# /tmp/brobygger-national-1), serves it from a fresh database, then writes WRITES offers of
# 0101 one after another (each with a new capacity) and prints p50, p90 and max. With NEW=1
# each write is a new offer instead (a copy of one under a new id): the catalogue adds it.
# Not a test: the figures depend on the machine.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/target/release/matcher}; N=${2:-40}; PORT=${PORT:-18291}
SEED=${SEED:-1}; NATIONAL=${NATIONAL:-/tmp/brobygger-national-$SEED}
[[ -f "$NATIONAL/offers.csv" ]] || "$BIN" gen --scale national --seed "$SEED" --out "$NATIONAL" | tail -1
WORK=$(mktemp -d /tmp/bb-offers.XXXXXX); DB="$WORK/o.db"
SYS=$("$BIN" token create --municipality 0101 --role system --user load-system --db "$DB")
"$BIN" serve --bind "127.0.0.1:$PORT" --db "$DB" --offers-from "$NATIONAL" --today 2026-09-01 >"$WORK/out" 2>"$WORK/err" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf $WORK' EXIT
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
python3 - "$PORT" "$SYS" "$N" "$NATIONAL" "${NEW:-0}" <<'PY'
import csv, http.client, json, sys, time
port, token, n, national, new = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5] == "1"
h = {"authorization": f"Bearer {token}", "content-type": "application/json"}
rows = [r for r in csv.DictReader(open(f"{national}/offers.csv")) if r["municipality"] in ("0101",)]
c = http.client.HTTPConnection("127.0.0.1", port)
lat = []
for k in range(n):
    r = {kk: v for kk, v in rows[k % len(rows)].items() if v != ""}
    r["capacity"] = str(int(r["capacity"]) + 1 + k)
    if new:
        r["id"] = f"{r['id']}-ny{k:04d}"
    t = time.perf_counter()
    c.request("POST", "/v1/offers", json.dumps([r]), h)
    resp = c.getresponse(); body = resp.read()
    lat.append((time.perf_counter() - t) * 1000)
    if resp.status not in (200, 201):
        print(resp.status, body[:300]); break
lat.sort()
print(f"{'new offers' if new else 'offer writes'}: n={len(lat)} p50={lat[len(lat)//2]:.1f} ms p90={lat[int(len(lat)*0.9)]:.1f} ms max={lat[-1]:.1f} ms")
PY
