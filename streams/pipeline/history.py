"""A validated partition's earlier records, by manager: the score stage's `History`
(streams/core/partition.py), read from the local index (streams/history_index.py) and kept
complete from the topic. The topic keeps the campaign year, so this is a manager's whole past.

One `IndexedHistory` serves one partition while this worker owns it (a new one after every
assignment or failed batch). The stage hands it each batch's records before scoring them
(`note`); from its first batch on it has seen every record, so the index can fall behind only
before that: records other workers scored meanwhile, or every record if the file was lost. That
gap is filled from the topic at the first read that needs the history, not at the assignment: a
partition that never re-scores never pays for it.

SQLite calls run in a thread: a manager's year is a few hundred milliseconds of reading, and the
event loop must keep the consumer groups' heartbeats going meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import TopicPartition

from schemas.control import HEADER as CONTROL_HEADER
from streams.follow import read_range
from streams.history_index import HistoryIndex, Row
from streams.pipeline import fault

log = logging.getLogger(__name__)


class IndexedHistory:
    def __init__(self, index: HistoryIndex, bootstrap: str, topic: str, partition: int) -> None:
        self._index = index
        self._bootstrap = bootstrap
        self._tp = TopicPartition(topic, partition)
        self._partition = partition
        self._gap: tuple[int, int] | None = None  # offsets not in the index, filled before a read
        self._start: int | None = None  # the first offset noted
        self._end = 0  # one past the last offset noted
        self.read_from_topic = 0  # records read from Kafka to fill the gap

    async def note(self, records: list[Any]) -> None:
        """The batch's aiokafka records (untyped), in offset order, before they are scored."""
        if not records:
            return
        index, partition = self._index, self._partition
        if self._start is None:
            self._start = records[0].offset
            covered = await asyncio.to_thread(index.covered, partition)
            if covered < self._start:
                self._gap = (covered, self._start)
        self._end = max(self._end, records[-1].offset + 1)
        # While the gap is open, `covered` stays where the gap starts.
        covered_to = None if self._gap is not None else self._end
        await asyncio.to_thread(index.add, partition, _rows(records), covered_to)

    async def manager(self, cm_id: str, before: int) -> list[bytes]:
        await self._fill()
        return await asyncio.to_thread(self._index.manager, self._partition, cm_id, before)

    async def managers(self, before: int) -> list[str]:
        await self._fill()
        found = await asyncio.to_thread(self._index.managers, self._partition, before)
        fault.point("score.rescore")  # the history ready, the books not yet rebuilt
        return found

    async def _fill(self) -> None:
        """Copy the records the index misses from the topic, batch by batch (never all at once)."""
        if self._gap is None:
            return
        start, stop = self._gap
        async for batch in read_range(self._bootstrap, self._tp, start, stop):
            self.read_from_topic += len(batch)
            await asyncio.to_thread(self._index.add, self._partition, _rows(batch))
        await asyncio.to_thread(self._index.add, self._partition, [], self._end)
        self._gap = None
        log.info(
            "score: partition %s: history index filled from the topic (offsets %d to %d, %d records)",
            self._partition,
            start,
            stop,
            self.read_from_topic,
        )


def _rows(records: list[Any]) -> list[Row]:
    return [
        (m.offset, (m.key or b"").decode(), m.value)
        for m in records
        if m.value is not None and not is_control(m)
    ]


def is_control(m: Any) -> bool:
    """An aiokafka record (untyped) carrying the control header (schemas/control.py)."""
    return any(k == CONTROL_HEADER for k, _ in m.headers or ())
