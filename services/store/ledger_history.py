"""Reads of the score ledger for the board at a past moment (services/history).

The board at an instant T counts the entries whose event time (`occurred_at`) is at or before T:
the business history as the ledger knows it now, late arrivals and re-scores included. The
queries run on the ledger's history index (competition_id, occurred_at, cm_id, units, points)
or on (competition_id, recorded_at).
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Connection, Numeric, String, Table, cast, func, select, type_coerce

from services.store.errors import translated
from services.store.store import Store
from services.store.tables import LedgerEntry

_ledger: Table = LedgerEntry.__table__  # type: ignore[assignment]


# What one manager earned while in one sub-branch and team over a stretch of time: (cm_id,
# sub_branch_id, team_id, points in cents, event time of the stretch's latest entry in
# microseconds since the epoch). Plain ints, converted by the database where it can: a day of a
# large ledger is thousands of rows per question, and per-row Decimal and datetime conversions
# were most of a question's time.
Share = tuple[str, str | None, str | None, int, int]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def shares_between(
    store: Store, competition_id: str, start: datetime | None, end: datetime, *, include_end: bool
) -> list[Share]:
    """Per (manager, sub-branch, team): the points of entries with start <= occurred_at < end
    (<= end with include_end; no lower bound with start None)."""
    c = _ledger.c
    sqlite = store.dialect == "sqlite"
    if sqlite:  # Money is integer cents there, UtcDateTime sortable text (column_types.py)
        points: Any = func.sum(type_coerce(c.points, BigInteger))
        last: Any = func.max(type_coerce(c.occurred_at, String))
    else:
        points = cast(type_coerce(func.sum(c.points), Numeric()) * 100, BigInteger)
        last = cast(func.extract("epoch", func.max(c.occurred_at)) * 1_000_000, BigInteger)
    query = select(c.cm_id, c.sub_branch_id, c.team_id, points, last).where(
        c.competition_id == competition_id, c.occurred_at <= end if include_end else c.occurred_at < end
    )
    if start is not None:
        query = query.where(c.occurred_at >= start)
    query = query.group_by(c.cm_id, c.sub_branch_id, c.team_id)
    with translated(), store._reading() as conn:
        # The driver's own tuples: every column is a plain str or int already, and SQLAlchemy's
        # Row objects for thousands of rows cost more than the query itself.
        rows = list(conn.execute(query).cursor.fetchall())
    if sqlite:
        return [(cm, sb, team, int(p), _micros(at)) for cm, sb, team, p, at in rows]
    return rows


def _micros(text: str) -> int:
    at = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return (at - _EPOCH) // timedelta(microseconds=1)


# One entry as the history holds it: (event time in micros, cm_id, sub_branch_id, team_id, cents).
Entry = tuple[int, str, str | None, str | None, int]
# An entry recorded since the history last looked: (entry_id, *Entry).
Arrival = tuple[str, int, str, str | None, str | None, int]
_CHUNK = timedelta(days=1)  # a build reads the ledger a day of event time at a time


@contextmanager
def snapshot(store: Store) -> Iterator[Snapshot]:
    """Several reads that see one state of the ledger: REPEATABLE READ on PostgreSQL; on SQLite a
    read transaction is one snapshot already (WAL)."""
    with translated(), store._engine.connect() as conn:
        if store.dialect == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield Snapshot(conn, store.dialect == "sqlite")


class Snapshot:
    def __init__(self, conn: Connection, sqlite: bool) -> None:
        self._conn, self._sqlite = conn, sqlite

    def arrivals(self, competition_id: str, recorded_after: datetime) -> list[Arrival]:
        """The competition's entries recorded after that instant."""
        c = _ledger.c
        query = select(c.entry_id, *self._entry_columns()).where(
            c.competition_id == competition_id, c.recorded_at > recorded_after
        )
        rows = self._conn.execute(query).cursor.fetchall()
        if self._sqlite:
            return [(entry_id, _micros(at), cm, sb, team, int(p)) for entry_id, at, cm, sb, team, p in rows]
        return typing.cast(list[Arrival], rows)

    def entries(self, competition_id: str) -> Iterator[list[Entry]]:
        """All the competition's entries in event-time order, a day of event time per list."""
        c = _ledger.c
        first, last = self._conn.execute(
            select(func.min(c.occurred_at), func.max(c.occurred_at)).where(c.competition_id == competition_id)
        ).one()
        if first is None:
            return
        start = first
        while start <= last:
            end = start + _CHUNK
            query = (
                select(*self._entry_columns())
                .where(c.competition_id == competition_id, c.occurred_at >= start, c.occurred_at < end)
                .order_by(c.occurred_at)
            )
            rows = self._conn.execute(query).cursor.fetchall()
            if self._sqlite:
                yield [(_micros(at), cm, sb, team, int(p)) for at, cm, sb, team, p in rows]
            else:
                yield typing.cast(list[Entry], rows)
            start = end

    def _entry_columns(self) -> list[Any]:
        c = _ledger.c
        if self._sqlite:  # text instants, integer cents (column_types.py): converted in Python
            return [
                type_coerce(c.occurred_at, String),
                c.cm_id,
                c.sub_branch_id,
                c.team_id,
                type_coerce(c.points, BigInteger),
            ]
        return [
            cast(func.extract("epoch", c.occurred_at) * 1_000_000, BigInteger),
            c.cm_id,
            c.sub_branch_id,
            c.team_id,
            cast(type_coerce(c.points, Numeric()) * 100, BigInteger),
        ]


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
