"""Columns added to a table after databases were created with it.

`create_all` makes missing tables but leaves existing ones as they are, so a database made by an
earlier version would refuse rows that carry a newer column. Each column named here is added,
empty (NULL), where it is missing; rows written before it existed keep NULL and are read as such.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect
from sqlalchemy.schema import CreateColumn

from services.store.tables import Base

# table -> columns added after the table first shipped (all nullable)
ADDED = {"ledger_entries": ("correction", "label")}


def add_missing_columns(conn: Connection) -> list[str]:
    """ALTER TABLE ... ADD COLUMN for each added column a table lacks; returns what was added."""
    added: list[str] = []
    inspector = inspect(conn)
    for name, columns in ADDED.items():
        table = Base.metadata.tables[name]
        present = {c["name"] for c in inspector.get_columns(name)}
        for column_name in columns:
            if column_name in present:
                continue
            column = table.c[column_name]
            ddl = CreateColumn(column).compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {name} ADD COLUMN {ddl}")
            added.append(f"{name}.{column_name}")
    return added
