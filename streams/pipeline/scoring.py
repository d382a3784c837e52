"""Validated events in; ledger entries, standings and managers' states out, per partition.

A partition's states are read from score.state on its first batch after an assignment (or after
an error) and then live in memory. Within a batch each event goes through the pure core; at the
end each changed manager gets one new standing per competition that changed and one state
record, all in the batch's transaction (streams/pipeline/loop.py).

Rules move with the partition: the competitions a partition scores with change only at a
re-score control record (schemas/control.py), at that record's position, and the set in force
is stored with the states ("@rules"). A replay after a crash therefore sees the same rules at
the same offsets and mints the same ledger ids, whenever the rules feed learnt of a version.
A re-score reads the partition's history (events.validated, kept for the campaign year) up to
the control record and rebuilds the changed competition's books from it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import TopicPartition

from schemas.control import HEADER as CONTROL_HEADER
from schemas.control import Rescore
from schemas.dead_letters import DeadLetter
from schemas.envelope import Envelope
from schemas.records import RULES_KEY, pack, pinned_of, rules_record, standing_key, unpack
from schemas.topics import Topics
from schemas.validate import read_canonical
from streams.core.catalog import Catalog
from streams.core.engine import apply, rebuild, standings
from streams.core.errors import CoreError, NeedsRebuild
from streams.core.history import SCORING_FAILURES, readable_events
from streams.core.state import ParticipantState
from streams.follow import latest_by_key, read_range
from streams.pipeline import fault
from streams.pipeline.stage import Out
from streams.rules_feed import RulesFeed

log = logging.getLogger(__name__)


@dataclass
class Partition:
    """What the worker holds for one validated-topic partition between batches."""

    states: dict[str, ParticipantState] = field(default_factory=dict)
    pinned: dict[str, str] = field(default_factory=dict)  # "competition_id:version" -> status
    published: dict[bytes, bytes] = field(default_factory=dict)  # standing key -> last value sent
    catalog: Catalog = field(default_factory=lambda: Catalog([]))


class ScoreStage:
    name = "score"

    def __init__(self, bootstrap: str, topics: Topics, rules: RulesFeed) -> None:
        self.topic = topics.validated
        self._bootstrap = bootstrap
        self._topics = topics
        self._rules = rules
        self._partitions: dict[int, Partition] = {}
        self.parked = 0

    # -- the loop's hooks ---------------------------------------------------------------------

    def committed(self, partitions: set[int]) -> None:
        """States were changed in place; the transaction made them durable."""

    def forget(self, partitions: set[int]) -> None:
        for p in partitions:
            self._partitions.pop(p, None)

    async def process(self, partition: int, records: list[Any]) -> list[Out]:
        await self._rules.ready.wait()
        part = await self._partition(partition)
        out: list[Out] = []
        dirty: set[str] = set()
        now = datetime.now(UTC)
        i = 0
        while i < len(records):
            if not _is_control(records[i]):
                out += await self._score(partition, part, records[i], dirty, now)
                i += 1
                continue
            # Control records in a row (several competitions published together) re-score in one
            # pass over the history. The result does not depend on that grouping: each
            # competition's books are rebuilt from the same events either way.
            run = [records[i]]
            while i + len(run) < len(records) and _is_control(records[i + len(run)]):
                run.append(records[i + len(run)])
            out += await self._rescore(partition, part, run, dirty, now)
            i += len(run)
        out += self._snapshots(partition, part, dirty)
        return out

    # -- one event ------------------------------------------------------------------------------

    async def _score(
        self, partition: int, part: Partition, m: Any, dirty: set[str], now: datetime
    ) -> list[Out]:
        cm_id = (m.key or b"").decode()
        state = part.states.get(cm_id)
        if state is None:
            state = part.states[cm_id] = ParticipantState(cm_id)
        try:
            event = read_canonical(m.value or b"")
            try:
                entries = apply(state, event, part.catalog, now=now)
            except NeedsRebuild as why:
                # A correction older than what the state keeps in detail: score the manager again
                # from their history, this event included (apply changed nothing).
                log.info("score: %s needs its history (%s); rebuilding", cm_id, why)
                history = await self._history(partition, m.offset, cm_id)
                state, entries = rebuild(cm_id, [*history, event], part.catalog, state, cause=event, now=now)
                part.states[cm_id] = state
        except SCORING_FAILURES as exc:
            # Cannot happen for an event the validator passed; if it does, park it, don't crash-loop.
            # (Kafka errors while reading history are not caught: the batch is retried.)
            self.parked += 1
            log.error("score: dead letter %s@%s/%s: %s", m.topic, partition, m.offset, exc)
            letter = DeadLetter("scoring_failed", str(exc), m.value or b"", m.topic, partition, m.offset)
            return [Out(self._topics.dead_letters, m.key, letter.value, headers=letter.headers())]
        dirty.add(cm_id)
        key = cm_id.encode()
        return [
            Out(self._topics.ledger, key, json.dumps(e.to_dict(), ensure_ascii=False).encode())
            for e in entries
        ]

    # -- a rule change --------------------------------------------------------------------------

    async def _rescore(
        self, partition: int, part: Partition, run: list[Any], dirty: set[str], now: datetime
    ) -> list[Out]:
        changed: set[str] = set()
        for m in run:
            order = Rescore.decode(m.value or b"")
            name = f"{order.competition_id}:{order.version}"
            if part.pinned.get(name) == order.status:
                continue  # the same version published again: nothing changes
            if not await self._rules.wait_for(order.competition_id, order.version, order.status):
                log.error("score: %s (%s) never reached the rules feed; rules unchanged", name, order.status)
                continue
            part.pinned[name] = order.status
            changed.add(order.competition_id)
        if not changed:
            return []
        part.catalog = self._catalog(part.pinned)
        count = 0
        started = datetime.now(UTC)
        # The history as bytes, grouped by manager: parsed one manager at a time, so the peak is
        # the partition's raw history, not its parsed events.
        raw: dict[str, list[bytes]] = {}
        async for batch in read_range(
            self._bootstrap, TopicPartition(self.topic, partition), 0, run[0].offset
        ):
            for h in batch:
                if h.value is not None and not _is_control(h):
                    raw.setdefault((h.key or b"").decode(), []).append(h.value)
        fault.point("score.rescore")
        out: list[Out] = []
        for cm_id in sorted(raw.keys() | part.states.keys()):
            history = readable_events(raw.pop(cm_id, []))
            state, entries = rebuild(
                cm_id, history, part.catalog, part.states.get(cm_id), only=changed, now=now
            )
            part.states[cm_id] = state
            dirty.add(cm_id)
            key = cm_id.encode()
            out += [
                Out(self._topics.ledger, key, json.dumps(e.to_dict(), ensure_ascii=False).encode())
                for e in entries
            ]
            count += len(history)
        out.append(Out(self._topics.scoring_state, RULES_KEY, rules_record(part.pinned), partition=partition))
        log.info(
            "score: partition %s re-scored %s over %d events in %.1f s",
            partition,
            ", ".join(sorted(changed)),
            count,
            (datetime.now(UTC) - started).total_seconds(),
        )
        return out

    # -- end of batch -----------------------------------------------------------------------------

    def _snapshots(self, partition: int, part: Partition, dirty: set[str]) -> list[Out]:
        """Each changed standing once (the batch's last), and one state per changed manager."""
        out: list[Out] = []
        for cm_id in sorted(dirty):
            state = part.states[cm_id]
            for standing in standings(state):
                key = standing_key(standing.competition_id, cm_id)
                value = json.dumps(standing.to_dict(), ensure_ascii=False).encode()
                if part.published.get(key) != value:
                    part.published[key] = value
                    out.append(Out(self._topics.standings, key, value))
            out.append(
                Out(self._topics.scoring_state, cm_id.encode(), pack(state.to_dict()), partition=partition)
            )
        return out

    # -- reading back -----------------------------------------------------------------------------

    async def _partition(self, partition: int) -> Partition:
        part = self._partitions.get(partition)
        if part is None:
            part = Partition()
            blobs = await latest_by_key(
                self._bootstrap, TopicPartition(self._topics.scoring_state, partition)
            )
            rules = blobs.pop(RULES_KEY, None)
            if rules is not None:
                part.pinned = pinned_of(rules)
            for key, blob in blobs.items():
                part.states[key.decode()] = ParticipantState.from_dict(unpack(blob))
            part.catalog = self._catalog(part.pinned)
            self._partitions[partition] = part
            log.info(
                "score: partition %s: %d states, %d rule versions",
                partition,
                len(part.states),
                len(part.pinned),
            )
        return part

    def _catalog(self, pinned: dict[str, str]) -> Catalog:
        chosen = []
        for name, status in sorted(pinned.items()):
            cid, version = name.rsplit(":", 1)
            comp = self._rules.definition(cid, int(version), status)
            if comp is None:
                raise CoreError(f"rules feed has no {name} ({status})")
            chosen.append(comp)
        return Catalog(chosen)

    async def _history(self, partition: int, upto: int, cm_id: str) -> list[Envelope]:
        key = cm_id.encode()
        raw: list[bytes] = []
        async for batch in read_range(self._bootstrap, TopicPartition(self.topic, partition), 0, upto):
            raw += [h.value for h in batch if h.key == key and h.value is not None and not _is_control(h)]
        return readable_events(raw)


def _is_control(m: Any) -> bool:
    return any(k == CONTROL_HEADER for k, _ in m.headers or ())
