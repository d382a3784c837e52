"""The audit log: who changed what, when, with the diff; newest first.

Organisers and admins read it (it names people and shows every definition); viewers and
display tokens do not.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.api.access import Organiser
from services.api.deps import StoreDep
from services.api.versions import stored
from services.store import audit

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("")
async def audit_log(
    store: StoreDep,
    _: Organiser,
    object: Annotated[
        str | None,
        Query(max_length=160, description='"competition/feb-2026", or "competition/" for every competition'),
    ] = None,
    actor: Annotated[
        str | None, Query(max_length=160, description='"user:zhang", "key:ab12cd34ef56"')
    ] = None,
    action: Annotated[str | None, Query(max_length=64, description='"competition.publish"')] = None,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_LIMIT)] = 100,
    # Bounded: a number no SQL integer holds would be an overflow (500), not "no such entries".
    before: Annotated[
        int | None, Query(ge=1, le=2**53, description="only entries older than this id (paging)")
    ] = None,
) -> dict[str, Any]:
    rows = await stored(
        audit.entries, store, object_id=object, actor=actor, action=action, limit=limit, before=before
    )
    return {
        "entries": [
            {
                "id": r["id"],
                "at": r["at"].isoformat(),
                "actor": r["actor"],
                "action": r["action"],
                "object": r["object_id"],
                "diff": r["diff"],
            }
            for r in rows
        ],
        "next_before": rows[-1]["id"] if len(rows) == limit else None,
    }
