#!/bin/sh
# `make bench`: the standard benchmark matrix, bounded in time (a few minutes), against release
# builds on this machine. Rewrites bench/results.md with the date, machine, commit and commands.
set -eu
cd "$(dirname "$0")/../.."
swift build -c release >/dev/null
OUT=bench/results.md
TMP=$(mktemp)
PORT=18090
SECRET=bench-secret-0123456789abcdef0123456789

start_hubd() {
    HUB_JWT_SECRET=$SECRET HUB_HOST=127.0.0.1 HUB_PORT=$PORT HUB_THREADS=2 HUB_ENABLE_ECHO=1 HUB_LOG_LEVEL=warning \
        HUB_MAX_CONNECTIONS=200000 .build/release/hubd >/dev/null 2>&1 &
    HUBD_PID=$!
    for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/api/health/" >/dev/null 2>&1 && return; sleep 0.1; done
}
stop_hubd() { kill "$HUBD_PID" 2>/dev/null || true; wait "$HUBD_PID" 2>/dev/null || true; }
trap stop_hubd EXIT

{
    echo "# Benchmarks"
    echo
    echo "Written by \`make bench\` (loadtest/scripts/bench.sh). Load generator and server on the same machine."
    echo
    echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
    echo "- swift: $(swift --version 2>/dev/null | head -1)"
    echo "- hubd: release build, HUB_THREADS=2, HUB_LOG_LEVEL=warning"
    echo
    echo "## HTTP keep-alive: GET /api/health/, 100 connections"
    echo
    echo '```'
    echo "\$ loadtest/scripts/http-bench.sh 3 10"
    loadtest/scripts/http-bench.sh 3 10
    echo '```'
    echo
    echo "## WebSocket echo round trips: 100 connections, 10 s"
    echo
    start_hubd
    echo '```'
    echo "\$ loadtest ws-echo --port $PORT --connections 100 --seconds 10"
    .build/release/loadtest ws-echo --port $PORT --connections 100 --seconds 10
    echo '```'
    stop_hubd
    echo
    echo "## WebSocket broadcast: one publisher, 10,000 receivers, 100 messages sent back to back"
    echo
    echo "Each message is framed once by the server and the same bytes are queued on every connection."
    echo "Latency is from the publish to the receipt, so with a burst of 100 messages it includes the"
    echo "queueing of the whole burst (1,000,000 deliveries)."
    echo
    start_hubd
    echo '```'
    echo "\$ loadtest ws-broadcast --port $PORT --connections 10000 --messages 100 --pid <hubd>"
    .build/release/loadtest ws-broadcast --port $PORT --connections 10000 --messages 100 --pid "$HUBD_PID"
    echo '```'
    stop_hubd
    echo
    echo "## One event to a room of 10,000 members"
    echo
    echo "POST /api/v1/events/ with \`recipients.rooms\`: 10,000 notifications stored in one transaction"
    echo "(statements counted from PostgreSQL's statement log), then 202."
    echo
    echo '```'
    echo "\$ loadtest/scripts/room-event-bench.py 10000"
    python3 loadtest/scripts/room-event-bench.py 10000
    echo '```'
} > "$TMP"
mv "$TMP" "$OUT"
cat "$OUT"
