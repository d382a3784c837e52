#!/usr/bin/env bash
# make bench: start the local broker if needed, run the throughput benchmark, print its figures.
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/kafka/kafka.sh start
.venv/bin/python -m tests.bench.throughput "${BENCH_EVENTS:-5000}"
.venv/bin/python -m streams.core.bench 50000
