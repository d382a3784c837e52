"""The org topic's key: one record per membership change, so compaction keeps the history."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from schemas.routing import org_key
from schemas.validate import parse_event

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"


def canonical(name: str) -> dict[str, Any]:
    """An example event as the dedup agent sees it: validated, then dumped as canonical JSON."""
    parsed = parse_event((EXAMPLES / name).read_bytes(), now=datetime(2027, 1, 1, tzinfo=UTC))
    decoded: dict[str, Any] = json.loads(parsed.model_dump_json())
    return decoded


def test_an_org_change_is_keyed_by_manager_kind_day_and_unit() -> None:
    assert org_key(canonical("org.changed.v1.json")) == "cm-0107|sub_branch|2026-07-01|sb-hexi"


def test_join_and_later_leave_of_a_unit_keep_two_records() -> None:
    join = canonical("org.changed.v1.json")
    leave = {**join, "data": {**join["data"], "action": "leave", "effective_from": "2026-09-01"}}
    team = {**join, "data": {**join["data"], "unit_kind": "team", "unit_id": "t-7"}}

    keys = {org_key(join), org_key(leave), org_key(team)}

    assert keys == {
        "cm-0107|sub_branch|2026-07-01|sb-hexi",
        "cm-0107|sub_branch|2026-09-01|sb-hexi",
        "cm-0107|team|2026-07-01|t-7",
    }


def test_other_events_have_no_org_key() -> None:
    assert org_key(canonical("account.opened.v1.json")) is None
