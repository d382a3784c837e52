"""The batch loop and a stage that stops short on a partition: the offsets committed stop at the
hold, the partition is read again from there after a pause, the other partitions go on."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import TopicPartition

from streams.pipeline import loop as loop_module
from streams.pipeline.loop import BatchLoop
from streams.pipeline.stage import Hold, Out, StoredWithItsBatch
from streams.settings import StreamSettings

HELD, FREE = TopicPartition("in", 0), TopicPartition("in", 1)


class FakeConsumer:
    def __init__(self) -> None:
        self.seeks: list[tuple[TopicPartition, int]] = []
        self.paused: set[TopicPartition] = set()

    def assignment(self) -> set[TopicPartition]:
        return {HELD, FREE}

    async def position(self, tp: TopicPartition) -> int:
        return 0

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))

    def pause(self, *tps: TopicPartition) -> None:
        self.paused |= set(tps)

    def resume(self, *tps: TopicPartition) -> None:
        self.paused -= set(tps)


class HoldingStage(StoredWithItsBatch):
    name = "score"
    topic = "in"
    parked = 0

    def __init__(self) -> None:
        self.holds: dict[int, Hold] = {}

    async def process(self, partition: int, records: list[Any]) -> list[Out]:
        if partition == HELD.partition:
            self.holds[partition] = Hold(12, "waiting for competition c version 2 (published)")
        return [Out("out", None, b"x")]

    def committed(self, partitions: set[int]) -> None: ...

    def forget(self, partitions: set[int]) -> None:
        for p in partitions:
            self.holds.pop(p, None)


def _records(start: int, count: int) -> list[Any]:
    return [SimpleNamespace(offset=o) for o in range(start, start + count)]


def test_a_held_partition_commits_up_to_its_hold_and_is_read_again_after_a_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = BatchLoop(StreamSettings(), HoldingStage())
    committed: dict[TopicPartition, int] = {}

    async def commit(tp: TopicPartition, outputs: list[Out], offset: int) -> None:
        committed[tp] = offset

    monkeypatch.setattr(loop, "_commit", commit)
    consumer = FakeConsumer()
    asyncio.run(loop._handle(consumer, {HELD: _records(10, 5), FREE: _records(40, 3)}))  # type: ignore[arg-type]
    assert committed == {HELD: 12, FREE: 43}
    assert consumer.seeks == [(HELD, 12)] and consumer.paused == {HELD}
    assert loop.status()["holds"] == {"0": "waiting for competition c version 2 (published)"}
    loop._resume_due(consumer)  # type: ignore[arg-type]
    assert consumer.paused == {HELD}  # not yet: the pause lasts HOLD_RETRY_SECONDS
    clock = loop_module.time.monotonic() + loop_module.HOLD_RETRY_SECONDS + 1
    monkeypatch.setattr(loop_module.time, "monotonic", lambda: clock)
    loop._resume_due(consumer)  # type: ignore[arg-type]
    assert consumer.paused == set()
