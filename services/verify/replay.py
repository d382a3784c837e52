"""The scoring stream replayed from its history with the pure core: what the ledger should hold.

No I/O here: the caller hands in each validated-topic partition's records in offset order and a
way to look up a competition version's definition. Record for record this does what the scoring
stage does (streams/pipeline/scoring.py): an event goes through `apply` (and `rebuild` from the
manager's earlier records when it raises NeedsRebuild), a run of re-score control records
changes the partition's rules at that position and rebuilds the changed competitions' books from
the history before it. So the entries come out with the same ids and points as the stream's.

`only` limits the work to some competitions: books are independent per competition, so the
others' rules need not be loaded (an entry's id and points do not depend on them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from schemas.control import Rescore
from schemas.validate import read_canonical
from streams.core.catalog import Catalog
from streams.core.engine import apply, rebuild
from streams.core.errors import NeedsRebuild
from streams.core.history import SCORING_FAILURES, readable_events
from streams.core.ledger import LedgerEntry
from streams.core.rules import Competition
from streams.core.state import ParticipantState

Definitions = Callable[[str, int, str], Competition | None]
TotalKey = tuple[str, str, str, str | None, str | None]  # competition, cm, component, sub-branch, team


@dataclass(frozen=True)
class HistoryRecord:
    """One record of the validated topic, as much of it as scoring reads."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    control: bool  # a re-score control record (schemas/control.py), not an event
    timestamp: datetime | None = None  # when the broker took it: stands in for the stream's `now`


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
    events: int = 0
    controls: int = 0


class PartitionReplay:
    """One partition's scoring, from offset 0."""

    def __init__(self, definitions: Definitions, only: set[str] | None, into: Expected) -> None:
        self._definitions = definitions
        self._only = only
        self._into = into
        self._pinned: dict[str, str] = {}  # "competition:version" -> status, as in score.state's @rules
        self._catalog = Catalog([])
        self._states: dict[str, ParticipantState] = {}
        self._history: dict[str, list[bytes]] = {}  # the manager's earlier records, raw
        self._controls: list[HistoryRecord] = []

    def feed(self, records: Iterable[HistoryRecord]) -> None:
        """The next records, in offset order (any batching: runs of controls are kept whole)."""
        for record in records:
            if record.control:
                self._controls.append(record)
                continue
            self._flush_controls()
            if record.value is not None:
                self._event(record)

    def finish(self) -> None:
        self._flush_controls()
        totals = self._into.totals
        for cm_id, state in self._states.items():
            for cid, book in state.books.items():
                if self._only is not None and cid not in self._only:
                    continue
                for (component, sub_branch, team), points in book.totals.items():
                    if points:
                        totals[(cid, cm_id, component, sub_branch, team)] = points
        self._states.clear()
        self._history.clear()

    # -- one event -------------------------------------------------------------------------------

    def _event(self, record: HistoryRecord) -> None:
        assert record.value is not None
        self._into.events += 1
        cm_id = (record.key or b"").decode()
        state = self._states.get(cm_id)
        if state is None:
            state = self._states[cm_id] = ParticipantState(cm_id)
        past = self._history.setdefault(cm_id, [])
        try:
            event = read_canonical(record.value)
            try:
                entries = apply(state, event, self._catalog, now=record.timestamp)
            except NeedsRebuild:
                history = readable_events(past)
                state, entries = rebuild(
                    cm_id, [*history, event], self._catalog, state, cause=event, now=record.timestamp
                )
                self._states[cm_id] = state
        except SCORING_FAILURES as exc:
            self._into.failures.append(Failure(record.partition, record.offset, str(exc)))
            entries = []
        finally:
            past.append(record.value)
        self._keep(entries)

    def _keep(self, entries: list[LedgerEntry]) -> None:
        only, kept = self._only, self._into.entries
        for entry in entries:
            if (only is None or entry.competition_id in only) and entry.entry_id not in kept:
                kept[entry.entry_id] = entry  # the sink keeps the first of equal ids too

    # -- a rule change ---------------------------------------------------------------------------

    def _flush_controls(self) -> None:
        if not self._controls:
            return
        run, self._controls = self._controls, []
        self._into.controls += len(run)
        changed: set[str] = set()
        for record in run:
            try:
                order = Rescore.decode(record.value or b"")
            except (ValueError, KeyError, TypeError) as exc:
                self._into.failures.append(Failure(record.partition, record.offset, f"control: {exc}"))
                continue
            name = f"{order.competition_id}:{order.version}"
            if self._pinned.get(name) == order.status:
                continue
            if self._definitions(order.competition_id, order.version, order.status) is None:
                continue  # the stream leaves its rules unchanged when the version never arrives
            self._pinned[name] = order.status
            if self._only is None or order.competition_id in self._only:
                changed.add(order.competition_id)
        if not changed:
            return
        self._catalog = self._build_catalog()
        now = run[-1].timestamp
        for cm_id in sorted(self._history.keys() | self._states.keys()):
            history = readable_events(self._history.get(cm_id, []))
            state, entries = rebuild(
                cm_id, history, self._catalog, self._states.get(cm_id), only=changed, now=now
            )
            self._states[cm_id] = state
            self._keep(entries)

    def _build_catalog(self) -> Catalog:
        chosen = []
        for name, status in sorted(self._pinned.items()):
            cid, version = name.rsplit(":", 1)
            if self._only is not None and cid not in self._only:
                continue
            comp = self._definitions(cid, int(version), status)
            if comp is not None:
                chosen.append(comp)
        return Catalog(chosen)
