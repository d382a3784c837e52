#!/usr/bin/env bash
# make faults: start the real Kafka broker and PostgreSQL (as make test does), run the fault
# scenarios (python -m tests.faults; arguments are passed on), stop what we started.
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
.venv/bin/python -m tests.faults "$@"
