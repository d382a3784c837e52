"""The partition layout, recorded on the first start and checked at every start.

A manager's events, state and rules live in the partition their key hashes to. Give a topic more
partitions (`kafka-topics --alter --partitions`) and new events of many managers land in another
partition than their state and history: they are scored from an empty state with no rules, and
the board flaps between two totals. Nothing in Kafka prevents it, so the worker checks: the first
worker to start records every topic's partition count in the compacted layout topic; every later
start compares the topics with that record and refuses to run on a difference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer, TopicPartition

from schemas.topics import Topics
from streams.follow import latest_by_key
from streams.topic_identity import describe

HOW_TO_GROW = "docs/operations.md, 'Changing the partition count'"


class LayoutChanged(Exception):
    """A topic's partition count is not the recorded one; the message says what to do."""


@dataclass(frozen=True)
class Mismatch:
    topic: str
    recorded: int
    actual: int | None  # None: the topic is gone


def mismatches(recorded: dict[str, int], actual: dict[str, int]) -> list[Mismatch]:
    """Recorded topics whose partition count is now different, or which are gone."""
    return [
        Mismatch(topic, count, actual.get(topic))
        for topic, count in sorted(recorded.items())
        if actual.get(topic) != count
    ]


def refusal(found: list[Mismatch], layout_topic: str) -> str:
    lines = [f"the topics no longer match the partition layout recorded in {layout_topic}:"]
    for m in found:
        now = "is gone" if m.actual is None else f"has {m.actual} partitions"
        lines.append(f"  {m.topic} {now}, recorded with {m.recorded}")
    lines += [
        "A manager's events, state and rules must stay in one partition, so this worker will not run",
        "on a changed count (Kafka cannot shrink a topic back). To grow, move to a new topic set with",
        "`python -m streams.layout grow` instead of `kafka-topics --alter`; see " + HOW_TO_GROW + ".",
        "If the topics were deleted on purpose (a reset), delete " + layout_topic + " with them.",
    ]
    return "\n".join(lines)


def setting_ignored(configured: int, layout: dict[str, int], topic: str) -> str | None:
    """What to tell an operator who changed CAMPAIGNS_PARTITIONS on existing topics, or None."""
    actual = layout.get(topic)
    if actual is None or actual == configured:
        return None
    return (
        f"CAMPAIGNS_PARTITIONS is {configured} but {topic} has {actual} partitions: the setting "
        f"applies only when the topics are created, so this worker runs with {actual}. "
        f"To grow, see {HOW_TO_GROW}."
    )


def encode(partitions: int) -> bytes:
    return json.dumps({"partitions": partitions}).encode()


def decode(value: bytes) -> int:
    return int(json.loads(value)["partitions"])


async def recorded_layout(bootstrap: str, topics: Topics) -> dict[str, int]:
    if topics.layout not in await describe(bootstrap, [topics.layout]):
        # Nothing recorded yet; and reading a missing topic would have the broker create it.
        return {}
    stored = await latest_by_key(bootstrap, TopicPartition(topics.layout, 0))
    return {key.decode(): decode(value) for key, value in stored.items()}


async def actual_layout(bootstrap: str, topics: Topics) -> dict[str, int]:
    described = await describe(bootstrap, list(topics.partitioned()))
    return {name: topic.partitions for name, topic in described.items()}


async def record(bootstrap: str, topics: Topics, layout: dict[str, int]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for name, count in sorted(layout.items()):
            await producer.send(topics.layout, key=name.encode(), value=encode(count), partition=0)
        await producer.flush()
    finally:
        await producer.stop()


async def guard(bootstrap: str, topics: Topics) -> dict[str, int]:
    """Check the topics against the recorded layout; record the topics not recorded yet (all of
    them on the first start, a topic a new version added later). Raises LayoutChanged."""
    recorded = await recorded_layout(bootstrap, topics)
    actual = await actual_layout(bootstrap, topics)
    found = mismatches(recorded, actual)
    if found:
        raise LayoutChanged(refusal(found, topics.layout))
    new = {name: count for name, count in actual.items() if name not in recorded}
    if new:
        await record(bootstrap, topics, new)
    return recorded | new
