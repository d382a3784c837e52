"""Side by side: the published rules' ranking and the draft's, over the same history. Pure.

Only standings that scored (at least one non-zero component) take part in a ranking: a manager
whose events the draft no longer counts (a participants filter, a dropped rule) leaves the board
instead of sitting at 0. A row is "new" when it ranks only under the draft, "dropped" when only
under the published rules; otherwise "up", "down" or "same" by its rank. rank_delta is positive
when the row moved up (published rank - draft rank); points_delta is draft - published.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from streams.core.points import ZERO
from streams.core.ranking import RankedRow, rank, scoring_headcounts
from streams.core.rules import RankingKind, TieBreak
from streams.core.standing import Standing

Change = Literal["up", "down", "same", "new", "dropped"]
ORDER: dict[Change, int] = {"up": 0, "down": 1, "same": 2, "new": 3, "dropped": 4}


@dataclass(frozen=True)
class Side:
    rank: int
    points: Decimal
    total: Decimal
    components: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class RowChange:
    unit_id: str
    before: Side | None  # under the published rules
    after: Side | None  # under the draft
    change: Change
    rank_delta: int | None
    points_delta: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.unit_id,
            "before": _side(self.before),
            "after": _side(self.after),
            "change": self.change,
            "rank_delta": self.rank_delta,
            "points_delta": str(self.points_delta),
        }


def _side(side: Side | None) -> dict[str, Any] | None:
    if side is None:
        return None
    return {
        "rank": side.rank,
        "points": str(side.points),
        "total": str(side.total),
        "components": {k: str(v) for k, v in sorted(side.components.items())},
    }


def scored(standings: Iterable[Standing]) -> list[Standing]:
    return [s for s in standings if s.components]


def ranked(
    standings: Iterable[Standing],
    ranking: RankingKind,
    tie_break: list[TieBreak],
    headcounts: Mapping[str, int] | None = None,
) -> list[RankedRow]:
    """The core's ranking of the standings that scored; per head divides by the org's headcount
    where it names one, else by the managers who scored there (as the live board does)."""
    taking_part = scored(standings)
    heads = None
    if ranking == "sub_branch_per_head":
        heads = {**scoring_headcounts(taking_part), **(headcounts or {})}
    return rank(taking_part, ranking, heads, tie_break=tie_break)


def compare(
    before: list[RankedRow],
    after: list[RankedRow],
    components_before: Mapping[str, dict[str, Decimal]] | None = None,
    components_after: Mapping[str, dict[str, Decimal]] | None = None,
) -> list[RowChange]:
    """One change per row of either ranking: the draft's order first, then the drop-outs."""
    old = {row.unit_id: row for row in before}
    new = {row.unit_id: row for row in after}
    out: list[RowChange] = []
    for unit_id in old.keys() | new.keys():
        b, a = old.get(unit_id), new.get(unit_id)
        side_b = _as_side(b, (components_before or {}).get(unit_id))
        side_a = _as_side(a, (components_after or {}).get(unit_id))
        points_delta = (a.points if a else ZERO) - (b.points if b else ZERO)
        if b is None:
            change: Change = "new"
            delta = None
        elif a is None:
            change, delta = "dropped", None
        else:
            delta = b.rank - a.rank
            change = "up" if delta > 0 else "down" if delta < 0 else "same"
        out.append(RowChange(unit_id, side_b, side_a, change, delta, points_delta))
    out.sort(key=_position)
    return out


def _as_side(row: RankedRow | None, components: dict[str, Decimal] | None) -> Side | None:
    if row is None:
        return None
    return Side(row.rank, row.points, row.total, dict(components or {}))


def _position(row: RowChange) -> tuple[int, int, int, str]:
    if row.after is not None:
        return (0, row.after.rank, 0, row.unit_id)
    assert row.before is not None
    return (1, row.before.rank, 0, row.unit_id)


def summary(rows: list[RowChange]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(ORDER, 0)
    for row in rows:
        counts[row.change] += 1
    return counts
