"""/metrics of the worker, the sink and the API: the numbers come from the counters each process
already keeps, each process has its own registry, and the Grafana dashboard asks only for
metrics that exist."""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from aiokafka import TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from services.api.metrics import ApiMetrics
from services.awards.errors import FreezeRefused, PeriodOpen
from services.sink.metrics import SinkMetrics
from services.sink.runner import Heartbeat
from services.store import StoreError
from streams.metrics import WorkerMetrics
from streams.pipeline.loop import BatchLoop
from streams.pipeline.stage import Hold, Out, StoredWithItsBatch
from streams.settings import StreamSettings

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "campaigns.json"
P0, P1 = TopicPartition("in", 0), TopicPartition("in", 1)


def samples(exposition: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value}"""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposition.decode())
        for s in family.samples
    }


def value(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


class FakeConsumer:
    def __init__(self, ends: dict[TopicPartition, int]) -> None:
        self.ends = ends

    def assignment(self) -> set[TopicPartition]:
        return set(self.ends)

    async def position(self, tp: TopicPartition) -> int:
        return 0

    def last_stable_offset(self, tp: TopicPartition) -> int | None:
        return self.ends.get(tp)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.ends.get(tp)


class TwoTopicStage(StoredWithItsBatch):
    """Each record becomes a validated record; every third one a dead letter instead."""

    name = "validate"
    topic = "in"

    def __init__(self) -> None:
        self.holds: dict[int, Hold] = {}
        self.parked = 0

    async def process(self, partition: int, records: list[Any]) -> list[Out]:
        out = []
        for r in records:
            if r.offset % 3 == 0:
                self.parked += 1
                out.append(Out("dead", None, b"x"))
            else:
                out.append(Out("validated", None, b"x"))
        return out

    def committed(self, partitions: set[int]) -> None: ...

    def forget(self, partitions: set[int]) -> None: ...


def _records(start: int, count: int) -> list[Any]:
    return [SimpleNamespace(offset=o) for o in range(start, start + count)]


def _worker(*loops: BatchLoop) -> Any:
    ready = asyncio.Event()
    ready.set()
    return SimpleNamespace(loops=list(loops), rules=SimpleNamespace(ready=ready))


@pytest.fixture
def worker_exposition(monkeypatch: pytest.MonkeyPatch) -> Iterator[bytes]:
    loop = BatchLoop(StreamSettings(), TwoTopicStage())
    metrics = WorkerMetrics(_worker(loop))

    async def commit(tp: TopicPartition, outputs: list[Out], offset: int) -> None: ...

    monkeypatch.setattr(loop, "_commit", commit)
    consumer = FakeConsumer({P0: 20, P1: 50})
    asyncio.run(loop._handle(consumer, {P0: _records(0, 6), P1: _records(40, 3)}))  # type: ignore[arg-type]
    loop._consumer, loop.running = consumer, True  # type: ignore[assignment]
    yield metrics.exposition()


def test_worker_metrics_count_what_the_loop_committed(worker_exposition: bytes) -> None:
    found = samples(worker_exposition)
    assert value(found, "campaigns_stage_events_in_total", stage="validate") == 9
    # Offsets 0, 3 (partition 0) and 42 (partition 1) are dead letters.
    assert value(found, "campaigns_stage_events_out_total", stage="validate", topic="dead") == 3
    assert value(found, "campaigns_stage_events_out_total", stage="validate", topic="validated") == 6
    assert value(found, "campaigns_stage_dead_letters_total", stage="validate") == 3
    assert value(found, "campaigns_stage_batches_total", stage="validate") == 1
    assert value(found, "campaigns_stage_batch_seconds_count", stage="validate") == 1
    # Committed up to 6 and 43; the partitions end at 20 and 50.
    assert value(found, "campaigns_stage_lag_records", stage="validate", partition="0") == 14
    assert value(found, "campaigns_stage_lag_records", stage="validate", partition="1") == 7
    assert value(found, "campaigns_stage_partitions", stage="validate") == 2
    assert value(found, "campaigns_stage_running", stage="validate") == 1
    assert value(found, "campaigns_rules_ready") == 1


def test_a_failed_batch_counts_no_events_and_no_latency(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = BatchLoop(StreamSettings(), TwoTopicStage())
    metrics = WorkerMetrics(_worker(loop))

    async def commit(tp: TopicPartition, outputs: list[Out], offset: int) -> None:
        raise RuntimeError("broker away")

    monkeypatch.setattr(loop, "_commit", commit)
    monkeypatch.setattr(loop, "taken", lambda consumer, partitions: None)  # no new producers here
    asyncio.run(loop._handle(FakeConsumer({P0: 20}), {P0: _records(0, 6)}))  # type: ignore[arg-type]
    found = samples(metrics.exposition())
    assert value(found, "campaigns_stage_events_in_total", stage="validate") == 0
    assert value(found, "campaigns_stage_batch_failures_total", stage="validate") == 1
    assert value(found, "campaigns_stage_batch_seconds_count", stage="validate") == 0
    assert value(found, "campaigns_stage_running", stage="validate") == 0
    assert not any(name == "campaigns_stage_lag_records" for name, _ in found)  # unknown, not 0


def test_only_the_partitions_whose_transaction_committed_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = BatchLoop(StreamSettings(), TwoTopicStage())
    metrics = WorkerMetrics(_worker(loop))

    async def commit(tp: TopicPartition, outputs: list[Out], offset: int) -> None:
        if tp == P1:
            raise RuntimeError("fenced")

    monkeypatch.setattr(loop, "_commit", commit)
    monkeypatch.setattr(loop, "taken", lambda consumer, partitions: None)
    consumer = FakeConsumer({P0: 20, P1: 50})
    asyncio.run(loop._handle(consumer, {P0: _records(0, 6), P1: _records(40, 3)}))  # type: ignore[arg-type]
    found = samples(metrics.exposition())
    assert value(found, "campaigns_stage_events_in_total", stage="validate") == 6
    assert value(found, "campaigns_stage_events_out_total", stage="validate", topic="validated") == 4
    assert value(found, "campaigns_stage_batch_failures_total", stage="validate") == 1


def test_each_worker_has_its_own_registry(worker_exposition: bytes) -> None:
    fresh = samples(WorkerMetrics(_worker(BatchLoop(StreamSettings(), TwoTopicStage()))).exposition())
    assert value(fresh, "campaigns_stage_events_in_total", stage="validate") == 0
    assert value(samples(worker_exposition), "campaigns_stage_events_in_total", stage="validate") == 9


def sink_exposition() -> bytes:
    heartbeat = Heartbeat(store=None, name="sink", every=5.0)  # type: ignore[arg-type]
    heartbeat.read.update({"ledger": 10, "dead": 2})
    heartbeat.written, heartbeat.parked = 11, 1
    heartbeat.positions = {"ledger/0": 10, "dead/0": 2}
    heartbeat.last_stored = 100.0
    consumer = FakeConsumer({TopicPartition("ledger", 0): 15, TopicPartition("dead", 0): 2})
    metrics = SinkMetrics(heartbeat, consumer, clock=lambda: 104.5)
    metrics.batch_seconds.observe(0.02)
    return metrics.exposition()


def test_sink_metrics_read_the_heartbeat_and_the_consumer() -> None:
    found = samples(sink_exposition())
    assert value(found, "campaigns_sink_records_in_total", topic="ledger") == 10
    assert value(found, "campaigns_sink_records_stored_total") == 11
    assert value(found, "campaigns_sink_parked_total") == 1
    assert value(found, "campaigns_sink_lag_records", topic="ledger", partition="0") == 5
    assert value(found, "campaigns_sink_lag_records", topic="dead", partition="0") == 0
    assert value(found, "campaigns_sink_heartbeat_age_seconds") == 4.5
    assert value(found, "campaigns_sink_batch_seconds_count") == 1


class Unreachable:
    """A store whose database is away."""

    def _reading(self) -> Any:
        raise StoreError("connection refused")

    def parked_count(self) -> int:
        raise StoreError("connection refused")


def api_metrics() -> ApiMetrics:
    metrics = ApiMetrics()
    metrics.read_model = SimpleNamespace(hub=_Hub(3, 2), poisoned=1)  # type: ignore[assignment]
    metrics.ingested.labels("accepted").inc(5)
    metrics.award_runs.labels("created").inc()
    return metrics


class _Hub:
    def __init__(self, clients: int, overflows: int) -> None:
        self._clients, self.overflows = clients, overflows

    def __len__(self) -> int:
        return self._clients


def test_api_metrics_read_the_read_model_and_count_refused_freezes() -> None:
    metrics = api_metrics()
    with pytest.raises(FreezeRefused), metrics.counting_refusals():
        raise FreezeRefused(["stage score lags 3 records"])
    with pytest.raises(PeriodOpen), metrics.counting_refusals():
        raise PeriodOpen("not yet")  # not the gate's refusal: not counted
    found = samples(metrics.exposition())
    assert value(found, "campaigns_sse_clients") == 3
    assert value(found, "campaigns_sse_overflows_total") == 2
    assert value(found, "campaigns_readmodel_poisoned_total") == 1
    assert value(found, "campaigns_freezes_refused_total") == 1
    assert value(found, "campaigns_award_runs_total", outcome="created") == 1
    assert value(found, "campaigns_award_runs_total", outcome="reused") == 0
    assert value(found, "campaigns_api_events_in_total", outcome="accepted") == 5


def test_api_sql_figures_are_nan_when_the_database_does_not_answer() -> None:
    metrics = ApiMetrics()
    metrics.fanout_pending.set(4)
    asyncio.run(metrics.refresh(Unreachable(), timeout=1.0))  # type: ignore[arg-type]
    found = samples(metrics.exposition())
    assert math.isnan(value(found, "campaigns_fanout_pending"))
    assert math.isnan(value(found, "campaigns_parked_records"))
    assert not any(name == "campaigns_sse_clients" for name, _ in found)  # not started: not shown


def dashboard_metrics() -> set[str]:
    board = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in board["panels"] for t in panel["targets"]]
    assert all(panel["targets"] for panel in board["panels"])
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    return {name for expr in exprs for name in re.findall(r"\b(?:campaigns|process)_[a-z_]+\b", expr)}


def test_every_metric_the_dashboard_queries_is_exposed(worker_exposition: bytes) -> None:
    exposed = {
        name
        for exposition in (worker_exposition, sink_exposition(), api_metrics().exposition())
        for name, _ in samples(exposition)
    }
    queried = dashboard_metrics()
    assert len(queried) >= 20
    assert sorted(queried - exposed) == []


def test_every_workload_is_annotated_for_scraping_on_a_port_it_serves() -> None:
    deploy = DASHBOARD.parents[1]
    scraped = {}
    for path in sorted((deploy / "k8s").glob("*.yaml")):
        for resource in yaml.safe_load_all(path.read_text()):
            if resource and resource["kind"] in {"Deployment", "StatefulSet"}:
                pod = resource["spec"]["template"]
                notes = pod["metadata"]["annotations"]
                ports = {p["containerPort"] for c in pod["spec"]["containers"] for p in c["ports"]}
                assert notes["prometheus.io/path"] == "/metrics"
                assert int(notes["prometheus.io/port"]) in ports, resource["metadata"]["name"]
                scraped[resource["metadata"]["name"]] = notes["prometheus.io/scrape"]
    assert scraped == dict.fromkeys(("campaigns-api", "campaigns-sink", "campaigns-worker"), "true")
    compose = yaml.safe_load((deploy / "compose.yaml").read_text())["services"]
    labelled = sorted(name for name, s in compose.items() if s.get("labels", {}).get("prometheus.io/scrape"))
    assert labelled == ["api-1", "api-2", "sink", "worker-1", "worker-2"]


def test_every_metric_exposed_is_in_the_operations_doc(worker_exposition: bytes) -> None:
    doc = (DASHBOARD.parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")
    families = {
        family.name
        for exposition in (worker_exposition, sink_exposition(), api_metrics().exposition())
        for family in text_string_to_metric_families(exposition.decode())
        # Ours; not the library's process_* metrics, nor its _created (when each series started).
        if family.name.startswith("campaigns_") and not family.name.endswith("_created")
    }
    assert len(families) >= 20
    documented = set(re.findall(r"`(campaigns_[a-z_]+)", doc))
    # The doc names counters as they are queried (`_total`) and histograms by their family.
    assert sorted(f for f in families if f not in documented and f"{f}_total" not in documented) == []
