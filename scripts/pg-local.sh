#!/bin/sh
# A PostgreSQL of the project's own under .data/pg, for `make run` and `make test` when
# HUB_DATABASE_URL is not set. PostgreSQL refuses to run as root, so as root it runs as `postgres`.
# pg_stat_statements is preloaded so a profile is one query away (CREATE EXTENSION pg_stat_statements).
# Usage: scripts/pg-local.sh start | stop | restart | url [database] | fresh-db NAME
set -eu
cd "$(dirname "$0")/.."
ROOT="$(pwd)/.data"
PGDATA="$ROOT/pg"
PORT="${HUB_PG_PORT:-54329}"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -n "$BIN" ] || { echo "pg-local: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
    mkdir -p "$ROOT"
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        mkdir -p "$PGDATA"
        [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
        as_owner "$BIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! as_owner "$BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
        as_owner "$BIN/pg_ctl" -D "$PGDATA" -w -l "$PGDATA/server.log" \
            -o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200 -c fsync=on -c shared_preload_libraries=pg_stat_statements" \
            start >/dev/null
    fi
    ;;
restart)
    # The same server stopped and started again (fast: sessions cut), for the cluster tests.
    as_owner "$BIN/pg_ctl" -D "$PGDATA" -w -m fast -l "$PGDATA/server.log" restart >/dev/null
    ;;
stop)
    as_owner "$BIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
    ;;
url)
    echo "postgresql://postgres@127.0.0.1:$PORT/${2:-hub}"
    ;;
fresh-db)
    name="${2:?database name}"
    psql -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" -c "CREATE DATABASE \"$name\"" >/dev/null
    ;;
ensure-db)
    name="${2:?database name}"
    psql -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" \
        | grep -q 1 || psql -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -c "CREATE DATABASE \"$name\"" >/dev/null
    ;;
*)
    echo "usage: $0 start | stop | restart | url [db] | fresh-db NAME | ensure-db NAME" >&2
    exit 2
    ;;
esac
