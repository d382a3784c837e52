"""Grow the partition count the one safe way: into a new topic set.

`kafka-topics --alter --partitions` moves managers away from their state and history (the guard
in streams/layout/guard.py refuses to run on it). Instead, with the old set's workers stopped
after they caught up, this copies into a new set (a new topic prefix) created with the new count:

- `competitions` and `org.members`, record by record under their keys;
- every event of `events.validated`, under its key (the manager), so the default partitioner puts
  each manager's whole history, in its order, in the manager's partition of the new count;
- after the events, the re-score control records, on every new partition, in the order they were
  published (as the old partition 0 holds them).

Workers started on the new set score the copied history: at the control records each partition
rebuilds its managers' books with the versions in force, so states, standings and ledger are made
again by the scoring core rather than moved byte for byte (an old state holds offsets of the old
partitions and cannot be moved). Not copied: `events.raw` and `events.accepted` (drained by the
old workers first), the duplicates and dead letters (history; the SQL store keeps them), and
dedup's seen ids (the new accepted topic starts a new store; see docs/operations.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition

from schemas.control import HEADER as CONTROL_HEADER
from schemas.topics import Topics
from streams.admin import SINGLE_BROKER, BrokerUnavailable, ensure_topics, partitions_of
from streams.follow import read_range
from streams.layout.guard import guard
from streams.replication import Replication
from streams.topic_identity import describe


class GrowRefused(Exception):
    """The copy would not be safe or would not grow anything; the message says why."""


@dataclass(frozen=True)
class Grown:
    partitions: int
    competitions: int
    org: int
    events: int
    control_records: int  # distinct re-score orders, each written to every new partition


def is_control(m: Any) -> bool:
    return any(name == CONTROL_HEADER for name, _ in m.headers or ())


def publication_order(controls_by_partition: list[list[bytes]]) -> list[bytes]:
    """One re-score order per distinct control record, in the order partition 0 saw them; an order
    that reached only later partitions (a publication cut short) follows, so none is lost."""
    seen: dict[bytes, None] = {}
    for controls in controls_by_partition:
        for value in controls:
            seen.setdefault(value, None)
    return list(seen)


class _Copier:
    """Sends without waiting record by record; waits every few thousand so memory stays flat."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self._pending: list[Awaitable[Any]] = []

    async def send(self, topic: str, value: bytes | None, **kwargs: Any) -> None:
        self._pending.append(await self._producer.send(topic, value=value, **kwargs))
        if len(self._pending) >= 5000:
            await self.wait()

    async def wait(self) -> None:
        await asyncio.gather(*self._pending)
        self._pending.clear()


async def _copy_keyed(bootstrap: str, source: str, target: str, copier: _Copier) -> int:
    count = 0
    for partition in await partitions_of(bootstrap, source):
        async for records in read_range(bootstrap, TopicPartition(source, partition)):
            for m in records:
                await copier.send(target, m.value, key=m.key, headers=list(m.headers or ()))
                count += 1
    return count


async def grow(
    bootstrap: str, source: Topics, target: Topics, partitions: int, replication: Replication = SINGLE_BROKER
) -> Grown:
    if source.prefix == target.prefix:
        raise GrowRefused("the new topic set needs its own prefix")
    existing = await describe(bootstrap, list(target.all()))
    if existing:
        raise GrowRefused(
            f"{', '.join(sorted(existing))} exist already: a grow copies into a new, empty topic set "
            "(after a copy cut short, delete the new set's topics and run it again)"
        )
    current = (await guard(bootstrap, source)).get(source.validated)
    if current is None:
        raise GrowRefused(f"{source.validated} does not exist: nothing to grow")
    if partitions <= current:
        raise GrowRefused(f"{source.validated} has {current} partitions already; grow to more than that")

    await ensure_topics(bootstrap, target, partitions, replication)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    try:
        await producer.start()
    except Exception as exc:
        raise BrokerUnavailable(f"cannot reach Kafka at {bootstrap}: {exc}") from None
    try:
        copier = _Copier(producer)
        competitions = await _copy_keyed(bootstrap, source.competitions, target.competitions, copier)
        org = await _copy_keyed(bootstrap, source.org, target.org, copier)
        events = 0
        controls: list[list[bytes]] = []
        for partition in await partitions_of(bootstrap, source.validated):
            controls.append([])
            async for records in read_range(bootstrap, TopicPartition(source.validated, partition)):
                for m in records:
                    if is_control(m):
                        controls[-1].append(m.value or b"")
                        continue
                    await copier.send(target.validated, m.value, key=m.key, headers=list(m.headers or ()))
                    events += 1
        await copier.wait()
        orders = publication_order(controls)
        for partition in range(partitions):
            for value in orders:
                await copier.send(
                    target.validated, value, partition=partition, headers=[(CONTROL_HEADER, b"rescore")]
                )
        await copier.wait()
    finally:
        await producer.stop()
    await guard(bootstrap, target)  # records the new set's layout
    return Grown(partitions, competitions, org, events, len(orders))
