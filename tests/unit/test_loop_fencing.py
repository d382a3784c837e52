"""The batch loop's fencing without a broker: one transactional id per input partition, a taken
partition stays paused until its producer has started (which fences the previous owner) and only
then are its committed offsets fetched; a partition whose transaction failed is taken over again
while the others' commits stand."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import TopicPartition

from streams.pipeline.loop import BatchLoop
from streams.pipeline.stage import Hold, Out, StoredWithItsBatch
from streams.settings import StreamSettings

A, B = TopicPartition("in", 0), TopicPartition("in", 1)


class FakeConsumer:
    def __init__(self, events: list[str], committed: dict[TopicPartition, int]) -> None:
        self.events = events
        self._committed = committed
        self.paused: set[TopicPartition] = set()
        self.seeks: dict[TopicPartition, int] = {}

    def assignment(self) -> set[TopicPartition]:
        return {A, B}

    async def committed(self, tp: TopicPartition) -> int | None:
        self.events.append(f"committed {tp.partition}")
        return self._committed.get(tp)

    async def seek_to_beginning(self, tp: TopicPartition) -> None:
        self.seeks[tp] = 0

    async def position(self, tp: TopicPartition) -> int:
        return 0

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks[tp] = offset

    def pause(self, *tps: TopicPartition) -> None:
        self.paused |= set(tps)

    def resume(self, *tps: TopicPartition) -> None:
        self.paused -= set(tps)


class FakeProducer:
    def __init__(self, events: list[str], partition: int) -> None:
        self.events, self.partition = events, partition

    async def stop(self) -> None:
        self.events.append(f"stop {self.partition}")


class Stage(StoredWithItsBatch):
    name = "score"
    topic = "in"
    parked = 0

    def __init__(self) -> None:
        self.holds: dict[int, Hold] = {}
        self.forgotten: list[set[int]] = []
        self.done: list[set[int]] = []

    async def process(self, partition: int, records: list[Any]) -> list[Out]:
        return [Out("out", None, b"x")]

    def committed(self, partitions: set[int]) -> None:
        self.done.append(partitions)

    def forget(self, partitions: set[int]) -> None:
        self.forgotten.append(partitions)


def _loop(events: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[BatchLoop, Stage]:
    stage = Stage()
    loop = BatchLoop(StreamSettings(), stage)

    async def new_producer(partition: int) -> Any:
        events.append(f"init {loop.transactional_id(partition)}")
        return FakeProducer(events, partition)

    monkeypatch.setattr(loop, "_new_producer", new_producer)
    return loop, stage


def test_the_transactional_id_names_the_partition_not_the_worker() -> None:
    one = BatchLoop(StreamSettings(worker_id="w1"), Stage())
    two = BatchLoop(StreamSettings(worker_id="w2"), Stage())
    assert one.transactional_id(3) == two.transactional_id(3) == "campaigns-score-in-3"
    assert one.transactional_id(3) != one.transactional_id(2)


def test_taken_partitions_wait_paused_until_their_producers_fenced_the_last_owner(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events: list[str] = []
    loop, stage = _loop(events, monkeypatch)
    consumer = FakeConsumer(events, {A: 7})
    loop.taken(consumer, {A, B})  # type: ignore[arg-type]
    assert consumer.paused == {A, B}
    # a batch fetched meanwhile (before the take-over) is not processed
    asyncio.run(loop._handle(consumer, {A: [SimpleNamespace(offset=3)]}))  # type: ignore[arg-type]
    assert stage.done == [] and loop.batches == 0
    asyncio.run(loop._take_over(consumer))  # type: ignore[arg-type]
    inits = [e for e in events if e.startswith("init")]
    assert sorted(inits) == ["init campaigns-score-in-0", "init campaigns-score-in-1"]
    # every init before the first offset fetch: the fetched offsets are final
    assert max(events.index(e) for e in inits) < min(
        i for i, e in enumerate(events) if e.startswith("committed")
    )
    assert consumer.seeks == {A: 7, B: 0} and consumer.paused == set()


def test_a_failed_partition_is_taken_over_again_and_the_others_commits_stand(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events: list[str] = []
    loop, stage = _loop(events, monkeypatch)
    consumer = FakeConsumer(events, {A: 10, B: 40})
    loop.taken(consumer, {A, B})  # type: ignore[arg-type]
    asyncio.run(loop._take_over(consumer))  # type: ignore[arg-type]

    async def commit(tp: TopicPartition, outputs: list[Out], offset: int) -> None:
        if tp == A:
            raise RuntimeError("ProducerFenced")  # another worker took partition 0

    monkeypatch.setattr(loop, "_commit", commit)
    stage.forgotten.clear()
    batch = {A: [SimpleNamespace(offset=o) for o in (10, 11)], B: [SimpleNamespace(offset=40)]}
    asyncio.run(loop._handle(consumer, batch))  # type: ignore[arg-type]
    assert stage.done == [{1}] and {0} in stage.forgotten and {1} not in stage.forgotten
    assert consumer.paused == {A} and loop.failures == 1
    events.clear()
    asyncio.run(loop._take_over(consumer))  # type: ignore[arg-type]
    assert events == ["stop 0", "init campaigns-score-in-0", "committed 0"]
    assert consumer.seeks[A] == 10 and consumer.paused == set()
