#!/usr/bin/env bash
# Load figures for the orderer's overview (issue 16) on loopback (not a test: the numbers
# depend on the machine).
#
#   scripts/overview_load.sh [DURATION_SECONDS]
#
# Needs `wrk`, curl, python3 and a release build. Generates the national data set (seed 7),
# serves its offers and providers, fills a year of decisions straight into the database
# (scripts/overview_fill.py: 300,000 decisions, their places and a strategic partner per
# municipality), then measures with one connection:
#   - GET /v1/overview/providers (København's admin, then scope=national),
#   - GET /v1/overview/spend?period=month (both scopes),
#   - and the answer right after a change of the ledger (a contract written before each ask,
#     so the count of standing accepts is taken again), 20 times, with curl.
# docs/service.md records what we measured.
set -euo pipefail
DURATION=${1:-20}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${MATCHER_BIN:-$ROOT/target/release/matcher}
WORK=${WORK:-$(mktemp -d /tmp/brobygger-overview.XXXXXX)}
PORT=${PORT:-18191}
TODAY=2026-12-05
cleanup() { [[ -n "${PID:-}" ]] && kill "$PID" 2>/dev/null; wait "${PID:-}" 2>/dev/null || true; [[ -z "${KEEP:-}" ]] && rm -rf "$WORK"; }
trap cleanup EXIT

echo "== national data set (seed 7, invented) in $WORK"
[[ -d "$WORK/national" ]] || "$BIN" gen --scale national --seed 7 --out "$WORK/national" | tail -1
DB="$WORK/overview.db"
ADMIN=$("$BIN" token create --municipality 0101 --role admin --user load-admin --db "$DB" 2>/dev/null)
"$BIN" serve --bind "127.0.0.1:$PORT" --db "$DB" --offers-from "$WORK/national" --today "$TODAY" \
  >"$WORK/serve.out" 2>"$WORK/serve.err" &
PID=$!
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
echo "== filling a year of decisions"
if [[ -z "$(sqlite3 "$DB" 'SELECT 1 FROM decisions LIMIT 1' 2>/dev/null)" ]]; then
  python3 "$ROOT/scripts/overview_fill.py" "$WORK/national" "$DB" --today "$TODAY"
fi
URL="http://127.0.0.1:$PORT"
H="authorization: Bearer $ADMIN"
for path in "/v1/overview/providers" "/v1/overview/providers?scope=national" \
            "/v1/overview/spend?period=month" "/v1/overview/spend?period=quarter&scope=national"; do
  first=$(curl -s -o /dev/null -w '%{time_total}' -H "$H" "$URL$path")
  echo "== $path (first ask after the fill: ${first}s)"
  curl -s -H "$H" "$URL$path" | head -c 300; echo
  wrk -t1 -c1 -d"${DURATION}s" --latency -H "$H" "$URL$path" | sed -n '/Latency Distribution/,/Requests\/sec/p'
  uptime
done
echo "== after a change of the ledger (a contract written before each ask), 20 asks"
OFFER=$(python3 - "$WORK/national/offers.csv" <<'PY'
import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")):
    if r["kind"] == "provider" and r["municipality"] in ("0101", "101") and not r["serves_municipalities"].replace("0101", "").strip(";"):
        print(r["id"], r["provider_id"]); break
PY
)
set -- $OFFER
for scope in municipality national; do
  times=()
  for i in $(seq 1 20); do
    curl -s -o /dev/null -X POST -H "$H" -H 'content-type: application/json' "$URL/v1/contracts" \
      -d "{\"id\":\"load-$i\",\"provider_id\":\"$2\",\"kind\":\"buffer\",\"offer_ids\":[\"$1\"],\"price_dkk\":1000,\"places\":5,\"starts_on\":\"2026-01-01\",\"ends_on\":\"2026-12-31\"}"
    times+=("$(curl -s -o /dev/null -w '%{time_total}' -H "$H" "$URL/v1/overview/providers?scope=$scope")")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v s="$scope" '{a[NR]=$1} END {printf "scope=%s after a change: p50 %.0f ms, max %.0f ms (n=%d)\n", s, a[int(NR/2)+1]*1000, a[NR]*1000, NR}'
  uptime
done
