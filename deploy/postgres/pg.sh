#!/usr/bin/env bash
# A private PostgreSQL instance for integration tests and production-like local runs.
#
#   deploy/postgres/pg.sh install   install the Debian postgresql package if no server is present
#   deploy/postgres/pg.sh start     initdb on first use, start, wait until ready, create the database
#   deploy/postgres/pg.sh stop      fast shutdown (no-op when not running)
#   deploy/postgres/pg.sh status    exit 0 when running and accepting connections, 3 otherwise
#   deploy/postgres/pg.sh url       the SQLAlchemy URL of the database
#
# Environment: PG_PORT (default 55432), PG_DB (default campaigns).
#
# The cluster lives under <project>/.run/postgres and listens on 127.0.0.1 only, with trust
# authentication and no Unix socket. It never touches the Debian default cluster (port 5432),
# whether that one is running or not. The server runs as the `postgres` OS user when this
# script runs as root (postgres refuses to run as root), otherwise as the calling user.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN_DIR="$ROOT/.run/postgres"
PORT="${PG_PORT:-55432}"
DB="${PG_DB:-campaigns}"
SUPERUSER="postgres"
HOST="127.0.0.1"
READY_TIMEOUT=60

log() { printf 'pg.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

pg_bin_dir() {
    # Newest installed major version wins (sort -V: 9 < 10 < 15).
    local server
    server="$(printf '%s\n' /usr/lib/postgresql/*/bin/postgres | sort -V | tail -n1)"
    [[ -x "$server" ]] || return 1
    dirname "$server"
}

require_bin() {
    PG_BIN="$(pg_bin_dir)" || die "no PostgreSQL server found under /usr/lib/postgresql; run: $0 install"
}

# Commands that touch the data directory must run as the cluster's OS owner.
as_owner() {
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Where the data directory and log live. Normally <project>/.run/postgres; if the postgres user
# cannot reach the project (e.g. a checkout under /root), fall back to a directory it can write,
# and record the choice so every subcommand finds the same cluster.
resolve_state_dir() {
    mkdir -p "$RUN_DIR"
    if [[ -f "$RUN_DIR/location" ]]; then
        STATE_DIR="$(cat "$RUN_DIR/location")"
    else
        STATE_DIR="$RUN_DIR"
    fi
    DATA_DIR="$STATE_DIR/data"
    LOG_FILE="$STATE_DIR/postgres.log"
}

prepare_state_dir() {
    resolve_state_dir
    [[ "$(id -u)" -eq 0 ]] || return 0
    if [[ "$STATE_DIR" == "$RUN_DIR" ]]; then
        chown postgres: "$RUN_DIR"
        if ! runuser -u postgres -- test -w "$RUN_DIR"; then
            local fallback
            fallback="/var/tmp/campaigns-postgres-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
            log "postgres cannot reach $RUN_DIR; using $fallback (recorded in $RUN_DIR/location)"
            install -d -o postgres -g postgres -m 0700 "$fallback"
            printf '%s\n' "$fallback" >"$RUN_DIR/location"
            resolve_state_dir
            ln -sfn "$LOG_FILE" "$RUN_DIR/postgres.log"
        fi
    fi
}

is_running() {
    [[ -f "$DATA_DIR/PG_VERSION" ]] && as_owner "$PG_BIN/pg_ctl" status -D "$DATA_DIR" >/dev/null 2>&1
}

# The port our running server was started with (line 4 of postmaster.pid).
running_port() {
    sed -n 4p "$DATA_DIR/postmaster.pid" 2>/dev/null
}

is_ready() {
    "$PG_BIN/pg_isready" -q -h "$HOST" -p "$PORT" -d postgres -U "$SUPERUSER" -t 2
}

psql_admin() {
    "$PG_BIN/psql" -X -q -w -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U "$SUPERUSER" -d postgres "$@"
}

init_cluster() {
    log "initialising a new cluster in $DATA_DIR"
    as_owner "$PG_BIN/initdb" -D "$DATA_DIR" -U "$SUPERUSER" -E UTF8 --no-locale \
        --auth-local=trust --auth-host=trust >/dev/null
    # Configuration that does not depend on the port (the port is given at each start).
    as_owner tee -a "$DATA_DIR/postgresql.conf" >/dev/null <<'EOF'

# --- campaigns: private test/dev instance (deploy/postgres/pg.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
timezone = 'UTC'
log_timezone = 'UTC'
EOF
    as_owner tee "$DATA_DIR/pg_hba.conf" >/dev/null <<'EOF'
# TYPE  DATABASE     USER  ADDRESS        METHOD
host    all          all   127.0.0.1/32   trust
host    replication  all   127.0.0.1/32   trust
EOF
}

ensure_database() {
    local exists
    exists="$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$SUPERUSER'")"
    [[ "$exists" == "1" ]] || psql_admin -c "CREATE ROLE \"$SUPERUSER\" LOGIN SUPERUSER"
    exists="$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")"
    if [[ "$exists" != "1" ]]; then
        log "creating database $DB"
        psql_admin -c "CREATE DATABASE \"$DB\" OWNER \"$SUPERUSER\""
    fi
}

wait_ready() {
    local waited=0
    until is_ready; do
        if (( waited >= READY_TIMEOUT )); then
            tail -n 20 "$LOG_FILE" >&2 2>/dev/null || true
            die "server not ready on $HOST:$PORT after ${READY_TIMEOUT}s (log: $LOG_FILE)"
        fi
        sleep 1
        waited=$((waited + 1))
    done
}

cmd_install() {
    if pg_bin_dir >/dev/null; then
        log "PostgreSQL server already installed in $(pg_bin_dir)"
        return 0
    fi
    [[ "$(id -u)" -eq 0 ]] || die "install needs root (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y postgresql
    pg_bin_dir >/dev/null || die "apt-get finished but no server binaries under /usr/lib/postgresql"
}

cmd_start() {
    require_bin
    prepare_state_dir
    # Two concurrent starts (parallel test sessions) must not both run initdb. The server must
    # not inherit this descriptor (see 9>&- below), or it would hold the lock for its lifetime.
    exec 9>"$RUN_DIR/.lock"
    flock -w "$READY_TIMEOUT" 9 || die "another pg.sh holds $RUN_DIR/.lock"

    if is_running; then
        local port
        port="$(running_port)"
        [[ "$port" == "$PORT" ]] || die "already running on port $port, not $PORT; stop it first"
        wait_ready
        ensure_database
        log "already running on $HOST:$PORT ($DATA_DIR)"
        return 0
    fi
    if is_ready; then
        die "port $PORT on $HOST is taken by another PostgreSQL server; set PG_PORT"
    fi
    [[ -f "$DATA_DIR/PG_VERSION" ]] || init_cluster
    # Run from a directory the server user can read, whatever the caller's cwd is.
    (cd / && as_owner "$PG_BIN/pg_ctl" start -D "$DATA_DIR" -l "$LOG_FILE" -w -t "$READY_TIMEOUT" \
        -o "-p $PORT" >/dev/null 9>&-) || {
        tail -n 20 "$LOG_FILE" >&2 2>/dev/null || true
        die "pg_ctl start failed (log: $LOG_FILE)"
    }
    wait_ready
    ensure_database
    log "started on $HOST:$PORT ($DATA_DIR)"
}

cmd_stop() {
    require_bin
    resolve_state_dir
    if ! is_running; then
        log "not running"
        return 0
    fi
    (cd / && as_owner "$PG_BIN/pg_ctl" stop -D "$DATA_DIR" -m fast -w -t "$READY_TIMEOUT" >/dev/null)
    log "stopped"
}

cmd_status() {
    require_bin
    resolve_state_dir
    if is_running && [[ "$(running_port)" != "$PORT" ]]; then
        echo "running on $HOST:$(running_port) (not PG_PORT=$PORT), data $DATA_DIR"
        return 0
    fi
    if is_running && is_ready; then
        echo "running on $HOST:$PORT, data $DATA_DIR"
        return 0
    fi
    if is_running; then
        echo "process running (data $DATA_DIR) but not accepting connections on $HOST:$PORT"
    else
        echo "not running (data $DATA_DIR)"
    fi
    return 3
}

cmd_url() {
    echo "postgresql+psycopg://$SUPERUSER@$HOST:$PORT/$DB"
}

usage() {
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
}

case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    url) cmd_url ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
esac
