#!/bin/sh
# A local cluster for tests and demos: N hubd nodes on one database, on consecutive ports.
# Usage: scripts/cluster.sh start N | stop | status
#   CLUSTER_BASE_PORT (8001): node i listens on BASE+i-1; CLUSTER_BINARY (.build/release/hubd, else
#   .build/debug/hubd); HUB_DATABASE_URL (else the project's PostgreSQL, database "hub"); every other
#   HUB_* setting in the environment reaches each node (HUB_NODE_ID is node-<i>). Logs and pids in
#   .data/cluster/.
set -eu
cd "$(dirname "$0")/.."
DIR=.data/cluster
BASE=${CLUSTER_BASE_PORT:-8001}
BINARY=${CLUSTER_BINARY:-}
if [ -z "$BINARY" ]; then
    if [ -x .build/release/hubd ]; then BINARY=.build/release/hubd; else BINARY=.build/debug/hubd; fi
fi

stop_all() {
    [ -d "$DIR" ] || return 0
    for pidfile in "$DIR"/node-*.pid; do
        [ -e "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        # SIGTERM: each node tells the others at once that its sessions are gone.
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        rm -f "$pidfile"
    done
}

case "${1:-}" in
start)
    count=${2:?number of nodes}
    [ -x "$BINARY" ] || { echo "cluster: $BINARY not built (swift build -c release)" >&2; exit 1; }
    stop_all
    mkdir -p "$DIR"
    if [ -z "${HUB_DATABASE_URL:-}" ]; then
        scripts/pg-local.sh start
        scripts/pg-local.sh ensure-db hub
        HUB_DATABASE_URL=$(scripts/pg-local.sh url hub)
    fi
    [ -s .data/jwt-secret ] || { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > .data/jwt-secret; chmod 600 .data/jwt-secret; }
    i=1
    while [ "$i" -le "$count" ]; do
        port=$((BASE + i - 1))
        env HUB_DATABASE_URL="$HUB_DATABASE_URL" HUB_JWT_SECRET="${HUB_JWT_SECRET:-$(cat .data/jwt-secret)}" \
            HUB_HOST="${HUB_HOST:-127.0.0.1}" HUB_PORT="$port" HUB_NODE_ID="node-$i" \
            "$BINARY" > "$DIR/node-$i.log" 2>&1 &
        echo $! > "$DIR/node-$i.pid"
        i=$((i + 1))
    done
    i=1
    while [ "$i" -le "$count" ]; do
        port=$((BASE + i - 1))
        ok=
        for _ in $(seq 1 150); do
            if curl -sf "http://127.0.0.1:$port/api/health/" >/dev/null 2>&1; then ok=1; break; fi
            sleep 0.1
        done
        [ -n "$ok" ] || { echo "cluster: node-$i did not start; see $DIR/node-$i.log" >&2; stop_all; exit 1; }
        echo "node-$i  http://127.0.0.1:$port  pid $(cat "$DIR/node-$i.pid")  log $DIR/node-$i.log"
        i=$((i + 1))
    done
    ;;
stop)
    stop_all
    ;;
status)
    for pidfile in "$DIR"/node-*.pid; do
        [ -e "$pidfile" ] || { echo "no nodes"; exit 0; }
        node=$(basename "$pidfile" .pid)
        port=$((BASE + ${node#node-} - 1))
        echo "$node (pid $(cat "$pidfile")): $(curl -s "http://127.0.0.1:$port/api/health/" || echo down)"
    done
    ;;
*)
    echo "usage: $0 start N | stop | status" >&2
    exit 2
    ;;
esac
