#!/usr/bin/env bash
# make bench: start the local broker if needed, run the benchmark, print its table and write
# bench-results.json. BENCH_SCALE=0.1 for a quick look (the goals assume the full run).
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/kafka/kafka.sh start
.venv/bin/python -m tests.bench.pipeline
