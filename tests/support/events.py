"""Small builders for valid events, so tests state only what matters to them."""

from __future__ import annotations

import json
from typing import Any


def opened(event_id: str, cm_id: str = "cm-001", **data: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account_id": f"acct-{event_id}",
        "customer_id": f"cust-{event_id}",
        "cm_id": cm_id,
        "account_type": "basic",
        "segment": "non_credit",
    }
    body.update(data)
    return {
        "event_id": event_id,
        "type": "account.opened",
        "schema_version": 1,
        "occurred_at": "2026-02-03T10:00:00+08:00",
        "source": "test",
        "data": body,
    }


def wire(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode()


def joined(
    cm_id: str,
    unit: str,
    name: str | None = None,
    event_id: str | None = None,
    *,
    kind: str = "sub_branch",
    unit_name: str | None = None,
    effective: str = "2026-01-01",
) -> dict[str, Any]:
    """The manager joins a sub-branch (or the `kind` of unit given), from the first day of the
    contest year unless `effective` says otherwise."""
    data: dict[str, Any] = {
        "cm_id": cm_id,
        "action": "join",
        "unit_kind": kind,
        "unit_id": unit,
        "effective_from": effective,
    }
    if name is not None:
        data["cm_name"] = name
    if unit_name is not None:
        data["unit_name"] = unit_name
    return {
        "event_id": event_id or f"org-{cm_id}",
        "type": "org.changed",
        "schema_version": 1,
        "occurred_at": "2025-12-31T09:00:00+08:00",
        "source": "test",
        "data": data,
    }
