"""Reading and writing the real broker from tests; every topic name carries a per-test prefix."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from streams.admin import partitions_of
from streams.follow import read_range

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
    """Everything committed in the topic, from the beginning, without a consumer group."""
    out: list[Record] = []
    for partition in await partitions_of(BOOTSTRAP, topic):
        async for batch in read_range(BOOTSTRAP, TopicPartition(topic, partition)):
            out += [Record(m.key, m.value, dict(m.headers or ()), m.partition, m.offset) for m in batch]
    return out


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


async def drop_topics(prefix: str) -> None:
    """Delete every topic a test made under its prefix. The shared broker keeps files open for
    every partition it holds: without this, a few hundred test runs exhaust its open-file limit."""
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=15000)
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()
