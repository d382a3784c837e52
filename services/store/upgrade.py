"""Columns and indexes added to a table after databases were created with it.

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


def add_missing_indexes(conn: Connection) -> list[str]:
    """CREATE INDEX for each declared index an existing table lacks (create_all skips tables that
    exist, and so their newer indexes); returns the names created."""
    created: list[str] = []
    inspector = inspect(conn)
    existing_tables = set(inspector.get_table_names())
    for table in Base.metadata.sorted_tables:
        if table.name not in existing_tables:
            continue
        present = {ix["name"] for ix in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name is not None and index.name not in present:
                index.create(conn)
                created.append(str(index.name))
    return created
