"""Manual adjustments in the organisers' console (services/adjustments).

    POST /api/console/adjustments     one manager's points, or a split between two (202)
    GET  /api/console/adjustments?competition=&cm_id=&limit=   the adjustment entries of the ledger

A POST becomes points.adjusted events sent through the normal intake (validated by the shared
validator, onto events.raw with source "console"): the stream books them as ledger entries of the
component "adjustment", so the standings, the boards, the manager's page and the SQL ledger show
them like any other points. Every request is audited (who, what, why) before its events are sent.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from schemas import Rejection, parse_event
from schemas.routing import participant_of
from schemas.wire_json import load_json
from services.adjustments import AdjustmentRequest, adjustment_entries, events_for
from services.api.access import Organiser
from services.api.body import read_body
from services.api.deps import PublisherDep, ReadModelDep, SettingsDep, StoreDep
from services.api.errors import FieldError, field_path
from services.publisher import PublishError
from services.readmodel import ReadModel
from services.settings import ServiceSettings
from services.store import Store, StoreError, audit

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/console/adjustments", tags=["console"])

_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": '{"competition_id", "cm_id", "points", "reason_code", "note"} or '
        '{"competition_id", "split": {"from_cm_id", "to_cm_id", "points"}, "note"}',
        "content": {"application/json": {"schema": AdjustmentRequest.model_json_schema()}},
    }
}


def _invalid(field: str, reason: str) -> FieldError:
    return FieldError(field, reason)


@router.post("", status_code=202, openapi_extra=_BODY)
async def create_adjustment(
    request: Request,
    read_model: ReadModelDep,
    publisher: PublisherDep,
    store: StoreDep,
    settings: SettingsDep,
    principal: Organiser,
) -> JSONResponse:
    body = await read_body(request, settings.max_body_bytes, settings.body_timeout_seconds)
    try:
        wanted = AdjustmentRequest.model_validate(load_json(body, max_depth=8))
    except Rejection as exc:
        raise _invalid("(body)", f"{exc.reason}: {exc.detail}") from None
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise _invalid(field_path(first["loc"]) or "(body)", str(first["msg"])) from None
    read_model.competition(wanted.competition_id)  # 404 unless published or closed
    # Who adjusted is who is signed in; a name in the body cannot stand in for it.
    actor = principal.actor
    group, events = events_for(wanted, actor, datetime.now(UTC))
    for e in events:
        cm_id = e["data"]["cm_id"]
        if not _known_manager(read_model, cm_id):
            raise _invalid("cm_id", f"no customer manager {cm_id!r} in the org or on any board")
    raw = [_encoded(e, settings) for e in events]  # all checked before any is sent
    # Audited first: an adjustment the log does not show must never reach the ledger.
    try:
        await run_in_threadpool(
            audit.record, store, actor, "adjustment.create", f"adjustment/{group}", _diff(wanted, events)
        )
    except StoreError as exc:
        raise HTTPException(503, f"the audit log cannot be written, nothing was sent: {exc}") from None
    try:
        await publisher.raw(raw)
    except PublishError as exc:
        await run_in_threadpool(_abandoned, store, actor, group, str(exc))
        raise HTTPException(503, f"{exc}; send the same request_id again") from None
    return JSONResponse(
        {
            "group_id": group,
            "competition_id": wanted.competition_id,
            "events": [
                {"event_id": e["event_id"], "cm_id": e["data"]["cm_id"], "points": e["data"]["points"]}
                for e in events
            ],
        },
        status_code=202,
    )


@router.get("")
async def list_adjustments(
    read_model: ReadModelDep,
    store: StoreDep,
    _: Organiser,
    competition: str | None = Query(default=None, max_length=64),
    cm_id: str | None = Query(default=None, max_length=64),
    limit: int = Query(default=200, ge=1, le=1000),
) -> dict[str, Any]:
    try:
        rows = await run_in_threadpool(
            adjustment_entries, store, competition_id=competition, cm_id=cm_id, limit=limit
        )
    except StoreError as exc:
        raise HTTPException(503, f"the ledger cannot be read: {exc}") from None
    org = read_model.board.org
    return {
        "competition": competition,
        "cm_id": cm_id,
        "count": len(rows),
        "entries": [
            {
                "entry_id": r["entry_id"],
                "event_id": r["event_id"],
                "competition_id": r["competition_id"],
                "rule_version": r["rule_version"],
                "cm_id": r["cm_id"],
                "name": org.name(r["cm_id"]) or r["cm_id"],
                "sub_branch_id": r["sub_branch_id"],
                "team_id": r["team_id"],
                "points": str(r["points"]),
                "reason_code": r["reason_code"],
                "note": r["note"],
                "reason": r["reason"],
                "occurred_at": r["occurred_at"].isoformat(),
                "recorded_at": r["recorded_at"].isoformat(),
                "late": r["late"],
            }
            for r in rows
        ],
    }


def _known_manager(read_model: ReadModel, cm_id: str) -> bool:
    """In the org directory, or scored in some competition: a typo must not create a manager."""
    if cm_id in read_model.board.org.managers():
        return True
    return any(read_model.board.standing(c.id, cm_id) is not None for c in read_model.competitions())


def _encoded(event: dict[str, Any], settings: ServiceSettings) -> tuple[str, bytes]:
    """The intake's check (schemas/validate.py) on each event; a refusal is our bug, not the user's."""
    raw = _json(event)
    try:
        parsed = parse_event(raw, now=datetime.now(UTC), limits=settings.limits)
    except Rejection as exc:
        raise HTTPException(422, f"{exc.reason}: {exc.detail}") from None
    return participant_of(parsed), raw


def _json(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


def _diff(wanted: AdjustmentRequest, events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "competition_id": wanted.competition_id,
        "reason_code": wanted.code.value,
        "note": wanted.note,
        "events": [
            {
                "event_id": e["event_id"],
                "cm_id": e["data"]["cm_id"],
                "points": e["data"]["points"],
                "related_cm_id": e["data"].get("related_cm_id"),
            }
            for e in events
        ],
    }


def _abandoned(store: Store, actor: str, group: str, why: str) -> None:
    try:
        audit.record(store, actor, "adjustment.abandoned", f"adjustment/{group}", {"error": why})
    except StoreError:
        log.error("adjustments: %s was audited but not sent, and the audit log is away: %s", group, why)
