#!/usr/bin/env bash
# Soak and overload of `matcher serve` on loopback (not a test: figures depend on the machine).
#
#   scripts/soak.sh [MINUTES] [CONNECTIONS] [DELAY_MS]     (default 10 minutes, 4, 2 ms)
#
# Needs wrk (Debian: apt-get install -y wrk), python3 and a release build (MATCHER_BIN,
# default $CARGO_TARGET_DIR or target, release/matcher). Serves the demo data set (municipality
# scale), then:
#  1. soak: MINUTES one-minute windows of wrk at a steady, paced rate (each connection waits
#     DELAY_MS between requests): 90% suggestions for stored candidates, 10% decisions
#     (declines: durable writes). Per window: requests/s, p50, p99, errors, server RSS.
#  2. overload: 20 s with 1,024 connections, unpaced, against --max-in-flight 64: counts the
#     503s (each must carry Retry-After) and the slowest answer.
#  3. recovery: one more paced window; it must be error-free again.
set -euo pipefail
MINUTES=${1:-10}
CONNS=${2:-4}
DELAY_MS=${3:-2}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${MATCHER_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/matcher}
PORT=${PORT:-18383}
WORK=$(mktemp -d /tmp/brobygger-soak.XXXXXX)
cleanup() { [[ -n "${PID:-}" ]] && kill "$PID" 2>/dev/null; wait "${PID:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || true

"$BIN" serve --demo --bind "127.0.0.1:$PORT" --db "$WORK/soak.db" --today 2026-09-01 --max-in-flight 64 \
  >"$WORK/serve.out" 2>"$WORK/serve.err" &
PID=$!
for _ in $(seq 1 600); do grep -q '^listening on' "$WORK/serve.out" 2>/dev/null && break; sleep 0.2; done
CW=$(awk '$1 == "demo" && $4 == "role=caseworker" && $5 !~ /other/ { print $NF; exit }' "$WORK/serve.out")
BASE="http://127.0.0.1:$PORT"

curl -sf -H "authorization: Bearer $CW" "$BASE/v1/candidates?limit=1000" >"$WORK/candidates.json"
curl -sf -H "authorization: Bearer $CW" "$BASE/v1/offers?limit=1" >"$WORK/offers.json"
python3 - "$WORK" "$DELAY_MS" <<'PY'
import json, sys
work, delay = sys.argv[1], int(sys.argv[2])
ids = [c["id"] for c in json.load(open(f"{work}/candidates.json"))["candidates"]]
offer = json.load(open(f"{work}/offers.json"))["offers"][0]["record"]["id"]
report = '''done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %d %.1f %.2f %.2f %.2f %d %d\\n", summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, errors, summary.errors.status))
end
'''
lua = "ids = {" + ",".join(f'"{i}"' for i in ids) + "}\n"
lua += f'offer = "{offer}"\nn = 0\n'
lua += '''request = function()
  n = n + 1
  local id = ids[(n % #ids) + 1]
  if n % 10 == 0 then
    return wrk.format("POST", "/v1/decisions", nil, '{"candidate_id":"' .. id .. '","offer_id":"' .. offer .. '","action":"decline","reason":"soak test"}')
  end
  return wrk.format("POST", "/v1/suggestions", nil, '{"candidate_id":"' .. id .. '","k":5}')
end
'''
open(f"{work}/paced.lua", "w").write(lua + f"delay = function() return {delay} end\n" + report)
# Overload also counts the 503s and checks each carries Retry-After.
open(f"{work}/flood.lua", "w").write(lua + '''refused = 0
without_retry_after = 0
response = function(status, headers, body)
  if status == 503 then
    refused = refused + 1
    if headers["retry-after"] == nil and headers["Retry-After"] == nil then without_retry_after = without_retry_after + 1 end
  end
end
''' + report)
PY
# wrk runs `response` per thread: print per-thread counts from the threads' own states.
cat >>"$WORK/flood.lua" <<'LUA'
threads = {}
setup = function(thread) table.insert(threads, thread) end
local base_done = done
done = function(summary, latency, requests)
  base_done(summary, latency, requests)
  local r, w = 0, 0
  for _, t in ipairs(threads) do r = r + t:get("refused"); w = w + t:get("without_retry_after") end
  io.write(string.format("REFUSED %d WITHOUT_RETRY_AFTER %d\n", r, w))
end
LUA
rss() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$PID/status"; }
H=(-H "authorization: Bearer $CW" -H "content-type: application/json")
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); server RSS at start $(rss) MiB"
printf '%-8s %10s %9s %9s %9s %7s %9s\n' window "req/s" "p50 ms" "p99 ms" "max ms" errors "RSS MiB"
for w in $(seq 1 "$MINUTES"); do
  line=$(wrk -t2 -c"$CONNS" -d60s -s "$WORK/paced.lua" "${H[@]}" "$BASE" | grep '^RESULT')
  read -r _ n rate p50 p99 max errors status <<<"$line"
  printf '%-8s %10s %9s %9s %9s %7s %9s\n' "$w" "$rate" "$p50" "$p99" "$max" "$errors" "$(rss)"
done
echo "== overload: 1,024 connections, unpaced, 20 s (max in flight 64)"
out=$(wrk -t2 -c1024 -d20s --timeout 10s -s "$WORK/flood.lua" "${H[@]}" "$BASE")
read -r _ n rate p50 p99 max errors status <<<"$(grep '^RESULT' <<<"$out")"
echo "requests $n ($rate/s), p50 $p50 ms, p99 $p99 ms, max $max ms, non-2xx $status, socket errors $((errors - status))"
grep '^REFUSED' <<<"$out"
echo "server RSS after overload $(rss) MiB; alive: $(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")"
echo "== recovery: one paced minute"
line=$(wrk -t2 -c"$CONNS" -d60s -s "$WORK/paced.lua" "${H[@]}" "$BASE" | grep '^RESULT')
read -r _ n rate p50 p99 max errors status <<<"$line"
printf '%-8s %10s %9s %9s %9s %7s %9s\n' after "$rate" "$p50" "$p99" "$max" "$errors" "$(rss)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server log lines with errors: $(grep -ci 'error\|panicked' "$WORK/serve.err" || true); the kinds:"
grep -i 'error\|panicked' "$WORK/serve.err" | sed -E 's/[0-9a-f]{6}-[0-9a-f]{16}/ID/g; s/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -5 || true
