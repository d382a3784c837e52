"""The ledger's totals at any past moment, fast: day-close snapshots plus the day's tail.

The totals at T are the entries with occurred_at <= T (event time; docs/boards.md says why).
Summing a month of ledger for every question would take seconds, so this keeps, per
competition, the totals at each Shanghai midnight it was asked about ("day closes"), built
forward one day at a time from the nearest earlier snapshot (one GROUP BY over that day). A
question at T reads the snapshot at the close before T and adds the entries of [close, T].

A snapshot goes stale when an entry arrives whose event time is before its close (a late event, a
re-score, a clawback). Before answering, the history asks what was recorded since it last
looked (the (competition_id, recorded_at) index) and drops the snapshots such an arrival
touches. It looks back `overlap` before its last look, because a sink's transaction stamps
`recorded_at` before it commits; ids seen in that overlap are remembered so they do not drop
snapshots again.

Memory: one snapshot holds one tuple per (manager, sub-branch, team); `keep` snapshots per
competition are kept, least recently used dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from schemas import SHANGHAI
from services.history.places import Totals, add_shares
from services.store import Store
from services.store import ledger_history as sql

DAY = timedelta(days=1)


def close_before(at: datetime) -> datetime:
    """The latest Shanghai midnight at or before `at` (as a UTC instant)."""
    local = at.astimezone(SHANGHAI)
    return datetime.combine(local.date(), time(0), SHANGHAI).astimezone(UTC)


@dataclass
class _Watch:
    looked_at: datetime
    seen: set[str] = field(default_factory=set)  # ids recorded in the overlap before looked_at
    first: datetime | None = None  # earliest event time in the competition, once known
    snapshots: OrderedDict[datetime, Totals] = field(default_factory=OrderedDict)


class LedgerHistory:
    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        keep: int = 62,
        overlap: timedelta = timedelta(minutes=5),
    ) -> None:
        self._store = store
        self._clock = clock
        self._keep = keep
        self._overlap = overlap
        self._watches: dict[str, _Watch] = {}
        self._lock = threading.Lock()  # routes call from FastAPI's thread pool

    def totals_at(self, competition_id: str, at: datetime) -> Totals:
        """Per (manager, sub-branch, team): points from entries with occurred_at <= at."""
        with self._lock:
            watch = self._refresh(competition_id)
            close = close_before(at)
            base = self._snapshot(competition_id, watch, close)
        tail = sql.shares_between(self._store, competition_id, close, at, include_end=True)
        return add_shares(base, tail)

    def change_times(self, competition_id: str, start: datetime, end: datetime) -> list[datetime]:
        return sql.change_times(self._store, competition_id, start, end)

    def _refresh(self, competition_id: str) -> _Watch:
        now = self._clock()
        watch = self._watches.get(competition_id)
        if watch is None:
            # Nothing is cached yet, so nothing can be stale: only remember the overlap's ids.
            recent = sql.arrivals_since(self._store, competition_id, now - self._overlap)
            watch = self._watches[competition_id] = _Watch(now, set(recent))
            return watch
        arrived = sql.arrivals_since(self._store, competition_id, watch.looked_at - self._overlap)
        new = [at for entry_id, at in arrived.items() if entry_id not in watch.seen]
        if new:
            earliest = min(new)
            for close in [c for c in watch.snapshots if c > earliest]:
                del watch.snapshots[close]
            if watch.first is not None and earliest < watch.first:
                watch.first = earliest
        watch.looked_at = now
        watch.seen = {entry_id for entry_id in arrived}
        return watch

    def _snapshot(self, competition_id: str, watch: _Watch, close: datetime) -> Totals:
        if watch.first is None:
            watch.first = sql.first_entry_at(self._store, competition_id)
            if watch.first is None:
                return {}
        start = close_before(watch.first)
        if close <= start:
            return {}
        # Walk back to the nearest snapshot held (or to the competition's first day), then forward.
        base_close = close
        while base_close > start and base_close not in watch.snapshots:
            base_close -= DAY
        totals: Totals = watch.snapshots.get(base_close, {})
        at = base_close
        while at < close:
            following = at + DAY
            day = sql.shares_between(self._store, competition_id, at, following, include_end=False)
            totals = add_shares(totals, day)
            at = following
            watch.snapshots[at] = totals  # each close on the way: the next question is often near
        watch.snapshots.move_to_end(close)
        while len(watch.snapshots) > self._keep:
            watch.snapshots.popitem(last=False)
        return totals
