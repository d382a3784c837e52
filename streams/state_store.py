"""Managers' scoring states, kept in a compacted topic of our own and written with acknowledgement.

Why not a faust Table: a table's changelog record is buffered (send_soon) while the consumer
offset of the event that caused it can already be committed, and a SIGKILL between the two lost
events in our kill test. Here the state write is awaited like the ledger entries, before the
agent moves on, so a committed offset always has its state on the broker.

Each manager's record goes to the partition number of the manager's validated-topic partition,
so a worker owning partition p reads only partition p of this topic, once, on first use after it
was (re)assigned; after that the partition's states live in memory.

The offsets faust commits are not trusted either: in the kill test a restarted worker resumed
past events whose states were never written. Every state records the validated-topic offset it
was written at; since a partition is processed in order, every record up to the highest such
offset has been applied. On first use of a partition the agent replays, through the same code,
the records between that point and where faust resumed (`missed`); a record already applied is
recognised by its event id and changes nothing.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.core.state import ParticipantState
from streams.state_codec import decode, encode, offset_of


class StateStore:
    def __init__(self, bootstrap: str, topic: Any) -> None:
        self._bootstrap = bootstrap
        self._topic = topic  # a faust topic: sends share the worker's producer
        self._blobs: dict[int, dict[str, bytes]] = {}
        self.caught_up: set[int] = set()  # partitions replayed since the last (re)assignment
        # Decoding a state costs as much as scoring an event: keep the decoded object beside
        # the blob it came from, and decode again only if the blob changed.
        self._decoded: dict[str, tuple[bytes, ParticipantState]] = {}

    def forget(self) -> None:
        """After a rebalance another worker may have written newer states: read them again."""
        self._blobs.clear()
        self._decoded.clear()
        self.caught_up.clear()

    def drop_cached(self, cm_id: str) -> None:
        self._decoded.pop(cm_id, None)

    async def partition(self, partition: int) -> dict[str, bytes]:
        blobs = self._blobs.get(partition)
        if blobs is None:
            blobs = self._blobs[partition] = await self._read(partition)
        return blobs

    async def load(self, cm_id: str, partition: int) -> ParticipantState:
        blob = (await self.partition(partition)).get(cm_id)
        if blob is None:
            return ParticipantState(cm_id)
        cached = self._decoded.get(cm_id)
        if cached is not None and cached[0] is blob:
            return cached[1]
        state = decode(blob)[0]
        self._decoded[cm_id] = (blob, state)
        return state

    async def save(self, cm_id: str, partition: int, state: ParticipantState, offset: int) -> None:
        blob = encode(state, partition, offset)
        ack = await self._topic.send(key=cm_id.encode(), value=blob, partition=partition)
        await ack
        (await self.partition(partition))[cm_id] = blob
        self._decoded[cm_id] = (blob, state)

    def applied_through(self, partition: int) -> int:
        """The highest validated offset whose processing wrote a state here (-1: none)."""
        blobs = self._blobs.get(partition, {})
        return max((offset_of(blob) for blob in blobs.values()), default=-1)

    async def missed(
        self, validated_topic: str, partition: int, upto: int
    ) -> list[tuple[int, bytes | None, bytes, dict[str, bytes]]]:
        """Validated records after the states' high mark and before `upto`:
        (offset, key, value, headers)."""
        await self.partition(partition)
        start = self.applied_through(partition) + 1
        if start >= upto:
            return []
        records = await _read_range(self._bootstrap, TopicPartition(validated_topic, partition), start, upto)
        return [(m.offset, m.key, m.value or b"", dict(m.headers or ())) for m in records]

    async def _read(self, partition: int) -> dict[str, bytes]:
        tp = TopicPartition(self._topic.get_topic_name(), partition)
        blobs: dict[str, bytes] = {}
        for message in await _read_range(self._bootstrap, tp, 0, None):
            if message.key is not None and message.value is not None:
                blobs[message.key.decode()] = message.value
        return blobs


async def _read_range(bootstrap: str, tp: TopicPartition, start: int, stop: int | None) -> list[Any]:
    """Records of one partition from `start` up to `stop` (None: the end as of now)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        stop = end if stop is None else min(stop, end)
        if start >= stop:
            return []
        consumer.seek(tp, start)
        out: list[Any] = []
        position = start
        while position < stop:
            batch = await consumer.getmany(tp, timeout_ms=1000)
            for message in batch.get(tp, []):
                if message.offset < stop:
                    out.append(message)
                position = message.offset + 1
        return out
    finally:
        await consumer.stop()
