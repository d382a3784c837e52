"""A transaction's records, sent as one record batch per partition rather than one `send` each.

aiokafka's `send` costs about as much per record as the stage's own work on it: a coroutine and
a metadata wait per call, the partition list copied and the key hashed in pure Python, a future
per record made on the way out and resolved on the way back. A batch is one future for
thousands of records. The producer's accumulator still orders the batches of a partition and
gives them their sequence numbers, and adds the partition to the open transaction, as for `send`.

Records land where `send` would place them: an explicit partition as given, a keyed record by
the default partitioner's murmur2 (the Java client's, so every producer of a topic agrees), an
unkeyed one on any partition.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.partitioner import murmur2

from streams.pipeline.stage import Out

_HASH_CACHE_SIZE = 100_000  # keys are managers and standings: a branch's few thousand, reused
_hashes: dict[bytes, int] = {}


def _hash(key: bytes) -> int:
    h = _hashes.get(key)
    if h is None:
        if len(_hashes) >= _HASH_CACHE_SIZE:
            _hashes.clear()
        h = _hashes[key] = murmur2(key) & 0x7FFFFFFF
    return h


def partition_for(key: bytes | None, partitions: Sequence[int]) -> int:
    """The default partitioner's choice among a topic's partitions (sorted by id)."""
    if key is None:
        return random.choice(partitions)
    return partitions[_hash(key) % len(partitions)]


async def send_batches(producer: AIOKafkaProducer, outputs: Sequence[Out], max_bytes: int) -> None:
    """Send `outputs` in order within each partition and wait until the broker has every one.
    Must run inside the producer's transaction."""
    by_tp: dict[tuple[str, int], list[Out]] = {}
    partitions: dict[str, list[int]] = {}
    for o in outputs:
        p = o.partition
        if p is None:
            known = partitions.get(o.topic)
            if known is None:
                known = partitions[o.topic] = sorted(await producer.partitions_for(o.topic))
            p = partition_for(o.key, known)
        by_tp.setdefault((o.topic, p), []).append(o)
    pending: list[asyncio.Future[Any]] = []
    for (topic, p), records in by_tp.items():
        batch = producer.create_batch()
        for o in records:
            if len(o.value or b"") + len(o.key or b"") > max_bytes:
                raise MessageSizeTooLargeError(f"a record for {topic} is larger than {max_bytes} bytes")
            if batch.append(key=o.key, value=o.value, timestamp=None, headers=o.headers or []) is None:
                pending.append(await producer.send_batch(batch, topic, partition=p))  # full: next one
                batch = producer.create_batch()
                batch.append(key=o.key, value=o.value, timestamp=None, headers=o.headers or [])
        if batch.record_count():
            pending.append(await producer.send_batch(batch, topic, partition=p))
    if pending:
        await asyncio.gather(*pending)
