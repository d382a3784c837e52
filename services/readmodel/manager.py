"""One manager's own view, with no I/O: who they are, their rank, points by component and
progress in each competition they are in, and what scored for them lately."""

from __future__ import annotations

from dataclasses import dataclass

from services.readmodel.board import Board
from services.readmodel.progress import Progress, Scorecard, progress_of, scorecard_of
from services.readmodel.scored import RecentScores, Scored
from streams.core.rules import Competition
from streams.core.standing import Standing


@dataclass(frozen=True)
class Unit:
    id: str
    name: str


@dataclass(frozen=True)
class Entered:
    competition: Competition
    rank: int | None  # None: no points yet
    count: int
    standing: Standing | None
    progress: list[Progress]
    scorecard: Scorecard | None


@dataclass(frozen=True)
class ManagerView:
    cm_id: str
    name: str
    sub_branch: Unit | None
    team: Unit | None
    competitions: list[Entered]
    recent: list[Scored]


def manager_view(board: Board, recent: RecentScores, cm_id: str) -> ManagerView | None:
    """None when nothing at all is known of the manager (no org record, no standing, no entry).

    Listed: every competition with a standing of theirs, and every running one they take part
    in (by their sub-branch today) even before their first points."""
    today = board.today
    unit = board.org.unit_of(cm_id, today)
    names = board.unit_names()
    entered: list[Entered] = []
    known = board.org.knows(cm_id)
    for comp in board.competitions():
        standing = board.standing(comp.id, cm_id)
        running = comp.status == "published" and today in comp.window
        if standing is None and not (known and running and comp.takes_part(unit.sub_branch_id)):
            continue
        rank, count = (
            board.rank_of(comp.id, "customer_manager", cm_id)
            if "customer_manager" in comp.rankings
            else (None, 0)
        )
        entered.append(
            Entered(comp, rank, count, standing, progress_of(comp, standing), scorecard_of(comp, standing))
        )
    latest = recent.of(cm_id)
    if not known and not entered and not latest:
        return None
    if unit.sub_branch_id is None and entered:
        home = board.home(cm_id, next((e.standing for e in entered if e.standing), None), today)
        unit = home
    return ManagerView(
        cm_id=cm_id,
        name=board.org.name(cm_id) or cm_id,
        sub_branch=Unit(unit.sub_branch_id, names.get(unit.sub_branch_id, unit.sub_branch_id))
        if unit.sub_branch_id
        else None,
        team=Unit(unit.team_id, names.get(unit.team_id, unit.team_id)) if unit.team_id else None,
        competitions=entered,
        recent=latest,
    )
