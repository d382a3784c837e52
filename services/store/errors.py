"""What the store raises. SQLAlchemy and driver errors are translated here and never leak out.

    StoreError                 anything the store could not do
    ├── StoreUnavailable       database unreachable, down, locked or timed out: retry later
    ├── StoreConflict          the write contradicts what is stored (e.g. a published version)
    └── StoreDataError         the value cannot be stored as given (type, length, precision)

The original exception stays attached as ``__cause__`` for logs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc


class StoreError(Exception):
    """The store could not do what was asked."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or did not answer in time; the same call may succeed later."""


class StoreConflict(StoreError):
    """The write contradicts what is already stored."""


class StoreDataError(StoreError):
    """A value was refused before or by the database: wrong type, too long, too precise."""


@contextmanager
def translated() -> Iterator[None]:
    """Run a block, turning SQLAlchemy exceptions into this module's hierarchy."""
    try:
        yield
    except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError) as exc:
        if _is_sqlite_programming_error(exc):
            raise StoreError(_describe(exc)) from exc
        raise StoreUnavailable(_describe(exc)) from exc
    except sa_exc.IntegrityError as exc:
        raise StoreConflict(_describe(exc)) from exc
    except sa_exc.DataError as exc:
        raise StoreDataError(_describe(exc)) from exc
    except sa_exc.SQLAlchemyError as exc:
        raise StoreError(_describe(exc)) from exc


def _is_sqlite_programming_error(exc: sa_exc.SQLAlchemyError) -> bool:
    # sqlite3 raises OperationalError for a missing table as for a locked file; PostgreSQL
    # calls the former a ProgrammingError. Keep "unavailable" for what a retry can fix.
    original = getattr(exc, "orig", None)
    if not isinstance(original, sqlite3.OperationalError):
        return False
    message = str(original)
    return message.startswith("no such ") or "syntax error" in message


def _describe(exc: sa_exc.SQLAlchemyError) -> str:
    # The driver's own message, without SQLAlchemy's statement dump and background link.
    original = getattr(exc, "orig", None)
    text = str(original if original is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
