"""Drops an event id seen before and records each drop; the first copy goes on, keyed by manager.

An org.changed event also goes to the compacted org topic, which the services read as data. A
customer.transferred event goes on twice, keyed by each of its two managers (schemas/routing.py):
the copies are made here, after the one dedup decision, so they cannot be taken for duplicates.
The ids are written to the local store (streams/dedup_store.py) before the batch's transaction
commits: killed in between, the batch is read again, finds its ids at the same offsets and sends
them again inside the new transaction; the aborted one is never seen.
"""

from __future__ import annotations

import json
from typing import Any

from schemas.dead_letters import DeadLetter
from schemas.records import ARRIVED_HEADER, CM_HEADER, EVENT_ID_HEADER, TYPE_HEADER, duplicate_record
from schemas.routing import also_for, org_key
from schemas.topics import Topics
from streams.dedup_store import DedupStore
from streams.pipeline.stage import Hold, Out


class DedupStage:
    name = "dedup"

    def __init__(self, topics: Topics, store: DedupStore) -> None:
        self.topic = topics.accepted
        self._topics = topics
        self._store = store
        self.dropped = 0  # copies of events seen before
        self.parked = 0  # records sent to the dead letters
        self.holds: dict[int, Hold] = {}  # never set: every record is taken

    async def process(self, partition: int, records: list[Any]) -> list[Out]:
        ids = [_event_id(m) for m in records]
        known = self._store.lookup(partition, ids)
        first: dict[str, int] = {}
        copies: dict[str, int] = {}
        out: list[Out] = []
        for event_id, m in zip(ids, records, strict=True):
            seen = known.get(event_id)
            if seen is not None and seen[0] != m.offset:
                count = copies.get(event_id, seen[1]) + 1
                copies[event_id] = count
                self.dropped += 1
                out.append(
                    Out(
                        self._topics.duplicates,
                        event_id.encode(),
                        duplicate_record(event_id, count, m.offset, seen[0]),
                    )
                )
                continue
            if seen is None:
                known[event_id] = (m.offset, 1)
                first[event_id] = m.offset
            headers = dict(m.headers or ())
            value: bytes = m.value or b""
            try:
                cm_id = headers.get(CM_HEADER) or json.loads(value)["data"]["cm_id"].encode()
                kind = headers.get(TYPE_HEADER)
                org = org_key(json.loads(value)) if kind == b"org.changed" else None
                other = also_for(json.loads(value)) if kind == b"customer.transferred" else None
            except Exception as exc:  # only the validator writes here; still, never stop on a record
                self.parked += 1
                letter = DeadLetter(
                    "unprocessable", f"{type(exc).__name__}: {exc}"[:500], value, m.topic, partition, m.offset
                )
                out.append(Out(self._topics.dead_letters, m.key, letter.value, headers=letter.headers()))
                continue
            arrived = headers.get(ARRIVED_HEADER)
            carried = [(ARRIVED_HEADER, arrived)] if arrived else None
            out.append(Out(self._topics.validated, cm_id, value, headers=carried))
            if other is not None:  # the same record for the manager a transfer leaves
                out.append(Out(self._topics.validated, other.encode(), value, headers=carried))
            if org is not None:
                out.append(Out(self._topics.org, org.encode(), value))
        self._store.record(partition, first, copies)
        return out

    def committed(self, partitions: set[int]) -> None:
        """The store is written before the commit; nothing else is kept."""

    def forget(self, partitions: set[int]) -> None:
        """The store is durable and keyed by offset; nothing to drop."""


def _event_id(m: Any) -> str:
    event_id = dict(m.headers or ()).get(EVENT_ID_HEADER)
    return (
        event_id.decode() if event_id is not None else str(json.loads(m.value or b"{}").get("event_id", ""))
    )
