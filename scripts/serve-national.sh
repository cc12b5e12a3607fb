# Sourced by the load scripts (load.sh, outcomes-load.sh, mixed-load.sh): starts
# `matcher serve` on loopback with a data set's offers, in the background, and waits until it
# answers /readyz. Not a script of its own.
#
#   serve_national OFFERS_DIR DB     (reads BIN, PORT and WORK; sets PID)
#
# The service's output goes to $WORK/serve.out and $WORK/serve.err; a service that is not
# ready after 300 s ends the calling script with the last lines of its errors.
serve_national() {
  "$BIN" serve --bind "127.0.0.1:$PORT" --db "$2" --offers-from "$1" --today 2026-09-01 \
    >"$WORK/serve.out" 2>"$WORK/serve.err" &
  PID=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.5
  done
  echo "matcher serve did not become ready on port $PORT; its last errors:" >&2
  tail -5 "$WORK/serve.err" >&2
  exit 1
}
