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
old workers first), and the duplicates and dead letters (history; the SQL store keeps them).
Dedup's seen ids are not copied but made again: every copied event's id is written to the new
set's `dedup.seen`, in its manager's new partition, so a copy of an old event that arrives after
the move is still dropped.

The old set is read as it is, never guarded: after a `kafka-topics --alter` the workers refuse
it, and this copy, which re-keys every record whichever partition holds it, is the way back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer, TopicPartition

from schemas.control import HEADER as CONTROL_HEADER
from schemas.topics import Topics
from streams.admin import SINGLE_BROKER, BrokerUnavailable, ensure_topics, partitions_of
from streams.dedup_changelog import SeenBatch, encode_all
from streams.follow import read_range
from streams.layout.guard import actual_layout, guard, recorded_layout
from streams.pipeline.batch_send import partition_for
from streams.replication import Replication
from streams.topic_identity import describe

# The first offset recorded for a copied event's id in the new set's dedup memory: no record of
# the new accepted topic has it, so any arrival of that id there is a copy (deduplicating.py).
NOT_IN_THIS_SET = -1


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


async def _remember(bootstrap: str, target: Topics, seen: dict[int, dict[str, int]], copier: _Copier) -> None:
    """Every copied event id into the new set's dedup changelog, in the partition its manager's
    records go to: a copy sent again after the move is dropped as it was before, not scored twice.
    (The old set's changelog cannot serve: its records name the old accepted topic.)"""
    accepted = (await describe(bootstrap, [target.accepted]))[target.accepted].topic_id
    at = int(time.time() * 1000)
    for partition, ids in sorted(seen.items()):
        for value in encode_all(SeenBatch(accepted, at, ids, {})):
            await copier.send(target.dedup_seen, value, partition=partition)
    await copier.wait()


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
    # Read as it is, never guarded: the copy is also the way back from a `kafka-topics --alter`
    # that the workers now refuse, and it re-keys every record whichever partition holds it.
    actual = (await actual_layout(bootstrap, source)).get(source.validated)
    if actual is None:
        raise GrowRefused(f"{source.validated} does not exist: nothing to grow")
    current = (await recorded_layout(bootstrap, source)).get(source.validated, actual)
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
        seen: dict[int, dict[str, int]] = {p: {} for p in range(partitions)}
        for partition in await partitions_of(bootstrap, source.validated):
            controls.append([])
            async for records in read_range(bootstrap, TopicPartition(source.validated, partition)):
                for m in records:
                    if is_control(m):
                        controls[-1].append(m.value or b"")
                        continue
                    await copier.send(target.validated, m.value, key=m.key, headers=list(m.headers or ()))
                    to = partition_for(m.key, range(partitions))
                    seen[to][str(orjson.loads(m.value or b"{}")["event_id"])] = NOT_IN_THIS_SET
                    events += 1
        await copier.wait()
        await _remember(bootstrap, target, seen, copier)
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
