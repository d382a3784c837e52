"""services/store/driver_insert.py stores on SQLite exactly what SQLAlchemy's execute of the same
rows stores: the raw values in the file, compared column by column, for ledger entries (money,
aware datetimes in other zones, JSON labels, NULLs, non-ASCII text) and dead letters (bytes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, text
from sqlalchemy.dialects import sqlite

from services.store import Store
from services.store.driver_insert import insert_ignoring_conflicts
from services.store.rows import checked_row
from services.store.tables import DeadLetter, LedgerEntry

pytestmark = pytest.mark.integration

_ledger: Table = LedgerEntry.__table__  # type: ignore[assignment]
_dead: Table = DeadLetter.__table__  # type: ignore[assignment]
SHANGHAI = timezone(timedelta(hours=8))


def ledger_rows() -> list[dict[str, Any]]:
    at = datetime(2026, 2, 3, 23, 59, 59, 999_999, tzinfo=SHANGHAI)
    rows = []
    for n, (points, label) in enumerate([("1.50", {"kind": "opening"}), ("-0.01", None), ("12345.6", {})]):
        values = {
            "entry_id": f"e{n}",
            "event_id": f"evt-{n}",
            "competition_id": "feb",
            "rule_version": n + 1,
            "cm_id": "cm-1",
            "sub_branch_id": None if n else "sb-1",
            "team_id": "t-1",
            "occurred_at": at + timedelta(hours=n),
            "points": Decimal(points),
            "component": "opening",
            "reason": "开户 基础户",
            "late": n == 1,
            "correction": None,
            "label": label,
            "recorded_at": datetime(2026, 2, 4, 1, tzinfo=UTC),
        }
        rows.append(checked_row(_ledger, values))
    return rows


def dead_rows() -> list[dict[str, Any]]:
    values = {
        "source_topic": "t.events.deadletter",
        "source_partition": 0,
        "reason": "malformed_json",
        "detail": "not valid JSON",
        "event_id": None,
        "received_at": datetime(2026, 2, 4, 1, tzinfo=UTC),
    }
    return [checked_row(_dead, {**values, "source_offset": n, "raw": bytes([n, 0, 255])}) for n in range(3)]


def stored(store: Store, table: str) -> list[tuple[Any, ...]]:
    with store._engine.connect() as conn:  # the raw values in the file, not what types make of them
        return [tuple(row) for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY rowid"))]


@pytest.mark.parametrize(
    ("table", "conflict", "rows"),
    [
        (_ledger, ("entry_id",), ledger_rows),
        (_dead, ("source_topic", "source_partition", "source_offset"), dead_rows),
    ],
)
def test_the_driver_stores_what_execute_stores(
    tmp_path: Path, table: Table, conflict: tuple[str, ...], rows: Any
) -> None:
    by_execute = Store.from_url(f"sqlite:///{tmp_path / 'execute.db'}")
    by_driver = Store.from_url(f"sqlite:///{tmp_path / 'driver.db'}")
    for store in (by_execute, by_driver):
        store.create_schema()
    stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=[table.c[c] for c in conflict])
    with by_execute._engine.begin() as conn:
        conn.execute(stmt, rows())
    with by_driver._engine.begin() as conn:
        assert insert_ignoring_conflicts(conn, table, conflict, rows()) == 3
        assert insert_ignoring_conflicts(conn, table, conflict, rows()) == 0  # all there already

    assert stored(by_driver, table.name) == stored(by_execute, table.name)
    assert len(stored(by_driver, table.name)) == 3
    by_execute.close()
    by_driver.close()


def test_rows_with_different_columns_are_refused(tmp_path: Path) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path / 'x.db'}")
    store.create_schema()
    first, second = ledger_rows()[:2]
    del second["label"]
    with store._engine.begin() as conn, pytest.raises(ValueError, match="same columns"):
        insert_ignoring_conflicts(conn, _ledger, ("entry_id",), [first, second])
    store.close()
