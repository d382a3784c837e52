"""Reads of the score ledger for the board at a past moment (services/history).

The board at an instant T counts the entries whose event time (`occurred_at`) is at or before T:
the business history as the ledger knows it now, late arrivals and re-scores included. All
three queries run on the ledger's history index (competition_id, occurred_at, cm_id, units,
points) or on (competition_id, recorded_at).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Table, func, select

from services.store.errors import translated
from services.store.store import Store
from services.store.tables import LedgerEntry

_ledger: Table = LedgerEntry.__table__  # type: ignore[assignment]


# What one manager earned while in one sub-branch and team over a stretch of time:
# (cm_id, sub_branch_id, team_id, points, event time of the stretch's latest entry).
Share = tuple[str, str | None, str | None, Decimal, datetime]


def shares_between(
    store: Store, competition_id: str, start: datetime | None, end: datetime, *, include_end: bool
) -> list[Share]:
    """Per (manager, sub-branch, team): the points of entries with start <= occurred_at < end
    (<= end with include_end; no lower bound with start None)."""
    c = _ledger.c
    query = select(c.cm_id, c.sub_branch_id, c.team_id, func.sum(c.points), func.max(c.occurred_at)).where(
        c.competition_id == competition_id, c.occurred_at <= end if include_end else c.occurred_at < end
    )
    if start is not None:
        query = query.where(c.occurred_at >= start)
    query = query.group_by(c.cm_id, c.sub_branch_id, c.team_id)
    with translated(), store._reading() as conn:
        return [(cm, sb, team, points, at) for cm, sb, team, points, at in conn.execute(query)]


def arrivals_since(store: Store, competition_id: str, recorded_after: datetime) -> dict[str, datetime]:
    """Entry id -> event time of the competition's entries recorded after that instant."""
    c = _ledger.c
    query = select(c.entry_id, c.occurred_at).where(
        c.competition_id == competition_id, c.recorded_at > recorded_after
    )
    with translated(), store._reading() as conn:
        return {entry_id: at for entry_id, at in conn.execute(query)}


def first_entry_at(store: Store, competition_id: str) -> datetime | None:
    """The event time of the competition's earliest entry; None if it has none."""
    c = _ledger.c
    query = select(func.min(c.occurred_at)).where(c.competition_id == competition_id)
    with translated(), store._reading() as conn:
        found: datetime | None = conn.execute(query).scalar_one()
        return found


def change_times(store: Store, competition_id: str, start: datetime, end: datetime) -> list[datetime]:
    """The distinct event times in [start, end) at which the competition's ledger changed."""
    c = _ledger.c
    query = (
        select(c.occurred_at)
        .where(c.competition_id == competition_id, c.occurred_at >= start, c.occurred_at < end)
        .group_by(c.occurred_at)
        .order_by(c.occurred_at)
    )
    with translated(), store._reading() as conn:
        return [at for (at,) in conn.execute(query)]
