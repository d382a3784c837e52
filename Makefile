# 普惠金融 campaigns platform. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
STAMP := .venv/.installed

.PHONY: help install kafka-start kafka-stop pg-start pg-stop run stop rotate-dev-credentials test test-unit test-integration test-e2e lint schemas bench faults cluster cluster-stop clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-24s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	python3.11 -m venv .venv
	.venv/bin/pip install -q --upgrade pip
	.venv/bin/pip install -q -e '.[dev]'
	touch $@

install: $(STAMP) ## create .venv, install pinned Python deps, fetch Kafka jars, install kcat, faketime, chromium and a CJK font
	deploy/kafka/kafka.sh fetch
	@command -v kcat >/dev/null || { apt-get update -qq && apt-get install -y -qq kcat >/dev/null; }
	@# make test runs the unit tier a second time with the clock years ahead (libfaketime)
	@command -v faketime >/dev/null || { apt-get update -qq && apt-get install -y -qq faketime >/dev/null; }
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@# without a CJK font the page's Chinese renders as boxes in browser screenshots
	@fc-list :lang=zh | grep -q . || { apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei >/dev/null; }
	@# the live browser tests drive that chromium with Playwright (a pinned dev dependency; no browser download)
	@$(PY) -c "import playwright.async_api" || { echo "Playwright is missing from .venv: rm $(STAMP) && make install"; exit 1; }

kafka-start: install ## start the local single-node Kafka on 127.0.0.1:9092 (idempotent)
	deploy/kafka/kafka.sh start

kafka-stop: ## stop the local Kafka
	deploy/kafka/kafka.sh stop

pg-start: ## install (if missing) and start the project's PostgreSQL on 127.0.0.1:55432
	deploy/postgres/pg.sh install
	deploy/postgres/pg.sh start

pg-stop: ## stop the project's PostgreSQL
	deploy/postgres/pg.sh stop

run: install ## start Kafka, workers, API and the demo on embedded defaults; prints the URLs (dev credentials kept)
	deploy/local/run.sh start

stop: ## stop everything `make run` started
	deploy/local/run.sh stop

rotate-dev-credentials: $(STAMP) ## new dev admin password, keys and display token for `make run` (the old stop working)
	deploy/local/run.sh rotate-credentials

test: install ## install and start Kafka + PostgreSQL, run unit, integration and e2e tests, stop them
	deploy/local/test.sh

test-unit: $(STAMP) ## unit tests only (no broker, no database)
	$(PY) -m pytest tests/unit

lint: $(STAMP) ## ruff and mypy
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

schemas: $(STAMP) ## re-export the JSON Schemas under schemas/json
	$(PY) -m schemas.export

bench: install ## throughput of the scoring core and of the stream, printed with ratios
	deploy/local/bench.sh

faults: install ## fault scenarios (kills, broker and database outages, rebalance, zombie, hostile doors) on the real broker, then on a three-broker cluster
	deploy/local/faults.sh

cluster: install ## three KRaft brokers on this machine (29092, 29102, 29112; replication 3, min.insync 2) and two workers
	deploy/local/cluster.sh start

cluster-stop: ## stop what make cluster started
	deploy/local/cluster.sh stop

clean: stop ## stop everything and delete local data (.run)
	deploy/kafka/kafka.sh reset
	rm -rf .run
