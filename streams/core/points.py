"""Points are Decimals with two places; on the wire they travel as strings ("12.50")."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
WAN = Decimal(10_000)  # 万元


def q(value: Decimal) -> Decimal:
    """Round half up to two places: the one rounding rule of the ledger."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(value: Decimal) -> str:
    """Signed and compact, for reasons: +10, -2.5."""
    integral = value == value.to_integral_value()
    text = str(int(value)) if integral else format(q(value).normalize(), "f")
    return text if value < 0 else f"+{text}"
