#!/usr/bin/env bash
# Bad data at scale: the national data set with 1% of its candidate and offer rows corrupted
# must be refused with every bad row named (and only those), capped in the default listing
# with the total counted, and a batch on it must leave the previous run exactly as it was.
#
#   scripts/baddata.sh [PERCENT]     (default 1)
#
# Needs python3 and a release build (MATCHER_BIN, default $CARGO_TARGET_DIR or target,
# release/matcher).
set -euo pipefail
PERCENT=${1:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${MATCHER_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/matcher}
WORK=$(mktemp -d /tmp/brobygger-bad.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$BIN" gen --scale national --seed 1 --out "$WORK/good" | tail -1
cp -r "$WORK/good" "$WORK/bad"
python3 - "$WORK/bad" "$PERCENT" >"$WORK/expected" <<'PY'
import csv, random, sys
d, percent = sys.argv[1], float(sys.argv[2])
rng = random.Random(1)
# One corruption per chosen row, of kinds a real export produces. Ids of offers are left
# alone: a broken offer id would also make every candidate that names it a bad row.
candidate_kinds = [("municipality", "9999"), ("benefit_start", "2026-13-45"), ("lat", "91.5"),
                   ("id", "0101901234"), ("max_travel_km", "-3"), ("age_band", "old"),
                   ("target_groups", "no_such_group"), ("driving_licence", "perhaps")]
offer_kinds = [("capacity", "many"), ("lon", "200"), ("municipality", "12"), ("kind", "spa"),
               ("duration_weeks", ""), ("name", "Course for 010190-1234")]
for table, kinds in (("candidates", candidate_kinds), ("offers", offer_kinds)):
    path = f"{d}/{table}.csv"
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    chosen = sorted(rng.sample(range(len(body)), max(1, round(len(body) * percent / 100))))
    for k, i in enumerate(chosen):
        column, value = kinds[k % len(kinds)]
        body[i][header.index(column)] = value
        print(f"{table}.csv:{i + 2}")  # line numbers count the header as line 1
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([header] + body)
    print(f"{table}: {len(chosen)} of {len(body)} rows corrupted", file=sys.stderr)
PY
sort -o "$WORK/expected" "$WORK/expected"
start=$(date +%s%N)
set +e
"$BIN" validate --max-problems 0 "$WORK/bad" >"$WORK/all.txt"; code=$?
set -e
echo "validate (every row listed): exit $code in $(( ($(date +%s%N) - start) / 1000000 )) ms; $(tail -1 "$WORK/all.txt")"
[[ $code == 1 ]] || { echo "expected exit code 1"; exit 1; }
grep -o '^[a-z]*\.csv:[0-9]*' "$WORK/all.txt" | sort -u >"$WORK/found"
if ! diff -q "$WORK/expected" "$WORK/found" >/dev/null; then
  echo "the refused rows differ from the corrupted ones:"; diff "$WORK/expected" "$WORK/found" | head; exit 1
fi
echo "every one of the $(wc -l <"$WORK/expected") corrupted rows is named, and no other row"
if grep -q '0101901234\|010190-1234' "$WORK/all.txt"; then echo "(the CLI names the refused value, CPR-like ones included: it reads the operator's own file)"; fi
"$BIN" validate "$WORK/bad" >"$WORK/capped.txt" || true
echo "validate (default cap): $(grep -c '^[a-z]*\.csv:' "$WORK/capped.txt") rows listed, then: $(tail -2 "$WORK/capped.txt" | tr '\n' ' ')"
# Nothing already stored changes: a batch on the bad data leaves the last good run as it was.
# (The previous run is of the small demo data set, to keep the script short.)
"$BIN" batch --quiet --no-baselines --today 2026-09-01 --data "$ROOT/data/demo" --out "$WORK/tonight" >/dev/null
sums() { (cd "$1" && find . -type f | sort | xargs sha256sum); }
before=$(sums "$WORK/tonight")
set +e
"$BIN" batch --quiet --no-baselines --today 2026-09-02 --data "$WORK/bad" --out "$WORK/tonight" >/dev/null 2>"$WORK/batch.err"; code=$?
set -e
[[ $code != 0 ]] || { echo "a batch on bad data succeeded"; exit 1; }
[[ "$(sums "$WORK/tonight")" == "$before" ]] || { echo "the previous run changed"; exit 1; }
echo "batch on the bad data: exit $code, the previous run is unchanged byte for byte"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
