"""One leaderboard kept ranked as standings change: an order-statistic index, no I/O.

The rows and their order are exactly `streams.core.ranking.rank`'s (the unit tests compare the two
after every change): the same aggregation per unit, the same `sort_key` from the competition's
tie-breaks, then the unit id; rows equal on every tie-break key share a rank (1, 1, 3).

Costs, n = rows: a manager's new standing re-keys the rows it touches (one for the manager
board, the units it scored in for team and sub-branch boards) in O(log n) each; a unit's
aggregate (total, counts, improvement) is updated by subtracting the manager's old share and adding
the new one, so a sub-branch of a thousand managers is not summed again. A rank is a bisection
(`bisect_left` on the sort key: the rows strictly ahead, plus one); a page is a slice.

Manager boards also keep one sorted list per sub-branch and per team (the manager's own unit),
so a filtered page is a slice too, and a row's rank in it is still its rank in the whole board.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sortedcontainers import SortedList

from streams.core.points import ZERO, q
from streams.core.ranking import RankedRow, sort_key
from streams.core.rules import RankingKind, TieBreak
from streams.core.standing import Standing

Group = tuple[str, str]  # ("sub_branch", id) or ("team", id)
# The sorted lists hold (sort key, unit id); a bare (sort key,) sorts before every row with that key.
Entry = Any


class Part(NamedTuple):
    """One manager's share of one row: what `rank` adds for them."""

    points: Decimal
    metrics: Mapping[str, int]
    improvement: Decimal | None
    reached_at: datetime | None


def parts_of(standing: Standing, ranking: RankingKind) -> dict[str, Part]:
    """The rows a standing contributes to, and how much (event-time units, as `rank` counts them)."""
    imp = standing.scorecard.improvement if standing.scorecard else None
    if ranking == "customer_manager":
        return {standing.cm_id: Part(ZERO + standing.points, standing.metrics, imp, standing.reached_at)}
    per: dict[str, Decimal] = {}
    for unit in standing.units:
        unit_id = unit.team_id if ranking == "team" else unit.sub_branch_id
        if unit_id is not None:
            per[unit_id] = per.get(unit_id, ZERO) + unit.points
    return {u: Part(p, standing.metrics, imp, standing.reached_at) for u, p in per.items()}


@dataclass(eq=False)
class Row:
    """A unit's aggregate over its members' parts, kept up to date part by part."""

    unit_id: str
    parts: dict[str, Part] = field(default_factory=dict)
    total: Decimal = ZERO
    metrics: dict[str, int] = field(default_factory=dict)
    _metric_members: dict[str, int] = field(default_factory=dict)
    improvement: Decimal | None = None
    _improving: int = 0
    reached_at: datetime | None = None
    headcount: int | None = None
    points: Decimal = ZERO
    key: tuple[Any, ...] | None = None  # None until listed

    def add(self, cm_id: str, part: Part) -> None:
        self.parts[cm_id] = part
        self.total += part.points
        for name, n in part.metrics.items():
            self.metrics[name] = self.metrics.get(name, 0) + n
            self._metric_members[name] = self._metric_members.get(name, 0) + 1
        if part.improvement is not None:
            self.improvement = (self.improvement or ZERO) + part.improvement
            self._improving += 1
        if part.reached_at is not None and (self.reached_at is None or part.reached_at > self.reached_at):
            self.reached_at = part.reached_at

    def remove(self, cm_id: str) -> None:
        part = self.parts.pop(cm_id)
        self.total -= part.points
        for name, n in part.metrics.items():
            left = self._metric_members[name] - 1
            if left:
                self._metric_members[name] = left
                self.metrics[name] -= n
            else:
                del self._metric_members[name], self.metrics[name]
        if part.improvement is not None:
            self._improving -= 1
            self.improvement = None if not self._improving else (self.improvement or ZERO) - part.improvement
        if part.reached_at is not None and part.reached_at == self.reached_at:
            # The latest time may have left with this part: the max of the rest (members are few).
            times = [p.reached_at for p in self.parts.values() if p.reached_at is not None]
            self.reached_at = max(times) if times else None

    def ranked(self, rank: int, ranking: RankingKind) -> RankedRow:
        # Every field is already of its type (summed from validated standings): no validation.
        return RankedRow.model_construct(
            rank=rank,
            ranking=ranking,
            unit_id=self.unit_id,
            points=self.points,
            total=self.total,
            headcount=self.headcount,
            members=sorted(self.parts),
            metrics=dict(sorted(self.metrics.items())),
            improvement=self.improvement,
            reached_at=self.reached_at,
        )


class RankedIndex:
    """One competition's board of one ranking kind."""

    def __init__(
        self,
        ranking: RankingKind,
        tie_break: tuple[TieBreak, ...],
        headcounts: Mapping[str, int] | None = None,
    ) -> None:
        self.ranking = ranking
        self.tie_break = tie_break
        self._rows: dict[str, Row] = {}
        self._order: SortedList[Entry] = SortedList()
        self._headcounts: dict[str, int] = dict(headcounts or {})
        self._groups: dict[Group, SortedList[Entry]] = {}
        self._group_of: dict[str, tuple[Group, ...]] = {}  # unit id -> the groups it is listed in

    # -- writes -----------------------------------------------------------------------------

    def put(self, cm_id: str, old: Standing | None, new: Standing | None) -> None:
        """A manager's standing changed from `old` to `new` (None: absent)."""
        before = parts_of(old, self.ranking) if old is not None else {}
        after = parts_of(new, self.ranking) if new is not None else {}
        for unit_id in before.keys() | after.keys():
            part = after.get(unit_id)
            row = self._rows.get(unit_id)
            if row is not None and row.parts.get(cm_id) == part:
                continue
            if row is None:
                if part is None:
                    continue
                row = self._rows[unit_id] = Row(unit_id)
            elif cm_id in row.parts:
                row.remove(cm_id)
            if part is not None:
                row.add(cm_id, part)
            if row.parts:
                self._rekey(row)
            else:
                self._unlist(row)
                del self._rows[unit_id]

    def set_headcounts(self, headcounts: Mapping[str, int]) -> None:
        """The org's headcount per sub-branch (per-head boards); others fall back to who scored."""
        if dict(headcounts) == self._headcounts:
            return
        self._headcounts = dict(headcounts)
        for row in self._rows.values():
            self._rekey(row)

    def set_groups(self, unit_id: str, groups: tuple[Group, ...]) -> None:
        """The filters a row answers to (a manager's own sub-branch and team)."""
        if self._group_of.get(unit_id, ()) == groups:
            return
        row = self._rows.get(unit_id)
        if row is not None:
            self._unlist(row)
        if groups:
            self._group_of[unit_id] = groups
        else:
            self._group_of.pop(unit_id, None)
        if row is not None:
            self._list(row)

    def _rekey(self, row: Row) -> None:
        if self.ranking == "sub_branch_per_head":
            heads = self._headcounts.get(row.unit_id) or len(row.parts)
            row.headcount, row.points = heads, q(row.total / heads)
        else:
            row.points = row.total
        key = sort_key(
            {"points": row.points, "metrics": row.metrics, "improvement": row.improvement,
             "reached_at": row.reached_at},
            self.tie_break,
        )  # fmt: skip
        if key == row.key:
            return
        if row.key is not None:
            self._unlist(row)
        row.key = key
        self._list(row)

    def _list(self, row: Row) -> None:
        if row.key is None:
            return
        entry = (row.key, row.unit_id)
        self._order.add(entry)
        for group in self._group_of.get(row.unit_id, ()):
            self._groups.setdefault(group, SortedList()).add(entry)

    def _unlist(self, row: Row) -> None:
        if row.key is None:
            return
        entry = (row.key, row.unit_id)
        self._order.discard(entry)
        for group in self._group_of.get(row.unit_id, ()):
            members = self._groups.get(group)
            if members is not None:
                members.discard(entry)
                if not members:
                    del self._groups[group]

    # -- reads ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self._rows

    def row(self, unit_id: str) -> Row | None:
        return self._rows.get(unit_id)

    def units(self) -> list[str]:
        return list(self._rows)

    def rank_of(self, unit_id: str) -> int | None:
        """The shared rank: one more than the rows strictly ahead. O(log n)."""
        row = self._rows.get(unit_id)
        if row is None:
            return None
        return int(self._order.bisect_left((row.key,))) + 1

    def position_of(self, unit_id: str) -> int | None:
        """0-based place in the listing (ties listed by id). O(log n)."""
        row = self._rows.get(unit_id)
        if row is None:
            return None
        return int(self._order.index((row.key, unit_id)))

    def count(self, group: Group | None = None) -> int:
        if group is None:
            return len(self._order)
        members = self._groups.get(group)
        return len(members) if members is not None else 0

    def slice(self, start: int, stop: int, group: Group | None = None) -> list[tuple[int, Row]]:
        """Rows start..stop-1 of the board (or of one group's rows), each with its board rank."""
        listing = self._order if group is None else self._groups.get(group)
        if listing is None:
            return []
        start, stop = max(0, start), max(0, stop)
        out = []
        for key, unit_id in listing.islice(start, stop):
            out.append((int(self._order.bisect_left((key,))) + 1, self._rows[unit_id]))
        return out

    def ordered(self) -> Iterator[tuple[int, Row]]:
        """Every row in order with its rank, in one pass (O(n))."""
        previous: tuple[Any, ...] | None = None
        shared = 0
        for position, (key, unit_id) in enumerate(self._order, start=1):
            if key != previous:
                shared, previous = position, key
            yield shared, self._rows[unit_id]

    def ranks(self) -> dict[str, int]:
        return {row.unit_id: r for r, row in self.ordered()}

    def ranked_rows(self) -> list[RankedRow]:
        """The whole board as `rank` returns it."""
        return [row.ranked(r, self.ranking) for r, row in self.ordered()]
