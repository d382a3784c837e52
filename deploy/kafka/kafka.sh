#!/usr/bin/env bash
# Local Apache Kafka (KRaft) from the jars on Maven Central.
#   kafka.sh fetch | start | stop | status | wait | log | reset      the single node
#   kafka.sh cluster start | stop | status | bootstrap | reset       three nodes on this machine
#   kafka.sh cluster kill N | start-node N                           SIGKILL / start node N (1-3)
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_RUN_DIR (.run/kafka).
# The cluster: node N listens on KAFKA_CLUSTER_PORT + 10*(N-1) (29092, 29102, 29112), its controller
# one above, data under KAFKA_CLUSTER_DIR/node-N (.run/kafka-cluster); replication factor and
# min.insync.replicas from the project's settings, CAMPAIGNS_REPLICATION_FACTOR (3 here) and
# CAMPAIGNS_MIN_INSYNC_REPLICAS (2). The single node on 9092 is left alone.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
port=${KAFKA_PORT:-9092}
controller_port=${KAFKA_CONTROLLER_PORT:-9093}
run_dir=${KAFKA_RUN_DIR:-$root/.run/kafka}
lib_dir=$root/.cache/kafka/lib
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
pid_file=$run_dir/kafka.pid
log_file=$run_dir/kafka.log
node_id=1
voters="1@127.0.0.1:$controller_port"
replication=1
min_isr=1
heap=1g
cluster_port=${KAFKA_CLUSTER_PORT:-29092}
cluster_dir=${KAFKA_CLUSTER_DIR:-$root/.run/kafka-cluster}
cluster_nodes=3

say() { printf 'kafka: %s\n' "$*" >&2; }

fetch() {
  if [ -f "$lib_dir/.complete-$version" ]; then return 0; fi
  command -v java >/dev/null || { say "java not found (Java 17 is required)"; exit 1; }
  command -v mvn >/dev/null || { say "mvn not found (apt-get install maven)"; exit 1; }
  say "fetching Apache Kafka $version jars with Maven into .cache/kafka/lib"
  rm -rf "$lib_dir"
  mkdir -p "$lib_dir"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$lib_dir" -DincludeScope=runtime >&2
  touch "$lib_dir/.complete-$version"
}

running() {
  [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

java_run() {
  java -Xms256m -Xmx$heap -XX:+UseG1GC -Dlog4j.configuration="file:$here/log4j.properties" \
    -Dkafka.logs.dir="$run_dir" -cp "$lib_dir/*" "$@"
}

start() {
  fetch
  if running; then say "already running (pid $(cat "$pid_file")) on 127.0.0.1:$port"; wait_ready; return 0; fi
  if port_open; then say "port $port is taken by another process"; exit 1; fi
  mkdir -p "$run_dir/data"
  sed -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$controller_port|g" \
      -e "s|@DATA_DIR@|$run_dir/data|g" -e "s|@NODE_ID@|$node_id|g" -e "s|@VOTERS@|$voters|g" \
      -e "s|@REPLICATION@|$replication|g" -e "s|@MIN_ISR@|$min_isr|g" \
      "$here/server.properties.in" > "$run_dir/server.properties"
  if [ ! -f "$run_dir/data/meta.properties" ]; then
    # Format once; the cluster id stays with the data so a second start reuses it (the nodes
    # of the cluster share one, made by `cluster start`).
    cluster_id=${KAFKA_CLUSTER_ID:-$(java_run kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)}
    java_run kafka.tools.StorageTool format -t "$cluster_id" -c "$run_dir/server.properties" >>"$log_file" 2>&1
  fi
  say "starting node $node_id on 127.0.0.1:$port, log: ${log_file#"$root"/}"
  nohup java -Xms256m -Xmx$heap -XX:+UseG1GC -Dlog4j.configuration="file:$here/log4j.properties" \
    -Dkafka.logs.dir="$run_dir" -cp "$lib_dir/*" kafka.Kafka "$run_dir/server.properties" \
    >>"$log_file" 2>&1 </dev/null &
  echo $! > "$pid_file"
  wait_ready
}

wait_ready() {
  local deadline=$((SECONDS + ${KAFKA_WAIT_SECONDS:-90}))
  until grep -q "Kafka Server started" "$log_file" 2>/dev/null && port_open; do
    if ! running; then say "broker exited; last log lines:"; tail -n 30 "$log_file" >&2; exit 1; fi
    if [ $SECONDS -ge $deadline ]; then say "not ready after ${KAFKA_WAIT_SECONDS:-90}s"; exit 1; fi
    sleep 0.3
  done
  say "ready on 127.0.0.1:$port"
}

stop() {
  if ! running; then rm -f "$pid_file"; say "not running"; return 0; fi
  local pid; pid=$(cat "$pid_file")
  kill -TERM "$pid"
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then say "did not stop in 30s; killing"; kill -KILL "$pid"; fi
  rm -f "$pid_file"
  # The readiness check greps the log; start each run's log afresh from here on.
  [ -f "$log_file" ] && mv "$log_file" "$log_file.prev"
  say "stopped"
}

# -- the three-node cluster ---------------------------------------------------------------------

node() {  # point the single-node functions at node $1 of the cluster
  node_id=$1
  port=$((cluster_port + 10 * (node_id - 1)))
  controller_port=$((port + 1))
  run_dir=$cluster_dir/node-$node_id
  pid_file=$run_dir/kafka.pid
  log_file=$run_dir/kafka.log
  replication=${CAMPAIGNS_REPLICATION_FACTOR:-3}
  min_isr=${CAMPAIGNS_MIN_INSYNC_REPLICAS:-2}
  heap=${KAFKA_CLUSTER_HEAP:-512m}
  voters=""
  local n
  for n in $(seq 1 $cluster_nodes); do
    voters="$voters${voters:+,}$n@127.0.0.1:$((cluster_port + 10 * (n - 1) + 1))"
  done
}

cluster_bootstrap() {
  local n out=""
  for n in $(seq 1 $cluster_nodes); do out="$out${out:+,}127.0.0.1:$((cluster_port + 10 * (n - 1)))"; done
  echo "$out"
}

cluster_start_node() {  # starts node $1 without waiting (a controller quorum needs two of three)
  node "$1"
  if running; then say "node $1 already running (pid $(cat "$pid_file"))"; return 0; fi
  if port_open; then say "port $port is taken by another process"; exit 1; fi
  mkdir -p "$run_dir/data"
  [ -f "$log_file" ] && mv "$log_file" "$log_file.prev"
  (wait_ready() { :; }; start)
}

cluster() {
  case "${1:-}" in
    start)
      fetch
      mkdir -p "$cluster_dir"
      [ -f "$cluster_dir/cluster.id" ] ||
        java_run kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 > "$cluster_dir/cluster.id"
      export KAFKA_CLUSTER_ID; KAFKA_CLUSTER_ID=$(cat "$cluster_dir/cluster.id")
      local n
      for n in $(seq 1 $cluster_nodes); do cluster_start_node "$n"; done
      for n in $(seq 1 $cluster_nodes); do node "$n"; wait_ready; done
      say "cluster ready: $(cluster_bootstrap)"
      ;;
    start-node)
      export KAFKA_CLUSTER_ID; KAFKA_CLUSTER_ID=$(cat "$cluster_dir/cluster.id")
      cluster_start_node "$2"; node "$2"; wait_ready
      ;;
    kill)
      node "$2"
      if running; then kill -KILL "$(cat "$pid_file")"; rm -f "$pid_file"; say "node $2 SIGKILLed"; fi
      ;;
    stop) local n; for n in $(seq 1 $cluster_nodes); do node "$n"; stop; done ;;
    status)
      local n down=0
      for n in $(seq 1 $cluster_nodes); do
        node "$n"
        if running; then echo "node $n running pid $(cat "$pid_file") 127.0.0.1:$port"; else echo "node $n stopped"; down=1; fi
      done
      [ $down = 0 ] || exit 3
      ;;
    bootstrap) cluster_bootstrap ;;
    reset) cluster stop; rm -rf "$cluster_dir" ;;
    *) echo "usage: $0 cluster start|stop|status|bootstrap|kill N|start-node N|reset" >&2; exit 2 ;;
  esac
}

case "${1:-}" in
  cluster) shift; cluster "$@" ;;
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  wait) wait_ready ;;
  status) if running; then echo "running pid $(cat "$pid_file") 127.0.0.1:$port"; else echo "stopped"; exit 3; fi ;;
  log) echo "$log_file" ;;
  reset) stop; rm -rf "$run_dir" ;;
  *) echo "usage: $0 fetch|start|stop|status|wait|log|reset" >&2; exit 2 ;;
esac
