"""The ledger's totals at any past moment, fast: each competition's ledger held in memory as
checkpoints and spans (services/history/checkpoints.py), kept current with what the sink writes.

The totals at T are the entries with occurred_at <= T (event time; docs/boards.md says why).
`prepare` reads a competition's ledger once, in event-time order, into its timeline; the API does
it for every competition once it knows them (services/history/ahead.py), and a question about a
competition not prepared yet prepares it first. A question at T then costs the checkpoint at or
before T plus at most one step of entries, all in memory, and one ranking sort.

Before each answer the history asks what was recorded since it last looked (the
(competition_id, recorded_at) index) and puts each new entry in its place: into its span and into
every later checkpoint (a late event, a re-score's correction dated at its item, a clawback, a
back-dated adjustment). It looks back `overlap` before its last look, because a sink's transaction
stamps `recorded_at` before it commits; ids seen in that overlap are remembered so they are not
added twice. That question and any read that builds run in one database snapshot (REPEATABLE READ
on PostgreSQL, SQLite's read transaction), so an entry is either in what was built or among the
new arrivals of a later look, never both. More than `rebuild_over` arrivals at once (a backfill)
rebuild the competition from one read instead.

Memory: at most `competitions` competitions (the least recently asked let go first, read again
when asked), each with at most `keep` spans (a step's checkpoint: 16 bytes per manager and unit;
its entries: 20 bytes each); the oldest spans go first, and an instant before the first held
span is summed in the database (correct, slow, not held).
"""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from schemas import SHANGHAI
from services.history.checkpoints import ABSENT, Timeline
from services.history.places import Moment, Place, Start, Totals, checkpoint_order, micros
from services.store import Store
from services.store import ledger_history as sql
from streams.core.rules import RankingKind, TieBreak

DAY = timedelta(days=1)


def close_before(at: datetime) -> datetime:
    """The latest Shanghai midnight at or before `at` (as a UTC instant)."""
    local = at.astimezone(SHANGHAI)
    return datetime.combine(local.date(), time(0), SHANGHAI).astimezone(UTC)


def _start(timeline: Timeline, at: int, order: tuple[array[int], array[int]]) -> Start | None:
    """The board at the checkpoint before `at` (made the first time it is asked, held in its span)
    and who earned since; None where a manager earned in several units."""
    located = timeline.locate(at)
    if located is None or not timeline.keys.one_per_cm:
        return None
    span, upto = located
    if span.order is None:
        span.order = checkpoint_order(span.sums, span.reached, order)
    earned = frozenset(span.keys[:upto])  # one unit each: a key is its manager
    before = span.reached
    gone = sum(1 for k in earned if k < len(before) and before[k] != ABSENT)
    return Start(span.order, earned, gone)


@dataclass
class _Watch:
    looked_at: datetime
    timeline: Timeline
    seen: set[str] = field(default_factory=set)  # ids recorded in the overlap before looked_at


class LedgerHistory:
    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        step: timedelta = timedelta(hours=3),
        keep: int = 62 * 8,
        overlap: timedelta = timedelta(minutes=5),
        rebuild_over: int = 50_000,
        competitions: int = 24,
    ) -> None:
        self._store = store
        self._clock = clock
        self._step = step // timedelta(microseconds=1)
        self._keep = keep
        self._overlap = overlap
        self._rebuild_over = rebuild_over
        self._competitions = max(1, competitions)
        # Routes call from FastAPI's thread pool: one lock per competition (a long first read of one
        # does not hold up questions about another), and one for the two dicts.
        self._watches: OrderedDict[str, _Watch] = OrderedDict()  # least recently asked first
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        """How many competitions are held at most."""
        return self._competitions

    def prepare(self, competition_id: str) -> None:
        """Read the competition's ledger into memory (if not held yet) and take in what arrived."""
        with self._guard(competition_id):
            self._current(competition_id)

    def moment(self, competition_id: str, at: datetime) -> Moment:
        """Per (manager, sub-branch, team): points from entries with occurred_at <= at."""
        with self._guard(competition_id):
            timeline = self._current(competition_id)
            found = timeline.totals(micros(at))
            keys = timeline.keys
            order = keys.id_order()
            start = _start(timeline, micros(at), order) if found is not None else None
        if found is None:  # before the spans held: summed in the database, not kept
            shares = sql.shares_between(self._store, competition_id, None, at, include_end=True)
            return Moment.of({(cm, sb, team): (points, last) for cm, sb, team, points, last in shares})
        return Moment(keys, *found, order, start)

    def totals_at(self, competition_id: str, at: datetime) -> Totals:
        return self.moment(competition_id, at).totals()

    def board_at(
        self,
        competition_id: str,
        at: datetime,
        ranking: RankingKind,
        tie_break: Sequence[TieBreak],
        headcounts: dict[str, int] | None = None,
    ) -> Sequence[Place]:
        return self.moment(competition_id, at).board(ranking, tie_break, headcounts)

    def change_times(self, competition_id: str, start: datetime, end: datetime) -> list[datetime]:
        return sql.change_times(self._store, competition_id, start, end)

    def _guard(self, competition_id: str) -> threading.Lock:
        with self._lock:
            found = self._locks.get(competition_id)
            if found is None:
                found = self._locks[competition_id] = threading.Lock()
            return found

    def _current(self, competition_id: str) -> Timeline:
        """The competition's timeline, up to date; the caller holds its lock."""
        now = self._clock()
        with self._lock:
            watch = self._watches.get(competition_id)
        with sql.snapshot(self._store) as view:
            since = now - self._overlap if watch is None else watch.looked_at - self._overlap
            arrived = view.arrivals(competition_id, since)
            if watch is None:
                # Everything visible now is in the build, the overlap's arrivals included.
                watch = _Watch(now, self._build(view, competition_id))
            else:
                new = [a for a in arrived if a[0] not in watch.seen]
                if len(new) > self._rebuild_over:
                    watch.timeline = self._build(view, competition_id)
                else:
                    for _, at, cm_id, sub_branch_id, team_id, points in sorted(new, key=lambda a: a[1]):
                        watch.timeline.insert(at, (cm_id, sub_branch_id, team_id), points)
            watch.looked_at = now
            watch.seen = {a[0] for a in arrived}
        with self._lock:  # held: the most recently asked; let go: the least, beyond the bound
            self._watches[competition_id] = watch
            self._watches.move_to_end(competition_id)
            while len(self._watches) > self._competitions:
                self._watches.popitem(last=False)
        return watch.timeline

    def _build(self, view: sql.Snapshot, competition_id: str) -> Timeline:
        timeline = Timeline(self._step, self._keep)
        for chunk in view.entries(competition_id):
            timeline.add_all(chunk)
        if timeline.keys.one_per_cm:  # each checkpoint's board, so no question waits for one
            order = timeline.keys.id_order()
            for span in timeline.spans:
                span.order = checkpoint_order(span.sums, span.reached, order)
        return timeline
