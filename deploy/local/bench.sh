#!/usr/bin/env bash
# make bench: start the local broker and PostgreSQL if needed, run every benchmark, print their
# tables and write bench-results.json (the stream bench starts the file; the others add their keys).
# BENCH_SCALE=0.1 for a quick look (the goals assume the full run).
# BENCH=scale (or boards, whatif, awards, verify, history, peer; several with commas): run only those and add
# their keys to the bench-results.json already there.
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/kafka/kafka.sh start
deploy/postgres/pg.sh install
deploy/postgres/pg.sh start
export CAMPAIGNS_BENCH_PG_URL="${CAMPAIGNS_BENCH_PG_URL:-$(deploy/postgres/pg.sh url)}"
benches="${BENCH:-pipeline,boards,whatif,awards,verify,scale,history,peer}"
for bench in ${benches//,/ }; do
  .venv/bin/python -m "tests.bench.$bench"
done
