"""JSON shapes of the read side: what screens and organisers see of competitions and boards."""

from __future__ import annotations

from typing import Any

from services.readmodel import Leaderboard
from streams.core.ranking import RankedRow
from streams.core.rules import Competition


def competition_summary(comp: Competition) -> dict[str, Any]:
    return {
        "id": comp.id,
        "name": comp.name,
        "version": comp.version,
        "status": comp.status,
        "effective_from": comp.effective_from.isoformat(),
        "window": {"start": comp.window.start.isoformat(), "end": comp.window.end.isoformat()},
        "rankings": list(comp.rankings),
        "tie_break": list(comp.tie_break),
    }


def row(r: RankedRow, name: str) -> dict[str, Any]:
    """`name` is what a screen shows: a manager's display name, else the id."""
    body = r.model_dump(mode="json", exclude={"ranking", "unit_id"})
    return {"rank": body.pop("rank"), "id": r.unit_id, "name": name, **body}


def leaderboard(board: Leaderboard) -> dict[str, Any]:
    return {
        "competition_id": board.competition.id,
        "name": board.competition.name,
        "ranking": board.ranking,
        "revision": board.revision,
        "rows": [row(r, board.name_of(r)) for r in board.rows],
    }
