"""Records as the read model's topics hold them (org and standings), so tests state only what
matters to them."""

from __future__ import annotations

import json
from typing import Any

from schemas.routing import org_key
from tests.support.events import wire


def org_record(event: dict[str, Any]) -> tuple[bytes, bytes]:
    """An org.changed event (e.g. from `events.joined`) as the org topic holds it: key and bytes."""
    key = org_key(event)
    assert key is not None, event["type"]
    return key.encode(), wire(event)


def standing(
    cm_id: str,
    points: str,
    units: list[tuple[str | None, str | None, str]] | None = None,
    *,
    competition_id: str = "feb-account-opening",
    **metrics: int,
) -> bytes:
    """A standing's value on the standings topic; `units` are (sub-branch, team, points), all the
    points in sb-1 unless told."""
    body = {
        "competition_id": competition_id,
        "cm_id": cm_id,
        "rule_version": 1,
        "points": points,
        "components": {"opening": points},
        "units": [
            {"sub_branch_id": sb, "team_id": team, "points": p}
            for sb, team, p in (units if units is not None else [("sb-1", None, points)])
        ],
        "metrics": metrics,
        "reached_at": None,
        "scorecard": None,
    }
    return json.dumps(body).encode()
