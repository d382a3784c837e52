#!/usr/bin/env bash
# make run / make stop / make rotate-dev-credentials: the whole platform on its embedded defaults
# (local Kafka, SQLite), every process in the background with its log under .run/logs.
#
# Environment (defaults in brackets), so a second platform can run beside a developer's (the
# tests do): CAMPAIGNS_RUN_DIR [.run] holds pids, logs, the database, the worker's data and the dev
# credentials; CAMPAIGNS_RUN_KAFKA [local] starts and stops the local broker, `external` uses
# CAMPAIGNS_KAFKA_BOOTSTRAP as it is and never stops it; CAMPAIGNS_API_PORT [8000],
# CAMPAIGNS_HEALTH_PORT [8001], CAMPAIGNS_TOPIC_PREFIX and CAMPAIGNS_APP_ID as every process reads them.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
run=${CAMPAIGNS_RUN_DIR:-.run}
pids=$run/pids
logs=$run/logs
credentials=$run/dev-credentials
kafka_mode=${CAMPAIGNS_RUN_KAFKA:-local}
py=.venv/bin/python
# Every process of this platform carries CAMPAIGNS_RUN_DIR in its environment (and so do the
# processes they spawn): tests find what a run left behind by it.
export CAMPAIGNS_RUN_DIR=$run
export CAMPAIGNS_API_PORT=${CAMPAIGNS_API_PORT:-8000}
export CAMPAIGNS_HEALTH_PORT=${CAMPAIGNS_HEALTH_PORT:-8001}
export CAMPAIGNS_DATABASE_URL=${CAMPAIGNS_DATABASE_URL:-sqlite:///$run/campaigns.db}
export CAMPAIGNS_DATA_DIR=${CAMPAIGNS_DATA_DIR:-$run/worker}
export CAMPAIGNS_DEDUP_DIR=${CAMPAIGNS_DEDUP_DIR:-$run/dedup}
# make run is a developer's machine: development mode, where (only) a dev admin, keys and a
# display token exist (services/admin dev-bootstrap). Production has none.
export CAMPAIGNS_ENVIRONMENT=${CAMPAIGNS_ENVIRONMENT:-development}
api_port=$CAMPAIGNS_API_PORT
worker_health_port=$CAMPAIGNS_HEALTH_PORT

say() { printf 'run: %s\n' "$*"; }

alive() { [ -f "$pids/$1.pid" ] && kill -0 "$(cat "$pids/$1.pid")" 2>/dev/null; }

launch() {  # name, ready-text, command...
  local name=$1 ready=$2; shift 2
  if alive "$name"; then say "$name already running (pid $(cat "$pids/$name.pid"))"; return 0; fi
  : > "$logs/$name.log"
  nohup "$@" >>"$logs/$name.log" 2>&1 </dev/null &
  echo $! > "$pids/$name.pid"
  local deadline=$((SECONDS + 120))
  until grep -q "$ready" "$logs/$name.log"; do
    if ! alive "$name"; then say "$name exited; last lines of $logs/$name.log:"; tail -n 20 "$logs/$name.log"; exit 1; fi
    if [ $SECONDS -ge $deadline ]; then say "$name not ready after 120 s; see $logs/$name.log"; exit 1; fi
    sleep 0.3
  done
  say "$name up (pid $(cat "$pids/$name.pid"), log $logs/$name.log)"
}

kafka_start() {
  if [ "$kafka_mode" = local ]; then deploy/kafka/kafka.sh start; fi
}

kafka_where() {
  if [ "$kafka_mode" = local ]; then
    echo "127.0.0.1:${KAFKA_PORT:-9092}                (log: $(deploy/kafka/kafka.sh log | sed "s|^$root/||"))"
  else
    echo "${CAMPAIGNS_KAFKA_BOOTSTRAP:-127.0.0.1:9092}                (not started by make run)"
  fi
}

start() {
  mkdir -p "$pids" "$logs" "$CAMPAIGNS_DATA_DIR"
  kafka_start
  launch worker "Worker]: Ready" "$py" -m streams worker -l info
  launch sink "sink: ready" "$py" -m services.sink
  launch api "Uvicorn running" "$py" -m services.api
  # 企业微信 messages: sends only for competitions given a robot (console, PUT …/notifications).
  launch notify "notify: ready" "$py" -m services.notify
  if [ -f services/demo/__main__.py ]; then
    launch demo "demo: feeding" "$py" -m services.demo
  fi
  # Dev credentials that last: those of an earlier start are kept while the database accepts
  # them, so a second `make run` locks out no open screen, session or shell; only missing or
  # dead ones are made. `make rotate-dev-credentials` makes all anew. Readable by the user only.
  "$py" -m services.admin dev-bootstrap --write "$credentials" >/dev/null
  # shellcheck disable=SC1090
  . "$credentials"
  # Page URLs carry the display token (read-only, one sub-branch), never a key that can write.
  cat <<MSG

  普惠金融 campaigns platform is running (everything binds to 127.0.0.1):
    boards          $CAMPAIGNS_DEV_BOARDS_URL
    wall screen     $CAMPAIGNS_DEV_SCREEN_URL
    a manager       $CAMPAIGNS_DEV_MANAGER_URL
    API             http://127.0.0.1:$api_port/docs   (Authorize with a key from $credentials)
    console         http://127.0.0.1:$api_port/console   user $CAMPAIGNS_DEV_ADMIN_USER  password $CAMPAIGNS_DEV_ADMIN_PASSWORD
    dev keys        $credentials (organiser, source and display keys; kept across make run,
                    new with make rotate-dev-credentials; use them in a shell: . $credentials)
    worker health   http://127.0.0.1:$worker_health_port/readyz
    Kafka broker    $(kafka_where)
    database        $CAMPAIGNS_DATABASE_URL
    logs            $logs/{worker,sink,api,notify,demo}.log
  Stop everything with: make stop

MSG
}

rotate() {
  "$py" -m services.admin rotate-dev --write "$credentials" >/dev/null
  say "new dev credentials in $credentials; open pages need the new URLs:"
  # shellcheck disable=SC1090
  . "$credentials"
  printf '    boards          %s\n    wall screen     %s\n    a manager       %s\n' \
    "$CAMPAIGNS_DEV_BOARDS_URL" "$CAMPAIGNS_DEV_SCREEN_URL" "$CAMPAIGNS_DEV_MANAGER_URL"
  say "console: user $CAMPAIGNS_DEV_ADMIN_USER password $CAMPAIGNS_DEV_ADMIN_PASSWORD"
}

stop() {
  for name in demo notify api sink worker; do
    if alive "$name"; then
      kill -TERM "$(cat "$pids/$name.pid")"
      for _ in $(seq 1 100); do alive "$name" || break; sleep 0.2; done
      alive "$name" && kill -KILL "$(cat "$pids/$name.pid")"
      say "$name stopped"
    fi
    rm -f "$pids/$name.pid"
  done
  if [ "$kafka_mode" = local ]; then deploy/kafka/kafka.sh stop; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  rotate-credentials) rotate ;;
  *) echo "usage: $0 start|stop|rotate-credentials" >&2; exit 2 ;;
esac
