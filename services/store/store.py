"""The Store: every read and write of the SQL database, behind plain dicts and Decimals.

Writes are idempotent where a retry can happen: a ledger entry is keyed by its deterministic
``entry_id`` and a dead letter by its Kafka coordinates, so a sink that crashes after writing
and before committing its offset can write the same batch again and change nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from itertools import islice
from types import TracebackType
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    Table,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from services.store.driver_insert import insert_ignoring_conflicts
from services.store.engine import WRITE, build_engine
from services.store.errors import StoreConflict, StoreDataError, StoreError, translated
from services.store.rows import checked_row
from services.store.tables import Base, Competition, DeadLetter, LedgerEntry, ParkedRecord, SinkHeartbeat
from services.store.upgrade import add_missing_columns, add_missing_indexes

PUBLISHED = "published"
_BATCH = 1000

_ledger: Table = LedgerEntry.__table__  # type: ignore[assignment]
_dead: Table = DeadLetter.__table__  # type: ignore[assignment]
_competitions: Table = Competition.__table__  # type: ignore[assignment]
_parked: Table = ParkedRecord.__table__  # type: ignore[assignment]
_beats: Table = SinkHeartbeat.__table__  # type: ignore[assignment]


class Store:
    """One database. Safe to share between threads; each call is its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @classmethod
    def from_url(cls, url: str, *, echo: bool = False) -> Store:
        """``sqlite:///path/to/file.db`` or ``postgresql+psycopg://user@host:port/db``.

        Does not connect; the first call (or ``ping()``) does.
        """
        return cls(build_engine(url, echo=echo))

    @property
    def url(self) -> str:
        """The URL with any password masked, for logs."""
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Close pooled connections. The store reconnects if used again."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- schema and health -------------------------------------------------------------

    def create_schema(self) -> None:
        """Create missing tables and indexes; existing ones are left as they are."""
        with self._writing() as conn:
            Base.metadata.create_all(conn)
            add_missing_columns(conn)
            add_missing_indexes(conn)

    def ping(self) -> None:
        """Return if the database answers, else raise StoreUnavailable."""
        with self._reading() as conn:
            conn.execute(text("SELECT 1"))

    def server_version(self) -> str:
        """E.g. ``"PostgreSQL 15.18 (Debian ...) on x86_64..."`` or ``"SQLite 3.40.1"``."""
        with self._reading() as conn:
            if self.dialect == "sqlite":
                return f"SQLite {conn.execute(text('SELECT sqlite_version()')).scalar_one()}"
            return str(conn.execute(text("SELECT version()")).scalar_one())

    # --- score ledger --------------------------------------------------------------------

    def add_ledger_entries(self, entries: Iterable[Mapping[str, Any]]) -> int:
        """Insert entries whose ``entry_id`` is not stored yet; return how many were new.

        All or nothing: one invalid entry (StoreDataError) and none of the batch is written.
        ``recorded_at`` defaults to now. Within one call the first of equal ids wins.
        """
        with self._writing() as conn:
            return self._insert_entries(conn, entries)

    def add_sink_batch(
        self, entries: Iterable[Mapping[str, Any]], dead_letters: Iterable[Mapping[str, Any]]
    ) -> tuple[int, int]:
        """Ledger entries (as ``add_ledger_entries``) and dead letters (as ``add_dead_letter``'s
        keyword arguments) in one transaction: the ledger sink's batch, all or nothing. Returns
        how many of each were new."""
        with self._writing() as conn:
            return self._insert_entries(conn, entries), self._insert_dead_letters(conn, dead_letters)

    def _insert_entries(self, conn: Connection, entries: Iterable[Mapping[str, Any]]) -> int:
        now = datetime.now(UTC)
        inserted = 0
        seen: set[str] = set()
        rows = (checked_row(_ledger, {"recorded_at": now, **entry}) for entry in entries)
        while chunk := list(islice(rows, _BATCH)):
            fresh = [row for row in chunk if row["entry_id"] not in seen]
            seen.update(row["entry_id"] for row in fresh)
            if fresh:
                inserted += self._insert_many(conn, _ledger, ("entry_id",), fresh, _ledger.c.entry_id)
        return inserted

    def _insert_dead_letters(self, conn: Connection, letters: Iterable[Mapping[str, Any]]) -> int:
        now = datetime.now(UTC)
        rows = [checked_row(_dead, {"event_id": None, "received_at": now, **letter}) for letter in letters]
        if not rows:
            return 0
        position = ("source_topic", "source_partition", "source_offset")
        return self._insert_many(conn, _dead, position, rows, _dead.c.id)

    def _insert_many(
        self,
        conn: Connection,
        table: Table,
        conflict: tuple[str, ...],
        rows: list[dict[str, Any]],
        key: Column[Any],
    ) -> int:
        """INSERT .. ON CONFLICT (conflict) DO NOTHING of checked rows; how many were new.

        SQLite: sqlite3's executemany (one prepared statement stepped per row, counted by its
        rowcount), through the driver (driver_insert.py). PostgreSQL: multi-row VALUES with
        RETURNING (psycopg's executemany has no total rowcount), a round trip per thousand rows."""
        if self.dialect == "sqlite":
            return insert_ignoring_conflicts(conn, table, conflict, rows)
        stmt = self._insert(table).on_conflict_do_nothing(index_elements=[table.c[c] for c in conflict])
        return len(conn.execute(stmt.returning(key), rows).all())

    def totals(self, competition_id: str) -> dict[str, Decimal]:
        """Points per customer manager in a competition, ordered by ``cm_id``."""
        total = func.sum(_ledger.c.points)
        query = (
            select(_ledger.c.cm_id, total)
            .where(_ledger.c.competition_id == competition_id)
            .group_by(_ledger.c.cm_id)
            .order_by(self._binary(_ledger.c.cm_id))
        )
        with self._reading() as conn:
            return {cm_id: points for cm_id, points in conn.execute(query)}

    def entries_for(self, competition_id: str, cm_id: str) -> list[dict[str, Any]]:
        """Every entry behind one manager's total, by ``occurred_at`` then ``entry_id``."""
        query = (
            select(_ledger)
            .where(_ledger.c.competition_id == competition_id, _ledger.c.cm_id == cm_id)
            .order_by(_ledger.c.occurred_at, self._binary(_ledger.c.entry_id))
        )
        with self._reading() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def ledger_scan(
        self,
        competition_ids: Iterable[str] | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        chunk: int = 20_000,
    ) -> Iterator[dict[str, Any]]:
        """Every entry of these competitions (all: None) with start <= occurred_at < end,
        streamed in chunks (verification reads millions). One read transaction throughout."""
        query = select(_ledger)
        if competition_ids is not None:
            query = query.where(_ledger.c.competition_id.in_(list(competition_ids)))
        if start is not None:
            query = query.where(_ledger.c.occurred_at >= start)
        if end is not None:
            query = query.where(_ledger.c.occurred_at < end)
        with self._reading() as conn:
            result = conn.execution_options(stream_results=True, yield_per=chunk).execute(query)
            for part in result.partitions():
                for row in part:
                    yield dict(row._mapping)

    def entries_of_event(self, event_id: str) -> list[dict[str, Any]]:
        """Every entry an event caused, in any competition, by ``competition_id`` then ``entry_id``."""
        query = (
            select(_ledger)
            .where(_ledger.c.event_id == event_id)
            .order_by(self._binary(_ledger.c.competition_id), self._binary(_ledger.c.entry_id))
        )
        with self._reading() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def dead_letters_of_event(self, event_id: str) -> list[dict[str, Any]]:
        """The dead letters whose stored bytes name this event id, oldest first."""
        query = select(_dead).where(_dead.c.event_id == event_id).order_by(_dead.c.id)
        with self._reading() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    # --- dead letters --------------------------------------------------------------------

    def add_dead_letter(
        self,
        *,
        source_topic: str,
        source_partition: int,
        source_offset: int,
        reason: str,
        detail: str,
        raw: bytes,
        event_id: str | None = None,
        received_at: datetime | None = None,
    ) -> bool:
        """Keep a refused input; False if this topic/partition/offset is already stored."""
        row = checked_row(
            _dead,
            {
                "source_topic": source_topic,
                "source_partition": source_partition,
                "source_offset": source_offset,
                "reason": reason,
                "detail": detail,
                "raw": raw,
                "event_id": event_id,
                "received_at": received_at or datetime.now(UTC),
            },
        )
        stmt = (
            self._insert(_dead)
            .values(row)
            .on_conflict_do_nothing(
                index_elements=[
                    _dead.c.source_topic,
                    _dead.c.source_partition,
                    _dead.c.source_offset,
                ]
            )
            .returning(_dead.c.id)
        )
        with self._writing() as conn:
            return conn.execute(stmt).first() is not None

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        """The most recent dead letters, newest first."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise StoreDataError(f"limit must be a positive integer, got {limit!r}")
        query = select(_dead).order_by(_dead.c.id.desc()).limit(limit)
        with self._reading() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    # --- competitions --------------------------------------------------------------------

    def save_competition(
        self,
        competition_id: str,
        version: int,
        status: str,
        definition: Mapping[str, Any],
        *,
        published_at: datetime | None = None,
    ) -> None:
        """Store or update one version of a competition's rules.

        Saving the same thing again is a no-op. Once a version has been published its
        definition is frozen (StoreConflict if it differs); its status may still change.
        ``published_at`` defaults to now when the status first becomes ``"published"``.
        """
        document = _to_json(definition)
        stamp = published_at or (datetime.now(UTC) if status == PUBLISHED else None)
        row = checked_row(
            _competitions,
            {
                "competition_id": competition_id,
                "version": version,
                "status": status,
                "definition": document,
                "published_at": stamp,
            },
        )
        key = (_competitions.c.competition_id == competition_id) & (_competitions.c.version == version)
        created = (
            self._insert(_competitions)
            .values(row)
            .on_conflict_do_nothing(index_elements=[_competitions.c.competition_id, _competitions.c.version])
            .returning(_competitions.c.version)
        )
        with self._writing() as conn:
            if conn.execute(created).first() is not None:
                return
            current = conn.execute(
                select(_competitions.c.definition, _competitions.c.published_at).where(key).with_for_update()
            ).one()
            if current.published_at is not None and current.definition != document:
                raise StoreConflict(
                    f"competition {competition_id} version {version} is published; "
                    "its definition cannot change (save a new version)"
                )
            conn.execute(
                update(_competitions)
                .where(key)
                .values(
                    status=row["status"],
                    definition=document,
                    published_at=current.published_at or row["published_at"],
                )
            )

    def competition_versions(self, competition_id: str) -> list[dict[str, Any]]:
        """Every stored version of a competition, oldest first, ``definition`` as a dict."""
        query = (
            select(_competitions)
            .where(_competitions.c.competition_id == competition_id)
            .order_by(_competitions.c.version)
        )
        with self._reading() as conn:
            rows = [dict(row._mapping) for row in conn.execute(query)]
        for row in rows:
            row["definition"] = json.loads(row["definition"])
        return rows

    # --- the sink's bookkeeping ----------------------------------------------------------

    def park_record(
        self,
        *,
        source_topic: str,
        source_partition: int,
        source_offset: int,
        reason: str,
        key: bytes | None,
        value: bytes | None,
        value_size: int,
        value_sha256: str,
        parked_at: datetime | None = None,
    ) -> bool:
        """Keep a record the sink could not store; False if this position is already parked."""
        row = checked_row(
            _parked,
            {
                "source_topic": source_topic,
                "source_partition": source_partition,
                "source_offset": source_offset,
                "reason": reason,
                "key": key,
                "value": value,
                "value_size": value_size,
                "value_sha256": value_sha256,
                "parked_at": parked_at or datetime.now(UTC),
            },
        )
        stmt = (
            self._insert(_parked)
            .values(row)
            .on_conflict_do_nothing(
                index_elements=[_parked.c.source_topic, _parked.c.source_partition, _parked.c.source_offset]
            )
            .returning(_parked.c.id)
        )
        with self._writing() as conn:
            return conn.execute(stmt).first() is not None

    def parked_records(self, limit: int = 100) -> list[dict[str, Any]]:
        """The most recently parked records, newest first."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise StoreDataError(f"limit must be a positive integer, got {limit!r}")
        query = select(_parked).order_by(_parked.c.id.desc()).limit(limit)
        with self._reading() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def parked_count(self) -> int:
        with self._reading() as conn:
            return int(conn.execute(select(func.count()).select_from(_parked)).scalar_one())

    def beat(
        self,
        name: str,
        *,
        started_at: datetime,
        positions: Mapping[str, int],
        written: int,
        parked: int,
        at: datetime | None = None,
    ) -> None:
        """Record that the sink `name` is alive (one row per name, replaced on every beat)."""
        row = checked_row(
            _beats,
            {
                "name": name,
                "beat_at": at or datetime.now(UTC),
                "started_at": started_at,
                "positions": json.dumps(dict(sorted(positions.items())), separators=(",", ":")),
                "written": written,
                "parked": parked,
            },
        )
        stmt = self._insert(_beats).values(row)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_beats.c.name],
            set_={column: stmt.excluded[column] for column in row if column != "name"},
        )
        with self._writing() as conn:
            conn.execute(stmt)

    def heartbeat(self, name: str) -> dict[str, Any] | None:
        """The sink's last beat (``positions`` as a dict), or None if it never beat."""
        with self._reading() as conn:
            found = conn.execute(select(_beats).where(_beats.c.name == name)).first()
        if found is None:
            return None
        row = dict(found._mapping)
        row["positions"] = json.loads(row["positions"])
        return row

    # --- plumbing ------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        with translated(), self._engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with translated(), self._engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                yield conn

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """INSERT with the dialect's ON CONFLICT support."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        if self.dialect == "sqlite":
            return sqlite.insert(table)
        raise StoreError(f"unsupported database {self.dialect!r}")

    def _binary(self, column: Column[str]) -> ColumnElement[str]:
        # Byte order on both databases, whatever collation the PostgreSQL database has.
        return column.collate("C") if self.dialect == "postgresql" else column


def _to_json(definition: Mapping[str, Any]) -> str:
    try:
        return json.dumps(
            definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise StoreDataError(f"competition definition is not plain JSON: {exc}") from exc
