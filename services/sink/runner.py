"""The sink loop: read a batch, write it idempotently, then commit the offsets.

At-least-once by design: a crash between the write and the commit re-delivers the batch, and
the store ignores entry ids (and dead-letter positions) it already holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from services.settings import ServiceSettings
from services.sink.records import dead_letter_row, ledger_row
from services.store import Store, StoreUnavailable

log = logging.getLogger("sink")


async def _with_retry(call: Callable[[], Any]) -> Any:
    delay = 0.5
    while True:
        try:
            return await asyncio.to_thread(call)
        except StoreUnavailable as exc:
            # The offsets stay uncommitted while the database is away: nothing is skipped.
            log.warning("sink: database unavailable (%s); retrying in %.1f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


async def run(settings: ServiceSettings, store: Store, stop: asyncio.Event) -> None:
    topics = settings.topics
    consumer = AIOKafkaConsumer(
        topics.ledger,
        topics.dead_letters,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=f"{settings.app_id}-sink",
        # The workers write inside transactions: an aborted one's entries must never be stored.
        isolation_level="read_committed",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    print("sink: ready", flush=True)
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=500, max_records=settings.sink_batch_size)
            for tp, messages in batch.items():
                if tp.topic == topics.ledger:
                    rows = [ledger_row(m.value) for m in messages if m.value]
                    await _with_retry(partial(store.add_ledger_entries, rows))
                else:
                    for m in messages:
                        row = dead_letter_row(tp.topic, m.partition, m.offset, m.value, dict(m.headers or ()))
                        await _with_retry(partial(store.add_dead_letter, **row))
            if batch:
                await consumer.commit()
    except KafkaError as exc:
        log.error("sink: Kafka error: %s", exc)
        raise
    finally:
        await consumer.stop()
