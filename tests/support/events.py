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
