"""Which (type, schema version) pairs exist, and the model that reads each."""

from __future__ import annotations

from schemas.envelope import Envelope
from schemas.events import (
    AccountClosed,
    AccountOpened,
    CustomerAssigned,
    CustomerTransferred,
    CustomerVisited,
    DepositBalance,
    OrgChanged,
    PayrollPaid,
    PayrollSigned,
    PointsAdjusted,
    ProductSold,
)

# A new schema version is a new entry here; old versions stay readable for the year's replay.
_MODELS: dict[str, dict[int, type[Envelope]]] = {
    "account.opened": {1: AccountOpened},
    "account.closed": {1: AccountClosed},
    "payroll.signed": {1: PayrollSigned},
    "payroll.paid": {1: PayrollPaid},
    "deposit.balance": {1: DepositBalance},
    "product.sold": {1: ProductSold},
    "customer.assigned": {1: CustomerAssigned},
    "customer.transferred": {1: CustomerTransferred},
    "customer.visited": {1: CustomerVisited},
    "org.changed": {1: OrgChanged},
    "points.adjusted": {1: PointsAdjusted},
}

EVENT_TYPES: tuple[str, ...] = tuple(_MODELS)


def versions_of(event_type: str) -> tuple[int, ...]:
    return tuple(_MODELS.get(event_type, {}))


def model_for(event_type: str, version: int) -> type[Envelope] | None:
    return _MODELS.get(event_type, {}).get(version)
