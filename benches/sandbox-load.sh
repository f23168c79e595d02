#!/usr/bin/env bash
# Throughput of the sandbox itself, faults off: wrk drives
# POST /v25.0/123/phone_numbers with a Bearer header and a fresh phone number
# on every request (a Lua script counts per wrk thread), so every request is a
# real create that lands in the ledger. Prints wrk's report (requests/s,
# latency) and the server's memory growth per created number.
#
#   benches/sandbox-load.sh                      # 20 s, 2 wrk threads, 64 connections
#   DURATION=60s CONNECTIONS=128 benches/sandbox-load.sh
#   MODE=get benches/sandbox-load.sh             # GET listing (limit 25) instead of creates
#
# Needs wrk (apt-get install -y wrk) and a release build (built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-target/release/waba-provision}
DURATION=${DURATION:-20s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
MODE=${MODE:-post}

command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }
[ -x "$BIN" ] || cargo build --release

OUT=$(mktemp)
LUA=$(mktemp --suffix=.lua)
"$BIN" sandbox --port 0 >"$OUT" &
PID=$!
trap 'kill "$PID" 2>/dev/null || true; rm -f "$OUT" "$LUA"' EXIT

# Wait for the "listening on URL" line (the server prints it once bound).
for _ in $(seq 200); do
    grep -q '^listening on ' "$OUT" && break
    sleep 0.05
done
URL=$(sed -n 's/^listening on //p' "$OUT")
[ -n "$URL" ] || { echo "sandbox did not start" >&2; exit 1; }

cat >"$LUA" <<'LUA'
-- One counter per wrk thread; the thread number prefixes it, so numbers never repeat.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local counter = 0
local headers = {
  ["Authorization"] = "Bearer bench-token",
  ["Content-Type"] = "application/x-www-form-urlencoded",
}
function request()
  counter = counter + 1
  return wrk.format("POST", nil, headers,
    string.format("cc=1&phone_number=%d%09d", tid, counter))
end
LUA

RSS_BEFORE=$(ps -o rss= -p "$PID")
if [ "$MODE" = get ]; then
    # Something to list first: 25 numbers on WABA 123.
    for i in $(seq 25); do
        curl -s -o /dev/null -X POST "$URL/v25.0/123/phone_numbers" \
            -H 'Authorization: Bearer bench-token' -d cc=1 -d "phone_number=55501$(printf %05d "$i")"
    done
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
        -H 'Authorization: Bearer bench-token' \
        "$URL/v25.0/123/phone_numbers?fields=id,display_phone_number&limit=25" | tee "$OUT.wrk"
else
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$LUA" \
        "$URL/v25.0/123/phone_numbers" | tee "$OUT.wrk"
fi
RSS_AFTER=$(ps -o rss= -p "$PID")
REQUESTS=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$OUT.wrk")
rm -f "$OUT.wrk"
echo "server RSS: ${RSS_BEFORE} KiB -> ${RSS_AFTER} KiB after ${REQUESTS} requests"
if [ "${REQUESTS:-0}" -gt 0 ]; then
    echo "memory per request (ledger entry + request-log line for creates): $(( (RSS_AFTER - RSS_BEFORE) * 1024 / REQUESTS )) bytes"
fi
