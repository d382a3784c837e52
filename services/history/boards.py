"""The board at a past moment as the API answers it: ledger totals ranked, filtered by where each
manager belonged that day (the org, as the live board does), named, in the live page's row shape."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from schemas import SHANGHAI
from services.history.moments import LedgerHistory
from services.history.places import Moment, Packed, Place
from services.readmodel import RankingNotOffered
from services.readmodel.board import Board
from streams.core.org import NOWHERE, Unit
from streams.core.rules import Competition, RankingKind


@dataclass(frozen=True)
class PastBoard:
    board: Board
    competition: Competition
    ranking: RankingKind
    at: datetime
    day: date
    places: Sequence[Place]
    homes: Mapping[str, Unit]  # customer_manager boards: each manager's unit that day


def past_board(
    history: LedgerHistory, board: Board, competition_id: str, ranking: RankingKind, at: datetime
) -> PastBoard:
    """Unknown competition: UnknownCompetition; a ranking it does not offer: RankingNotOffered."""
    comp = board.competition(competition_id)
    if ranking not in comp.rankings:
        raise RankingNotOffered(competition_id, ranking, list(comp.rankings))
    moment = history.moment(competition_id, at)
    day = at.astimezone(SHANGHAI).date()
    heads = board.headcounts(day) if ranking == "sub_branch_per_head" else None
    places = moment.board(ranking, comp.tie_break, heads)
    homes: Mapping[str, Unit] = _Homes(board, moment, places, day) if ranking == "customer_manager" else {}
    return PastBoard(board, comp, ranking, at, day, places, homes)


class _Homes(Mapping[str, Unit]):
    """The org's unit for each manager on the board that day, else the unit they earned most in;
    looked up when asked (a page shows 50 of ten thousand managers)."""

    def __init__(self, board: Board, moment: Moment, places: Sequence[Place], day: date) -> None:
        self._board, self._moment, self._places, self._day = board, moment, places, day
        self._found: dict[str, Unit] = {}
        self._ids: frozenset[str] | None = None

    def __getitem__(self, cm_id: str) -> Unit:
        found = self._found.get(cm_id)
        if found is None:
            earned = self._moment.earned_most(cm_id)
            if earned is None:
                raise KeyError(cm_id)
            unit = self._board.org.unit_of(cm_id, self._day)
            found = self._found[cm_id] = Unit(*earned) if unit == NOWHERE else unit
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(p.unit_id for p in self._places)

    def __len__(self) -> int:
        return len(self._places)


def instant(at: datetime) -> str:
    """As the live board writes an instant: ISO 8601, UTC as Z."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def in_unit(past: PastBoard, place: Place, sub_branch: str | None, team: str | None) -> bool:
    if past.ranking == "customer_manager":
        return _matches(past.homes.get(place.unit_id, NOWHERE), sub_branch, team)
    if sub_branch is not None and past.ranking in ("sub_branch_total", "sub_branch_per_head"):
        return place.unit_id == sub_branch
    if team is not None and past.ranking == "team":
        return place.unit_id == team
    return sub_branch is None and team is None


def picked(past: PastBoard, sub_branch: str | None, team: str | None) -> Sequence[Place]:
    if sub_branch is None and team is None:
        return past.places
    if isinstance(past.places, Packed):
        # A sub-branch's managers out of ten thousand: found by their rows, not by reading every
        # row. Candidates: those the org places there that day, and those it places nowhere
        # (they count where they earned most, checked by in_unit).
        org = _org_that_day(past.board, past.day)
        candidates = org.members(sub_branch, team) | (set(past.places.managers()) - org.placed)
        found = sorted(i for cm_id in candidates if (i := past.places.index_of(cm_id)) is not None)
        return [p for p in (past.places[i] for i in found) if in_unit(past, p, sub_branch, team)]
    return [p for p in past.places if in_unit(past, p, sub_branch, team)]


def sub_branches(past: PastBoard) -> dict[str, str | None]:
    """Each manager on a customer-manager board -> the sub-branch it counts in that day (as
    `homes`, with the org's units for the day looked up once for all)."""
    units = _org_that_day(past.board, past.day).units
    out: dict[str, str | None] = {}
    for place in past.places:
        unit = units.get(place.unit_id, NOWHERE)
        out[place.unit_id] = (
            past.homes[place.unit_id].sub_branch_id if unit == NOWHERE else unit.sub_branch_id
        )
    return out


def _matches(unit: Unit, sub_branch: str | None, team: str | None) -> bool:
    return (sub_branch is None or unit.sub_branch_id == sub_branch) and (team is None or unit.team_id == team)


class _OrgDay:
    """Where the org places each manager on one day, and the members of each unit asked about."""

    def __init__(self, board: Board, day: date) -> None:
        self.units = {cm_id: board.org.unit_of(cm_id, day) for cm_id in board.org.managers()}
        self.placed = frozenset(cm_id for cm_id, unit in self.units.items() if unit != NOWHERE)
        self._members: dict[tuple[str | None, str | None], frozenset[str]] = {}

    def members(self, sub_branch: str | None, team: str | None) -> frozenset[str]:
        found = self._members.get((sub_branch, team))
        if found is None:
            found = self._members[(sub_branch, team)] = frozenset(
                cm_id
                for cm_id, unit in self.units.items()
                if unit != NOWHERE and _matches(unit, sub_branch, team)
            )
        return found


# The org on a day, held until the org changes: `Board.unit_names()` hands back the same dict
# until then (the board drops it on every org change), so holding that dict tells whether the org
# moved on. A month of days is held (about a megabyte a day for 10,000 managers): a replay and the
# 晨会 ask about one or two, a month's questions about at most 31.
_ORG_DAYS_KEEP = 31
_org_days: OrderedDict[tuple[int, date], tuple[dict[str, str], _OrgDay]] = OrderedDict()
_org_days_lock = threading.Lock()


def _org_that_day(board: Board, day: date) -> _OrgDay:
    token = board.unit_names()
    with _org_days_lock:
        held = _org_days.get((id(board), day))
        if held is not None and held[0] is token:
            _org_days.move_to_end((id(board), day))
            return held[1]
        found = _OrgDay(board, day)
        _org_days[(id(board), day)] = (token, found)
        while len(_org_days) > _ORG_DAYS_KEEP:
            _org_days.popitem(last=False)
        return found


def name_of(board: Board, ranking: RankingKind, unit_id: str) -> str:
    if ranking == "customer_manager":
        return board.org.name(unit_id) or unit_id
    return board.unit_names().get(unit_id, unit_id)


def row(board: Board, past: PastBoard, place: Place) -> dict[str, Any]:
    names = board.unit_names()
    home = past.homes.get(place.unit_id, NOWHERE)
    return {
        "rank": place.rank,
        "id": place.unit_id,
        "name": name_of(board, past.ranking, place.unit_id),
        "points": str(place.points),
        "total": str(place.total),
        "headcount": place.headcount,
        "members": list(place.members),
        "metrics": {},
        "improvement": None,
        "reached_at": instant(place.reached_at),
        "rank_change": None,
        "sub_branch_id": home.sub_branch_id,
        "sub_branch_name": names.get(home.sub_branch_id or ""),
        "team_id": home.team_id,
        "team_name": names.get(home.team_id or ""),
        "progress": [],
    }


def page(board: Board, past: PastBoard, rows: Sequence[Place], count: int) -> dict[str, Any]:
    return {
        "competition_id": past.competition.id,
        "name": past.competition.name,
        "ranking": past.ranking,
        "as_of": instant(past.at),
        "headcount_day": past.day.isoformat(),
        "count": count,
        "rows": [row(board, past, p) for p in rows],
    }
