"""The console's what-if preview and manual adjustments over HTTP, against a real API, worker and
ledger sink (PostgreSQL) on the real broker.

History (February 2026) under the 多开户、多开基本户 template, as published:

    cm-a  4 general accounts                          16
    cm-b  1 basic account (no bonuses)                10
    cm-c  1 temporary account                          1
    cm-d  1 general account, in SB2                    4
    cm-e  an on-site visit (no visit rule published)   0

The draft (version 2) pays 20 for a basic account, lets only SB1 take part, and pays 3 for an
on-site visit: cm-b 20 moves up past cm-a, cm-e enters, cm-d drops out.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.topics import Topics
from services.store import Store, audit
from streams.core import load_template
from tests.support.auth import api_auth
from tests.support.events import joined, opened
from tests.support.http import poll
from tests.support.kafka import wait_for
from tests.support.ports import free_port
from tests.support.problems import first_field, problem
from tests.support.processes import ROOT, Process, api, sink, worker
from tests.support.scoring import send_events

CID = "feb-account-opening"
PUBLISHED = load_template("feb_account_opening").model_copy(update={"status": "published"})


def draft(version: int = 2) -> dict[str, Any]:
    raw = PUBLISHED.model_dump(mode="json")
    raw.update(version=version, status="draft", participants=["SB1"])
    raw["rules"][0]["points"]["basic"] = 20
    raw["rules"].append({"kind": "visit", "points": {"on_site": 3}})
    return raw


def history() -> list[dict[str, Any]]:
    plain = {"segment": "credit_offline", "channel": "walk_in"}

    def at(event: dict[str, Any], day: int) -> dict[str, Any]:
        return {**event, "occurred_at": f"2026-02-{day:02d}T10:00:00+08:00"}

    events = [joined(cm, "SB1", name=f"经理{cm[-1].upper()}") for cm in ("cm-a", "cm-b", "cm-c", "cm-e")]
    events.append(joined("cm-d", "SB2"))
    events += [at(opened(f"a{n}", "cm-a", account_type="general", **plain), n + 2) for n in range(4)]
    events.append(at(opened("b1", "cm-b", **plain), 5))
    events.append(at(opened("c1", "cm-c", account_type="temporary", **plain), 6))
    events.append(at(opened("d1", "cm-d", account_type="general", **plain), 7))
    visit = {"customer_id": "cust-e", "cm_id": "cm-e", "visitor_id": "cm-e", "channel": "on_site"}
    events.append(
        at(
            {"event_id": "e1", "type": "customer.visited", "schema_version": 1, "source": "t", "data": visit},
            8,
        )
    )
    return events


PUBLISHED_POINTS = {"cm-a": "16.00", "cm-b": "10.00", "cm-c": "1.00", "cm-d": "4.00"}


@pytest.fixture
def stack(prefix: str, tmp_path: Path, pg_url: str) -> Iterator[tuple[str, str]]:
    """Worker, ledger sink and API on one PostgreSQL schema; yields (API URL, database URL)."""
    procs: list[Process] = []
    try:
        procs.append(worker(prefix, tmp_path).start())
        procs.append(sink(prefix, tmp_path, pg_url).start())
        port = free_port()
        procs.append(api(prefix, tmp_path, port, CAMPAIGNS_DATABASE_URL=pg_url).start())
        yield f"http://127.0.0.1:{port}", pg_url
    finally:
        for proc in reversed(procs):
            proc.stop()


async def _scored(client: httpx.AsyncClient, topics: Topics, points: dict[str, str]) -> None:
    def board_has(body: dict[str, Any]) -> bool:
        got = {r["id"]: r["points"] for r in body["rows"]}
        return all(got.get(cm) == p for cm, p in points.items())

    await poll(client, f"/api/competitions/{CID}/leaderboard?limit=50", board_has, timeout=120)


async def _setup(client: httpx.AsyncClient, topics: Topics) -> None:
    answer = await client.post("/api/competitions", json=PUBLISHED.model_dump(mode="json"))
    assert answer.status_code in (201, 202), answer.text
    await send_events(topics, history())
    await _scored(client, topics, PUBLISHED_POINTS)


async def test_a_stored_draft_previewed_over_http(stack: tuple[str, str], topics: Topics) -> None:
    url, _ = stack
    async with httpx.AsyncClient(base_url=url, auth=api_auth(url), timeout=180) as client:
        await _setup(client, topics)
        stored = await client.post("/api/competitions", json=draft())  # a draft: kept in SQL
        assert stored.status_code in (201, 202), stored.text

        answer = await client.post(f"/api/console/competitions/{CID}/preview", json={"version": 2})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        rows = {r["id"]: r for r in body["rows"]}
        assert {cm: (r["change"], r["rank_delta"], r["points_delta"]) for cm, r in rows.items()} == {
            "cm-b": ("up", 1, "10.00"),
            "cm-a": ("down", -1, "0.00"),
            "cm-c": ("same", 0, "0.00"),
            "cm-e": ("new", None, "3.00"),
            "cm-d": ("dropped", None, "-4.00"),
        }
        assert rows["cm-b"]["name"] == "经理B" and rows["cm-b"]["sub_branch_id"] == "SB1"
        assert body["took_ms"] >= body["timing_ms"]["total"] > 0
        assert body["events_read"] >= len(history()) and body["events_scored"] == len(history())
        # the recomputed published side is what the live board shows
        assert body["live_check"] == {"compared": 4, "differing": [], "differing_count": 0}

        by_unit = await client.post(
            f"/api/console/competitions/{CID}/preview",
            json={"definition": draft(), "ranking": "sub_branch_total"},
        )
        assert by_unit.status_code == 200, by_unit.text
        units = {r["id"]: (r["change"], r["points_delta"]) for r in by_unit.json()["rows"]}
        assert units == {"SB1": ("same", "13.00"), "SB2": ("dropped", "-4.00")}

        # Refusals name the field; none of them starts a preview.
        wrong = draft()
        wrong["rules"][0]["points"]["basic"] = "lots"
        bad = await client.post(f"/api/console/competitions/{CID}/preview", json={"definition": wrong})
        assert first_field(bad)[0] == "definition.rules[0].points.basic"
        other = await client.post("/api/console/competitions/other-id/preview", json={"definition": draft()})
        assert first_field(other)[0] == "definition.id"
        missing = await client.post(f"/api/console/competitions/{CID}/preview", json={"version": 9})
        assert missing.status_code == 404

        # One preview at a time: a second waits, a third is refused at once.
        answers = await asyncio.gather(
            *(
                client.post(f"/api/console/competitions/{CID}/preview", json={"definition": draft()})
                for _ in range(3)
            )
        )
        assert sorted(a.status_code for a in answers) == [200, 200, 429]


async def test_adjustments_reach_the_ledger_the_board_and_the_audit(
    stack: tuple[str, str], topics: Topics
) -> None:
    url, database = stack
    async with httpx.AsyncClient(base_url=url, auth=api_auth(url), timeout=60) as client:
        await _setup(client, topics)
        split = {
            "competition_id": CID,
            "split": {"from_cm_id": "cm-a", "to_cm_id": "cm-c", "points": "5"},
            "note": "基本户共同营销，积分拆分",
            "request_id": "split-1",
        }
        answer = await client.post("/api/console/adjustments", json=split)
        assert answer.status_code == 202, answer.text
        made = answer.json()
        assert made["group_id"] == "adjgrp-split-1"
        assert [(e["cm_id"], e["points"]) for e in made["events"]] == [("cm-a", "-5"), ("cm-c", "5")]
        fix = {
            "competition_id": CID,
            "cm_id": "cm-b",
            "points": "-2.5",
            "reason_code": "data_fix",
            "note": "重复",
        }
        assert (await client.post("/api/console/adjustments", json=fix)).status_code == 202

        # The stream booked them: the board moved...
        await _scored(client, topics, {"cm-a": "11.00", "cm-b": "7.50", "cm-c": "6.00", "cm-d": "4.00"})
        # ...the sink wrote them to SQL, where the console lists them...
        listed = await poll(
            client,
            f"/api/console/adjustments?competition={CID}",
            lambda body: body["count"] == 3,
            timeout=120,
        )
        got = {(e["cm_id"], e["points"], e["reason_code"], e["note"]) for e in listed["entries"]}
        assert got == {
            ("cm-a", "-5.00", "split_credit", "基本户共同营销，积分拆分"),
            ("cm-c", "5.00", "split_credit", "基本户共同营销，积分拆分"),
            ("cm-b", "-2.50", "data_fix", "重复"),
        }
        assert {e["sub_branch_id"] for e in listed["entries"]} == {"SB1"}
        only_c = (await client.get("/api/console/adjustments", params={"cm_id": "cm-c"})).json()
        assert [e["event_id"] for e in only_c["entries"]] == ["adj-split-1-2"]

        # ...and the manager's page shows the component with its label and the entry.
        page = await poll(
            client,
            "/api/managers/cm-c",
            lambda body: any(r["component"] == "adjustment" for r in body["recent"]),
        )
        (feb,) = [c for c in page["competitions"] if c["competition_id"] == CID]
        assert feb["components"]["adjustment"] == "5.00"
        assert feb["component_labels"]["adjustment"] == "人工调整"

        # The same request again (a retry) sends the same events: counted once.
        retry = await client.post("/api/console/adjustments", json=split)
        assert retry.status_code == 202
        # Wait until the pipeline has handled the retry's events (dedup drops each as a copy), so
        # the counts below are read after it, not before it.
        retried = {e["event_id"].encode() for e in retry.json()["events"]}
        assert retried == {e["event_id"].encode() for e in made["events"]}
        await wait_for(topics.duplicates, lambda records: retried <= {r.key for r in records}, timeout=120)
        again = (await client.get(f"/api/console/adjustments?competition={CID}")).json()
        assert again["count"] == 3
        await _scored(client, topics, {"cm-a": "11.00", "cm-c": "6.00"})

        # Refused before anything is sent or audited.
        unknown_cm = {**fix, "cm_id": "cm-nobody"}
        assert (await client.post("/api/console/adjustments", json=unknown_cm)).status_code == 422
        unknown_comp = {**fix, "competition_id": "no-such-contest"}
        assert (await client.post("/api/console/adjustments", json=unknown_comp)).status_code == 404
        zero = {**fix, "points": "0"}
        assert (await client.post("/api/console/adjustments", json=zero)).status_code == 422
        # A source system cannot forge one through the ingest door (it would skip the audit).
        forged = json.loads((ROOT / "schemas/examples/points.adjusted.v1.json").read_text(encoding="utf-8"))
        refused = await client.post("/ingest/events", json=forged)
        assert problem(refused, 422)["reason"] == "invalid_value"

        # The audit view lists each request with who made it and what it changed.
        trail = (await client.get("/api/audit", params={"object": "adjustment/"})).json()["entries"]
    assert [e["action"] for e in trail] == ["adjustment.create"] * 3
    first = trail[-1]
    assert first["object"] == "adjustment/adjgrp-split-1" and first["actor"].startswith("key:")
    assert [(e["cm_id"], e["points"]) for e in first["diff"]["events"]] == [("cm-a", "-5"), ("cm-c", "5")]
    with Store.from_url(database) as store:
        assert len(audit.entries(store, object_id="adjustment/adjgrp-split-1")) == 2  # the retry too
    assert json.dumps(trail, ensure_ascii=False).count("split_credit") == 2
