"""The org tree in the console: import a CSV roster (organiser), see the tree as of a day.

An import is compared with the org as the API holds it and becomes org.changed events that go
through the normal intake (validated, published to events.raw, deduplicated downstream like any
event); the scoring picks them up from their effective dates. Audited with the changes.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from schemas import SHANGHAI
from services.api.access import Organiser, Reader
from services.api.body import read_body
from services.api.deps import PublisherDep, ReadModelDep, SettingsDep, StoreDep
from services.api.errors import FieldError
from services.api.intake import take
from services.api.versions import stored
from services.console.roster import RosterError, org_events, parse_roster, roster_changes
from services.publisher import PublishError
from services.store import audit

router = APIRouter(prefix="/api/console/org", tags=["console"])

_CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A CSV roster (UTF-8, or GB18030 as Excel saves it); see services/console/roster.py.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.get("")
async def org_tree(
    read_model: ReadModelDep,
    principal: Reader,
    as_of: Annotated[date | None, Query(description="YYYY-MM-DD; default today in Shanghai")] = None,
) -> dict[str, Any]:
    """Sub-branches -> teams -> managers on that day, with names. A viewer or display token sees
    its own sub-branch only."""
    day = as_of or datetime.now(SHANGHAI).date()
    tree = [unit for unit in read_model.board.org.tree(day) if principal.sees(unit["id"])]
    return {"as_of": day.isoformat(), "ready": read_model.ready, "sub_branches": tree}


@router.post("/import", openapi_extra=_CSV_BODY)
async def import_roster(
    request: Request,
    principal: Organiser,
    read_model: ReadModelDep,
    publisher: PublisherDep,
    store: StoreDep,
    settings: SettingsDep,
    effective_from: Annotated[
        date | None, Query(description="rows without a date, and leavers: this day (default today)")
    ] = None,
    full: Annotated[bool, Query(description="the roster is the whole org: the unlisted leave")] = True,
    dry_run: Annotated[bool, Query(description="only say what would change")] = False,
) -> dict[str, Any]:
    day = effective_from or datetime.now(SHANGHAI).date()
    raw = await read_body(request, settings.max_batch_bytes, settings.body_timeout_seconds)
    try:
        rows = parse_roster(_decode(raw), day)
    except RosterError as exc:
        raise FieldError(exc.field, exc.reason) from None
    if not read_model.ready:
        # Compared with a half-read org, everyone would look new (or, in a full import, gone).
        raise HTTPException(503, "the org is still being read; try again in a moment")
    changes = roster_changes(rows, read_model.board.org, full=full, leave_date=day)
    events = org_events(changes, datetime.now(SHANGHAI))
    summary = {
        "rows": len(rows),
        "full": full,
        "effective_from": day.isoformat(),
        "joins": sum(c["action"] == "join" for c in changes),
        "leaves": sum(c["action"] == "leave" for c in changes),
        "changes": changes,
    }
    if dry_run:
        return {**summary, "dry_run": True}
    lines = [(n, _json(event)) for n, event in enumerate(events, start=1)]
    try:
        results = await take(lines, publisher, settings.limits)
    except PublishError as exc:
        raise HTTPException(503, str(exc)) from None
    rejected = [r.as_dict() for r in results if r.status != "accepted"]
    await stored(
        audit.record,
        store,
        principal.actor,
        "org.import",
        f"org/{day.isoformat()}",
        {k: summary[k] for k in ("rows", "full", "joins", "leaves", "changes")} | {"rejected": rejected},
    )
    return {**summary, "dry_run": False, "accepted": len(results) - len(rejected), "rejected": rejected}


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            raise FieldError("(roster)", "not UTF-8 or GB18030 text") from None


def _json(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode()
