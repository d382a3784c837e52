"""Build an Engine with the per-database settings the store relies on.

SQLite: WAL (readers never block the writer), foreign keys on, a busy timeout, and write
transactions opened with BEGIN IMMEDIATE. A deferred transaction that reads and then writes
fails at once with "database is locked" when another thread writes, whatever the timeout;
taking the write lock up front makes a few threads simply queue.

PostgreSQL: a short connect timeout (an outage shows up as StoreUnavailable quickly, not as
a hang) and pre-ping (pooled connections broken by a server restart are replaced).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from services.store.errors import StoreError

WRITE = "store_write"
"""Execution option marking a connection whose next transaction will write."""

SQLITE_BUSY_TIMEOUT_MS = 10_000
PG_CONNECT_TIMEOUT_S = 5


def build_engine(url: str, *, echo: bool = False) -> Engine:
    """An Engine for ``url``; raises StoreError for a malformed URL or an unknown driver."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed, echo)
        if parsed.get_backend_name() == "postgresql":
            return _postgresql_engine(parsed, echo)
        return create_engine(parsed, echo=echo, pool_pre_ping=True)
    except Exception as exc:  # ArgumentError, NoSuchModuleError, ImportError from the driver
        raise StoreError(f"cannot use database URL {_safe(url)}: {exc}") from exc


def _sqlite_engine(url: URL, echo: bool) -> Engine:
    engine = create_engine(url, echo=echo)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Hand transaction control to the "begin" listener (pysqlite would emit its own BEGIN).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL, much faster
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    writing = connection.get_execution_options().get(WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def _postgresql_engine(url: URL, echo: bool) -> Engine:
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    if "application_name" not in url.query:
        connect_args["application_name"] = "campaigns"
    return create_engine(url, echo=echo, pool_pre_ping=True, connect_args=connect_args)


def _safe(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable>"
