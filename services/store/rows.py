"""Check callers' plain dicts against a table before they reach the database.

Both databases then refuse the same inputs with the same message: PostgreSQL would reject
a 65-character id that SQLite would quietly keep, and would round a third decimal place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
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
    names, plan = _plan(table)
    if not names.issuperset(values):
        unknown = set(values) - names
        raise StoreDataError(f"{table.name}: unknown field(s) {', '.join(sorted(unknown))}")
    row: dict[str, Any] = {}
    for name, generated, default, nullable, coerce in plan:
        if name in values:
            value = values[name]
        elif generated:
            continue
        else:
            # Filled here, not by the database: every row of a batch must carry the same keys.
            value = default
        if value is None:
            if not nullable:
                raise StoreDataError(f"{table.name}.{name} is required")
            row[name] = None
            continue
        row[name] = coerce(value)
    return row


# Per column: name, generated (may be left out), scalar default (else None), nullable, coercer.
_Step = tuple[str, bool, Any, bool, Callable[[Any], Any]]


@cache
def _plan(table: Table) -> tuple[frozenset[str], tuple[_Step, ...]]:
    """What checked_row does for each column of the table, worked out once: it runs for every
    column of every row the ledger sink stores."""
    steps = tuple(
        (
            column.name,
            _generated(column),
            column.default.arg if _scalar_default(column) else None,  # type: ignore[union-attr]
            bool(column.nullable),
            _coercer(f"{table.name}.{column.name}", column),
        )
        for column in table.c
    )
    return frozenset(table.c.keys()), steps


def _scalar_default(column: Column[Any]) -> bool:
    return column.default is not None and bool(getattr(column.default, "is_scalar", False))


def _generated(column: Column[Any]) -> bool:
    return column.primary_key and column.autoincrement is True


def _coercer(where: str, column: Column[Any]) -> Callable[[Any], Any]:
    kind = column.type
    if isinstance(kind, Money):
        return lambda value: money(value, where)
    if isinstance(kind, UtcDateTime):

        def aware(value: Any) -> Any:
            if not isinstance(value, datetime) or value.utcoffset() is None:
                raise StoreDataError(f"{where} must be a timezone-aware datetime, got {value!r}")
            return value

        return aware
    if isinstance(kind, LargeBinary):

        def binary(value: Any) -> Any:
            if not isinstance(value, bytes | bytearray | memoryview):
                raise StoreDataError(f"{where} must be bytes, got {type(value).__name__}")
            return bytes(value)

        return binary
    if isinstance(kind, Integer):

        def integer(value: Any) -> Any:
            if isinstance(value, bool) or not isinstance(value, int):
                raise StoreDataError(f"{where} must be an integer, got {value!r}")
            return value

        return integer
    if isinstance(kind, JSON):

        def strings(value: Any) -> Any:
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise StoreDataError(f"{where} must be an object of strings, got {value!r}")
            return dict(value)

        return strings
    if isinstance(kind, String):
        length = kind.length

        def string(value: Any) -> Any:
            if not isinstance(value, str):
                raise StoreDataError(f"{where} must be a string, got {type(value).__name__}")
            if length is not None and len(value) > length:
                raise StoreDataError(f"{where} is longer than {length} characters")
            return value

        return string
    return _as_is


def _as_is(value: Any) -> Any:
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
