#!/usr/bin/env bash
# make run / make stop: the whole platform on its embedded defaults (local Kafka, SQLite),
# every process in the background with its log under .run/logs.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
pids=.run/pids
logs=.run/logs
api_port=${CAMPAIGNS_API_PORT:-8000}
worker_health_port=${CAMPAIGNS_HEALTH_PORT:-8001}
py=.venv/bin/python
# make run is a developer's machine: development mode, where (only) a dev admin, keys and a
# display token are made on every start (services/admin dev-bootstrap). Production has none.
export CAMPAIGNS_ENVIRONMENT=${CAMPAIGNS_ENVIRONMENT:-development}

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

start() {
  mkdir -p "$pids" "$logs" .run/worker
  deploy/kafka/kafka.sh start
  CAMPAIGNS_HEALTH_PORT=$worker_health_port launch worker "Worker]: Ready" "$py" -m streams worker -l info
  launch sink "sink: ready" "$py" -m services.sink
  launch api "Uvicorn running" "$py" -m services.api
  if [ -f services/demo/__main__.py ]; then
    launch demo "demo: feeding" "$py" -m services.demo
  fi
  # Fresh dev credentials (the previous ones are revoked), kept in a file only the user can read.
  "$py" -m services.admin dev-bootstrap --write .run/dev-credentials >/dev/null
  # shellcheck disable=SC1091
  . .run/dev-credentials
  cat <<MSG

  普惠金融 campaigns platform is running (everything binds to 127.0.0.1):
    boards          http://127.0.0.1:$api_port/?token=$CAMPAIGNS_DEV_DISPLAY_TOKEN
    wall screen     $CAMPAIGNS_DEV_SCREEN_URL
    a manager       http://127.0.0.1:$api_port/me/cm-101?token=$CAMPAIGNS_DEV_ORGANISER_KEY
    API             http://127.0.0.1:$api_port/docs   (Authorization: Bearer <a key from .run/dev-credentials>)
    console         http://127.0.0.1:$api_port/console   user $CAMPAIGNS_DEV_ADMIN_USER  password $CAMPAIGNS_DEV_ADMIN_PASSWORD
    dev keys        .run/dev-credentials (organiser, source and display keys; new on every make run)
    worker health   http://127.0.0.1:$worker_health_port/readyz
    Kafka broker    127.0.0.1:${KAFKA_PORT:-9092}                (log: $(deploy/kafka/kafka.sh log | sed "s|^$root/||"))
    database        SQLite at .run/campaigns.db
    logs            $logs/{worker,sink,api,demo}.log
  Stop everything with: make stop

MSG
}

stop() {
  for name in demo api sink worker; do
    if alive "$name"; then
      kill -TERM "$(cat "$pids/$name.pid")"
      for _ in $(seq 1 100); do alive "$name" || break; sleep 0.2; done
      alive "$name" && kill -KILL "$(cat "$pids/$name.pid")"
      say "$name stopped"
    fi
    rm -f "$pids/$name.pid"
  done
  deploy/kafka/kafka.sh stop
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
