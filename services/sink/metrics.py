"""The sink's Prometheus metrics, served at /metrics beside its probes (services/sink/health.py).

One registry per sink run, not the library's global one. The counts are read at scrape time
from the heartbeat (what the sink has done since it started) and the consumer (how far behind it
is); only the batch latency is observed as it happens.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from services.sink.runner import Heartbeat

BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _Sink(Collector):
    def __init__(self, heartbeat: Heartbeat, consumer: Any, clock: Callable[[], float]) -> None:
        self._heartbeat = heartbeat
        self._consumer = consumer  # an AIOKafkaConsumer: assignment() and last_stable_offset()
        self._clock = clock

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        beat = self._heartbeat
        read = CounterMetricFamily("campaigns_sink_records_in", "Records read, by topic.", labels=["topic"])
        for topic, count in sorted(beat.read.items()):
            read.add_metric([topic], count)
        yield read
        yield CounterMetricFamily(
            "campaigns_sink_records_stored",
            "Ledger entries and dead letters stored (a redelivery counts again).",
            value=beat.written,
        )
        yield CounterMetricFamily(
            "campaigns_sink_parked", "Records the sink could not store and parked.", value=beat.parked
        )
        lag = GaugeMetricFamily(
            "campaigns_sink_lag_records",
            "Records behind the last stable offset, per partition this sink holds.",
            labels=["topic", "partition"],
        )
        for tp in sorted(self._consumer.assignment(), key=lambda tp: (tp.topic, tp.partition)):
            end = self._consumer.last_stable_offset(tp)
            done = beat.positions.get(f"{tp.topic}/{tp.partition}")
            if end is not None and done is not None:
                lag.add_metric([tp.topic, str(tp.partition)], max(0, end - done))
        yield lag
        if beat.last_stored is not None:
            yield GaugeMetricFamily(
                "campaigns_sink_heartbeat_age_seconds",
                "Seconds since a heartbeat last reached the database.",
                value=self._clock() - beat.last_stored,
            )


class SinkMetrics:
    def __init__(
        self, heartbeat: Heartbeat, consumer: Any, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.registry = CollectorRegistry()
        self.batch_seconds = Histogram(
            "campaigns_sink_batch_seconds",
            "Time to store one batch and commit its offsets.",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_Sink(heartbeat, consumer, clock))
        ProcessCollector(registry=self.registry)  # CPU, memory, open files of this process

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
