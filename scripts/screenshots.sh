#!/usr/bin/env bash
# Retakes the screenshots in docs/ (issue 20): the widget in the demo case screen (Danish,
# desktop; English, 320 px), the team overview page (Danish, desktop) and the first screen of
# the morning report (Danish, 390 px). Uses the browser test's tools: playwright-core from
# tests/browser/node_modules and Debian's chromium (BROBYGGER_CHROMIUM to use another).
#
#   scripts/screenshots.sh            # debug build of `matcher`
#   PROFILE=release scripts/screenshots.sh
#
# Everything shown is the invented demo data; the report is the README's demo batch.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${PROFILE:-debug}"
target="${CARGO_TARGET_DIR:-target}"
if [ "$profile" = release ]; then cargo build --release -p matcher-service --bin matcher; else cargo build -p matcher-service --bin matcher; fi
matcher="$target/$profile/matcher"
[ -d tests/browser/node_modules/playwright-core ] || { echo "run: npm ci --prefix tests/browser --no-audit --no-fund" >&2; exit 1; }

work="$(mktemp -d)"
server=""
cleanup() { if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT

# The README's demo batch, for the report.
"$matcher" batch --data data/demo --out "$work/tonight" >/dev/null

# The demo service on a free port; its first lines are the demo tokens, then the address.
"$matcher" serve --demo --bind 127.0.0.1:0 --db "$work/matcher.db" >"$work/serve.out" 2>/dev/null &
server=$!
for _ in $(seq 100); do grep -q '^listening on ' "$work/serve.out" && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$work/serve.out")"
[ -n "$url" ] || { echo "the demo server did not start" >&2; exit 1; }

BROBYGGER_URL="$url" BROBYGGER_REPORT="$(cd "$work/tonight" && pwd -P)/report.html" BROBYGGER_DOCS="$PWD/docs" \
  node tests/browser/screenshots.mjs
