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
    echo "The same transport with the shape of the fanout scenario below: 20 messages of 770 bytes (the size"
    echo "of a notification push) to 10,000 connections, with no database and no REST in the path. It is"
    echo "the ceiling of \`fanout\` on this machine: loopback TCP costs the kernel per byte and per wake-up."
    echo
    start_hubd
    echo '```'
    echo "\$ loadtest ws-broadcast --port $PORT --connections 10000 --messages 20 --message-bytes 770"
    .build/release/loadtest ws-broadcast --port $PORT --connections 10000 --messages 20 --message-bytes 770
    echo '```'
    stop_hubd
    echo
    echo "## The channel under load: loadtest idle / fanout / targeted / churn"
    echo
    echo "Authenticated /ws/notifications/ sessions (users inserted in PostgreSQL, tokens minted with"
    echo "the shared secret), events posted over REST with a service key, latency from a monotonic"
    echo "timestamp carried in the event. hubd with HUB_DATABASE_URL (local PostgreSQL, 4 pool workers)."
    echo "loadtest runs as SCHED_BATCH, so its wake-ups do not preempt hubd (\`--interactive\` turns that off)."
    echo
    scripts/pg-local.sh fresh-db hub_load >/dev/null
    LURL=$(scripts/pg-local.sh url hub_load)
    HUB_JWT_SECRET=$SECRET HUB_HOST=127.0.0.1 HUB_PORT=$PORT HUB_THREADS=2 HUB_LOG_LEVEL=warning \
        HUB_DATABASE_URL=$LURL HUB_SERVICE_KEYS=bench-key HUB_RATE_LIMIT_ANON=10000000 HUB_RATE_LIMIT_USER=10000000 \
        .build/release/hubd >/dev/null 2>&1 &
    HUBD_PID=$!
    for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/api/health/" >/dev/null 2>&1 && break; sleep 0.1; done
    LT="--port $PORT --database-url $LURL --jwt-secret $SECRET --service-key bench-key"
    for scenario in "idle --connections 19000 --seconds 10 --connect-rate 1000 --processes 2 --pid $HUBD_PID" \
                    "fanout --connections 10000 --messages 20" \
                    "fanout --connections 1000 --messages 100 --rate 20" \
                    "targeted --connections 10000 --rate 1000 --seconds 10" \
                    "churn --connections 100 --seconds 10"; do
        echo '```'
        echo "\$ loadtest $scenario --database-url <local> --jwt-secret <secret> --service-key <key>"
        # shellcheck disable=SC2086
        SWIFT_BACKTRACE=enable=no timeout 300 .build/release/loadtest $scenario $LT 2>&1 | sed "s/$HUBD_PID/<hubd>/"
        echo '```'
        echo
    done
    stop_hubd
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
