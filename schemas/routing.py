"""Which key an event travels under. Every scored event names its customer manager, so one
partition holds all of a manager's history: caps, clawbacks and baselines need no cross-partition
state, and the manager's org moves ride along in the same order."""

from __future__ import annotations

from schemas.envelope import Envelope


def participant_of(event: Envelope) -> str:
    data = getattr(event, "data", None)
    cm_id = getattr(data, "cm_id", None)
    if not isinstance(cm_id, str):
        raise ValueError(f"{event.type} carries no cm_id")
    return cm_id
