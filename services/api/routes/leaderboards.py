"""Leaderboards ranked from the read model (unknown competition 404, ranking not offered 422):
a page of the board (top N from an offset, filtered by sub-branch or team), and one row with its
neighbours ("around me").

With `as_of` (an instant with its offset) the page is the board as it stood then, ranked from the
SQL ledger (services/history, docs/boards.md): no ETag, no live extras (rank change, progress).
`/leaderboard/changes?day=` lists the event times at which a day's board changed, for replay.

Each live answer carries a weak ETag made of the read model's revision, the Shanghai day (rank
changes and headcounts follow it) and the query; a client that sends it back in If-None-Match
gets 304 until something changes. Cache-Control: no-cache, so a proxy or browser always asks.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import OrderedDict
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from schemas import SHANGHAI
from services.api import views
from services.api.access import Reader, ensure_sub_branch, ensure_team, ensure_unit
from services.api.deps import HistoryDep, ReadModelDep
from services.history import boards as past_boards
from services.readmodel import ReadModel
from streams.core.rules import RankingKind

router = APIRouter(prefix="/api/competitions", tags=["leaderboards"])

Privacy = Annotated[int, Query(ge=0, le=1, description="1: leave out money figures and reasons")]


def _etag(read_model: ReadModel, request: Request) -> str:
    board = read_model.board
    query = "&".join(sorted(f"{k}={v}" for k, v in request.query_params.multi_items()))
    digest = hashlib.sha1(f"{request.url.path}?{query}".encode()).hexdigest()[:12]
    return f'W/"{board.revision}-{board.today.isoformat()}-{digest}"'


def _matches(request: Request, etag: str) -> bool:
    sent = request.headers.get("if-none-match")
    if not sent:
        return False
    tags = {t.strip().removeprefix("W/") for t in sent.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


_HEADERS = {"Cache-Control": "no-cache"}
_KEEP = 128  # answers remembered per process, by ETag: screens that ask the same question share one


def _cached(read_model: ReadModel, request: Request) -> tuple[str, Response | None]:
    """The answer's ETag, and the answer when it needs no building: 304 if the client holds it,
    else the body remembered under that ETag (None: build it, then `_remember` it)."""
    etag = _etag(read_model, request)
    if _matches(request, etag):
        return etag, Response(status_code=304, headers={"ETag": etag, **_HEADERS})
    held: OrderedDict[str, bytes] | None = getattr(request.app.state, "board_answers", None)
    if held is not None and (encoded := held.get(etag)) is not None:
        return etag, _answer(encoded, etag)
    return etag, None


def _remember(request: Request, etag: str, body: dict[str, Any]) -> Response:
    held: OrderedDict[str, bytes] | None = getattr(request.app.state, "board_answers", None)
    if held is None:
        held = request.app.state.board_answers = OrderedDict()
    encoded = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    held[etag] = encoded
    while len(held) > _KEEP:
        held.popitem(last=False)
    return _answer(encoded, etag)


def _answer(encoded: bytes, etag: str) -> Response:
    return Response(encoded, media_type="application/json", headers={"ETag": etag, **_HEADERS})


_CACHED: dict[int | str, dict[str, Any]] = {
    304: {"description": "not modified since the ETag sent in If-None-Match"}
}


@router.get("/{competition_id}/leaderboard", responses=_CACHED)
async def leaderboard(
    competition_id: str,
    request: Request,
    read_model: ReadModelDep,
    ranking: RankingKind = "customer_manager",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    sub_branch: str | None = None,
    team: str | None = None,
    privacy: Privacy = 0,
    as_of: Annotated[
        datetime | None,
        Query(
            description="an instant with its offset (2026-12-03T18:00:00+08:00): the board as it stood then"
        ),
    ] = None,
    *,
    principal: Reader,
    history: HistoryDep,
) -> Response:
    board = read_model.board
    ensure_sub_branch(principal, sub_branch)  # a viewer or display token: its own sub-branch only
    ensure_team(principal, board.org, team)
    if as_of is not None:
        if as_of.tzinfo is None or as_of.utcoffset() is None:
            raise HTTPException(422, "as_of needs an offset (e.g. +08:00 or Z)")
        past = await asyncio.to_thread(past_boards.past_board, history, board, competition_id, ranking, as_of)
        rows = past_boards.picked(past, sub_branch, team)
        body = past_boards.page(board, past, rows[offset : offset + limit], len(rows))
        return Response(
            json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
            media_type="application/json",
            headers=_HEADERS,
        )
    board.index(competition_id, ranking)  # 404 / 422 before any 304
    etag, cached = _cached(read_model, request)
    if cached is not None:
        return cached
    found = board.page(competition_id, ranking, offset=offset, limit=limit, sub_branch=sub_branch, team=team)
    return _remember(request, etag, views.page(found, bool(privacy)))


@router.get("/{competition_id}/leaderboard/around/{unit_id}", responses=_CACHED)
async def around(
    competition_id: str,
    unit_id: str,
    request: Request,
    read_model: ReadModelDep,
    ranking: RankingKind = "customer_manager",
    size: Annotated[int, Query(ge=0, le=50)] = 3,
    privacy: Privacy = 0,
    *,
    principal: Reader,
) -> Response:
    board = read_model.board
    ensure_unit(principal, board.org, ranking, unit_id)
    board.index(competition_id, ranking)
    etag, cached = _cached(read_model, request)
    if cached is not None:
        return cached
    found = board.around(competition_id, ranking, unit_id, size)
    if found is None:
        raise HTTPException(404, f"{unit_id} is not on the {ranking} board of {competition_id}")
    return _remember(request, etag, views.around(found, bool(privacy)))


@router.get("/{competition_id}/leaderboard/changes")
async def changes(
    competition_id: str,
    day: date,
    read_model: ReadModelDep,
    *,
    principal: Reader,
    history: HistoryDep,
) -> dict[str, Any]:
    """The event times at which the competition's board changed on that Shanghai day, in order:
    the steps of a replay (ask the board `as_of` each)."""
    read_model.board.competition(competition_id)  # 404 for an unknown one
    start = datetime.combine(day, time(0), SHANGHAI).astimezone(UTC)
    times = await asyncio.to_thread(history.change_times, competition_id, start, start + timedelta(days=1))
    return {
        "competition_id": competition_id,
        "day": day.isoformat(),
        "times": [past_boards.instant(t) for t in times],
    }
