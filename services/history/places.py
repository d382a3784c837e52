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
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from streams.core.points import ZERO, q
from streams.core.ranking import sort_key
from streams.core.rules import RankingKind, TieBreak

Key = tuple[str, str | None, str | None]  # (cm_id, sub_branch_id, team_id)
Totals = dict[Key, tuple[Decimal, datetime]]


def add_shares(
    totals: Mapping[Key, tuple[Decimal, datetime]],
    shares: Iterable[tuple[str, str | None, str | None, Decimal, datetime]],
) -> Totals:
    """A new Totals: `totals` plus later shares (a share's time is never earlier than what it adds to,
    but the max is taken anyway, so the order of stretches does not matter)."""
    out = dict(totals)
    for cm_id, sub_branch_id, team_id, points, last_at in shares:
        key = (cm_id, sub_branch_id, team_id)
        held = out.get(key)
        out[key] = (points, last_at) if held is None else (held[0] + points, max(held[1], last_at))
    return out


class Place(NamedTuple):  # a tuple: a board makes ten thousand of them per question
    rank: int
    unit_id: str
    points: Decimal  # the value ranked (per head on a per-head board)
    total: Decimal
    reached_at: datetime
    members: tuple[str, ...]
    headcount: int | None = None


def rank_totals(
    totals: Mapping[Key, tuple[Decimal, datetime]],
    ranking: RankingKind,
    tie_break: Sequence[TieBreak],
    headcounts: Mapping[str, int] | None = None,
) -> list[Place]:
    """The board of `ranking` from the totals, best first. A per-head board leaves out a
    sub-branch with no positive headcount (the live board cannot rank it either)."""
    sums: dict[str, Decimal] = {}
    reached: dict[str, datetime] = {}
    members: dict[str, set[str]] = {}
    for (cm_id, sub_branch_id, team_id), (points, last_at) in totals.items():
        if ranking == "customer_manager":
            unit: str | None = cm_id
        elif ranking == "team":
            unit = team_id
        else:
            unit = sub_branch_id
        if unit is None:
            continue
        if unit in sums:
            sums[unit] += points
            reached[unit] = max(reached[unit], last_at)
            members[unit].add(cm_id)
        else:
            sums[unit], reached[unit], members[unit] = points, last_at, {cm_id}
    keyed = []
    for unit_id, total in sums.items():
        heads = None
        value = total
        if ranking == "sub_branch_per_head":
            heads = (headcounts or {}).get(unit_id)
            if not heads or heads <= 0:
                continue
            value = q(total / heads)
        keyed.append((_key(value, reached[unit_id], tie_break), unit_id, value, total, heads))
    keyed.sort(key=lambda k: (k[0], k[1]))
    out: list[Place] = []
    previous = None
    for position, (key, unit_id, value, total, heads) in enumerate(keyed, start=1):
        shared = out[-1].rank if out and key == previous else position
        previous = key
        out.append(
            Place(shared, unit_id, value, total, reached[unit_id], tuple(sorted(members[unit_id])), heads)
        )
    return out


def _key(points: Decimal, reached_at: datetime, tie_break: Sequence[TieBreak]) -> tuple[Any, ...]:
    """`sort_key` for a row with no counts and no improvement, without building the row: the
    usual tie-breaks spelled out (a board asks this ten thousand times), any other through it."""
    if tuple(tie_break) == ("points_desc", "first_reached"):
        return (-points, (False, reached_at.timestamp()))
    fields = {"points": points, "metrics": {}, "improvement": None, "reached_at": reached_at}
    return sort_key(fields, tie_break)


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
