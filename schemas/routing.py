"""Which key an event travels under. Every scored event names its customer manager, so one
partition holds all of a manager's history: caps, clawbacks and baselines need no cross-partition
state, and the manager's org moves ride along in the same order.

A transfer (customer.transferred) belongs to two histories: it travels under the new manager
(`participant_of`) and the dedup stage writes the same canonical bytes once more under the
manager it leaves (`also_for`), so each side reads it from its own partition."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas.envelope import Envelope
from schemas.events import CustomerTransferred


def participant_of(event: Envelope) -> str:
    data = getattr(event, "data", None)
    cm_id = getattr(data, "cm_id", None)
    if not isinstance(cm_id, str):
        raise ValueError(f"{event.type} carries no cm_id")
    return cm_id


def participants_of(event: Envelope) -> tuple[str, ...]:
    """Every manager whose history holds the event: its own, and the one a transfer leaves."""
    own = participant_of(event)
    # isinstance, not getattr: a missing attribute costs a pydantic model an exception, per event
    return (own, event.data.from_cm_id) if isinstance(event, CustomerTransferred) else (own,)


def also_for(event: Mapping[str, Any]) -> str | None:
    """The second manager a canonical event (as decoded JSON) is written for, or None."""
    if event.get("type") != "customer.transferred":
        return None
    left = event["data"]["from_cm_id"]
    return left if isinstance(left, str) else None


def org_key(event: Mapping[str, Any]) -> str | None:
    """The org topic's key for a canonical org.changed event (as decoded JSON); None for any other type.

    "cm_id|unit_kind|effective_from|unit_id": compaction keeps one record per membership change,
    so the topic holds the whole history; a corrected record for the same change replaces the old.
    """
    if event.get("type") != "org.changed":
        return None
    data = event["data"]
    return f"{data['cm_id']}|{data['unit_kind']}|{data['effective_from']}|{data['unit_id']}"
