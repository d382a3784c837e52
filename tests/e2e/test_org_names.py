"""Org data as data: org.changed events reach the compacted org topic once each, and the API's
leaderboards show managers by name and divide sub-branch totals by the org's real headcount."""

from __future__ import annotations

import json
from typing import Any

import httpx

from schemas.topics import Topics
from tests.support.auth import api_auth
from tests.support.events import joined, opened
from tests.support.http import poll
from tests.support.kafka import wait_for
from tests.support.processes import Process
from tests.support.scoring import publish, published_templates, send_events

CID = "feb-account-opening"

# sb-east: 张伟 (cm-a) and 王芳 (cm-c, who sells nothing); sb-west: 李娜 (cm-b).
MEMBERS = {"cm-a": ("张伟", "sb-east"), "cm-b": ("李娜", "sb-west"), "cm-c": ("王芳", "sb-east")}


def _join(cm_id: str) -> dict[str, Any]:
    name, sub_branch = MEMBERS[cm_id]
    return joined(cm_id, sub_branch, name=name, event_id=f"org-join-{cm_id}")


async def test_leaderboards_show_names_and_true_per_head_figures(
    running_worker: Process, api_url: str, topics: Topics
) -> None:
    await publish(topics, [c for c in published_templates() if c.id == CID])
    events = [
        *(_join(cm) for cm in MEMBERS),
        _join("cm-a"),  # HR's extract sent twice: one record on the org topic all the same
        # 基本户 10 + 非授信 2 + 税务师事务所 3 + 新注册企业 5 = 20 per such account.
        opened("org-a1", cm_id="cm-a", channel="tax_agent", new_firm=True),
        opened("org-a2", cm_id="cm-a", channel="tax_agent", new_firm=True),
        opened("org-b1", cm_id="cm-b", channel="tax_agent", new_firm=True),
        opened("org-b2", cm_id="cm-b", account_type="general", channel="tax_agent", new_firm=True),  # 4
    ]
    await send_events(topics, events)

    # Hand-computed: cm-a 40, cm-b 24; sb-east 40 over its 2 members, sb-west 24 over 1.
    async with httpx.AsyncClient(base_url=api_url, auth=api_auth(api_url), timeout=30) as client:
        managers = await poll(
            client,
            f"/api/competitions/{CID}/leaderboard?ranking=customer_manager",
            lambda b: (
                [(r["id"], r["name"], r["points"]) for r in b["rows"] if r["points"] != "0.00"]
                == [("cm-a", "张伟", "40.00"), ("cm-b", "李娜", "24.00")]
            ),
        )
        assert all(r["name"] == MEMBERS[r["id"]][0] for r in managers["rows"])

        per_head = await poll(
            client,
            f"/api/competitions/{CID}/leaderboard?ranking=sub_branch_per_head",
            lambda b: (
                [(r["rank"], r["id"], r["total"], r["headcount"], r["points"]) for r in b["rows"]]
                == [(1, "sb-west", "24.00", 1, "24.00"), (2, "sb-east", "40.00", 2, "20.00")]
            ),
        )
        assert [r["name"] for r in per_head["rows"]] == ["sb-west", "sb-east"]  # units by their id

        page = (await client.get("/")).text
        assert "row.name" in page

    # One org record per distinct change, the canonical event as its value.
    duplicates = await wait_for(topics.duplicates, lambda rs: len(rs) >= 1)
    assert [json.loads(r.value or b"")["event_id"] for r in duplicates] == ["org-join-cm-a"]
    org = await wait_for(topics.org, lambda rs: len(rs) >= len(MEMBERS), settle=2.0)
    by_key = {(r.key or b"").decode(): json.loads(r.value or b"") for r in org}
    assert len(org) == len(MEMBERS)
    # The canonical form spells out the optional fields the producer left out.
    canonical = {cm: {**_join(cm), "data": {"unit_name": None, **_join(cm)["data"]}} for cm in MEMBERS}
    assert by_key == {f"{cm}|sub_branch|2026-01-01|{sb}": canonical[cm] for cm, (_, sb) in MEMBERS.items()}
