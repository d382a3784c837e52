#!/usr/bin/env bash
# make faults: start the real Kafka broker and PostgreSQL (as make test does), run the fault
# scenarios (python -m tests.faults; arguments are passed on), stop what we started. Then, unless
# scenarios were named or FAULTS_CLUSTER=0, the cluster's scenarios on three brokers of this
# machine (kafka.sh cluster, started and stopped here if it was not running). The last line
# counts both: "N passed, M failed".
# The broker-restart scenario stops and starts the broker itself and always leaves it running.
set -euo pipefail
cd "$(dirname "$0")/../.."

. deploy/local/services.sh

note_kafka
if ! deploy/kafka/kafka.sh start; then
  # The broker-restart scenario stops and starts this checkout's broker: it cannot borrow another.
  echo "faults: no broker of this checkout on 127.0.0.1:${KAFKA_PORT:-9092}; if another one holds the" \
    "port, wait for it or use private ports, e.g. KAFKA_PORT=19092 KAFKA_CONTROLLER_PORT=19093" \
    "KAFKA_RUN_DIR=\$PWD/.run/kafka-faults make faults" >&2
  exit 1
fi

start_postgres

# Its last line is "N passed, M failed"; it exits 1 if any scenario failed.
single=$(mktemp) clustered=$(mktemp)
trap 'rm -f "$single" "$clustered"; cleanup' EXIT
code=0
.venv/bin/python -m tests.faults "$@" | tee "$single" || code=1
if [ $# -eq 0 ] && [ "${FAULTS_CLUSTER:-1}" != 0 ]; then
  started_cluster=0
  deploy/kafka/kafka.sh cluster status >/dev/null 2>&1 || started_cluster=1
  deploy/kafka/kafka.sh cluster start
  CAMPAIGNS_TEST_KAFKA=$(deploy/kafka/kafka.sh cluster bootstrap) CAMPAIGNS_REPLICATION_FACTOR=3 \
    CAMPAIGNS_MIN_INSYNC_REPLICAS=2 .venv/bin/python -m tests.faults --cluster | tee "$clustered" || code=1
  [ $started_cluster = 1 ] && deploy/kafka/kafka.sh cluster stop
  passed=0 failed=0
  for f in "$single" "$clustered"; do
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$f" | tail -n 1) || line="0 passed, 1 failed"
    passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
    failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
  done
  echo
  echo "all fault scenarios, on the broker and on the cluster:"
  echo "$passed passed, $failed failed"
fi
exit $code
