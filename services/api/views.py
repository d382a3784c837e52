"""JSON shapes of the read side: what screens and organisers see of competitions and boards.

Points and money are strings (Decimal, as the ledger writes them); progress figures and targets
are plain numbers (they size bars). Privacy mode (wall screens customers can see) leaves out
money figures and reasons, which may carry amounts, account or agreement ids.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from services.readmodel import Leaderboard
from services.readmodel.board import Around, BoardPage, BoardRow
from services.readmodel.labels import component_labels
from services.readmodel.manager import Entered, ManagerView
from services.readmodel.progress import Progress, Scorecard
from services.readmodel.scored import Scored
from streams.core.ranking import RankedRow
from streams.core.rules import Competition

MONEY_UNIT = "元"


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


def number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def row(r: RankedRow, name: str) -> dict[str, Any]:
    """`name` is what a screen shows: a manager's or unit's display name, else the id. The
    fields of RankedRow's JSON, written out by hand (a board page has hundreds of rows)."""
    return {
        "rank": r.rank,
        "id": r.unit_id,
        "name": name,
        "points": str(r.points),
        "total": str(r.total),
        "headcount": r.headcount,
        "members": list(r.members),
        "metrics": dict(r.metrics),
        "improvement": None if r.improvement is None else str(r.improvement),
        "reached_at": _instant(r.reached_at),
    }


def _instant(at: datetime | None) -> str | None:
    """As pydantic writes an aware datetime: ISO 8601, UTC as Z."""
    if at is None:
        return None
    text = at.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def progress(items: list[Progress], privacy: bool) -> list[dict[str, Any]]:
    return [
        {
            "metric": p.metric,
            "label": p.label,
            "actual": number(p.actual),
            "targets": [number(t) for t in p.targets],
            "unit": p.unit,
        }
        for p in items
        if not (privacy and p.unit == MONEY_UNIT)
    ]


def board_row(r: BoardRow, privacy: bool = False) -> dict[str, Any]:
    return row(r.row, r.name) | {
        "rank_change": r.rank_change,
        "sub_branch_id": r.sub_branch_id,
        "sub_branch_name": r.sub_branch_name,
        "team_id": r.team_id,
        "team_name": r.team_name,
        "progress": progress(r.progress, privacy),
    }


def page(p: BoardPage, privacy: bool = False) -> dict[str, Any]:
    return {
        "competition_id": p.competition.id,
        "name": p.competition.name,
        "ranking": p.ranking,
        "revision": p.revision,
        "headcount_day": p.headcount_day.isoformat(),
        "count": p.count,
        "rows": [board_row(r, privacy) for r in p.rows],
    }


def around(a: Around, privacy: bool = False) -> dict[str, Any]:
    return {
        "competition_id": a.competition.id,
        "ranking": a.ranking,
        "revision": a.revision,
        "count": a.count,
        "row": board_row(a.row, privacy),
        "above": [board_row(r, privacy) for r in a.above],
        "below": [board_row(r, privacy) for r in a.below],
    }


def leaderboard(board: Leaderboard) -> dict[str, Any]:
    """A whole board without the per-row extras (kept for callers of the old shape)."""
    return {
        "competition_id": board.competition.id,
        "name": board.competition.name,
        "ranking": board.ranking,
        "revision": board.revision,
        "rows": [row(r, board.name_of(r)) for r in board.rows],
    }


def scorecard(card: Scorecard | None, privacy: bool) -> dict[str, Any] | None:
    if card is None:
        return None
    return {
        "composite": str(card.composite),
        "penalised": card.penalised,
        "dimensions": [
            {
                "name": d.name,
                "label": d.label,
                "actual": number(d.actual),
                "target": number(d.target),
                "attainment": number(d.attainment),
                "below_floor": d.below_floor,
            }
            for d in card.dimensions
            if not (privacy and d.name == "deposit_increase")
        ],
        "warning": card.warning,
    }


def entered(e: Entered, privacy: bool) -> dict[str, Any]:
    components = {k: str(v) for k, v in (e.standing.components if e.standing else {}).items()}
    return {
        "competition_id": e.competition.id,
        "name": e.competition.name,
        "status": e.competition.status,
        "window": {
            "start": e.competition.window.start.isoformat(),
            "end": e.competition.window.end.isoformat(),
        },
        "rank": e.rank,
        "count": e.count,
        "points": str(e.standing.points) if e.standing else "0.00",
        "components": components,
        "component_labels": component_labels(list(components)),
        "progress": progress(e.progress, privacy),
        "scorecard": scorecard(e.scorecard, privacy),
        "badges": badge_wall(e),
        "challenges": challenge_progress(e),
    }


def badge_wall(e: Entered) -> list[dict[str, Any]]:
    """Every badge the competition offers, earned ones with when (a monthly or streak badge may be
    earned more than once: each time is listed), the rest still to win. Names only: no amounts."""
    held = e.standing.badges if e.standing else []
    wall: list[dict[str, Any]] = []
    for rule in e.competition.badges:
        mine = [b for b in held if b.badge == rule.id and b.kind != "challenge"]
        wall.append(
            {
                "badge": rule.id,
                "kind": rule.kind,
                "name": rule.name,
                "earned": [{"id": b.id, "at": b.at.isoformat()} for b in mine],
            }
        )
    return wall


def challenge_progress(e: Entered) -> list[dict[str, Any]]:
    mine = e.standing.challenges if e.standing else {}
    out = []
    for c in e.competition.challenges:
        p = mine.get(c.id)
        out.append(
            {
                "id": c.id,
                "name": c.name,
                "start": c.start.isoformat(),
                "end": c.end.isoformat(),
                "goal": number(c.goal),
                "value": number(p.value) if p else 0,
                "reached_at": p.reached_at.isoformat() if p and p.reached_at else None,
            }
        )
    return out


def scored(s: Scored, privacy: bool = False) -> dict[str, Any]:
    e = s.entry
    body: dict[str, Any] = {
        "event_id": e.event_id,
        "competition_id": e.competition_id,
        "occurred_at": e.occurred_at.isoformat(),
        "component": e.component,
        "label": s.label,
        "points": str(e.points),
    }
    if not privacy:
        body["reason"] = e.reason
    return body


def manager(view: ManagerView, privacy: bool = False) -> dict[str, Any]:
    return {
        "cm_id": view.cm_id,
        "name": view.name,
        "sub_branch": {"id": view.sub_branch.id, "name": view.sub_branch.name} if view.sub_branch else None,
        "team": {"id": view.team.id, "name": view.team.name} if view.team else None,
        "competitions": [entered(e, privacy) for e in view.competitions],
        "recent": [scored(s, privacy) for s in view.recent],
    }
