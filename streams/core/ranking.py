"""Ranked rows for the four leaderboards, with tie-breaks.

customer_manager     one row per CM: its total
team                 points earned while in each team (event-time membership), summed over CMs
sub_branch_total     the same per sub-branch
sub_branch_per_head  sub-branch total / headcount (headcounts are passed in: the org knows them)

Rows tied on every tie-break key share a rank (1, 1, 3); within a tie they are listed by id.
For team and sub-branch rows the count metrics and improvement are the sums over the CMs that
scored in the unit, and first_reached is the latest of their times.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import Field

from streams.core.errors import RankError
from streams.core.points import ZERO, q
from streams.core.rules import RankingKind, TieBreak
from streams.core.standing import Standing
from streams.core.vocabulary import Frozen


class RankedRow(Frozen):
    rank: int
    ranking: RankingKind
    unit_id: str
    points: Decimal = Decimal(0)  # the value ranked: per head for sub_branch_per_head
    total: Decimal = Decimal(0)
    headcount: int | None = None
    members: list[str] = Field(default_factory=list)
    metrics: dict[str, int] = Field(default_factory=dict)
    improvement: Decimal | None = None
    reached_at: datetime | None = None


def scoring_headcounts(standings: Iterable[Standing]) -> dict[str, int]:
    """Per sub-branch, the number of distinct CMs with points earned there.

    A stand-in for the org's real headcount (which also counts members who have not scored yet)
    until an org read model exists; it never leaves a sub-branch with points but no head."""
    members: dict[str, set[str]] = {}
    for standing in standings:
        for unit in standing.units:
            if unit.sub_branch_id is not None:
                members.setdefault(unit.sub_branch_id, set()).add(standing.cm_id)
    return {sub_branch: len(cms) for sub_branch, cms in sorted(members.items())}


def sort_key(row: dict[str, Any], tie_break: Sequence[TieBreak]) -> tuple[Any, ...]:
    """What a row is ordered by (smaller first); rows with equal keys share a rank, listed by id.
    Public so the API's incremental index orders rows exactly as `rank` does."""
    key: list[Any] = []
    for tb in tie_break:
        if tb == "points_desc":
            key.append(-row["points"])
        elif tb == "basic_accounts_desc":
            key.append(-row["metrics"].get("basic_accounts", 0))
        elif tb == "accounts_desc":
            key.append(-row["metrics"].get("accounts", 0))
        elif tb == "improvement_desc":
            imp = row["improvement"]
            key.append((imp is None, -(imp or ZERO)))
        elif tb == "first_reached":
            at = row["reached_at"]
            key.append((at is None, at.timestamp() if at else 0.0))
    return tuple(key)


def rank(
    standings: Iterable[Standing],
    ranking: RankingKind,
    headcounts: Mapping[str, int] | None = None,
    *,
    tie_break: Sequence[TieBreak] = ("points_desc", "first_reached"),
) -> list[RankedRow]:
    """Rank the standings of ONE competition. For 'most improved' pass tie_break=("improvement_desc", ...)."""
    rows: dict[str, dict[str, Any]] = {}

    def row_for(unit_id: str) -> dict[str, Any]:
        return rows.setdefault(
            unit_id, {"total": ZERO, "members": [], "metrics": {}, "improvement": None, "reached_at": None}
        )

    for standing in standings:
        if ranking == "customer_manager":
            shares = [(standing.cm_id, standing.points)]
        else:
            per: dict[str, Decimal] = {}
            for unit in standing.units:
                unit_id = unit.team_id if ranking == "team" else unit.sub_branch_id
                if unit_id is not None:
                    per[unit_id] = per.get(unit_id, ZERO) + unit.points
            shares = sorted(per.items())
        for unit_id, points in shares:
            row = row_for(unit_id)
            row["total"] += points
            row["members"].append(standing.cm_id)
            for name, n in standing.metrics.items():
                row["metrics"][name] = row["metrics"].get(name, 0) + n
            imp = standing.scorecard.improvement if standing.scorecard else None
            if imp is not None:
                row["improvement"] = (row["improvement"] or ZERO) + imp
            if standing.reached_at is not None and (
                row["reached_at"] is None or standing.reached_at > row["reached_at"]
            ):
                row["reached_at"] = standing.reached_at
    for unit_id, row in rows.items():
        row["points"] = row["total"]
        row["headcount"] = None
        if ranking == "sub_branch_per_head":
            heads = (headcounts or {}).get(unit_id)
            if not heads or heads <= 0:
                raise RankError(f"sub-branch {unit_id} has no positive headcount for the per-head ranking")
            row["headcount"] = heads
            row["points"] = q(row["total"] / heads)
    ordered = sorted(rows.items(), key=lambda kv: (sort_key(kv[1], tie_break), kv[0]))
    out: list[RankedRow] = []
    previous: tuple[Any, ...] | None = None
    for position, (unit_id, row) in enumerate(ordered, start=1):
        key = sort_key(row, tie_break)
        shared = out[-1].rank if out and key == previous else position
        previous = key
        out.append(
            RankedRow(
                rank=shared,
                ranking=ranking,
                unit_id=unit_id,
                points=row["points"],
                total=row["total"],
                headcount=row["headcount"],
                members=sorted(set(row["members"])),
                metrics=row["metrics"],
                improvement=row["improvement"],
                reached_at=row["reached_at"],
            )
        )
    return out
