"""The sink's poll: a poll that finds only a few records waits once for more and returns both
polls' records in one batch, partition by partition in offset order; a full or empty poll, or
a linger of 0, returns at once."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import TopicPartition

from services.sink.runner import _poll

A, B = TopicPartition("t.score.ledger", 0), TopicPartition("t.score.ledger", 1)


class Consumer:
    def __init__(self, *polls: dict[TopicPartition, list[int]]) -> None:
        self.polls = list(polls)
        self.asked: list[tuple[int, int]] = []

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[int]]:
        self.asked.append((timeout_ms, max_records))
        return self.polls.pop(0) if self.polls else {}


def poll(consumer: Consumer, size: int, linger: float) -> dict[TopicPartition, list[Any]]:
    return asyncio.run(_poll(consumer, size, linger))  # type: ignore[arg-type]


def test_a_small_poll_waits_once_and_merges_the_next() -> None:
    consumer = Consumer({A: [1, 2]}, {A: [3], B: [7]}, {A: [4]})
    assert poll(consumer, 10, 0.01) == {A: [1, 2, 3], B: [7]}
    assert consumer.asked == [(500, 10), (0, 8)]  # the second asks only for what fits


def test_a_full_or_empty_poll_or_no_linger_returns_at_once() -> None:
    full = Consumer({A: [1, 2]}, {A: [3]})
    assert poll(full, 2, 0.01) == {A: [1, 2]}
    empty = Consumer({}, {A: [3]})
    assert poll(empty, 10, 0.01) == {}
    eager = Consumer({A: [1]}, {A: [3]})
    assert poll(eager, 10, 0) == {A: [1]}
    assert [len(c.asked) for c in (full, empty, eager)] == [1, 1, 1]
