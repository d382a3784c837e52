"""The API's Prometheus metrics, served at /metrics (services/api/routes/metrics.py).

One registry per application (create_app), not the library's global one: the tests build many
apps in one process. What the API already knows is read at scrape time (SSE clients and the read
model's counts; the publish fan-out backlog and parked records from SQL, bounded in time as
/readyz is); what happens in a request (ingest, award runs, freezes refused) is counted there.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from services.awards.errors import FreezeRefused
from services.store import Store, StoreError
from services.store.outbox import Outbox

if TYPE_CHECKING:
    from services.readmodel import ReadModel


class _ReadModel(Collector):
    def __init__(self, metrics: ApiMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        read_model = self._metrics.read_model
        if read_model is None:  # before start-up finished: nothing to say yet
            return
        yield GaugeMetricFamily("campaigns_sse_clients", "Board streams open.", value=len(read_model.hub))
        yield CounterMetricFamily(
            "campaigns_sse_overflows",
            "Client queues emptied for a fresh snapshot (a client fell behind).",
            value=read_model.hub.overflows,
        )
        yield CounterMetricFamily(
            "campaigns_readmodel_poisoned", "Records the read model could not read and skipped.",
            value=read_model.poisoned,
        )  # fmt: skip


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.read_model: ReadModel | None = None  # set once the lifespan has started it
        self.ingested = Counter(
            "campaigns_api_events_in", "Events sent to /ingest, by outcome.", ["outcome"], registry=r
        )
        self.award_runs = Counter(
            "campaigns_award_runs", "Award runs asked for: a new run, or the same inputs' stored one.",
            ["outcome"], registry=r,
        )  # fmt: skip
        self.freezes_refused = Counter(
            "campaigns_freezes_refused", "Freezes (and runs) the gate refused: data not complete yet.",
            registry=r,
        )  # fmt: skip
        self.fanout_pending = Gauge(
            "campaigns_fanout_pending", "Version changes not yet announced to every scoring partition.",
            registry=r,
        )  # fmt: skip
        self.parked_records = Gauge(
            "campaigns_parked_records", "Records the sink parked (in SQL, all time).", registry=r
        )
        for outcome in ("accepted", "rejected", "duplicate"):
            self.ingested.labels(outcome)
        for outcome in ("created", "reused"):
            self.award_runs.labels(outcome)
        r.register(_ReadModel(self))
        ProcessCollector(registry=r)  # CPU, memory, open files of this process

    @contextmanager
    def counting_refusals(self) -> Iterator[None]:
        try:
            yield
        except FreezeRefused:
            self.freezes_refused.inc()
            raise

    async def refresh(self, store: Store, timeout: float) -> None:
        """Read the SQL figures now; NaN when the database does not answer in time."""
        pending: float
        parked: float
        try:
            (pending, _, _), parked = await asyncio.wait_for(
                asyncio.gather(
                    asyncio.to_thread(Outbox(store).backlog), asyncio.to_thread(store.parked_count)
                ),
                timeout,
            )
        except (TimeoutError, StoreError):
            pending = parked = math.nan
        self.fanout_pending.set(pending)
        self.parked_records.set(parked)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
