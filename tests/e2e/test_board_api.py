"""The boards' read API through real processes (worker + API + Kafka): top N with an offset,
filters by sub-branch and team, names for managers and units, around-me, ETag and 304, and a
manager's own summary with the Chinese label of what scored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from schemas.topics import Topics
from tests.support.auth import api_auth
from tests.support.events import joined, opened
from tests.support.http import poll
from tests.support.processes import Process
from tests.support.scoring import publish, published_templates, send_events

CID = "feb-account-opening"
UNIT_NAMES = {
    "sb-east": "城东支行",
    "sb-west": "城西支行",
    "t-1": "城东一组",
    "t-2": "城东二组",
    "t-3": "城西一组",
}
PEOPLE = {  # cm: (name, sub-branch, team)
    "cm-a": ("张伟", "sb-east", "t-1"),
    "cm-b": ("李娜", "sb-east", "t-2"),
    "cm-c": ("王芳", "sb-west", "t-3"),
    "cm-d": ("刘洋", "sb-west", "t-3"),
    "cm-e": ("陈静", "sb-east", "t-1"),
}


def org_events() -> list[dict[str, Any]]:
    out = []
    for cm, (name, sb, team) in PEOPLE.items():
        out += [
            joined(cm, unit, name, f"org-{cm}-{unit}", kind=kind, unit_name=UNIT_NAMES[unit])
            for kind, unit in (("sub_branch", sb), ("team", team))
        ]
    return out


def basic(event_id: str, cm: str) -> dict[str, Any]:
    """基本户 10 + 非授信 2 + 税务师事务所 3 + 新注册企业 5 = 20 points."""
    return opened(event_id, cm_id=cm, channel="tax_agent", new_firm=True)


def ranking(body: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(r["rank"], r["id"], r["points"]) for r in body["rows"]]


# "New today" must not depend on the hour the test runs (Shanghai midnight would move the day).
@pytest.mark.board_clock("2026-03-10T12:00:00+08:00")
async def test_pages_filters_around_etag_and_the_manager_summary(
    running_worker: Process, api_url: str, topics: Topics
) -> None:
    await publish(topics, [c for c in published_templates() if c.id == CID])
    events = [
        *org_events(),
        *(basic(f"ba-{i}", "cm-a") for i in range(3)),  # 60
        *(basic(f"bb-{i}", "cm-b") for i in range(2)),  # 40
        *(basic(f"bc-{i}", "cm-c") for i in range(2)),  # 40: tied with cm-b on every key
        basic("bd-0", "cm-d"),  # 20
        opened("be-0", cm_id="cm-e", account_type="general", channel="tax_agent", new_firm=True),  # 4
    ]
    await send_events(topics, events)
    board_url = f"/api/competitions/{CID}/leaderboard"
    async with httpx.AsyncClient(base_url=api_url, timeout=30, auth=api_auth(api_url)) as client:
        full = await poll(
            client,
            board_url,
            lambda b: (
                ranking(b)
                == [
                    (1, "cm-a", "60.00"),
                    (2, "cm-b", "40.00"),
                    (2, "cm-c", "40.00"),
                    (4, "cm-d", "20.00"),
                    (5, "cm-e", "4.00"),
                ]
                and b["rows"][-1]["name"] == "陈静"
            ),
        )
        assert full["count"] == 5 and full["headcount_day"] == "2026-02-28"  # the contest has ended
        first = full["rows"][0]
        assert (first["name"], first["sub_branch_id"], first["sub_branch_name"], first["team_name"]) == (
            "张伟",
            "sb-east",
            "城东支行",
            "城东一组",
        )
        assert first["rank_change"] is None  # everyone is new today
        assert first["metrics"] == {"accounts": 3, "basic_accounts": 3}
        cap = next(p for p in first["progress"] if p["metric"] == "opening_cap")
        assert (cap["actual"], cap["targets"], cap["label"]) == (60, [600], "新开账户封顶")

        middle = (await client.get(board_url, params={"limit": 2, "offset": 1})).json()
        assert (middle["count"], ranking(middle)) == (5, [(2, "cm-b", "40.00"), (2, "cm-c", "40.00")])

        west = (await client.get(board_url, params={"sub_branch": "sb-west"})).json()
        assert (west["count"], ranking(west)) == (2, [(2, "cm-c", "40.00"), (4, "cm-d", "20.00")])
        team = (await client.get(board_url, params={"team": "t-1"})).json()
        assert ranking(team) == [(1, "cm-a", "60.00"), (5, "cm-e", "4.00")]

        units = (await client.get(board_url, params={"ranking": "sub_branch_total"})).json()
        assert [(r["id"], r["name"], r["points"]) for r in units["rows"]] == [
            ("sb-east", "城东支行", "104.00"),
            ("sb-west", "城西支行", "60.00"),
        ]
        per_head = (await client.get(board_url, params={"ranking": "sub_branch_per_head"})).json()
        assert [(r["id"], r["headcount"], r["points"]) for r in per_head["rows"]] == [
            ("sb-east", 3, "34.67"),
            ("sb-west", 2, "30.00"),
        ]
        teams_west = (await client.get(board_url, params={"ranking": "team", "sub_branch": "sb-west"})).json()
        assert [(r["id"], r["name"], r["points"]) for r in teams_west["rows"]] == [
            ("t-3", "城西一组", "60.00")
        ]

        around = (await client.get(f"{board_url}/around/cm-d", params={"size": 1})).json()
        assert (around["count"], around["row"]["rank"], around["row"]["name"]) == (5, 4, "刘洋")
        assert [r["id"] for r in around["above"]] == ["cm-c"]
        assert [r["id"] for r in around["below"]] == ["cm-e"]
        assert (await client.get(f"{board_url}/around/cm-zz")).status_code == 404
        assert (await client.get("/api/competitions/no-such/leaderboard")).status_code == 404
        assert (await client.get(board_url, params={"ranking": "bogus"})).status_code == 422

        # ETag: the same answer is not sent twice; a change in the board makes a new one.
        answer = await client.get(board_url, params={"limit": 3})
        etag = answer.headers["etag"]
        assert etag.startswith('W/"') and answer.headers["cache-control"] == "no-cache"
        again = await client.get(board_url, params={"limit": 3}, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.headers["etag"] == etag and again.content == b""
        other_query = await client.get(board_url, params={"limit": 4}, headers={"If-None-Match": etag})
        assert other_query.status_code == 200 and other_query.headers["etag"] != etag

        await send_events(topics, [basic("be-1", "cm-e")])  # cm-e: 4 + 20 = 24, passes cm-d
        moved = await poll(
            client, board_url, lambda b: ("cm-e", 4) in [(r["id"], r["rank"]) for r in b["rows"]]
        )
        assert moved["rows"][3]["points"] == "24.00"
        changed = await client.get(board_url, params={"limit": 3}, headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["etag"] != etag

        # The manager's own summary.
        me = (await client.get("/api/managers/cm-a")).json()
        assert (me["name"], me["sub_branch"], me["team"]) == (
            "张伟",
            {"id": "sb-east", "name": "城东支行"},
            {"id": "t-1", "name": "城东一组"},
        )
        (feb,) = [c for c in me["competitions"] if c["competition_id"] == CID]
        assert (feb["rank"], feb["count"], feb["points"], feb["status"]) == (1, 5, "60.00", "published")
        assert feb["components"] == {"opening": "60.00"} and feb["component_labels"]["opening"] == "新开账户"
        assert feb["window"] == {"start": "2026-02-01", "end": "2026-02-28"} and feb["scorecard"] is None
        me_recent = await poll(client, "/api/managers/cm-a", lambda b: len(b["recent"]) == 3)
        assert {r["event_id"] for r in me_recent["recent"]} == {"ba-0", "ba-1", "ba-2"}
        assert {(r["label"], r["points"], r["component"]) for r in me_recent["recent"]} == {
            ("新开基本户", "20.00", "opening")
        }
        assert all(r["reason"].startswith("开立基本户") for r in me_recent["recent"])
        private = (await client.get("/api/managers/cm-a", params={"privacy": 1})).json()
        assert all("reason" not in r for r in private["recent"])
        assert (await client.get("/api/managers/cm-nobody")).status_code == 404
