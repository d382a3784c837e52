"""The SQL data layer: score ledger, dead letters, competition versions.

SQLite by default (``sqlite:///file.db``), PostgreSQL in integration tests and production.
Callers see plain dicts, Decimals, aware UTC datetimes and the errors below, never SQLAlchemy.
"""

from services.store import access_tables as _access_tables  # noqa: F401  (create_schema makes them too)
from services.store import notify_tables as _notify_tables  # noqa: F401  (create_schema makes them too)
from services.store.errors import StoreConflict, StoreDataError, StoreError, StoreUnavailable
from services.store.store import Store

__all__ = ["Store", "StoreConflict", "StoreDataError", "StoreError", "StoreUnavailable"]
