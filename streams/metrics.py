"""The worker's Prometheus metrics, served at /metrics beside /healthz (streams/health.py).

One registry per Worker, not the library's global one: a test that builds two workers in one
process gets two sets of numbers. Nearly everything is read at scrape time from the counters the
loops and stages already keep for /readyz, so the pipeline carries no second set of books; only
the batch latency is observed as it happens (a histogram cannot be rebuilt from totals).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from streams.pipeline.loop import BatchLoop
from streams.worker import Worker

# A batch is one Kafka transaction: milliseconds when idle, seconds for a re-score.
BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class _Stages(Collector):
    def __init__(self, worker: Worker) -> None:
        self._worker = worker

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        return iter(stage_families(self._worker.loops, self._worker.rules.ready.is_set()))


def stage_families(
    loops: list[BatchLoop], rules_ready: bool
) -> list[CounterMetricFamily | GaugeMetricFamily]:
    events_in = CounterMetricFamily(
        "campaigns_stage_events_in", "Records a stage read in committed batches.", labels=["stage"]
    )
    events_out = CounterMetricFamily(
        "campaigns_stage_events_out",
        "Records a stage produced in committed batches, by topic written.",
        labels=["stage", "topic"],
    )
    batches = CounterMetricFamily("campaigns_stage_batches", "Committed batches.", labels=["stage"])
    failures = CounterMetricFamily(
        "campaigns_stage_batch_failures", "Batches aborted and read again.", labels=["stage"]
    )
    dead = CounterMetricFamily(
        "campaigns_stage_dead_letters", "Records a stage sent to the dead letters.", labels=["stage"]
    )
    lag = GaugeMetricFamily(
        "campaigns_stage_lag_records",
        "Records behind the last stable offset, per partition this worker holds.",
        labels=["stage", "partition"],
    )
    partitions = GaugeMetricFamily("campaigns_stage_partitions", "Partitions assigned.", labels=["stage"])
    held = GaugeMetricFamily(
        "campaigns_stage_held_partitions",
        "Partitions held (e.g. waiting for a rule version).",
        labels=["stage"],
    )
    running = GaugeMetricFamily("campaigns_stage_running", "1 while the stage's loop runs.", labels=["stage"])
    for loop in loops:
        status = loop.status()
        name = loop.stage.name
        events_in.add_metric([name], status["records"])
        for topic, count in sorted(loop.outputs.items()):
            events_out.add_metric([name, topic], count)
        batches.add_metric([name], status["batches"])
        failures.add_metric([name], status["failures"])
        dead.add_metric([name], loop.stage.parked)
        for partition, behind in sorted((loop.lag_by_partition() or {}).items()):
            lag.add_metric([name, str(partition)], behind)
        partitions.add_metric([name], len(status["partitions"]))
        held.add_metric([name], len(status["holds"]))
        running.add_metric([name], 1 if status["running"] else 0)
    ready = GaugeMetricFamily("campaigns_rules_ready", "1 once the rules feed has caught up.")
    ready.add_metric([], 1 if rules_ready else 0)
    return [events_in, events_out, batches, failures, dead, lag, partitions, held, running, ready]


class WorkerMetrics:
    def __init__(self, worker: Worker) -> None:
        self.registry = CollectorRegistry()
        self.batch_seconds = Histogram(
            "campaigns_stage_batch_seconds",
            "Time from a batch's first record taken to its transaction committed.",
            ["stage"],
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_Stages(worker))
        ProcessCollector(registry=self.registry)  # CPU, memory, open files of this process
        for loop in worker.loops:
            loop.batch_timer = self.batch_seconds.labels(loop.stage.name).observe

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
