"""Event contracts: one versioned model per event type, and the one validator every door uses."""

from schemas.envelope import SHANGHAI, Envelope
from schemas.errors import Rejection, RejectReason
from schemas.events import (
    AccountClosed,
    AccountOpened,
    CustomerAssigned,
    CustomerTransferred,
    CustomerVisited,
    DepositBalance,
    Event,
    OrgChanged,
    PayrollPaid,
    PayrollSigned,
    PointsAdjusted,
    ProductSold,
)
from schemas.registry import EVENT_TYPES, model_for
from schemas.validate import Limits, parse_event

__all__ = [
    "EVENT_TYPES",
    "SHANGHAI",
    "AccountClosed",
    "AccountOpened",
    "CustomerAssigned",
    "CustomerTransferred",
    "CustomerVisited",
    "DepositBalance",
    "Envelope",
    "Event",
    "Limits",
    "OrgChanged",
    "PayrollPaid",
    "PayrollSigned",
    "PointsAdjusted",
    "ProductSold",
    "RejectReason",
    "Rejection",
    "model_for",
    "parse_event",
]
