"""Reading and writing the real broker from tests; every topic name carries a per-test prefix."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from streams.admin import partitions_of

BOOTSTRAP = os.environ.get("CAMPAIGNS_TEST_KAFKA", "127.0.0.1:9092")


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]
    partition: int
    offset: int


async def produce(topic: str, records: list[tuple[bytes | None, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for key, value in records:
            await producer.send(topic, key=key, value=value)
        await producer.flush()
    finally:
        await producer.stop()


async def read_all(topic: str) -> list[Record]:
    """Everything currently in the topic, from the beginning, without a consumer group."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=BOOTSTRAP, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in await partitions_of(BOOTSTRAP, topic)]
        if not tps:
            return []
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        out: list[Record] = []
        # No seek: an explicit seek_to_beginning next to end_offsets made aiokafka drop the first
        # fetched batch here; a fresh assignment with auto_offset_reset=earliest reads from 0.
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining:
            batch = await consumer.getmany(timeout_ms=1000)
            for tp, messages in batch.items():
                for m in messages:
                    out.append(Record(m.key, m.value, dict(m.headers or ()), m.partition, m.offset))
                if messages and messages[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return sorted(out, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()


async def wait_for(
    topic: str, done: Callable[[list[Record]], bool], timeout: float = 60.0, settle: float = 0.0
) -> list[Record]:
    """Poll a topic until `done(records)` holds; then wait `settle` s more and read once again,
    so a test also sees anything extra (a duplicate) that would arrive just after."""
    deadline = time.monotonic() + timeout
    records: list[Record] = []
    while time.monotonic() < deadline:
        records = await read_all(topic)
        if done(records):
            if settle:
                await asyncio.sleep(settle)
                records = await read_all(topic)
            return records
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting on {topic}; have {len(records)} records")
