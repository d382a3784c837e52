"""Dedup's seen ids in Kafka, so they move with the partition: the changelog topic `dedup.seen`.

Each dedup batch that saw a new id (or a new copy) writes one record to the changelog partition
with the accepted partition's number, inside the batch's transaction: the record is committed
exactly when the batch's outputs and offsets are. One record per batch, not per event: a few
thousand ids in one compact JSON value cost the producer one send.

A worker that takes a partition reads the changelog from its local file's checkpoint to the end
before its first batch (`restore`). The partition's producer has already fenced the previous
owner by then (streams/pipeline/loop.py), so every record that will ever be committed before our
own is there to read. A machine that never held the partition reads all of it: the dedup window
(the topic's retention) bounds it.

Each record names the accepted topic it was made from (its Kafka topic id): after the accepted
topic is deleted and created again (a reset), the old topic's records are skipped, so the new
topic starts with no ids even where the changelog outlived it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import orjson
from aiokafka import TopicPartition

from streams.dedup_store import DedupStore
from streams.follow import reader
from streams.topic_identity import TopicIdentity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SeenBatch:
    """What one committed dedup batch added: ids with their first offsets, and copy counts."""

    accepted_id: str  # the Kafka topic id of the accepted topic the offsets are in
    at: int  # when the batch was deduplicated, epoch ms
    first: dict[str, int]
    copies: dict[str, int]


# Ids per record at most: an id is up to 128 characters (schemas/envelope.py), so a record
# stays near half a megabyte at worst, within the producer's and the broker's 1 MB limits
# whatever CAMPAIGNS_BATCH_MAX_RECORDS is. At the default batch size a batch is one record.
IDS_PER_RECORD = 4000


def encode(batch: SeenBatch) -> bytes:
    return orjson.dumps(
        {"topic_id": batch.accepted_id, "at": batch.at, "first": batch.first, "copies": batch.copies}
    )


def encode_all(batch: SeenBatch) -> list[bytes]:
    """The batch as changelog record values, each with at most IDS_PER_RECORD ids."""
    entries = [(True, e, n) for e, n in batch.first.items()] + [
        (False, e, n) for e, n in batch.copies.items()
    ]
    out: list[bytes] = []
    for i in range(0, len(entries), IDS_PER_RECORD):
        chunk = entries[i : i + IDS_PER_RECORD]
        first = {e: n for is_first, e, n in chunk if is_first}
        copies = {e: n for is_first, e, n in chunk if not is_first}
        out.append(encode(SeenBatch(batch.accepted_id, batch.at, first, copies)))
    return out


def decode(value: bytes) -> SeenBatch:
    obj = orjson.loads(value)
    return SeenBatch(str(obj["topic_id"]), int(obj["at"]), dict(obj["first"]), dict(obj["copies"]))


@dataclass(frozen=True)
class Restored:
    start: int  # the changelog offsets read: start <= offset < end
    end: int
    records: int  # changelog records of this accepted topic, within the window
    skipped: int  # records of another accepted topic (before a reset) or past the window


class ChangelogNotBound(Exception):
    """The changelog was used before the worker found its topic in the cluster."""


class ChangelogMismatch(Exception):
    """The changelog's partitions do not match the accepted topic's; the message says what to do."""


class SeenChangelog:
    def __init__(self, bootstrap: str, topic: str) -> None:
        self._bootstrap = bootstrap
        self.topic = topic
        self._identity: TopicIdentity | None = None

    def bind(self, identity: TopicIdentity, accepted: TopicIdentity) -> None:
        """The changelog topic as found in the cluster now (a checkpoint is an offset in it),
        for the accepted topic as found now: partition n of one is partition n of the other."""
        if identity.topic != self.topic:
            raise ValueError(f"changelog {self.topic} cannot be {identity.topic}")
        if identity.partitions != accepted.partitions:
            raise ChangelogMismatch(
                f"{self.topic} has {identity.partitions} partitions and {accepted.topic} "
                f"{accepted.partitions}: dedup writes the ids of accepted partition n to changelog "
                f"partition n. Delete {self.topic} (the worker creates it again, empty) or give it "
                f"{accepted.partitions} partitions."
            )
        self._identity = identity

    @property
    def topic_id(self) -> str:
        if self._identity is None:
            raise ChangelogNotBound(f"{self.topic} used before bind()")
        return self._identity.topic_id

    async def restore(self, store: DedupStore, partition: int, accepted_id: str, since: int) -> Restored:
        """Copy the partition's records past the store's checkpoint into the store (ids seen at
        `since`, epoch ms, or later), then move the checkpoint to the end read."""
        changelog_id = self.topic_id
        tp = TopicPartition(self.topic, partition)
        start = await asyncio.to_thread(store.checkpoint, partition, changelog_id)
        records = skipped = 0
        async with reader(self._bootstrap, max_partition_fetch_bytes=8 * 1024 * 1024) as consumer:
            consumer.assign([tp])
            end = (await consumer.end_offsets([tp]))[tp]
            if start < end:
                # Below the log start (retention took it), the reader starts at the earliest.
                consumer.seek(tp, start)
                while await consumer.position(tp) < end:
                    fetched = await consumer.getmany(tp, timeout_ms=500, max_records=1000)
                    batches = [decode(m.value) for m in fetched.get(tp, ()) if m.offset < end and m.value]
                    kept = [b for b in batches if b.accepted_id == accepted_id and b.at >= since]
                    skipped += len(batches) - len(kept)
                    records += len(kept)
                    for b in kept:
                        await asyncio.to_thread(store.record, partition, b.first, b.copies, b.at)
        await asyncio.to_thread(store.set_checkpoint, partition, changelog_id, end)
        return Restored(start, end, records, skipped)

    async def end(self, partition: int) -> int:
        """The partition's end for committed reads: below it, every record is committed."""
        tp = TopicPartition(self.topic, partition)
        async with reader(self._bootstrap) as consumer:
            return int((await consumer.end_offsets([tp]))[tp])
