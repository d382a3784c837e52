"""The audit log: every change an organiser, an admin or a program makes, with who, when and the diff.

    record(store_or_connection, actor, action, object_id, diff) -> id

`actor` is the principal's name as `Principal.actor` gives it ("user:zhang", "key:ab12cd34 etl");
`action` a dotted verb ("competition.publish", "user.create", "org.import", "adjustment.create");
`object_id` "kind/id" ("competition/feb-2026", "user/zhang", "key/ab12cd34", "adjustment/...");
`diff` any JSON value (for a competition: `services.console.diff.diff` of its definition against
the previous version; for anything else the fields that changed). Pass a Connection to write the
entry in the same transaction as the change it describes; pass the Store to write it on its own.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, insert, select

from services.store.access_tables import AuditEntry
from services.store.errors import StoreDataError
from services.store.rows import checked_row
from services.store.store import Store

_audit: Table = AuditEntry.__table__  # type: ignore[assignment]

MAX_LIMIT = 1000


def record(
    target: Store | Connection,
    actor: str,
    action: str,
    object_id: str,
    diff: Any = None,
    *,
    at: datetime | None = None,
) -> int:
    """Append one entry; returns its id (ids grow with time)."""
    row = checked_row(
        _audit,
        {
            "at": at or datetime.now(UTC),
            "actor": actor,
            "action": action,
            "object_id": object_id,
            "diff": _json(diff),
        },
    )
    stmt = insert(_audit).values(row).returning(_audit.c.id)
    if isinstance(target, Connection):
        return int(target.execute(stmt).scalar_one())
    with target._writing() as conn:
        return int(conn.execute(stmt).scalar_one())


def entries(
    store: Store,
    *,
    object_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int = 100,
    before: int | None = None,
) -> list[dict[str, Any]]:
    """Newest first. `object_id` ending in "/" matches every object of that kind ("competition/");
    `before` pages on: only entries with a smaller id."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise StoreDataError(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
    query = select(_audit).order_by(_audit.c.id.desc()).limit(limit)
    if object_id:
        if object_id.endswith("/"):
            query = query.where(_audit.c.object_id.startswith(object_id, autoescape=True))
        else:
            query = query.where(_audit.c.object_id == object_id)
    if actor:
        query = query.where(_audit.c.actor == actor)
    if action:
        query = query.where(_audit.c.action == action)
    if before is not None:
        query = query.where(_audit.c.id < before)
    with store._reading() as conn:
        rows = [dict(row._mapping) for row in conn.execute(query)]
    for row in rows:
        row["diff"] = json.loads(row["diff"])
    return rows


def _json(value: Any) -> str:
    # Decimals and dates appear in definitions and adjustments: kept as their text.
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError) as exc:
        raise StoreDataError(f"audit diff is not JSON: {exc}") from exc
