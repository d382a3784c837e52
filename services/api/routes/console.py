"""The organisers' console API: competition versions from the SQL record, drafts, publishing,
closing, and new drafts from the seed's templates.

Reading needs any reader credential (the console shows definitions, not standings); every
change needs the organiser role and is audited with its diff. Validation errors are 422
problems (docs/api.md) naming the core's field path (`rules[0].points.basic`), the first found;
participants must be sub-branches the org names (once a roster is loaded).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from services.api.access import Organiser, Reader
from services.api.deps import ReadModelDep, RelayDep, SettingsDep, StoreDep
from services.api.routes.competitions import invalid, parse, read_object
from services.api.versions import ensure_known_participants, fanout_view, put_version, stored
from services.console.templates import catalog, instantiate
from services.readmodel import ReadModel
from services.store.competition_records import CLOSED, DRAFT, PUBLISHED, CompetitionRecords
from streams.core.errors import RuleError

router = APIRouter(prefix="/api/console", tags=["console"])

_DEFINITION_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A competition definition (docs/competitions.md); id and version come from the URL.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


def _summary(row: dict[str, Any], *, definition: bool) -> dict[str, Any]:
    d = row["definition"]
    out = {
        "id": row["competition_id"],
        "version": row["version"],
        "status": row["status"],
        "name": d.get("name"),
        "window": d.get("window"),
        "participants": d.get("participants", []),
        "rule_kinds": [r.get("kind") for r in d.get("rules", [])],
        "published_at": _iso(row["published_at"]),
        "created_by": row.get("created_by"),
        "created_at": _iso(row.get("created_at")),
        "updated_by": row.get("updated_by"),
        "updated_at": _iso(row.get("updated_at")),
        "published_by": row.get("published_by"),
        "closed_by": row.get("closed_by"),
        "closed_at": _iso(row.get("closed_at")),
        # The version's latest fan-out to the workers: "pending" until every partition was told.
        "fanout": fanout_view(row.get("fanout")),
    }
    if definition:
        out["definition"] = d
    return out


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@router.get("/competitions")
async def competitions(store: StoreDep, _: Reader) -> dict[str, Any]:
    """Every competition in the SQL record, drafts included, each with all its versions (oldest
    first), the latest version and the version in force (the newest published or closed)."""
    rows = await stored(CompetitionRecords(store).all_versions)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["competition_id"], []).append(row)
    out = []
    for cid, versions in grouped.items():
        live = [v for v in versions if v["status"] in (PUBLISHED, CLOSED)]
        out.append(
            {
                "id": cid,
                "name": versions[-1]["definition"].get("name"),
                "latest_version": versions[-1]["version"],
                "status": versions[-1]["status"],
                "live_version": live[-1]["version"] if live else None,
                "versions": [_summary(v, definition=False) for v in versions],
            }
        )
    return {"competitions": out}


@router.get("/competitions/{competition_id}/versions")
async def versions(competition_id: str, store: StoreDep, _: Reader) -> dict[str, Any]:
    rows = await stored(CompetitionRecords(store).versions, competition_id)
    if not rows:
        raise HTTPException(404, f"no competition {competition_id}")
    return {"id": competition_id, "versions": [_summary(v, definition=True) for v in rows]}


@router.get("/competitions/{competition_id}/versions/{version}")
async def version(competition_id: str, version: int, store: StoreDep, _: Reader) -> dict[str, Any]:
    return _summary(await _existing(store, competition_id, version), definition=True)


@router.post("/competitions", status_code=201, openapi_extra=_DEFINITION_BODY)
async def create_draft(
    request: Request, principal: Organiser, store: StoreDep, read_model: ReadModelDep, settings: SettingsDep
) -> JSONResponse:
    """A new draft from a whole definition: a new competition (version 1), or the next version
    of an existing one (the version in the body is ignored: the next free one is taken)."""
    body = await _body(request, settings)
    cid = body.get("id")
    if not isinstance(cid, str):
        raise invalid("id", "field required")
    rows = await stored(CompetitionRecords(store).versions, cid)
    body["version"] = _next_version(rows, read_model, cid)
    row = await _save_draft(store, principal, read_model, body, create=True)
    return JSONResponse(_summary(row, definition=True), status_code=201)


@router.post("/competitions/{competition_id}/drafts", status_code=201)
async def new_version(
    competition_id: str, principal: Organiser, store: StoreDep, read_model: ReadModelDep
) -> JSONResponse:
    """A new draft version copied from the latest one: how a published contest is changed."""
    rows = await stored(CompetitionRecords(store).versions, competition_id)
    if not rows:
        raise HTTPException(404, f"no competition {competition_id}")
    body = dict(rows[-1]["definition"])
    body["version"] = _next_version(rows, read_model, competition_id)
    row = await _save_draft(store, principal, read_model, body, create=True)
    return JSONResponse(_summary(row, definition=True), status_code=201)


@router.put("/competitions/{competition_id}/versions/{version}", openapi_extra=_DEFINITION_BODY)
async def edit_draft(
    competition_id: str,
    version: int,
    request: Request,
    principal: Organiser,
    store: StoreDep,
    read_model: ReadModelDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Replace a draft's definition (409 if the version is published or closed)."""
    body = await _body(request, settings)
    current = await _existing(store, competition_id, version)
    if current["status"] != DRAFT:
        raise HTTPException(
            409, f"version {version} of {competition_id} is {current['status']}; make a new draft"
        )
    body.update(id=competition_id, version=version)
    return _summary(await _save_draft(store, principal, read_model, body, create=False), definition=True)


@router.post("/competitions/{competition_id}/versions/{version}/publish")
async def publish(
    competition_id: str,
    version: int,
    principal: Organiser,
    store: StoreDep,
    read_model: ReadModelDep,
    relay: RelayDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Publish a draft as it stands: the workers score by it from its effective_from."""
    current = await _existing(store, competition_id, version)
    if current["status"] == PUBLISHED:
        return _summary(current, definition=True)
    if current["status"] != DRAFT:
        raise HTTPException(409, f"version {version} of {competition_id} is {current['status']}")
    return await _moved(current, PUBLISHED, principal, store, read_model, relay, settings)


@router.post("/competitions/{competition_id}/versions/{version}/close")
async def close(
    competition_id: str,
    version: int,
    principal: Organiser,
    store: StoreDep,
    read_model: ReadModelDep,
    relay: RelayDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Close a published version: its standings are final (a draft cannot be closed: 409)."""
    current = await _existing(store, competition_id, version)
    if current["status"] == DRAFT:
        raise HTTPException(409, f"version {version} of {competition_id} is a draft; publish it first")
    return await _moved(current, CLOSED, principal, store, read_model, relay, settings)


async def _moved(
    current: dict[str, Any],
    status: str,
    principal: Organiser,
    store: StoreDep,
    read_model: ReadModelDep,
    relay: RelayDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """The stored version under its new status, published to the workers and the read model."""
    comp = parse({**current["definition"], "status": status})
    row = await put_version(comp, principal, store, read_model, relay, settings.publish_wait_seconds)
    return _summary(row, definition=True)


# --- templates -----------------------------------------------------------------------------


@router.get("/templates")
async def templates(_: Reader) -> dict[str, Any]:
    """The seed's contests (多开户、多开基本户, 存款旺季营销, 开门红, 代发工资, 三小一卡, 小小银行家)."""
    return {"templates": catalog()}


class _Window(BaseModel):
    start: date
    end: date


class NewFromTemplate(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    window: _Window
    name: str | None = Field(default=None, min_length=1, max_length=100)
    participants: list[str] | None = None


@router.post("/templates/{key}", status_code=201)
async def from_template(
    key: str, given: NewFromTemplate, principal: Organiser, store: StoreDep, read_model: ReadModelDep
) -> JSONResponse:
    """A new competition (version 1, draft) from a template, re-dated to the window given."""
    try:
        definition = instantiate(
            key,
            competition_id=given.id,
            start=given.window.start,
            end=given.window.end,
            name=given.name,
            participants=given.participants,
        )
    except KeyError:
        raise HTTPException(404, f"no template {key!r}") from None
    except RuleError as exc:
        raise invalid(exc.path, exc.reason) from None
    ensure_known_participants(definition["participants"], read_model)
    if await stored(CompetitionRecords(store).versions, given.id):
        raise HTTPException(409, f"a competition {given.id} exists already; choose another id")
    row = await stored(CompetitionRecords(store).create_draft, definition, actor=principal.actor)
    return JSONResponse(_summary(row, definition=True), status_code=201)


# --- helpers -------------------------------------------------------------------------------


async def _body(request: Request, settings: Any) -> dict[str, Any]:
    """A JSON object body; its fields are validated with the rest of the definition."""
    obj = await read_object(request, settings)
    if not isinstance(obj, dict):
        raise invalid("(competition)", f"expected a JSON object, got {type(obj).__name__}")
    return obj


async def _existing(store: Any, competition_id: str, version: int) -> dict[str, Any]:
    found = await stored(CompetitionRecords(store).get, competition_id, version)
    if found is None:
        raise HTTPException(404, f"no version {version} of {competition_id}")
    return found


def _next_version(rows: list[dict[str, Any]], read_model: Any, competition_id: str) -> int:
    """The next free version after the stored `rows` of the competition."""
    version = max((r["version"] for r in rows), default=0) + 1
    while read_model.version(competition_id, version) is not None:  # published outside the console
        version += 1
    return version


async def _save_draft(
    store: Any, principal: Any, read_model: ReadModel, body: dict[str, Any], *, create: bool
) -> dict[str, Any]:
    comp = parse({**body, "status": DRAFT})
    ensure_known_participants(comp.participants, read_model)
    records = CompetitionRecords(store)
    definition = comp.model_dump(mode="json")
    if create:
        return await stored(records.create_draft, definition, actor=principal.actor)
    return await stored(records.edit_draft, definition, actor=principal.actor)
