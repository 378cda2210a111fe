#!/bin/sh
# `make bench`: the standard benchmark matrix, bounded in time (about ten minutes), against release
# builds on this machine. Rewrites bench/results.md with the date, machine, commit and commands,
# and a summary of the targets: each channel figure beside the raw transport figure of the same
# run (this machine is noisy, so ratios within one run are what compare).
#   BENCH_ONLY=cluster: only the several-node scenarios (BENCH_OUT names the file, bench/cluster.md);
#   their scale: CLUSTER_SESSIONS_PER_NODE (6000), CLUSTER_RATE (1000/s), CLUSTER_SECONDS (30),
#   CLUSTER_BURST_MESSAGES (20), SINGLE_SESSIONS (10000, one node: HUB_BUS=postgres against memory),
#   CLUSTER_THREADS (event loops per node, 2).
set -eu
cd "$(dirname "$0")/../.."
swift build -c release >/dev/null
ONLY=${BENCH_ONLY:-all}
OUT=${BENCH_OUT:-bench/results.md}
[ "$ONLY" = cluster ] && OUT=${BENCH_OUT:-bench/cluster.md}
PER_NODE=${CLUSTER_SESSIONS_PER_NODE:-6000}
CRATE=${CLUSTER_RATE:-1000}
CSECONDS=${CLUSTER_SECONDS:-30}
CBURST=${CLUSTER_BURST_MESSAGES:-20}
SINGLE=${SINGLE_SESSIONS:-10000}
CTHREADS=${CLUSTER_THREADS:-2}
TMP=$(mktemp)
FIGURES=$(mktemp)
PORT=${BENCH_PORT:-18090}
SECRET=bench-secret-0123456789abcdef0123456789
LT=.build/release/loadtest
# The bench key, and rate limits out of the way (the scenarios measure the path, not the limits).
SERVICE="HUB_SERVICE_KEYS=bench-key HUB_RATE_LIMIT_ANON=10000000 HUB_RATE_LIMIT_USER=10000000 HUB_RATE_LIMIT_SERVICE=100000000"
HUBD_PID=none

start_hubd() {
    # SO_REUSEPORT would let a stray hubd on the same port take half the connections unseen.
    if ss -ltn "sport = :$PORT" 2>/dev/null | grep -q LISTEN; then
        echo "bench: port $PORT is already in use (a stray hubd?); stop it first" >&2
        exit 1
    fi
    # `env`: settings given as arguments ("$@") are assignments only through env (env execs hubd, same pid).
    env HUB_JWT_SECRET=$SECRET HUB_HOST=127.0.0.1 HUB_PORT=$PORT HUB_THREADS=2 HUB_ENABLE_ECHO=1 HUB_LOG_LEVEL=warning \
        HUB_MAX_CONNECTIONS=200000 "$@" .build/release/hubd >/dev/null 2>&1 &
    HUBD_PID=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/api/health/" >/dev/null 2>&1 && return; sleep 0.1; done
}
stop_hubd() {
    [ "$HUBD_PID" = none ] && return
    kill "$HUBD_PID" 2>/dev/null || true
    wait "$HUBD_PID" 2>/dev/null || true
    HUBD_PID=none
}

# start_cluster N settings…: N nodes on one database, ports PORT+1…PORT+N; NODES lists them.
start_cluster() {
    count=$1
    shift
    NODE_PIDS=""
    NODES=""
    for i in $(seq 1 "$count"); do
        port=$((PORT + i))
        if ss -ltn "sport = :$port" 2>/dev/null | grep -q LISTEN; then
            echo "bench: port $port is already in use (a stray hubd?); stop it first" >&2
            exit 1
        fi
        env HUB_JWT_SECRET=$SECRET HUB_HOST=127.0.0.1 HUB_PORT=$port HUB_THREADS=$CTHREADS HUB_LOG_LEVEL=warning \
            HUB_MAX_CONNECTIONS=200000 HUB_NODE_ID="bench-$i" "$@" .build/release/hubd >/dev/null 2>&1 &
        NODE_PIDS="$NODE_PIDS $!"
        NODES="${NODES:+$NODES,}127.0.0.1:$port"
    done
    for i in $(seq 1 "$count"); do
        for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$((PORT + i))/api/health/" >/dev/null 2>&1 && break; sleep 0.1; done
    done
}
stop_cluster() {
    for pid in ${NODE_PIDS:-}; do kill "$pid" 2>/dev/null || true; done
    for pid in ${NODE_PIDS:-}; do wait "$pid" 2>/dev/null || true; done
    NODE_PIDS=""
}
trap 'stop_hubd; stop_cluster' EXIT

# run LABEL loadtest-arguments…: prints the command and its output in a block; keeps its JSON line.
run() {
    label=$1
    shift
    echo '```'
    echo "\$ loadtest $*" | sed "s/--pid [0-9]*/--pid <hubd>/; s/--database-url [^ ]*/--database-url <local>/; s/--jwt-secret [^ ]*/--jwt-secret <secret>/; s/--service-key [^ ]*/--service-key <key>/"
    # shellcheck disable=SC2068
    SWIFT_BACKTRACE=enable=no timeout 600 $LT "$@" 2>&1 | tee "$FIGURES.last" | sed "s/$HUBD_PID/<hubd>/"
    echo '```'
    echo
    grep '^{' "$FIGURES.last" | tail -1 | sed "s/^/$label /" >> "$FIGURES" || true
}

{
    echo "# Benchmarks"
    echo
    echo "Written by \`make bench\` (loadtest/scripts/bench.sh). Load generator and server on the same machine."
    echo
    echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
    echo "- swift: $(swift --version 2>/dev/null | head -1)"
    echo "- hubd: release build, HUB_THREADS=2, HUB_LOG_LEVEL=warning; PostgreSQL 15 of the project's own (scripts/pg-local.sh)"
    # The kernel's writeback settings decide when the tables' dirty pages leave in bursts, which
    # bulk's worst windows follow (docs/deploy/postgresql.md); the bench reports them, never sets them.
    echo "- kernel writeback: vm.dirty_background_bytes $(cat /proc/sys/vm/dirty_background_bytes)," \
        "vm.dirty_background_ratio $(cat /proc/sys/vm/dirty_background_ratio)," \
        "vm.dirty_expire_centisecs $(cat /proc/sys/vm/dirty_expire_centisecs)"
    echo
    echo "@SUMMARY@"
    echo
    if [ "$ONLY" != cluster ]; then
    echo "## HTTP keep-alive: GET /api/health/, 100 connections"
    echo
    echo '```'
    echo "\$ loadtest/scripts/http-bench.sh 3 10"
    loadtest/scripts/http-bench.sh 3 10
    echo '```'
    echo
    echo "## The raw transport: no database, no REST (hubd with HUB_ENABLE_ECHO=1)"
    echo
    echo "What the channel figures below are compared to. \`ws-broadcast\` frames each message once and"
    echo "queues the same bytes on every connection; with 20 messages of 770 bytes (the size of a"
    echo "notification push) it is the ceiling of the fanout burst. \`ws-churn\` upgrades and closes with no"
    echo "token and no database: the ceiling of \`churn\`. Its memory per connection is the ceiling of \`idle\`."
    echo
    start_hubd
    run raw-echo ws-echo --port $PORT --connections 100 --seconds 10
    stop_hubd
    start_hubd
    run raw-broadcast ws-broadcast --port $PORT --connections 10000 --messages 100 --pid "$HUBD_PID"
    stop_hubd
    start_hubd
    run raw-broadcast-770 ws-broadcast --port $PORT --connections 10000 --messages 20 --message-bytes 770
    stop_hubd
    start_hubd
    run raw-churn ws-churn --port $PORT --connections 100 --seconds 10
    stop_hubd
    echo "## The channel under load: idle / fanout / targeted / bulk / churn"
    echo
    echo "Authenticated /ws/notifications/ sessions (users inserted in PostgreSQL, tokens minted with"
    echo "the shared secret), events posted over REST with a service key, latency from a monotonic"
    echo "timestamp carried in the event, also per 10-second window. hubd on a database created for the"
    echo "run; \`targeted --fresh-database\` empties the hub's tables again before it starts (a new"
    echo "deployment). loadtest runs as SCHED_BATCH, so its wake-ups do not preempt hubd."
    echo
    scripts/pg-local.sh fresh-db hub_load >/dev/null
    LURL=$(scripts/pg-local.sh url hub_load)
    # shellcheck disable=SC2086
    start_hubd HUB_DATABASE_URL="$LURL" $SERVICE
    DB="--database-url $LURL --jwt-secret $SECRET --service-key bench-key"
    # shellcheck disable=SC2086
    {
        # idle first, on the fresh hubd: after the other scenarios, memory they freed is reused by the
        # new sessions and the growth per session reads far too low.
        run idle idle --port $PORT --connections 19000 --seconds 10 --connect-rate 1000 --processes 2 --pid "$HUBD_PID" $DB
        run targeted targeted --port $PORT --connections 10000 --rate 1000 --seconds 60 --fresh-database $DB
        run find-max targeted --port $PORT --connections 10000 --find-max --rate 1000 --step-seconds 10 $DB
        run bulk bulk --port $PORT --connections 10000 --rate 100 --events-per-request 100 --seconds 30 $DB
        # The burst and churn targets are ratios to the raw transport, so each is measured in turns
        # with its raw counterpart on this same hubd, three times (the summary takes the medians):
        # this machine's speed drifts by the minute (raw ws-churn alone gave 13,669 and 22,858
        # upgrades/s ten minutes apart), and the raw runs at the top are minutes away.
        for turn in 1 2 3; do
            run raw-broadcast-770-beside ws-broadcast --port $PORT --connections 10000 --messages 20 --message-bytes 770
            run fanout fanout --port $PORT --connections 10000 --messages 20 $DB
        done
        run fanout-paced fanout --port $PORT --connections 1000 --messages 100 --rate 20 $DB
        for turn in 1 2 3; do
            run raw-churn-beside ws-churn --port $PORT --connections 100 --seconds 10
            run churn churn --port $PORT --connections 100 --seconds 10 $DB
        done
    }
    stop_hubd
    echo "## One event to a room of 10,000 members"
    echo
    echo "POST /api/v1/events/ with \`recipients.rooms\`: 10,000 notifications stored by one statement, then 202;"
    echo "five such events one after the other, and their median."
    echo
    echo '```'
    echo "\$ loadtest/scripts/room-event-bench.py 10000 5"
    python3 loadtest/scripts/room-event-bench.py 10000 5 | tee "$FIGURES.last"
    echo '```'
    grep '^{' "$FIGURES.last" | tail -1 | sed "s/^/room /" >> "$FIGURES" || true
    fi
    echo "## Several nodes on one PostgreSQL (the bus, docs/bus.md)"
    echo
    echo "Three nodes (HUB_THREADS=$CTHREADS each) on one database, $PER_NODE sessions on each (loadtest --nodes: worker"
    echo "process i holds its sessions on node i mod 3); every event posted to node 1, so the sessions on"
    echo "nodes 2 and 3 receive through the bus. Then one node with HUB_BUS=postgres against HUB_BUS=memory."
    echo
    scripts/pg-local.sh fresh-db hub_cluster >/dev/null
    CURL=$(scripts/pg-local.sh url hub_cluster)
    CDB="--database-url $CURL --jwt-secret $SECRET --service-key bench-key"
    # shellcheck disable=SC2086
    start_cluster 3 HUB_DATABASE_URL="$CURL" $SERVICE
    # shellcheck disable=SC2086
    {
        run cluster-targeted targeted --nodes "$NODES" --post-to 1 --connections $((3 * PER_NODE)) --rate "$CRATE" \
            --seconds "$CSECONDS" --fresh-database $CDB
        run cluster-burst fanout --nodes "$NODES" --post-to 1 --connections $((3 * PER_NODE)) --messages "$CBURST" $CDB
    }
    stop_cluster
    for bus in postgres memory; do
        scripts/pg-local.sh fresh-db hub_cluster >/dev/null
        # shellcheck disable=SC2086
        start_hubd HUB_DATABASE_URL="$CURL" HUB_BUS=$bus $SERVICE
        echo "One node, HUB_BUS=$bus:"
        echo
        # shellcheck disable=SC2086
        run "single-$bus" targeted --port $PORT --connections "$SINGLE" --rate "$CRATE" --seconds "$CSECONDS" $CDB
        stop_hubd
    done
} > "$TMP"
python3 loadtest/scripts/bench-summary.py "$FIGURES" "$TMP" > "$OUT"
rm -f "$TMP" "$FIGURES" "$FIGURES.last"
cat "$OUT"
