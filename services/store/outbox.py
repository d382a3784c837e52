"""The outbox of publishing (`publish_fanout`): what is still to be announced to the workers.

A version's row and its fan-out row are written in one transaction
(`CompetitionRecords.publish/close(..., announce=True)` calls `enqueue`), so the SQL record is the
truth and Kafka follows it: a crash between the two leaves a pending row, never a published
version the workers were not told about. The relay (services/api/relay.py) reads `pending()` in
`id` order, sends, and calls `done()`. Sending again is harmless: the version record goes to the
compacted topic under the same key, and a partition that has pinned the version skips its control
record.

Only one relay may send at a time (a second one, re-sending an old publish after a newer close,
would put a partition back on the closed version): the turn is a PostgreSQL advisory lock per
schema (`take_turn`), freed by the server when the holder's connection dies. SQLite serves one
API process.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, text, update

from services.store.errors import translated
from services.store.rows import checked_row
from services.store.store import Store
from services.store.tables import PublishFanout

_fanout: Table = PublishFanout.__table__  # type: ignore[assignment]

PENDING, DONE = "pending", "done"
_ERROR_LENGTH = 2000
# One lock per schema: parallel test schemas (and deployments sharing a server) do not contend.
_LOCK_KEY = "hashtext(current_schema() || '.publish_fanout')"


def enqueue(
    conn: Connection, competition_id: str, version: int, status: str, record: str, at: datetime
) -> int:
    """A fan-out to do, inside the caller's transaction; its id."""
    row = checked_row(
        _fanout,
        {
            "competition_id": competition_id,
            "version": version,
            "status": status,
            "record": record,
            "created_at": at,
            "attempts": 0,
        },
    )
    return int(conn.execute(insert(_fanout).values(row).returning(_fanout.c.id)).scalar_one())


def states_in(conn: Connection, competition_id: str | None) -> dict[tuple[str, int], dict[str, Any]]:
    """The latest fan-out of each version (of one competition, or all): {id, state, status,
    created_at, done_at, attempts, last_error}. A version with none (stored before the outbox,
    or a draft) is absent."""
    latest = select(func.max(_fanout.c.id)).group_by(_fanout.c.competition_id, _fanout.c.version)
    if competition_id is not None:
        latest = latest.where(_fanout.c.competition_id == competition_id)
    query = select(_fanout).where(_fanout.c.id.in_(latest.scalar_subquery()))
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for row in conn.execute(query):
        out[(row.competition_id, row.version)] = _state(dict(row._mapping))
    return out


def _state(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "state": PENDING if row["done_at"] is None else DONE,
        "status": row["status"],
        "created_at": row["created_at"],
        "done_at": row["done_at"],
        "attempts": row["attempts"],
        "last_error": row["last_error"],
    }


class Outbox:
    def __init__(self, store: Store) -> None:
        self._store = store

    def pending(self, limit: int = 100) -> list[dict[str, Any]]:
        """Fan-outs not done yet, oldest first (the order they must be sent in)."""
        query = select(_fanout).where(_fanout.c.done_at.is_(None)).order_by(_fanout.c.id).limit(limit)
        with self._store._reading() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def get(self, fanout_id: int) -> dict[str, Any] | None:
        """One fan-out's state (as `states_in` gives it), or None."""
        with self._store._reading() as conn:
            found = conn.execute(select(_fanout).where(_fanout.c.id == fanout_id)).first()
        return _state(dict(found._mapping)) if found is not None else None

    def done(self, fanout_ids: Iterable[int], *, at: datetime | None = None) -> None:
        ids = list(fanout_ids)
        if not ids:
            return
        with self._store._writing() as conn:
            conn.execute(
                update(_fanout)
                .where(_fanout.c.id.in_(ids), _fanout.c.done_at.is_(None))
                .values(done_at=at or datetime.now(UTC))
            )

    def failed(self, fanout_id: int, error: str) -> None:
        """An attempt that did not get through: counted, with its reason, for the operator."""
        with self._store._writing() as conn:
            conn.execute(
                update(_fanout)
                .where(_fanout.c.id == fanout_id)
                .values(attempts=_fanout.c.attempts + 1, last_error=error[:_ERROR_LENGTH])
            )

    def backlog(self) -> tuple[int, datetime | None, str | None]:
        """How many fan-outs are pending, since when (the oldest's created_at), and the last error
        of the oldest (what the relay is stuck on, if anything)."""
        with self._store._reading() as conn:
            count = int(
                conn.execute(
                    select(func.count()).select_from(_fanout).where(_fanout.c.done_at.is_(None))
                ).scalar_one()
            )
            oldest = conn.execute(
                select(_fanout.c.created_at, _fanout.c.last_error)
                .where(_fanout.c.done_at.is_(None))
                .order_by(_fanout.c.id)
                .limit(1)
            ).first()
        if oldest is None:
            return count, None, None
        return count, oldest.created_at, oldest.last_error

    def take_turn(self) -> Turn | None:
        """The turn to send, if no other relay holds it (None: try later). Held on a connection
        of its own until `Turn.release()`; a process that dies frees it with its connection."""
        if self._store.dialect != "postgresql":
            return Turn(None)
        with translated():
            conn = self._store._engine.connect()
        try:
            with translated():
                mine = bool(conn.execute(text(f"SELECT pg_try_advisory_lock({_LOCK_KEY})")).scalar_one())
                conn.commit()
        except BaseException:
            conn.close()
            raise
        if not mine:
            conn.close()
            return None
        return Turn(conn)


class Turn:
    def __init__(self, conn: Connection | None) -> None:
        self._conn = conn

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(text(f"SELECT pg_advisory_unlock({_LOCK_KEY})"))
            conn.commit()
        except Exception:
            # A session lock must not go back to the pool with its connection.
            conn.invalidate()
        finally:
            conn.close()
