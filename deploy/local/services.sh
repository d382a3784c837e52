# Sourced by test.sh and faults.sh: the real broker and PostgreSQL that tests need, and the rule
# that a script stops only what it started itself (a developer's running broker stays up).
started_kafka=0
started_pg=0
cleanup() {
  [ $started_kafka = 1 ] && deploy/kafka/kafka.sh stop || true
  [ $started_pg = 1 ] && deploy/postgres/pg.sh stop || true
}
trap cleanup EXIT

# Call before starting the broker: remembers whether it was already running.
note_kafka() {
  if ! deploy/kafka/kafka.sh status >/dev/null 2>&1; then started_kafka=1; fi
}

# Installs (if missing) and starts PostgreSQL, and exports where the tests find both servers.
start_postgres() {
  deploy/postgres/pg.sh install
  if ! deploy/postgres/pg.sh status >/dev/null 2>&1; then started_pg=1; fi
  deploy/postgres/pg.sh start
  CAMPAIGNS_TEST_PG_URL=$(deploy/postgres/pg.sh url)
  export CAMPAIGNS_TEST_PG_URL
  export CAMPAIGNS_TEST_KAFKA=127.0.0.1:${KAFKA_PORT:-9092}
}
