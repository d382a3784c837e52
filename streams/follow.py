"""Reading topics without a consumer group: the one place that loops over `getmany` for readers.

- `read_range`: one partition from an offset up to another (or its end as of now), in batches:
  history for a re-score, a partition's scoring states after an assignment.
- `follow`: every partition of a topic from the beginning, then on for ever; `caught_up` is set
  once the end offsets as of the start have been reached (rules, standings, org directory).

Both read committed data only: the workers write inside Kafka transactions, and an aborted
transaction's records must never be seen. Positions come from the consumer, not from the last
record's offset + 1, because transaction markers take offsets too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaConnectionError, KafkaError

from streams.admin import BrokerUnavailable, partitions_of

log = logging.getLogger(__name__)

Handler = Callable[[Sequence[Any]], None]


@asynccontextmanager
async def reader(bootstrap: str, **options: Any) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer with no group that sees committed records only."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        **options,
    )
    try:
        await consumer.start()
    except KafkaConnectionError as exc:
        raise BrokerUnavailable(f"cannot reach Kafka at {bootstrap}: {exc}") from None
    try:
        yield consumer
    finally:
        await consumer.stop()


async def read_range(
    bootstrap: str, tp: TopicPartition, start: int = 0, stop: int | None = None
) -> AsyncIterator[list[Any]]:
    """Batches of records of one partition with start <= offset < stop (None: the end as of now)."""
    async with reader(bootstrap, max_partition_fetch_bytes=8 * 1024 * 1024) as consumer:
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        stop = end if stop is None else min(stop, end)
        if start >= stop:
            return
        consumer.seek(tp, start)
        while await consumer.position(tp) < stop:
            batch = await consumer.getmany(tp, timeout_ms=500, max_records=10_000)
            records = [m for m in batch.get(tp, ()) if m.offset < stop]
            if records:
                yield records


async def latest_by_key(bootstrap: str, tp: TopicPartition) -> dict[bytes, bytes]:
    """A compacted partition's newest value per key (tombstones remove the key)."""
    out: dict[bytes, bytes] = {}
    async for records in read_range(bootstrap, tp):
        for m in records:
            if m.key is None:
                continue
            if m.value is None:
                out.pop(m.key, None)
            else:
                out[m.key] = m.value
    return out


async def wait_for_partitions(bootstrap: str, topic: str, attempts: int = 120) -> list[int]:
    for _ in range(attempts):
        found = await partitions_of(bootstrap, topic)
        if found:
            return found
        await asyncio.sleep(0.5)
    raise BrokerUnavailable(f"topic {topic} not found")


async def follow(
    bootstrap: str, topic: str, handle: Handler, caught_up: asyncio.Event, tail: int | None = None
) -> None:
    """Hand every record of every partition to `handle`, batch by batch, for ever; with `tail`,
    only from the last `tail` offsets of each partition on (a topic that is not compacted)."""
    partitions = await wait_for_partitions(bootstrap, topic)
    tps = [TopicPartition(topic, p) for p in partitions]
    async with reader(bootstrap) as consumer:
        consumer.assign(tps)
        targets = await consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, 0 if tail is None else max(0, targets[tp] - tail))
        pending = {tp for tp in tps if targets[tp] > 0}
        if not pending:
            caught_up.set()
        while True:
            try:
                batch = await consumer.getmany(timeout_ms=500)
            except KafkaError as exc:
                log.warning("follow: reading %s failed, retrying: %s", topic, exc)
                await asyncio.sleep(1.0)
                continue
            records = [m for messages in batch.values() for m in messages]
            if records:
                handle(records)
            if pending:
                for tp in list(pending):
                    if await consumer.position(tp) >= targets[tp]:
                        pending.discard(tp)
                if not pending:
                    caught_up.set()
