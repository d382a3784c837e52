"""Parked records that may belong to a period: what the freeze gate (services/awards/gate.py)
asks about, read from SQL.

- `parked_records`: a record the ledger sink could not store. When it reads as a ledger entry,
  it belongs to its competition's period by occurred_at; when it does not, nobody can say, so it
  counts for every period until an organiser acknowledges it.
- `dead_letters` with reason `scoring_failed`: an event the score stage could not score. It may
  count for any competition, so it belongs to every period its occurred_at falls in (every
  period when it cannot be read).
Validation's dead letters are not here: a refused input never reached scoring, and its sender
is told at once (HTTP 422 or the dead-letter topic).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select

from services.awards.gate import Parked
from services.awards.periods import Period
from services.store import Store
from services.store.tables import DeadLetter, ParkedRecord

_parked: Table = ParkedRecord.__table__  # type: ignore[assignment]
_letters: Table = DeadLetter.__table__  # type: ignore[assignment]

SCORING_FAILED = "scoring_failed"
_LIMIT = 10_000  # parked records are exceptions; more than this is a broken pipeline anyway


def _occurred(raw: bytes | None) -> tuple[str | None, datetime | None]:
    """(competition_id, occurred_at) of a parked copy, as far as it can be read."""
    try:
        obj: Any = json.loads(raw or b"")
        occurred = datetime.fromisoformat(str(obj["occurred_at"]))
        if occurred.tzinfo is None:
            return None, None
        cid = obj.get("competition_id")
        return (str(cid) if cid is not None else None), occurred
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, None


def _owns(period: Period, occurred: datetime) -> bool:
    if period.owns_from is not None and occurred < period.owns_from:
        return False
    return period.owns_until is None or occurred < period.owns_until


def of_period(store: Store, competition_id: str, period: Period) -> list[Parked]:
    """The parked records that may belong to `period` ([] for an adjustment month: it owns no
    entries of its own)."""
    if not period.regular:
        return []
    out: list[Parked] = []
    P, D = _parked.c, _letters.c
    with store._reading() as conn:
        parked = conn.execute(select(P.id, P.reason, P.value).order_by(P.id).limit(_LIMIT)).all()
        letters = conn.execute(
            select(D.id, D.reason, D.raw).where(D.reason == SCORING_FAILED).order_by(D.id).limit(_LIMIT)
        ).all()
    for row_id, reason, value in parked:
        cid, occurred = _occurred(value)
        if (
            occurred is not None
            and cid is not None
            and (cid != competition_id or not _owns(period, occurred))
        ):
            continue
        out.append(Parked("parked_records", int(row_id), str(reason)[:200]))
    for row_id, reason, raw in letters:
        _, occurred = _occurred(raw)
        if occurred is not None and not _owns(period, occurred):
            continue
        out.append(Parked("dead_letters", int(row_id), str(reason)))
    return out
