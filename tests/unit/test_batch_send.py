"""The loop's record batches (streams/pipeline/batch_send.py): records land where aiokafka's `send`
would put them, in order within each partition, in as many batches as they need."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.partitioner import DefaultPartitioner

from streams.pipeline.batch_send import partition_for, send_batches
from streams.pipeline.stage import Out


@pytest.mark.parametrize("count", [1, 4, 6, 12])
def test_a_keyed_record_goes_where_the_default_partitioner_sends_it(count: int) -> None:
    partitions = list(range(count))
    keys = [f"cm-{i:04d}".encode() for i in range(500)] + [f"c|cm-{i}".encode() for i in range(500)]
    for key in keys * 2:  # the second time from the cache
        assert partition_for(key, partitions) == DefaultPartitioner()(key, partitions, partitions)


class _Batch:
    def __init__(self, room: int) -> None:
        self.room = room
        self.records: list[tuple[bytes | None, bytes | None, Any]] = []

    def append(self, *, key: bytes | None, value: bytes | None, timestamp: None, headers: Any) -> object:
        if self.records and len(self.records) >= self.room:
            return None  # full, as aiokafka's builder says it
        self.records.append((key, value, headers))
        return object()

    def record_count(self) -> int:
        return len(self.records)


class _Producer:
    """What send_batches uses of AIOKafkaProducer, recording the batches it was given."""

    def __init__(self, room: int = 3) -> None:
        self.room = room
        self.sent: list[tuple[str, int, list[tuple[bytes | None, bytes | None, Any]]]] = []

    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1, 2, 3}

    def create_batch(self) -> _Batch:
        return _Batch(self.room)

    async def send_batch(self, batch: _Batch, topic: str, *, partition: int) -> asyncio.Future[None]:
        self.sent.append((topic, partition, batch.records))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_records_keep_their_order_within_a_partition_across_full_batches() -> None:
    producer = _Producer(room=3)
    outputs = [Out("ledger", b"cm-1", f"e{i}".encode()) for i in range(7)]
    outputs += [Out("state", b"cm-1", b"s", partition=2, headers=[("h", b"v")])]
    await send_batches(producer, outputs, 1000)  # type: ignore[arg-type]
    ledger = [b for b in producer.sent if b[0] == "ledger"]
    where = partition_for(b"cm-1", [0, 1, 2, 3])
    assert [(t, p, len(r)) for t, p, r in ledger] == [
        ("ledger", where, 3),
        ("ledger", where, 3),
        ("ledger", where, 1),
    ]
    assert [v for _, _, r in ledger for _, v, _ in r] == [f"e{i}".encode() for i in range(7)]
    assert ("state", 2, [(b"cm-1", b"s", [("h", b"v")])]) in producer.sent


async def test_a_record_over_the_limit_is_refused_not_sent() -> None:
    producer = _Producer()
    with pytest.raises(MessageSizeTooLargeError):
        await send_batches(producer, [Out("ledger", b"k", b"x" * 2000)], 1000)  # type: ignore[arg-type]
    assert producer.sent == []
