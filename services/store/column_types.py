"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no decimal and no time-zone type, so without these a value could come back
different from what went in, and only on one of the two databases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

MONEY_PLACES = 2
MONEY_DIGITS = 18
_CENT = Decimal(1).scaleb(-MONEY_PLACES)


class Money(TypeDecorator[Decimal]):
    """Exact Decimal with two places: NUMERIC(18,2) on PostgreSQL, integer cents on SQLite.

    Integer cents keep SQLite's SUM exact (its NUMERIC affinity would go through floats).
    """

    impl = Numeric(MONEY_DIGITS, MONEY_PLACES, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(MONEY_DIGITS, MONEY_PLACES, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value != value.quantize(_CENT):
            raise ValueError(f"{value} has more than {MONEY_PLACES} decimal places")
        if dialect.name == "sqlite":
            return int(value.scaleb(MONEY_PLACES))
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-MONEY_PLACES).quantize(_CENT)
        return Decimal(value).quantize(_CENT)


class UtcDateTime(TypeDecorator[datetime]):
    """A time-zone-aware instant, stored as UTC, always returned as an aware UTC datetime.

    Naive datetimes are refused: an instant without an offset is ambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} has no UTC offset")
        utc = value.astimezone(UTC)
        # SQLite stores text; drop the offset so every value has the same sortable shape.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
