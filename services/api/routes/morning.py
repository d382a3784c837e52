"""The 晨会 (morning meeting) of one sub-branch, as of a day's close (yesterday in Shanghai by
default): JSON for the page (/morning/{sub_branch_id}) and the same as XLSX. A viewer or display
token reads its own sub-branch only, as for every sub-branch's detail (services/api/access.py)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Response

from services.api.access import Reader, ensure_sub_branch
from services.api.deps import HistoryDep, ReadModelDep
from services.history import meeting

router = APIRouter(prefix="/api/competitions", tags=["morning meeting"])

Day = Annotated[
    date | None, Query(description="the day the meeting goes over; yesterday (Shanghai) if left out")
]


async def _report(
    read_model: Any, history: Any, competition_id: str, sub_branch: str, day: date | None
) -> dict[str, Any]:
    board = read_model.board
    on = day or board.today - timedelta(days=1)
    if on >= board.today + timedelta(days=1):
        raise HTTPException(422, f"{on} has not closed yet")
    report = await asyncio.to_thread(meeting.build, history, board, competition_id, sub_branch, on)
    return meeting.to_json(report, board)


@router.get("/{competition_id}/morning")
async def morning_report(
    competition_id: str,
    sub_branch: str,
    read_model: ReadModelDep,
    history: HistoryDep,
    day: Day = None,
    *,
    principal: Reader,
) -> dict[str, Any]:
    ensure_sub_branch(principal, sub_branch)
    return await _report(read_model, history, competition_id, sub_branch, day)


@router.get("/{competition_id}/morning.xlsx", response_class=Response)
async def morning_workbook(
    competition_id: str,
    sub_branch: str,
    read_model: ReadModelDep,
    history: HistoryDep,
    day: Day = None,
    *,
    principal: Reader,
) -> Response:
    ensure_sub_branch(principal, sub_branch)
    shown = await _report(read_model, history, competition_id, sub_branch, day)
    body = await asyncio.to_thread(meeting.to_xlsx, shown)
    filename = f"晨会-{shown['sub_branch_name']}-{shown['day']}.xlsx"
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )
