"""Competitions: the list screens see, and publishing a definition (organiser or admin).

A published definition goes to Kafka for the workers and into the SQL `competitions` table, the
record the console reads (services/api/versions.py); every publish is in the audit log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from schemas.errors import Rejection
from schemas.wire_json import load_json
from services.api.access import Organiser, Reader
from services.api.body import read_body
from services.api.deps import ReadModelDep, RelayDep, SettingsDep, StoreDep
from services.api.errors import FieldError
from services.api.versions import fanout_view, put_version
from services.api.views import competition_summary
from streams.core.errors import RuleError
from streams.core.rules import Competition, parse_competition

router = APIRouter(prefix="/api/competitions", tags=["competitions"])

# A definition is a few levels deeper than an event (rules, their tiers and caps), never dozens.
MAX_DEPTH = 32
_DEFINITION_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A competition definition (docs/competitions.md).",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.get("")
async def list_competitions(read_model: ReadModelDep, _: Reader) -> dict[str, Any]:
    """Published and closed competitions (drafts are not shown), each as its deciding version."""
    return {
        "revision": read_model.revision,
        "ready": read_model.ready,
        "competitions": [competition_summary(c) for c in read_model.competitions()],
    }


def invalid(field: str, reason: str) -> FieldError:
    """422 naming the field, as the core's RuleError does: the console maps it to the form."""
    return FieldError(field, reason)


async def read_object(request: Request, settings: Any) -> Any:
    """The request body as JSON (bounded in size, depth and time), or 422."""
    body = await read_body(request, settings.max_body_bytes, settings.body_timeout_seconds)
    try:
        return load_json(body, max_depth=MAX_DEPTH)
    except Rejection as exc:
        raise invalid("(competition)", f"{exc.reason}: {exc.detail}") from None


async def read_definition(request: Request, settings: Any) -> Competition:
    """The request body as a competition definition, or 422 naming the first bad field."""
    return parse(await read_object(request, settings))


def parse(obj: Any) -> Competition:
    try:
        return parse_competition(obj)
    except RuleError as exc:
        raise invalid(exc.path, exc.reason) from None


@router.post(
    "",
    status_code=202,
    openapi_extra=_DEFINITION_BODY,
    responses={
        409: {
            "description": "that version is published or closed with another definition "
            "(also: another publish of it committed first)"
        },
        422: {"description": "{detail: {field, reason}}: the first field the format refuses"},
    },
)
async def publish_competition(
    request: Request,
    principal: Organiser,
    read_model: ReadModelDep,
    relay: RelayDep,
    settings: SettingsDep,
    store: StoreDep,
) -> JSONResponse:
    """Validate a competition definition (docs/competitions.md) and publish it as a version.

    422 names the first bad field; 409 refuses to change a published version (beyond closing
    it): a change is a new version. Status "draft" only stores the draft (see the console API).
    `fanout.state` is "done" once every scoring partition was told, "pending" if the relay is
    still at it when the answer is given (it goes on; docs/operations.md)."""
    comp = await read_definition(request, settings)
    row = await put_version(comp, principal, store, read_model, relay, settings.publish_wait_seconds)
    body = {
        "id": comp.id,
        "version": comp.version,
        "status": comp.status,
        "fanout": fanout_view(row["fanout"]),
    }
    return JSONResponse(body, status_code=202)
