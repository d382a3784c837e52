"""Competitions: the list screens and organisers see, and publishing a definition.

POST has no authentication yet: anyone who reaches the API can publish. Roles (admin, organiser)
come with the organisers' console; until then the API must stay on loopback.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from schemas.errors import Rejection
from schemas.wire_json import load_json
from services.api.body import read_body
from services.api.deps import PublisherDep, ReadModelDep, SettingsDep
from services.api.views import competition_summary
from services.publisher import PublishError
from streams.core.errors import RuleError
from streams.core.rules import Competition, parse_competition

router = APIRouter(prefix="/api/competitions", tags=["competitions"])

# A definition is a few levels deeper than an event (rules, their tiers and caps), never dozens.
_MAX_DEPTH = 32
_DEFINITION_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A competition definition (docs/competitions.md).",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.get("")
async def list_competitions(read_model: ReadModelDep) -> dict[str, Any]:
    """Published and closed competitions (drafts are not shown), each as its deciding version."""
    return {
        "revision": read_model.revision,
        "ready": read_model.ready,
        "competitions": [competition_summary(c) for c in read_model.competitions()],
    }


def _restated(comp: Competition, status: str) -> Competition:
    return comp.model_copy(update={"status": status})


def _invalid(field: str, reason: str) -> JSONResponse:
    return JSONResponse({"detail": {"field": field, "reason": reason}}, status_code=422)


@router.post("", status_code=202, openapi_extra=_DEFINITION_BODY)
async def publish_competition(
    request: Request, read_model: ReadModelDep, publisher: PublisherDep, settings: SettingsDep
) -> JSONResponse:
    """Validate a competition definition (docs/competitions.md) and publish it as a version.

    422 names the first bad field; 409 refuses to change a published version (beyond its status):
    a change is a new version. The check is against what this replica has read so far."""
    body = await read_body(request, settings.max_body_bytes, settings.body_timeout_seconds)
    try:
        obj = load_json(body, max_depth=_MAX_DEPTH)
    except Rejection as exc:
        return _invalid("(competition)", f"{exc.reason}: {exc.detail}")
    try:
        comp = parse_competition(obj)
    except RuleError as exc:
        return _invalid(exc.path, exc.reason)
    known = read_model.version(comp.id, comp.version)
    if (
        known is not None
        and known.status != "draft"
        and known.model_copy(update={"status": comp.status}) != comp
    ):
        raise HTTPException(
            409, f"version {comp.version} of {comp.id} is already {known.status}; publish a new version"
        )
    try:
        await publisher.competition(comp)
    except PublishError as exc:
        raise HTTPException(503, str(exc)) from None
    return JSONResponse({"id": comp.id, "version": comp.version, "status": comp.status}, status_code=202)
