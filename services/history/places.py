"""A board ranked from ledger totals, and how two such boards differ: plain functions, no I/O.

Totals map (manager, sub-branch, team) to the points earned there and the event time of the
latest entry. Ranked as `streams.core.ranking.rank` ranks standings, with what the ledger knows:
`points_desc` and `first_reached` (the latest entry's time: when the current total was reached,
for a total that only grows); the count and improvement tie-breaks see equal values (the ledger
does not carry them), so they pass the tie to the next key. Rows equal on every key share a rank
(1, 1, 3) and are listed by id.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any, NamedTuple, overload

from services.history.checkpoints import ABSENT, Key, Keys
from streams.core.points import ZERO, q
from streams.core.ranking import sort_key
from streams.core.rules import DEFAULT_TIE_BREAK, RankingKind, TieBreak

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


class Moment:
    """The totals at one instant as arrays over the history's key numbering (`count` keys, each
    with its points and its latest event time, ABSENT when it had no entry by then)."""

    def __init__(
        self,
        keys: Keys,
        sums: array[int],
        reached: array[int],
        order: tuple[array[int], array[int]] | None = None,
        start: Start | None = None,
    ) -> None:
        self.keys, self.sums, self.reached = keys, sums, reached
        self.count = len(sums)
        self.start = start  # the board at the span's checkpoint, when the history had it
        # The managers' id order as of the moment: taken where the keys cannot change meanwhile
        # (a manager added while the order was being sorted would be missing from a later board).
        self.order = keys.id_order() if order is None else order

    @classmethod
    def of(cls, totals: Mapping[Key, tuple[int, int]]) -> Moment:
        keys = Keys()
        sums, reached = array("q"), array("q")
        for key, (points, last) in totals.items():
            keys.add(key)
            sums.append(points)
            reached.append(last)
        return cls(keys, sums, reached)

    def totals(self) -> Totals:
        keys = self.keys.keys
        return {
            keys[k]: (s, r)
            for k, (s, r) in enumerate(zip(self.sums, self.reached, strict=True))
            if r != ABSENT
        }

    def earned_most(self, cm_id: str) -> tuple[str | None, str | None] | None:
        """(sub-branch, team) where the manager earned most by then (the first such unit on a tie)."""
        cm = self.keys.cm_index.get(cm_id)
        if cm is None:
            return None
        best: tuple[int, Key] | None = None
        for k in self.keys.of_cm[cm]:
            if k < self.count and self.reached[k] != ABSENT and (best is None or self.sums[k] > best[0]):
                best = (self.sums[k], self.keys.keys[k])
        return None if best is None else (best[1][1], best[1][2])

    def board(
        self, ranking: RankingKind, tie_break: Sequence[TieBreak], headcounts: Mapping[str, int] | None = None
    ) -> Sequence[Place]:
        if ranking == "customer_manager" and tuple(tie_break) == DEFAULT_TIE_BREAK:
            return Packed.of(self)
        return rank_totals(self.totals(), ranking, tie_break, headcounts)


@dataclass(frozen=True)
class Start:
    """The manager board at a checkpoint (manager numbers, best first) and the managers who
    earned between it and the moment (`gone` of them were on it already): the others keep their
    order, so the top of the board is a merge of two short walks."""

    order: array[int]
    earned: frozenset[int]
    gone: int


def checkpoint_order(
    sums: array[int], reached: array[int], order: tuple[array[int], array[int]]
) -> array[int]:
    """The managers with an entry, best first, as manager numbers (one unit each)."""
    place, cm_at = order
    return array("i", [cm_at[row & _ID_MASK] for row in pack_rows(sums, reached, place)])


# A row of the usual manager board as one int, so that sorting ints sorts rows: -points above,
# the latest event time (offset to stay positive) in the middle, the manager's place in id order
# below. Rows equal but for the id share a rank: that of the first of them.
_ID_BITS = 40
_AT_BITS = 64
_AT_OFFSET = 1 << 62
_ID_MASK = (1 << _ID_BITS) - 1
_AT_MASK = (1 << _AT_BITS) - 1
_POINTS_SHIFT = _ID_BITS + _AT_BITS


def pack_row(points: int, reached: int, place: int) -> int:
    return ((-points) << _POINTS_SHIFT) + ((reached + _AT_OFFSET) << _ID_BITS) + place


def pack_rows(sums: array[int], reached: array[int], place: array[int]) -> list[int]:
    """The rows of the managers with an entry, sorted; `place` may be longer or shorter (managers
    who arrived after the figures were taken: they have none)."""
    packed = [
        ((-s) << _POINTS_SHIFT) + ((r + _AT_OFFSET) << _ID_BITS) + p
        for s, r, p in zip(sums, reached, place, strict=False)
        if r != ABSENT
    ]
    packed.sort()
    return packed


class Packed(Sequence[Place]):
    """The customer-manager board ranked by points, then first_reached, then id, each row one int;
    places are made when read. With a `Start`, a page near the top is a merge of the checkpoint's
    order (the managers who did not earn since) with the few who did, walked as far as read; a
    read further down, a filter or a full read packs and sorts every row once."""

    WALK = 2_000  # rows walked at most before packing them all

    def __init__(self, moment: Moment, sums: array[int], reached: array[int]) -> None:
        keys = moment.keys
        self._cms, self._cm_index = keys.cms, keys.cm_index
        self._id_place, self._cm_at = moment.order
        self._sums, self._reached = sums, reached  # per manager
        self._all: list[int] | None = None  # every row, sorted
        self._top: list[int] = []  # the first rows, while walking
        self._every: list[Place] | None = None  # made on the first full read (the 晨会 reads it all)
        start = moment.start if keys.one_per_cm else None
        if start is None:
            self._all = pack_rows(sums, reached, self._id_place)
            return
        place = self._id_place
        self._count = len(start.order) - start.gone + len(start.earned)
        self._moved = sorted(pack_row(sums[c], reached[c], place[c]) for c in start.earned)
        self._next_moved = 0
        earned = start.earned
        self._rest = (pack_row(sums[c], reached[c], place[c]) for c in start.order if c not in earned)
        self._held: int | None = next(self._rest, None)

    @classmethod
    def of(cls, moment: Moment) -> Packed:
        keys = moment.keys
        sums, reached = moment.sums, moment.reached
        if not keys.one_per_cm:  # a manager who earned in several units: one row for all of them
            ncms = len(moment.order[0])
            summed, latest = [0] * ncms, [ABSENT] * ncms
            cm_of = keys.cm_of
            for k, (s, r) in enumerate(zip(sums, reached, strict=True)):
                if r != ABSENT:
                    cm = cm_of[k]
                    summed[cm] += s
                    if r > latest[cm]:
                        latest[cm] = r
            sums, reached = array("q", summed), array("q", latest)
        return cls(moment, sums, reached)

    def _rows(self, upto: int) -> list[int]:
        """Sorted rows, at least the first `upto` of them (or all there are)."""
        if self._all is not None:
            return self._all
        if upto > self.WALK:
            self._all = pack_rows(self._sums, self._reached, self._id_place)
            return self._all
        top, moved = self._top, self._moved
        while len(top) < upto:
            i = self._next_moved
            if i < len(moved) and (self._held is None or moved[i] < self._held):
                top.append(moved[i])
                self._next_moved = i + 1
            elif self._held is not None:
                top.append(self._held)
                self._held = next(self._rest, None)
            else:
                break
        return top

    def managers(self) -> list[str]:
        """Every manager the history knows (a superset of the board's)."""
        return self._cms

    def index_of(self, cm_id: str) -> int | None:
        """The manager's row, found by bisection; None when not on the board."""
        cm = self._cm_index.get(cm_id)
        if cm is None or cm >= len(self._sums) or cm >= len(self._id_place):
            return None
        reached = self._reached[cm]
        if reached == ABSENT:
            return None
        rows = self._rows(self.WALK + 1)
        row = pack_row(self._sums[cm], reached, self._id_place[cm])
        i = bisect_left(rows, row)
        return i if i < len(rows) and rows[i] == row else None

    def __len__(self) -> int:
        return len(self._all) if self._all is not None else self._count

    @overload
    def __getitem__(self, index: int) -> Place: ...

    @overload
    def __getitem__(self, index: slice) -> list[Place]: ...

    def __getitem__(self, index: int | slice) -> Place | list[Place]:
        if self._every is not None:
            return self._every[index]
        if isinstance(index, slice):
            wanted = range(*index.indices(len(self)))
            rows = self._rows(max(wanted, default=-1) + 1)
            return [self._place(rows, i) for i in wanted]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._place(self._rows(index + 1), index)

    def __iter__(self) -> Iterator[Place]:
        if self._every is None:
            rows = self._rows(self.WALK + 1)
            self._every = [self._place(rows, i) for i in range(len(rows))]
        return iter(self._every)

    def _place(self, rows: list[int], i: int) -> Place:
        row = rows[i]
        rank = bisect_left(rows, (row >> _ID_BITS) << _ID_BITS, 0, i) + 1
        cm_id = self._cms[self._cm_at[row & _ID_MASK]]
        points = -(row >> _POINTS_SHIFT)
        reached = ((row >> _ID_BITS) & _AT_MASK) - _AT_OFFSET
        return Place(rank, cm_id, points, points, reached, (cm_id,))

    def unit_ids(self) -> list[str]:
        return [self._cms[self._cm_at[row & _ID_MASK]] for row in self._rows(self.WALK + 1)]


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
