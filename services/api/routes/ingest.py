"""HTTP ingest: one JSON event, or an NDJSON batch, answered record by record.
Only a source key (or an admin key) may send: `Authorization: Bearer <key>` (401/403 otherwise).

Bodies are read with a size limit and a deadline (services/api/body.py): 413 and 408 come before
any record is looked at. The request bodies are declared in the OpenAPI document so that clients
(and schemathesis) see them; the routes read the raw bytes, which the shared validator judges.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from services.api.access import SourceKey
from services.api.body import read_body
from services.api.deps import PublisherDep, SettingsDep
from services.api.errors import EventRejected
from services.api.intake import split_ndjson, take
from services.publisher import PublishError

router = APIRouter(prefix="/ingest", tags=["ingest"])

_REFUSED = {"description": "the body was not read: too large (413) or too slow (408)"}
_EVENT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "One event (docs/events.md; JSON Schemas in schemas/json/).",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
_BATCH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "NDJSON: one event per line.",
        "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
    }
}


@router.post(
    "/events",
    openapi_extra=_EVENT_BODY,
    responses={
        202: {"description": "accepted"},
        422: {"description": "rejected (a problem with the reason code); dead-lettered"},
        408: _REFUSED,
        413: _REFUSED,
        503: {"description": "Kafka cannot be reached: nothing was taken, send again"},
    },
)
async def ingest_event(
    request: Request, publisher: PublisherDep, settings: SettingsDep, _: SourceKey
) -> JSONResponse:
    body = await read_body(request, settings.max_body_bytes, settings.body_timeout_seconds)
    try:
        (result,) = await take([(1, body)], publisher, settings.limits)
    except PublishError as exc:
        raise HTTPException(503, str(exc)) from None
    request.app.state.metrics.ingested.labels(result.status).inc()
    if result.status == "rejected":
        raise EventRejected(result.reason or "rejected", result.detail or "", result.event_id)
    return JSONResponse(result.as_dict(), status_code=202)


@router.post(
    "/batch",
    openapi_extra=_BATCH_BODY,
    responses={
        408: _REFUSED,
        413: {"description": "too many records, or the body is too large"},
        503: {"description": "Kafka cannot be reached: nothing was taken, send again"},
    },
)
async def ingest_batch(
    request: Request, publisher: PublisherDep, settings: SettingsDep, _: SourceKey
) -> JSONResponse:
    lines = split_ndjson(await read_body(request, settings.max_batch_bytes, settings.body_timeout_seconds))
    if len(lines) > settings.max_batch_lines:
        raise HTTPException(413, f"batch has {len(lines)} records; limit is {settings.max_batch_lines}")
    try:
        results = await take(lines, publisher, settings.limits)
    except PublishError as exc:
        raise HTTPException(503, str(exc)) from None
    for result in results:
        request.app.state.metrics.ingested.labels(result.status).inc()
    return JSONResponse(
        {
            "accepted": sum(r.status == "accepted" for r in results),
            "rejected": sum(r.status == "rejected" for r in results),
            "duplicates": sum(r.status == "duplicate" for r in results),
            "results": [r.as_dict() for r in results],
        }
    )
