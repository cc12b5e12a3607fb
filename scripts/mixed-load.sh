#!/usr/bin/env bash
# Suggestions and outcome writes at once, with the national offers loaded (issue 18: outcome
# writes answer in p99 < 10 ms at 100 writes/s *while* suggestions keep p99 < 5 ms at
# 5,000/s). Not a test: the figures depend on the machine.
#
#   scripts/mixed-load.sh [SECONDS] [OUTCOMES_PER_SECOND] [SUGGESTIONS_PER_SECOND]
#                                                   (defaults: 20 s, 100/s, 5,000/s)
#
# Needs `wrk`, python3 and a release build (MATCHER_BIN, default target/release/matcher).
# Generates the national data set (SEED, default 1; invented) once into $NATIONAL (default
# /tmp/brobygger-national-$SEED), serves it from a fresh database, stores 2,000 candidates of
# 0101 for the suggestions and as many more as outcomes will be written, each of the latter
# with an accepted decision (the setup, not measured). Then, for SECONDS each:
#   1. suggestions alone, as fast as they go: wrk, 2 threads, 8 connections (scripts/load.sh's
#      figure), which saturates both cores;
#   2. suggestions alone, paced to SUGGESTIONS_PER_SECOND: 32 connections, each waiting
#      between an answer and its next request, the wait adjusted every second to hold the rate
#      (wrk has no fixed-rate mode);
#   3. the same paced suggestions while outcomes are recorded at OUTCOMES_PER_SECOND from 4
#      connections, open-loop (a write's latency counts from when it was due). Every outcome
#      asks for an evidence refresh, which runs beside the requests (coalesced): what the
#      writes and the refreshes cost the suggestions is what 2 and 3 show. Run 3 also prints
#      the service's own histogram over it (/metrics): what the requests took inside the
#      service, without the load generators' own waits for the two cores they share with it.
set -euo pipefail
DURATION=${1:-20}
RATE=${2:-100}
SUGGEST_RATE=${3:-5000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/serve-national.sh
source "$ROOT/scripts/serve-national.sh"
BIN=${MATCHER_BIN:-$ROOT/target/release/matcher}
SEED=${SEED:-1}; NATIONAL=${NATIONAL:-/tmp/brobygger-national-$SEED}
PORT=${PORT:-18391}
WORK=$(mktemp -d /tmp/brobygger-mixed.XXXXXX)
cleanup() { [[ -n "${PID:-}" ]] && kill "$PID" 2>/dev/null; wait "${PID:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
[[ -f "$NATIONAL/offers.csv" ]] || "$BIN" gen --scale national --seed "$SEED" --out "$NATIONAL" | tail -1
DB="$WORK/mixed.db"
CW=$("$BIN" token create --municipality 0101 --role caseworker --user load-caseworker --db "$DB")
# /metrics answers with this token: run 3's server-side figures are read from it.
export MATCHER_METRICS_TOKEN=${MATCHER_METRICS_TOKEN:-mixed-load-$$}
serve_national "$NATIONAL" "$DB"
python3 - "$WORK" "$PORT" "$CW" "$RATE" "$DURATION" "$NATIONAL" "$SUGGEST_RATE" <<'PY'
import csv, http.client, json, sys
work, port, token, rate, duration, national = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
n = int(rate * duration)
headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
rows = []
with open(f"{national}/candidates.csv") as f:
    for r in csv.DictReader(f):
        if r["municipality"] in ("0101", "101") and not r["current_offer"] and not r["excluded_offers"]:
            rows.append({k: v for k, v in r.items() if v != ""})
if len(rows) < 2000 + n:
    raise SystemExit(f"only {len(rows)} candidates of 0101; lower the rate or the duration")
suggest, decide = rows[:2000], rows[2000:]
conn = http.client.HTTPConnection("127.0.0.1", port)
def call(method, path, body, ok=(200, 201)):
    conn.request(method, path, json.dumps(body), headers)
    r = conn.getresponse()
    data = r.read()
    if r.status not in ok:
        raise SystemExit(f"{method} {path}: {r.status} {data[:300]!r}")
    return r.status, (json.loads(data) if data else None)
for i in range(0, len(rows), 5000):
    call("POST", "/v1/candidates", rows[i:i + 5000])
# Each candidate of the second part accepts its best suggestion that still has a place.
decisions = []
for c in decide:
    if len(decisions) == n:
        break
    _, answer = call("POST", "/v1/suggestions", {"candidate_id": c["id"], "k": 5})
    for s in answer["suggestions"]:
        status, d = call("POST", "/v1/decisions",
                         {"candidate_id": c["id"], "offer_id": s["offer_id"], "action": "accept", "reason": "load test"},
                         ok=(201, 409))
        if status == 201:
            decisions.append(d["id"])
            break
if len(decisions) < n:
    raise SystemExit(f"only {len(decisions)} decisions for {n} outcomes")
json.dump(decisions, open(f"{work}/decisions.json", "w"))
with open(f"{work}/suggest.lua", "w") as f:
    f.write("ids = {" + ",".join(f'"{r["id"]}"' for r in suggest) + "}\n")
    f.write("n = 0\nrequest = function()\n  n = n + 1\n  local id = ids[(n % #ids) + 1]\n")
    f.write("  return wrk.format('POST', '/v1/suggestions', nil, '{\"candidate_id\":\"' .. id .. '\",\"k\":5}')\nend\n")
    f.write('''done = function(summary, latency, requests)
  io.write(string.format("SUGGESTIONS %.0f req/s p50 %.2f ms p99 %.2f ms max %.2f ms errors %d\\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50)/1000, latency:percentile(99)/1000, latency.max/1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
''')
# Paced: each of wrk's 2 threads holds half the rate over its 16 connections; the wait
# between an answer and the next request is adjusted once a second (wrk's Lua has a clock
# of seconds) toward the rate.
with open(f"{work}/suggest.lua") as f:
    plain = f.read()
with open(f"{work}/paced.lua", "w") as f:
    f.write(plain)
    f.write(f"local per_thread = {float(sys.argv[7]) / 2}\n")
    f.write('''local wait = 16 / per_thread * 1000
local count, second, whole, first, total = 0, os.time(), false, 0, 0
response = function(status, headers, body)
  local now = os.time()
  if now ~= second then
    -- The first second is partial (the run began inside it): it only starts the count. Read
    -- as a whole second it looked slow, the wait fell, and runs overshot by up to a quarter.
    if whole then
      -- The next second aims to make up what the run is behind (or ahead) in all, by at most
      -- a tenth of the rate, so that the run's mean is the rate asked for.
      local want = per_thread + (per_thread * (now - first) - total)
      want = math.max(per_thread * 0.9, math.min(per_thread * 1.1, want))
      wait = math.max(0.1, wait * (count / (now - second)) / want)
    else
      first = now
    end
    count, second, whole = 0, now, true
  end
  count = count + 1
  if whole then total = total + 1 end
end
delay = function() return wait end
''')
print(f"setup: {len(suggest)} candidates for suggestions, {len(decisions)} accepted decisions for outcomes")
PY
AUTH=(-H "authorization: Bearer $CW" -H "content-type: application/json")
URL="http://127.0.0.1:$PORT"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
# One wrk run, then its SUGGESTIONS line with the service's CPU per suggestion (user + system
# over the run and one second after it, for the log writer to drain; in run 3 the outcome
# writes and their refreshes count too).
suggest_run() {
  local c0 c1 line
  c0=$(cpu_ticks)
  line=$(wrk "$@" "${AUTH[@]}" "$URL" | grep '^SUGGESTIONS')
  sleep 1
  c1=$(cpu_ticks)
  echo "$line" | awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v d="$DURATION" \
    '{printf "%s; service CPU %.2f s, %.0f us per suggestion\n", $0, t / hz, t / hz / ($2 * d) * 1e6}'
}
echo "== load average before (the machine may be shared): $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== 1. suggestions alone, as fast as they go (8 connections), ${DURATION} s"
suggest_run -t2 -c8 -d"${DURATION}s" -s "$WORK/suggest.lua"
sleep 1
echo "== 2. suggestions alone, paced to ${SUGGEST_RATE}/s, ${DURATION} s"
suggest_run -t2 -c32 -d"${DURATION}s" -s "$WORK/paced.lua"
sleep 1
metrics() { curl -sf -H "authorization: Bearer $MATCHER_METRICS_TOKEN" "$URL/metrics" >"$WORK/$1"; }
echo "== 3. the same while outcomes are recorded at ${RATE}/s, ${DURATION} s"
metrics metrics-before.txt
python3 "$ROOT/scripts/outcome-writes.py" "$WORK" "$PORT" "$CW" "$RATE" &
OUT=$!
suggest_run -t2 -c32 -d"${DURATION}s" -s "$WORK/paced.lua"
wait $OUT
metrics metrics-after.txt
# The service's own histogram over run 3 (its buckets end at 5, 10 and 25 ms): what the
# requests took inside the service, without the load generators' waits for the cores.
python3 - "$WORK/metrics-before.txt" "$WORK/metrics-after.txt" <<'PY'
import re, sys
def read(path):
    values = {}
    for line in open(path):
        m = re.match(r'(\S+?)(\{[^}]*\})? (\S+)$', line.strip())
        if m and not line.startswith('#'):
            values[m.group(1) + (m.group(2) or '')] = float(m.group(3))
    return values
before, after = read(sys.argv[1]), read(sys.argv[2])
diff = lambda key: after.get(key, 0) - before.get(key, 0)
n, t = diff('brobygger_evidence_refreshes_total'), diff('brobygger_evidence_refresh_seconds_total')
print(f"server-side: {n:.0f} evidence refreshes, {t:.2f} s in all")
for route in ('/v1/outcomes', '/v1/suggestions'):
    count = diff(f'brobygger_http_request_duration_seconds_count{{route="{route}"}}')
    shares = []
    for le in ('0.005', '0.01', '0.025'):
        within = diff('brobygger_http_request_duration_seconds_bucket{route="%s",le="%s"}' % (route, le))
        shares.append(f"<= {float(le) * 1000:g} ms {within / max(count, 1) * 100:.2f} %")
    print(f"server-side {route}: {count:.0f} requests, " + ", ".join(shares))
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
