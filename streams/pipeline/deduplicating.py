"""Drops an event id seen before and records each drop; the first copy goes on, keyed by manager.

An org.changed event also goes to the compacted org topic, which the services read as data. A
customer.transferred event goes on twice, keyed by each of its two managers (schemas/routing.py):
the copies are made here, after the one dedup decision, so they cannot be taken for duplicates.

The seen ids live in two places. The batch's new ids (and copy counts) go, as one record, to the
changelog topic inside the batch's transaction (streams/dedup_changelog.py): that is what moves
with the partition. They also go to the local store (streams/dedup_store.py) before the
transaction commits: killed in between, the batch is read again, finds its ids at the same
offsets and sends them again inside the new transaction; the aborted one is never seen. On its
first batch after an assignment (or an error) the stage brings the local store up to the
changelog's end, so ids another machine saw are found here too.

An id is remembered for the dedup window (streams/admin.py DEDUP_WINDOW_MS), by when this stage
first saw it: a copy that comes later passes, on every machine alike.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import orjson

from schemas.dead_letters import DeadLetter
from schemas.records import ARRIVED_HEADER, CM_HEADER, EVENT_ID_HEADER, TYPE_HEADER, duplicate_record
from schemas.routing import also_for, org_key
from schemas.topics import Topics
from streams.admin import DEDUP_WINDOW_MS
from streams.dedup_changelog import SeenBatch, SeenChangelog, encode_all
from streams.dedup_store import DedupStore
from streams.pipeline.stage import Hold, Out, StoredWithItsBatch

log = logging.getLogger(__name__)

_PARSED = (b"org.changed", b"customer.transferred")  # the kinds whose value says more than its headers

# How often the local store's checkpoint follows the changelog's end while the partition stays
# here: a restart on this machine then reads at most this much of its own writes again.
CHECKPOINT_SECONDS = 30.0
PRUNE_SECONDS = 6 * 3600.0  # how often ids past the window are deleted from the local files


class DedupStage(StoredWithItsBatch):
    name = "dedup"

    def __init__(
        self,
        topics: Topics,
        store: DedupStore,
        changelog: SeenChangelog,
        now: Callable[[], float] = time.time,
        window_ms: int = DEDUP_WINDOW_MS,
    ) -> None:
        self.topic = topics.accepted
        self._topics = topics
        self._validated, self._duplicates, self._org = topics.validated, topics.duplicates, topics.org
        self._store = store
        self._changelog = changelog
        self._now = now
        self._window_ms = window_ms
        self._restored: set[int] = set()  # partitions whose store is as complete as the changelog
        self._checkpointed: dict[int, float] = {}  # when each partition's checkpoint last moved
        self._pruned: dict[int, float] = {}
        self.dropped = 0  # copies of events seen before
        self.parked = 0  # records sent to the dead letters
        self.restored_records = 0  # changelog records read into the local store since start-up
        self.holds: dict[int, Hold] = {}  # never set: every record is taken

    async def process(self, partition: int, records: list[Any]) -> list[Out]:
        at = int(self._now() * 1000)
        since = at - self._window_ms
        await self._up_to_date(partition, since)
        accepted_id = self._accepted_id()
        # Each record's headers are read once and its value parsed at most once, only where a
        # header does not say what is needed (issue 17 counts the stage's CPU per event).
        heads = [dict(m.headers or ()) for m in records]
        docs: dict[int, Any] = {}  # index -> the parsed value, for the records parsed
        problems: dict[int, Exception] = {}  # index -> why the value gave no event id
        ids: list[str | None] = []
        for i, (m, h) in enumerate(zip(records, heads, strict=True)):
            raw = h.get(EVENT_ID_HEADER)
            if raw is not None:
                ids.append(raw.decode())
                continue
            try:
                found = docs.setdefault(i, orjson.loads(m.value or b"{}")).get("event_id")
            except Exception as exc:
                found, problems[i] = None, exc  # parked below, with the parser's complaint
            ids.append(str(found) if found else None)
        known = self._store.lookup(partition, (e for e in ids if e is not None), since)
        first: dict[str, int] = {}
        copies: dict[str, int] = {}
        out: list[Out] = []
        validated, org_topic = self._validated, self._org
        for i, m in enumerate(records):
            event_id = ids[i]
            seen = known.get(event_id) if event_id is not None else None
            if seen is not None and seen[0] != m.offset:
                assert event_id is not None
                count = copies.get(event_id, seen[1]) + 1
                copies[event_id] = count
                self.dropped += 1
                out.append(
                    Out(
                        self._duplicates,
                        event_id.encode(),
                        duplicate_record(event_id, count, m.offset, seen[0]),
                    )
                )
                continue
            h = heads[i]
            value: bytes = m.value or b""
            kind = h.get(TYPE_HEADER)
            cm_id = h.get(CM_HEADER)
            org = other = None
            if event_id is None or cm_id is None or kind in _PARSED:
                try:
                    if event_id is None:
                        raise problems.get(i) or ValueError("no event_id")
                    doc = docs[i] if i in docs else orjson.loads(value)
                    cm_id = cm_id or doc["data"]["cm_id"].encode()
                    org = org_key(doc) if kind == b"org.changed" else None
                    other = also_for(doc) if kind == b"customer.transferred" else None
                except Exception as exc:  # only the validator writes here; still, never stop on a record
                    self.parked += 1
                    letter = DeadLetter(
                        "unprocessable",
                        f"{type(exc).__name__}: {exc}"[:500],
                        value,
                        m.topic,
                        partition,
                        m.offset,
                    )
                    out.append(Out(self._topics.dead_letters, m.key, letter.value, headers=letter.headers()))
                    continue
            assert event_id is not None and cm_id is not None
            if seen is None:
                known[event_id] = (m.offset, 1)
            # Also when seen at this very offset: a batch read again after an aborted transaction,
            # whose changelog record was never committed, must write it now.
            first[event_id] = m.offset
            arrived = h.get(ARRIVED_HEADER)
            carried = [(ARRIVED_HEADER, arrived)] if arrived else None
            out.append(Out(validated, cm_id, value, headers=carried))
            if other is not None:  # the same record for the manager a transfer leaves
                out.append(Out(validated, other.encode(), value, headers=carried))
            if org is not None:
                out.append(Out(org_topic, org.encode(), value))
        if first or copies:
            batch = SeenBatch(accepted_id, at, first, copies)
            out += [Out(self._changelog.topic, None, v, partition=partition) for v in encode_all(batch)]
        self._store.record(partition, first, copies, at)
        return out

    def committed(self, partitions: set[int]) -> None:
        """The store is written before the commit, the changelog in it; nothing else is kept."""

    def forget(self, partitions: set[int]) -> None:
        """Revoked or failed: another worker may have written the changelog meanwhile, so the
        partition's next first batch reads its tail again."""
        self._restored -= partitions

    # -- the changelog ----------------------------------------------------------------------------

    def _accepted_id(self) -> str:
        identity = self._store.identity
        assert identity is not None, "the worker binds the store before the loops start"
        return identity.topic_id

    async def _up_to_date(self, partition: int, since: int) -> None:
        now = time.monotonic()
        if partition not in self._restored:
            started = time.perf_counter()
            done = await self._changelog.restore(self._store, partition, self._accepted_id(), since)
            self._restored.add(partition)
            self._checkpointed[partition] = now
            self.restored_records += done.records
            log.info(
                "dedup: partition %s: restored from %s offsets %d to %d (%d records, %d skipped) in %.2f s",
                partition,
                self._changelog.topic,
                done.start,
                done.end,
                done.records,
                done.skipped,
                time.perf_counter() - started,
            )
        elif now - self._checkpointed.get(partition, now) >= CHECKPOINT_SECONDS:
            # No transaction of ours is open on the partition between batches, and nobody else
            # writes to it while it is ours: every record below the end is in the local store.
            end = await self._changelog.end(partition)
            await asyncio.to_thread(self._store.set_checkpoint, partition, self._changelog.topic_id, end)
            self._checkpointed[partition] = now
        if now - self._pruned.get(partition, -PRUNE_SECONDS) >= PRUNE_SECONDS:
            pruned = await asyncio.to_thread(self._store.prune, partition, since)
            self._pruned[partition] = now
            if pruned:
                log.info("dedup: partition %s: %d ids past the dedup window forgotten", partition, pruned)
