"""What-if preview for the organisers' console: a draft scored over the real history of its
window beside the published version, without touching live standings (services/whatif).

    POST /api/console/competitions/{competition_id}/preview
    {"definition": {...draft...}}  or  {"version": 3}       (a stored draft of this competition)
    optional "ranking": customer_manager | team | sub_branch_total | sub_branch_per_head

The answer ranks both sides and says who moves, by how much, who enters and who drops out, with
the time the preview took and how many events it read. One preview runs at a time per API
process (a second waits, a third gets 429).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, get_args

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from schemas.errors import Rejection
from schemas.wire_json import load_json
from services.api.access import Organiser
from services.api.body import read_body
from services.api.deps import ReadModelDep, SettingsDep, StoreDep
from services.api.errors import FieldError
from services.readmodel import ReadModel, UnknownCompetition
from services.settings import ServiceSettings
from services.store import Store, StoreError
from services.store.competition_records import CompetitionRecords
from services.whatif import HistoryUnavailable, PreviewBusy, PreviewFailed, PreviewJob, PreviewPool
from streams.core.calendar import day_of
from streams.core.errors import RuleError
from streams.core.rules import Competition, RankingKind, parse_competition

router = APIRouter(prefix="/api/console/competitions", tags=["console"])

_MAX_DEPTH = 32
_RANKINGS: tuple[str, ...] = get_args(RankingKind)
_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": '{"definition": <draft competition>} or {"version": <stored draft version>}; '
        'optional "ranking".',
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


def _pool(request: Request, settings: ServiceSettings) -> PreviewPool:
    """One pool per API process, made on the first preview (its processes start on first use)."""
    pool: PreviewPool | None = getattr(request.app.state, "whatif", None)
    if pool is None:
        pool = PreviewPool(settings.whatif_processes, settings.whatif_max_waiting)
        request.app.state.whatif = pool
    return pool


def _invalid(field: str, reason: str) -> FieldError:
    return FieldError(field, reason)


@router.post("/{competition_id}/preview", openapi_extra=_BODY)
async def preview_competition(
    competition_id: str,
    request: Request,
    read_model: ReadModelDep,
    store: StoreDep,
    settings: SettingsDep,
    _: Organiser,
) -> JSONResponse:
    body = await read_body(request, settings.max_body_bytes, settings.body_timeout_seconds)
    try:
        obj = load_json(body, max_depth=_MAX_DEPTH)
    except Rejection as exc:
        raise _invalid("(body)", f"{exc.reason}: {exc.detail}") from None
    if not isinstance(obj, dict):
        raise _invalid("(body)", "expected a JSON object")
    ranking = obj.get("ranking", "customer_manager")
    if ranking not in _RANKINGS:
        raise _invalid("ranking", f"expected one of {', '.join(_RANKINGS)}")
    if "definition" in obj:
        try:
            draft = parse_competition(obj["definition"])
        except RuleError as exc:
            raise _invalid(f"definition.{exc.path}", exc.reason) from None
        if draft.id != competition_id:
            raise _invalid("definition.id", f"is {draft.id!r}, but the preview is of {competition_id!r}")
    elif isinstance(obj.get("version"), int) and not isinstance(obj["version"], bool):
        draft = await _stored(store, read_model, competition_id, obj["version"])
    else:
        raise _invalid("(body)", 'give "definition" (a draft) or "version" (a stored draft)')

    headcounts = read_model.board.org.headcounts(day_of(datetime.now(UTC)))
    job = PreviewJob(
        bootstrap=settings.kafka_bootstrap,
        topic_prefix=settings.topics.prefix,
        competition_id=competition_id,
        draft=draft.model_dump(mode="json"),
        ranking=ranking,
        headcounts=headcounts if ranking == "sub_branch_per_head" else {},
    )
    began = time.perf_counter()  # the wait for a running preview included: what the user waited
    try:
        result = await _pool(request, settings).run(job)
    except PreviewBusy as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": "10"}) from None
    except (HistoryUnavailable, PreviewFailed) as exc:
        raise HTTPException(503, str(exc)) from None
    result["took_ms"] = round((time.perf_counter() - began) * 1000)
    _decorate(result, read_model, ranking)
    return JSONResponse(result)


async def _stored(store: Store, read_model: ReadModel, competition_id: str, version: int) -> Competition:
    """A stored version: the console's record first (drafts live there), else what the
    competitions topic carried."""
    try:
        row = await run_in_threadpool(CompetitionRecords(store).get, competition_id, version)
    except StoreError:
        row = None  # the database is away: the topic may still know it
    if row is not None:
        try:
            return parse_competition(row["definition"])
        except RuleError as exc:
            raise HTTPException(422, f"stored version {version} is not valid: {exc}") from None
    known = read_model.version(competition_id, version)
    if known is None:
        raise HTTPException(404, f"{competition_id} has no version {version}")
    return known


def _decorate(result: dict[str, Any], read_model: ReadModel, ranking: str) -> None:
    """Names from the org directory; and for managers, how the recomputed published points
    compare with the live standings (they differ only while the stream is behind, or where the
    history was cut by time: see services/whatif/plan.py)."""
    org = read_model.board.org
    today = day_of(datetime.now(UTC))
    differing: list[str] = []
    compared = 0
    for row in result["rows"]:
        unit_id = row["id"]
        if ranking == "customer_manager":
            unit = org.unit_of(unit_id, today)
            row["name"] = org.name(unit_id) or unit_id
            row["sub_branch_id"] = unit.sub_branch_id
            row["sub_branch_name"] = org.unit_name(unit.sub_branch_id) if unit.sub_branch_id else None
            live = _live_points(read_model, result["competition_id"], unit_id)
            if live is not None and row["before"] is not None:
                compared += 1
                if live != row["before"]["points"]:
                    differing.append(unit_id)
        else:
            row["name"] = org.unit_name(unit_id) or unit_id
    result["live_check"] = {
        "compared": compared,
        "differing": differing[:50],
        "differing_count": len(differing),
    }


def _live_points(read_model: ReadModel, competition_id: str, cm_id: str) -> str | None:
    try:
        standing = read_model.standing(competition_id, cm_id)
    except UnknownCompetition:
        return None
    return str(standing.points) if standing is not None else None
