"""Leaderboards through real processes: publish over HTTP, ingest over HTTP, read the ranking
back from the API's read model once the worker has scored the events."""

from __future__ import annotations

from typing import Any

import httpx

from streams.core.templates import load_template
from tests.support.auth import api_auth
from tests.support.events import joined, opened, wire
from tests.support.http import poll
from tests.support.problems import first_field
from tests.support.processes import Process

CID = "feb-account-opening"


def _ranking(body: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(r["rank"], r["id"], r["points"]) for r in body["rows"]]


async def test_published_contest_ranks_ingested_events(running_worker: Process, api_url: str) -> None:
    definition = load_template("feb_account_opening").model_dump(mode="json") | {"status": "published"}
    events = [
        joined("cm-a", "sb-east"),
        joined("cm-b", "sb-west"),
        # 基本户 10 + 非授信 2 + 税务师事务所 3 + 新注册企业 5 = 20 each: cm-a 40.
        opened("lb-a1", cm_id="cm-a", channel="tax_agent", new_firm=True),
        opened("lb-a2", cm_id="cm-a", channel="tax_agent", new_firm=True),
        # cm-b: one such basic account 20, one general account 4 (bonuses are for basic only) = 24.
        opened("lb-b1", cm_id="cm-b", channel="tax_agent", new_firm=True),
        opened("lb-b2", cm_id="cm-b", account_type="general", channel="tax_agent", new_firm=True),
    ]
    async with httpx.AsyncClient(base_url=api_url, auth=api_auth(api_url), timeout=30) as client:
        published = await client.post("/api/competitions", json=definition)
        assert published.status_code == 202, published.text
        body = published.json()
        assert {k: body[k] for k in ("id", "version", "status")} == {
            "id": CID,
            "version": 1,
            "status": "published",
        }
        assert body["fanout"]["state"] == "done"  # every scoring partition was told before the answer

        ingested = await client.post("/ingest/batch", content=b"\n".join(wire(e) for e in events))
        assert ingested.json()["accepted"] == len(events)

        board = await poll(
            client,
            f"/api/competitions/{CID}/leaderboard?ranking=customer_manager",
            lambda b: _ranking(b) == [(1, "cm-a", "40.00"), (2, "cm-b", "24.00")],
        )
        assert board["name"] == "2月「多开户、多开基本户」竞赛"
        assert board["rows"][0]["metrics"] == {"accounts": 2, "basic_accounts": 2}

        sub_branches = await poll(
            client,
            f"/api/competitions/{CID}/leaderboard?ranking=sub_branch_total",
            lambda b: bool(b["rows"]),
        )
        assert _ranking(sub_branches) == [(1, "sb-east", "40.00"), (2, "sb-west", "24.00")]

        standing = (await client.get(f"/api/competitions/{CID}/standings/cm-b")).json()
        assert (standing["points"], standing["components"]) == ("24.00", {"opening": "24.00"})
        assert standing["units"] == [{"sub_branch_id": "sb-west", "team_id": None, "points": "24.00"}]

        listing = (await client.get("/api/competitions")).json()
        (summary,) = listing["competitions"]
        assert (summary["id"], summary["status"], summary["window"]) == (
            CID,
            "published",
            {"start": "2026-02-01", "end": "2026-02-28"},
        )
        assert summary["rankings"] == ["customer_manager", "team", "sub_branch_total", "sub_branch_per_head"]

        assert (await client.get("/api/competitions/no-such/leaderboard")).status_code == 404
        assert (await client.get(f"/api/competitions/{CID}/standings/cm-z")).status_code == 404
        assert (await client.get(f"/api/competitions/{CID}/leaderboard?ranking=bogus")).status_code == 422

        changed = definition | {"name": "改过的名字"}
        assert (await client.post("/api/competitions", json=changed)).status_code == 409


async def test_a_bad_definition_is_refused_naming_the_field(api_url: str) -> None:
    definition = load_template("feb_account_opening").model_dump(mode="json")
    definition["rules"][0]["points"]["basic"] = "lots"
    async with httpx.AsyncClient(base_url=api_url, auth=api_auth(api_url), timeout=30) as client:
        response = await client.post("/api/competitions", json=definition)
        not_json = await client.post("/api/competitions", content=b"{oops")

    field, reason = first_field(response)
    assert field == "rules[0].points.basic"
    assert "decimal" in reason
    assert first_field(not_json)[0] == "(competition)"


async def test_the_leaderboard_page_is_served(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, auth=api_auth(api_url), timeout=30) as client:
        response = await client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>普惠金融竞赛实时排行榜</title>" in response.text
    assert "/api/competitions" in response.text  # the page polls the JSON endpoints
    assert "http://" not in response.text and "https://" not in response.text  # nothing off-box
