"""HTTP ingest: one JSON event, or an NDJSON batch, answered record by record."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from services.api.deps import PublisherDep, SettingsDep
from services.api.intake import split_ndjson, take
from services.publisher import PublishError

router = APIRouter(prefix="/ingest", tags=["ingest"])


@router.post("/events")
async def ingest_event(request: Request, publisher: PublisherDep, settings: SettingsDep) -> JSONResponse:
    body = await request.body()
    try:
        (result,) = await take([(1, body)], publisher, settings.limits)
    except PublishError as exc:
        raise HTTPException(503, str(exc)) from None
    return JSONResponse(result.as_dict(), status_code=202 if result.status == "accepted" else 422)


@router.post("/batch")
async def ingest_batch(request: Request, publisher: PublisherDep, settings: SettingsDep) -> JSONResponse:
    lines = split_ndjson(await request.body())
    if len(lines) > settings.max_batch_lines:
        raise HTTPException(413, f"batch has {len(lines)} records; limit is {settings.max_batch_lines}")
    try:
        results = await take(lines, publisher, settings.limits)
    except PublishError as exc:
        raise HTTPException(503, str(exc)) from None
    accepted = sum(r.status == "accepted" for r in results)
    return JSONResponse(
        {
            "accepted": accepted,
            "rejected": len(results) - accepted,
            "results": [r.as_dict() for r in results],
        }
    )
