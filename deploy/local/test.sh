#!/usr/bin/env bash
# make test: start the real Kafka broker and PostgreSQL, run every tier, stop what we started.
set -euo pipefail
cd "$(dirname "$0")/../.."

. deploy/local/services.sh

note_kafka
t0=$SECONDS
deploy/kafka/kafka.sh start
echo "test: Kafka broker up in $((SECONDS - t0)) s (log: $(deploy/kafka/kafka.sh log | sed "s|^$PWD/||"))"

start_postgres

set +e
.venv/bin/python -m pytest tests "$@"
code=$?
set -e
if [ $code -eq 5 ]; then
  echo "test: pytest collected no tests; that is a failure here, not a pass" >&2
  exit 1
fi
exit $code
