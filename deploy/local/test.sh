#!/usr/bin/env bash
# make test: start the real Kafka broker and PostgreSQL, run every tier, stop what we started.
set -euo pipefail
cd "$(dirname "$0")/../.."

started_kafka=0
started_pg=0
cleanup() {
  [ $started_kafka = 1 ] && deploy/kafka/kafka.sh stop || true
  [ $started_pg = 1 ] && deploy/postgres/pg.sh stop || true
}
trap cleanup EXIT

if ! deploy/kafka/kafka.sh status >/dev/null 2>&1; then started_kafka=1; fi
t0=$SECONDS
deploy/kafka/kafka.sh start
echo "test: Kafka broker up in $((SECONDS - t0)) s (log: $(deploy/kafka/kafka.sh log | sed "s|^$PWD/||"))"

deploy/postgres/pg.sh install
if ! deploy/postgres/pg.sh status >/dev/null 2>&1; then started_pg=1; fi
deploy/postgres/pg.sh start
CAMPAIGNS_TEST_PG_URL=$(deploy/postgres/pg.sh url)
export CAMPAIGNS_TEST_PG_URL
export CAMPAIGNS_TEST_KAFKA=127.0.0.1:${KAFKA_PORT:-9092}

set +e
.venv/bin/python -m pytest tests "$@"
code=$?
set -e
if [ $code -eq 5 ]; then
  echo "test: pytest collected no tests; that is a failure here, not a pass" >&2
  exit 1
fi
exit $code
