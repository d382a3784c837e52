"""The scoring stream replayed from its history: what the ledger should hold.

No I/O here: the caller hands in each validated-topic partition's records in offset order and a
way to look up a competition version's definition. The records go through the very scorer the
score stage uses (streams/core/partition.py), with the history kept in memory and the same clock
(`arrival_time`: the arrived_at header carried from the raw topic) and freeze records, so the
entries come out with the same ids, points and `late` flags as the stream's.

`only` limits the work to some competitions: books are independent per competition, so the
others' rules need not be loaded (an entry's id and points do not depend on them).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from streams.core.ledger import LedgerEntry
from streams.core.partition import Outcome, PartitionScorer, Record, Waiting, arrival_time
from streams.core.rules import Competition

HistoryRecord = Record  # one record of the validated topic, as much of it as scoring reads
Lookup = Callable[[str, int, str], Competition | None]
TotalKey = tuple[str, str, str, str | None, str | None]  # competition, cm, component, sub-branch, team


@dataclass(frozen=True)
class Failure:
    """A record the stream could not score either (it went to the dead letters as scoring_failed)."""

    partition: int
    offset: int
    reason: str


@dataclass
class Expected:
    entries: dict[str, LedgerEntry] = field(default_factory=dict)  # by entry id, the first kept
    totals: dict[TotalKey, Decimal] = field(default_factory=dict)  # the core's books at the end
    failures: list[Failure] = field(default_factory=list)
    waiting: list[Failure] = field(default_factory=list)  # partitions the stream holds there too
    events: int = 0
    controls: int = 0
    # each (competition, manager) book's re-score revision at the end of the replay: a re-score
    # entry of a higher revision was written after it (services/verify/cut.py)
    revisions: dict[tuple[str, str], int] = field(default_factory=dict)


class _Past:
    """The partition's event records so far, per manager, in memory: the replay's `History`."""

    def __init__(self) -> None:
        self._offsets: dict[str, list[int]] = {}
        self._values: dict[str, list[bytes]] = {}

    def add(self, record: Record) -> None:
        if record.control or record.value is None:
            return
        cm_id = (record.key or b"").decode()
        self._offsets.setdefault(cm_id, []).append(record.offset)
        self._values.setdefault(cm_id, []).append(record.value)

    async def manager(self, cm_id: str, before: int) -> list[bytes]:
        offsets = self._offsets.get(cm_id, [])
        return self._values.get(cm_id, [])[: bisect_left(offsets, before)]

    async def managers(self, before: int) -> list[str]:
        return [cm_id for cm_id, offsets in self._offsets.items() if offsets[0] < before]


class _Versions:
    def __init__(self, lookup: Lookup) -> None:
        self._lookup = lookup

    def definition(self, competition_id: str, version: int, status: str) -> Competition | None:
        return self._lookup(competition_id, version, status)


class PartitionReplay:
    """One partition's scoring, from offset 0."""

    def __init__(self, definitions: Lookup, only: set[str] | None, into: Expected) -> None:
        self._only = only
        self._into = into
        self._past = _Past()
        self._scorer = PartitionScorer(self._past, _Versions(definitions), only=only)
        self._controls: list[Record] = []  # a trailing run of control records, kept for the next feed
        self._stopped: Waiting | None = None

    async def feed(self, records: Iterable[Record]) -> None:
        """The next records, in offset order (any batching: runs of controls are kept whole)."""
        batch = [*self._controls, *records]
        end = len(batch)
        while end and batch[end - 1].control:
            end -= 1
        self._controls = batch[end:]
        await self._take(batch[:end])

    async def finish(self) -> None:
        await self._take(self._controls)
        self._controls = []
        totals, revisions = self._into.totals, self._into.revisions
        for cm_id, state in self._scorer.states.items():
            for cid, book in state.books.items():
                if self._only is not None and cid not in self._only:
                    continue
                revisions[(cid, cm_id)] = book.revision
                for (component, sub_branch, team), points in book.totals.items():
                    if points:
                        totals[(cid, cm_id, component, sub_branch, team)] = points
        self._scorer.states.clear()

    async def _take(self, batch: list[Record]) -> None:
        if self._stopped is not None or not batch:
            return  # the stream goes no further on this partition either
        for record in batch:
            self._past.add(record)
        outcome = await self._scorer.feed(batch, arrival_time)
        self._count(batch[: outcome.consumed], outcome)
        if outcome.waiting is not None:
            self._stopped = outcome.waiting
            self._into.waiting.append(
                Failure(batch[0].partition, outcome.waiting.offset, str(outcome.waiting))
            )

    def _count(self, taken: list[Record], outcome: Outcome) -> None:
        into = self._into
        into.events += sum(1 for r in taken if not r.control and r.value is not None)
        into.controls += sum(1 for r in taken if r.control)
        into.failures += [Failure(f.record.partition, f.record.offset, f.reason) for f in outcome.failures]
        only, kept = self._only, into.entries
        for entry in outcome.entries:
            if (only is None or entry.competition_id in only) and entry.entry_id not in kept:
                kept[entry.entry_id] = entry  # the sink keeps the first of equal ids too
