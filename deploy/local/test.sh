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

# pytest's exit 5 ("no tests collected") is a failure here, not a pass.
run_pytest() {
  set +e
  "$@"
  local code=$?
  set -e
  if [ $code -eq 5 ]; then
    echo "test: pytest collected no tests; that is a failure here, not a pass" >&2
    return 1
  fi
  return $code
}

# The unit tier again with the clock moved years ahead: a test that takes today's date for "the
# future" (or the past) fails here today, not on the day the calendar reaches it.
ahead=${CAMPAIGNS_TEST_CLOCK_AHEAD:-+7y}
echo "test: unit tier with the clock moved $ahead (faketime)"
run_pytest faketime -f "$ahead" .venv/bin/python -m pytest tests/unit -q

run_pytest .venv/bin/python -m pytest tests "$@"
