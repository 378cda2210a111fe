#!/bin/sh
# Keep-alive HTTP throughput of /api/health/ with wrk: 100 connections, 2 wrk threads, against a
# release hubd with 2 loop threads, on this machine. Prints each run and the median.
# Usage: loadtest/scripts/http-bench.sh [runs] [seconds]
set -eu
cd "$(dirname "$0")/../.."
RUNS="${1:-3}"
SECONDS_PER_RUN="${2:-10}"
PORT="${HUB_BENCH_PORT:-18080}"
command -v wrk >/dev/null || {
    if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
    else echo "http-bench: wrk is missing (apt-get install wrk)" >&2; exit 1; fi
}
swift build -c release >/dev/null
HUB_JWT_SECRET=bench-secret-0123456789abcdef0123456789 HUB_HOST=127.0.0.1 HUB_PORT="$PORT" HUB_THREADS=2 \
    HUB_LOG_LEVEL=warning .build/release/hubd >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/api/health/" >/dev/null 2>&1 && break; sleep 0.1; done
wrk -t2 -c100 -d2s "http://127.0.0.1:$PORT/api/health/" >/dev/null   # warm-up
results=""
for run in $(seq 1 "$RUNS"); do
    rps=$(wrk -t2 -c100 -d"${SECONDS_PER_RUN}s" "http://127.0.0.1:$PORT/api/health/" | awk '/Requests\/sec/ {print int($2)}')
    echo "run $run: $rps requests/s"
    results="$results $rps"
done
median=$(echo $results | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "median: $median requests/s (wrk -t2 -c100 -d${SECONDS_PER_RUN}s, hubd HUB_THREADS=2, $(nproc) cores)"
