"""A board ranked from ledger totals, and how two such boards differ: plain functions, no I/O.

Totals map (manager, sub-branch, team) to the points earned there and the event time of the
latest entry. Ranked as `streams.core.ranking.rank` ranks standings, with what the ledger knows:
`points_desc` and `first_reached` (the latest entry's time: when the current total was reached,
for a total that only grows); the count and improvement tie-breaks see equal values (the ledger
does not carry them), so they pass the tie to the next key. Rows equal on every key share a rank
(1, 1, 3) and are listed by id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any, NamedTuple, overload

from streams.core.points import ZERO, q
from streams.core.ranking import sort_key
from streams.core.rules import RankingKind, TieBreak

Key = tuple[str, str | None, str | None]  # (cm_id, sub_branch_id, team_id)
# Points in cents and event times in microseconds since the epoch: plain ints, because a board
# of ten thousand managers is summed, keyed and sorted on every question (Decimals and datetimes
# made that several times slower); `Place` turns them back for the rows that are shown.
Totals = dict[Key, tuple[int, int]]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CENTS = Decimal("0.01")


def cents(points: Decimal) -> int:
    return int(points.quantize(_CENTS) * 100)


def micros(at: datetime) -> int:
    return (at - EPOCH) // timedelta(microseconds=1)


def as_points(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(_CENTS)


def as_instant(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def add_shares(
    totals: Mapping[Key, tuple[int, int]], shares: Iterable[tuple[str, str | None, str | None, int, int]]
) -> Totals:
    """A new Totals: `totals` plus later shares (cm, sub-branch, team, cents, latest micros); the
    latest time is the max, so the order of stretches does not matter."""
    out = dict(totals)
    for cm_id, sub_branch_id, team_id, points, last in shares:
        key = (cm_id, sub_branch_id, team_id)
        held = out.get(key)
        out[key] = (points, last) if held is None else (held[0] + points, held[1] if held[1] > last else last)
    return out


class Place(NamedTuple):  # a tuple: a board makes ten thousand of them per question
    rank: int
    unit_id: str
    value: int  # cents: the value ranked (per head on a per-head board)
    total_cents: int
    reached_us: int
    members: tuple[str, ...]
    headcount: int | None = None

    @property
    def points(self) -> Decimal:
        return as_points(self.value)

    @property
    def total(self) -> Decimal:
        return as_points(self.total_cents)

    @property
    def reached_at(self) -> datetime:
        return as_instant(self.reached_us)


def rank_totals(
    totals: Mapping[Key, tuple[int, int]],
    ranking: RankingKind,
    tie_break: Sequence[TieBreak],
    headcounts: Mapping[str, int] | None = None,
) -> Ranked:
    """The board of `ranking` from the totals, best first. A per-head board leaves out a
    sub-branch with no positive headcount (the live board cannot rank it either)."""
    if ranking == "customer_manager":
        sums: dict[str, int] = {}
        reached: dict[str, int] = {}
        for (cm_id, _, _), (points, last) in totals.items():
            if cm_id in sums:
                sums[cm_id] += points
                reached[cm_id] = max(reached[cm_id], last)
            else:
                sums[cm_id], reached[cm_id] = points, last
        members: dict[str, tuple[str, ...]] = {cm_id: (cm_id,) for cm_id in sums}
    else:
        sums, reached = {}, {}
        groups: dict[str, set[str]] = {}
        for (cm_id, sub_branch_id, team_id), (points, last) in totals.items():
            unit = team_id if ranking == "team" else sub_branch_id
            if unit is None:
                continue
            if unit in sums:
                sums[unit] += points
                reached[unit] = max(reached[unit], last)
                groups[unit].add(cm_id)
            else:
                sums[unit], reached[unit], groups[unit] = points, last, {cm_id}
        members = {unit: tuple(sorted(cms)) for unit, cms in groups.items()}
    heads: dict[str, int] = {}
    values = sums
    if ranking == "sub_branch_per_head":
        values = {}
        for unit_id, total in sums.items():
            count = (headcounts or {}).get(unit_id) or 0
            if count > 0:
                heads[unit_id] = count
                values[unit_id] = cents(q(as_points(total) / count))
    if tuple(tie_break) == ("points_desc", "first_reached"):
        ordered = sorted([(-v, reached[u], u) for u, v in values.items()])
        order = [u for _, _, u in ordered]
        same = [a[:2] == b[:2] for a, b in pairwise(ordered)]
    else:
        keyed = sorted([(_key(v, reached[u], tie_break), u) for u, v in values.items()])
        order = [u for _, u in keyed]
        same = [a[0] == b[0] for a, b in pairwise(keyed)]
    ranks = [1] * len(order)
    for i, tied in enumerate(same, start=1):
        ranks[i] = ranks[i - 1] if tied else i + 1
    return Ranked(order, ranks, values, sums, reached, members, heads)


class Ranked(Sequence[Place]):
    """A ranked board; its places are made when read (a page reads 50 of ten thousand)."""

    def __init__(
        self,
        order: list[str],
        ranks: list[int],
        values: dict[str, int],
        sums: dict[str, int],
        reached: dict[str, int],
        members: dict[str, tuple[str, ...]],
        heads: dict[str, int],
    ) -> None:
        self._order, self._ranks = order, ranks
        self._values, self._sums, self._reached, self._members, self._heads = (
            values,
            sums,
            reached,
            members,
            heads,
        )

    def __len__(self) -> int:
        return len(self._order)

    @overload
    def __getitem__(self, index: int) -> Place: ...

    @overload
    def __getitem__(self, index: slice) -> list[Place]: ...

    def __getitem__(self, index: int | slice) -> Place | list[Place]:
        if isinstance(index, slice):
            return [self._place(i) for i in range(*index.indices(len(self._order)))]
        if index < 0:
            index += len(self._order)
        if not 0 <= index < len(self._order):
            raise IndexError(index)
        return self._place(index)

    def _place(self, i: int) -> Place:
        u = self._order[i]
        return Place(
            self._ranks[i],
            u,
            self._values[u],
            self._sums[u],
            self._reached[u],
            self._members[u],
            self._heads.get(u),
        )

    def unit_ids(self) -> list[str]:
        return list(self._order)


def _key(value: int, reached_us: int, tie_break: Sequence[TieBreak]) -> tuple[Any, ...]:
    """`sort_key` for a row with no counts and no improvement (the ledger has neither)."""
    at = as_instant(reached_us)
    row = {"points": as_points(value), "metrics": {}, "improvement": None, "reached_at": at}
    return sort_key(row, tie_break)


@dataclass(frozen=True)
class Move:
    unit_id: str
    rank: int
    rank_before: int | None  # None: not on the earlier board
    points: Decimal
    gained: Decimal  # points since the earlier board

    @property
    def change(self) -> int | None:
        """Places gained (positive: up); None when new on the board."""
        return None if self.rank_before is None else self.rank_before - self.rank


def moves(before: Sequence[Place], after: Sequence[Place], among: Iterable[str] | None = None) -> list[Move]:
    """Each row of `after` (only those in `among`, if given) against its place in `before`."""
    earlier = {p.unit_id: p for p in before}
    wanted = None if among is None else set(among)
    out = []
    for place in after:
        if wanted is not None and place.unit_id not in wanted:
            continue
        old = earlier.get(place.unit_id)
        out.append(
            Move(
                place.unit_id,
                place.rank,
                None if old is None else old.rank,
                place.points,
                place.points - (old.points if old is not None else ZERO),
            )
        )
    return out


def movers(found: Sequence[Move], count: int) -> tuple[list[Move], list[Move]]:
    """The `count` who climbed most and the `count` who fell most (new rows are neither); ties
    by points gained, then id."""
    ranked = [m for m in found if m.change is not None and m.change != 0]
    up = sorted(
        (m for m in ranked if (m.change or 0) > 0), key=lambda m: (-(m.change or 0), -m.gained, m.unit_id)
    )
    down = sorted(
        (m for m in ranked if (m.change or 0) < 0), key=lambda m: ((m.change or 0), m.gained, m.unit_id)
    )
    return up[:count], down[:count]


@dataclass(frozen=True)
class Chase:
    unit_id: str
    rank: int
    next_rank: int  # the rank they would take by passing the row ahead
    ahead_id: str
    gap: Decimal  # points needed to draw level with it


def chasing(
    board: Sequence[Place], among: Iterable[str] | None = None, within: Decimal | None = None
) -> list[Chase]:
    """For each row (in `among`, if given) below the top: the points to the nearest row with a better
    rank; smallest gaps first, only gaps up to `within` if given."""
    wanted = None if among is None else set(among)
    out = []
    ahead: Place | None = None  # the last row with a better rank than the current one
    for index, place in enumerate(board):
        if index > 0 and board[index - 1].rank < place.rank:
            ahead = board[index - 1]
        if ahead is None or (wanted is not None and place.unit_id not in wanted):
            continue
        gap = ahead.points - place.points
        if within is None or gap <= within:
            out.append(Chase(place.unit_id, place.rank, ahead.rank, ahead.unit_id, gap))
    out.sort(key=lambda c: (c.gap, c.rank, c.unit_id))
    return out
