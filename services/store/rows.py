"""Check callers' plain dicts against a table before they reach the database.

Both databases then refuse the same inputs with the same message: PostgreSQL would reject
a 65-character id that SQLite would quietly keep, and would round a third decimal place.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import JSON, Column, Integer, LargeBinary, String, Table

from services.store.column_types import MONEY_DIGITS, MONEY_PLACES, Money, UtcDateTime
from services.store.errors import StoreDataError

_MONEY_LIMIT = Decimal(10) ** (MONEY_DIGITS - MONEY_PLACES)


def checked_row(table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``values`` as a row of ``table`` with coerced values, or raise StoreDataError.

    Unknown keys are an error (a misspelt field would otherwise vanish). Columns with a
    server-side default (an autoincrement id) may be left out.
    """
    unknown = set(values) - set(table.c.keys())
    if unknown:
        raise StoreDataError(f"{table.name}: unknown field(s) {', '.join(sorted(unknown))}")
    row: dict[str, Any] = {}
    for column in table.c:
        if column.name not in values and _generated(column):
            continue
        value = values.get(column.name)
        if value is None and column.name not in values and _scalar_default(column):
            # Filled here, not by the database: every row of a batch must carry the same keys.
            value = column.default.arg  # type: ignore[union-attr]
        if value is None:
            if not column.nullable:
                raise StoreDataError(f"{table.name}.{column.name} is required")
            row[column.name] = None
            continue
        row[column.name] = _coerce(table.name, column, value)
    return row


def _scalar_default(column: Column[Any]) -> bool:
    return column.default is not None and bool(getattr(column.default, "is_scalar", False))


def _generated(column: Column[Any]) -> bool:
    return column.primary_key and column.autoincrement is True


def _coerce(table: str, column: Column[Any], value: Any) -> Any:
    where = f"{table}.{column.name}"
    kind = column.type
    if isinstance(kind, Money):
        return money(value, where)
    if isinstance(kind, UtcDateTime):
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise StoreDataError(f"{where} must be a timezone-aware datetime, got {value!r}")
        return value
    if isinstance(kind, LargeBinary):
        if not isinstance(value, bytes | bytearray | memoryview):
            raise StoreDataError(f"{where} must be bytes, got {type(value).__name__}")
        return bytes(value)
    if isinstance(kind, Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            raise StoreDataError(f"{where} must be an integer, got {value!r}")
        return value
    if isinstance(kind, JSON):
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise StoreDataError(f"{where} must be an object of strings, got {value!r}")
        return dict(value)
    if isinstance(kind, String):
        if not isinstance(value, str):
            raise StoreDataError(f"{where} must be a string, got {type(value).__name__}")
        if kind.length is not None and len(value) > kind.length:
            raise StoreDataError(f"{where} is longer than {kind.length} characters")
        return value
    return value


def money(value: Any, where: str) -> Decimal:
    """An exact amount with at most two decimal places. Floats are refused: 0.1 is not exact."""
    if isinstance(value, float | bool):
        raise StoreDataError(f"{where} must be a Decimal, int or str, not {type(value).__name__}")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise StoreDataError(f"{where} is not a number: {value!r}") from None
    if not amount.is_finite():
        raise StoreDataError(f"{where} must be finite, got {amount}")
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MONEY_PLACES:
        raise StoreDataError(f"{where} has more than {MONEY_PLACES} decimal places: {amount}")
    if abs(amount) >= _MONEY_LIMIT:
        raise StoreDataError(f"{where} does not fit NUMERIC({MONEY_DIGITS},{MONEY_PLACES})")
    return amount
