#!/usr/bin/env bash
# make cluster: three KRaft brokers on this machine (deploy/kafka/kafka.sh cluster: ports 29092,
# 29102, 29112) and two workers on them, with replication factor 3 and min.insync.replicas 2
# from the project's settings. The single broker of `make run` (9092) is not touched.
#   deploy/local/cluster.sh start | stop | status
set -euo pipefail
cd "$(dirname "$0")/../.."

py=.venv/bin/python
dir=.run/cluster
pids=$dir/pids
logs=$dir/logs
say() { printf 'cluster: %s\n' "$*" >&2; }

export CAMPAIGNS_REPLICATION_FACTOR=${CAMPAIGNS_REPLICATION_FACTOR:-3}
export CAMPAIGNS_MIN_INSYNC_REPLICAS=${CAMPAIGNS_MIN_INSYNC_REPLICAS:-2}

alive() { [ -f "$pids/$1.pid" ] && kill -0 "$(cat "$pids/$1.pid")" 2>/dev/null; }

launch_worker() {  # name, health port
  local name=$1
  if alive "$name"; then say "$name already running (pid $(cat "$pids/$name.pid"))"; return 0; fi
  : > "$logs/$name.log"
  CAMPAIGNS_DATA_DIR=$dir/$name CAMPAIGNS_HEALTH_PORT=$2 CAMPAIGNS_DEDUP_DIR=$dir/dedup \
    nohup "$py" -m streams worker -l info >>"$logs/$name.log" 2>&1 </dev/null &
  echo $! > "$pids/$name.pid"
  local deadline=$((SECONDS + 120))
  until grep -q "Worker]: Ready" "$logs/$name.log"; do
    if ! alive "$name"; then say "$name exited; last lines:"; tail -n 20 "$logs/$name.log"; exit 1; fi
    if [ $SECONDS -ge $deadline ]; then say "$name not ready after 120 s; see $logs/$name.log"; exit 1; fi
    sleep 0.3
  done
  say "$name up (pid $(cat "$pids/$name.pid"), health http://127.0.0.1:$2/readyz, log $logs/$name.log)"
}

case "${1:-}" in
  start)
    mkdir -p "$pids" "$logs"
    deploy/kafka/kafka.sh cluster start
    CAMPAIGNS_KAFKA_BOOTSTRAP=$(deploy/kafka/kafka.sh cluster bootstrap)
    export CAMPAIGNS_KAFKA_BOOTSTRAP
    launch_worker worker-1 8011
    launch_worker worker-2 8012
    say "brokers $CAMPAIGNS_KAFKA_BOOTSTRAP (replication $CAMPAIGNS_REPLICATION_FACTOR," \
      "min.insync.replicas $CAMPAIGNS_MIN_INSYNC_REPLICAS); stop with: make cluster-stop"
    ;;
  stop)
    for name in worker-2 worker-1; do
      if alive "$name"; then kill -TERM "$(cat "$pids/$name.pid")"; say "$name stopped"; fi
      rm -f "$pids/$name.pid"
    done
    sleep 2
    deploy/kafka/kafka.sh cluster stop
    ;;
  status)
    deploy/kafka/kafka.sh cluster status || true
    for name in worker-1 worker-2; do
      if alive "$name"; then echo "$name running pid $(cat "$pids/$name.pid")"; else echo "$name stopped"; fi
    done
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
