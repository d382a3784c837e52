"""The adjustment entries of the SQL ledger (the sink writes them like any other entry)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select

from services.store.errors import StoreDataError
from services.store.store import Store
from services.store.tables import LedgerEntry
from streams.core.scoring.adjustment import COMPONENT, LABEL, code_of

_ledger: Table = LedgerEntry.__table__  # type: ignore[assignment]
MAX_LIMIT = 1000


def adjustment_entries(
    store: Store, *, competition_id: str | None = None, cm_id: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Newest first; each with its reason code and note split out of the reason."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise StoreDataError(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
    query = (
        select(_ledger)
        .where(_ledger.c.component == COMPONENT)
        .order_by(_ledger.c.recorded_at.desc(), _ledger.c.occurred_at.desc(), _ledger.c.entry_id)
        .limit(limit)
    )
    if competition_id:
        query = query.where(_ledger.c.competition_id == competition_id)
    if cm_id:
        query = query.where(_ledger.c.cm_id == cm_id)
    with store._reading() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:
        reason = str(row["reason"])
        code = code_of(reason)
        label = row.get("label")
        # the label names the code; the reason is read only for entries older than labels
        row["reason_code"] = label.get("reason_code", code) if isinstance(label, dict) else code
        row["note"] = reason[len(LABEL) + len(code) + 3 :] if code is not None else reason
    return rows
