"""A challenge's board: who is how far, and who won, from the participants' standings.

Each standing carries the participant's progress in the challenge (streams/core/badges.py): the
value so far and the moment the goal was reached, all in event time. The winners are the first
`winners` to reach the goal, by that moment, ties broken by id, so the same events give the same
winners in the same order whatever order they arrived in. Team and sub-branch challenges merge the
members' steps in event time: a side reaches the goal at the step that carries its total there.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from streams.core.badge_rules import Challenge
from streams.core.compact import moment_of
from streams.core.standing import Standing

ZERO = Decimal(0)


def board(challenge: Challenge, standings: Iterable[Standing]) -> dict[str, Any]:
    rows = (
        _sides(challenge, standings)
        if challenge.sides != "customer_manager"
        else _people(challenge, standings)
    )
    reached = sorted(
        (r for r in rows if r["reached_at"] is not None), key=lambda r: (r["reached_at"], r["id"])
    )
    rest = sorted((r for r in rows if r["reached_at"] is None), key=lambda r: (-r["value"], r["id"]))
    ordered = reached + rest
    out = []
    for place, row in enumerate(ordered, start=1):
        won = row["reached_at"] is not None and place <= challenge.winners
        out.append(
            {
                "id": row["id"],
                "value": str(row["value"]),
                "progress": str(min(Decimal(1), row["value"] / challenge.goal).quantize(Decimal("0.0001"))),
                "reached_at": row["reached_at"].isoformat() if row["reached_at"] else None,
                "winner": won,
                "place": place if won else None,
            }
        )
    return {
        "id": challenge.id,
        "name": challenge.name,
        "start": challenge.start.isoformat(),
        "end": challenge.end.isoformat(),
        "measure": challenge.measure,
        "goal": str(challenge.goal),
        "winners": challenge.winners,
        "sides": challenge.sides,
        "rows": out,
    }


def _people(challenge: Challenge, standings: Iterable[Standing]) -> list[dict[str, Any]]:
    rows = []
    for s in standings:
        p = s.challenges.get(challenge.id)
        if p is not None:
            rows.append({"id": s.cm_id, "value": p.value, "reached_at": p.reached_at})
    return rows


def _sides(challenge: Challenge, standings: Iterable[Standing]) -> list[dict[str, Any]]:
    steps: list[tuple[int, str, Decimal, str]] = []
    for s in standings:
        p = s.challenges.get(challenge.id)
        for us, amount, side in (p.steps or []) if p is not None else []:
            if side is not None:
                steps.append((us, s.cm_id, amount, side))
    steps.sort(key=lambda t: (t[0], t[1]))
    totals: dict[str, Decimal] = {}
    reached: dict[str, datetime] = {}
    for us, _, amount, side in steps:
        totals[side] = totals.get(side, ZERO) + amount
        if side not in reached and totals[side] >= challenge.goal:
            reached[side] = moment_of(us)
    return [{"id": side, "value": v, "reached_at": reached.get(side)} for side, v in totals.items()]
