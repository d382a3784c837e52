"""The sink loop: read a batch, write it idempotently, then commit the offsets.

At-least-once by design: a crash between the write and the commit re-delivers the batch, and
the store ignores entry ids (and dead-letter and parked positions) it already holds. A record
that cannot be stored is parked and the loop goes on (services/sink/writer.py). Every few seconds
the loop writes a heartbeat row with the positions it has committed: the API's /readyz reads it,
and a loop that is stuck (or a database it cannot reach) stops beating.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from services.settings import ServiceSettings
from services.sink.health import serve
from services.sink.metrics import SinkMetrics
from services.sink.writer import Outcome, Writer
from services.store import Store, StoreError, StoreUnavailable

log = logging.getLogger("sink")

T = TypeVar("T")


async def _with_retry(call: Callable[[], T]) -> T:
    delay = 0.5
    while True:
        try:
            return await asyncio.to_thread(call)
        except StoreUnavailable as exc:
            # The offsets stay uncommitted while the database is away: nothing is skipped.
            log.warning("sink: database unavailable (%s); retrying in %.1f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


async def _poll(consumer: AIOKafkaConsumer, size: int, linger: float) -> dict[TopicPartition, list[Any]]:
    """Up to `size` records. A poll that finds only a few waits `linger` s once for more: the
    workers' transactions commit a few records at a time, and a batch of five costs the database
    (a transaction, a commit) and Kafka (an offset commit) nearly what a batch of five hundred does."""
    batch: dict[TopicPartition, list[Any]] = await consumer.getmany(timeout_ms=500, max_records=size)
    count = sum(len(records) for records in batch.values())
    if 0 < count < size and linger > 0:
        await asyncio.sleep(linger)
        more = await consumer.getmany(timeout_ms=0, max_records=size - count)
        for tp, records in more.items():
            batch.setdefault(tp, []).extend(records)
    return batch


class Heartbeat:
    """What the sink has done since it started, written to the store at most every `every` s."""

    def __init__(self, store: Store, name: str, every: float) -> None:
        self._store = store
        self._name = name
        self._every = every
        self._started_at = datetime.now(UTC)
        self._next = 0.0
        self.positions: dict[str, int] = {}
        self.read: Counter[str] = Counter()  # records read, by topic (for /metrics)
        self.written = 0
        self.parked = 0
        # For the sink's own /readyz (services/sink/health.py): when a beat last reached the store.
        self.last_stored: float | None = None
        self.last_error = ""

    def add(self, outcome: Outcome) -> None:
        self.written += outcome.stored
        self.parked += outcome.parked

    async def maybe_beat(self) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self._every
        beat = partial(
            self._store.beat,
            self._name,
            started_at=self._started_at,
            positions=dict(self.positions),
            written=self.written,
            parked=self.parked,
        )
        try:
            await asyncio.to_thread(beat)
        except StoreError as exc:
            # No retry: a missed beat is what readiness should see while the database is away.
            log.warning("sink: heartbeat not written: %s", exc)
            self.last_error = str(exc)
        else:
            self.last_stored = time.monotonic()
            self.last_error = ""


async def run(settings: ServiceSettings, store: Store, stop: asyncio.Event) -> None:
    topics = settings.topics
    consumer = AIOKafkaConsumer(
        topics.ledger,
        topics.dead_letters,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=settings.sink_name,
        # The workers write inside transactions: an aborted one's entries must never be stored.
        isolation_level="read_committed",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    writer = Writer(store, topics.ledger, keep=settings.max_message_bytes)
    heartbeat = Heartbeat(store, settings.sink_name, settings.sink_heartbeat_seconds)
    metrics = SinkMetrics(heartbeat, consumer)
    health = await serve(heartbeat, metrics, settings) if settings.sink_health_port else None
    await consumer.start()
    print("sink: ready", flush=True)
    try:
        while not stop.is_set():
            batch = await _poll(consumer, settings.sink_batch_size, settings.sink_linger_seconds)
            started = time.monotonic()
            for tp, messages in batch.items():
                heartbeat.read[tp.topic] += len(messages)
            if batch:
                parts = [(tp.topic, messages) for tp, messages in batch.items()]
                heartbeat.add(await _with_retry(partial(writer.write_batch, parts)))
                await consumer.commit()
                for tp in batch.keys() & consumer.assignment():
                    heartbeat.positions[f"{tp.topic}/{tp.partition}"] = await consumer.position(tp)
                metrics.batch_seconds.observe(time.monotonic() - started)
            await heartbeat.maybe_beat()
    except KafkaError as exc:
        log.error("sink: Kafka error: %s", exc)
        raise
    finally:
        await consumer.stop()
        if health is not None:
            await health.cleanup()
