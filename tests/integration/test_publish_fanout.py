"""Publishing through the real API, broker, PostgreSQL and worker: an API SIGKILLed between the
version record and the control records leaves the version published in SQL with its fan-out
pending; once an API runs again, every partition scores the version. Two publishes of one
version number at once: one is taken, the other is answered 409."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.control import HEADER as CONTROL_HEADER
from schemas.topics import Topics
from services.store import Store
from services.store.competition_records import CompetitionRecords
from services.store.outbox import Outbox
from streams.core.rules import Competition, parse_competition
from tests.support.auth import api_auth
from tests.support.kafka import Record, read_all
from tests.support.ports import free_port
from tests.support.processes import Process, api, worker
from tests.support.random_events import seeded
from tests.support.scoring import converge, expected_standings, published_templates, send_events

V1 = next(c for c in published_templates() if c.id == "feb-account-opening")
PARTITIONS = 4  # the API's and the worker's default


def v2_of(v1: Competition) -> Competition:
    definition = v1.model_dump(mode="json")
    definition["rules"][0]["points"]["basic"] = 12  # 基本户 from 10 to 12, from the window's start
    return parse_competition({**definition, "version": 2})


def controls(records: list[Record], version: int) -> list[Record]:
    return [
        r
        for r in records
        if CONTROL_HEADER in r.headers and json.loads(r.value or b"{}").get("version") == version
    ]


async def post(url: str, comp: Competition) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=30, auth=api_auth(url)) as client:
        return await client.post("/api/competitions", content=comp.model_dump_json())


async def test_an_api_killed_between_the_version_record_and_the_control_records(
    prefix: str, tmp_path: Path, pg_url: str
) -> None:
    topics = Topics(prefix)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    v2 = v2_of(V1)
    events = [e for e in seeded(seed=11, count=1000, cms=24, tag="pf") if e["type"].startswith("account.")]
    scorer = worker(prefix, tmp_path).start()
    # The first fan-out (v1) goes through; the second (v2) kills the API after its version record.
    doomed = api(prefix, tmp_path, port, CAMPAIGNS_DATABASE_URL=pg_url, CAMPAIGNS_FAULT="api.version_sent:2")
    again: Process | None = None
    try:
        doomed.start()
        first = await post(url, V1)
        assert first.status_code == 202, first.text
        assert first.json()["fanout"]["state"] == "done"
        await send_events(topics, events)
        await converge(topics, expected_standings(events, [V1]), timeout=180)

        with pytest.raises(httpx.HTTPError):
            await post(url, v2)
        assert doomed.proc is not None
        doomed.proc.wait(30)
        assert "fault: SIGKILL at api.version_sent #2" in doomed.output(), doomed.tail()

        # The half-published state: v2's record is on the competitions topic, no partition was
        # asked to re-score, and SQL holds v2 as published with its fan-out pending.
        on_topic = {r.key for r in await read_all(topics.competitions)}
        assert b"feb-account-opening:2:published" in on_topic
        validated = await read_all(topics.validated)
        assert len(controls(validated, 1)) == PARTITIONS and controls(validated, 2) == []
        with Store.from_url(pg_url) as store:
            row = CompetitionRecords(store).get("feb-account-opening", 2)
            assert row is not None and row["status"] == "published"
            assert row["fanout"]["state"] == "pending"
            assert [r["version"] for r in Outbox(store).pending()] == [2]

        # Events for managers on every partition are waiting under v1's books.
        scored_on = {r.partition for r in validated if CONTROL_HEADER not in r.headers}
        assert scored_on == set(range(PARTITIONS)), scored_on

        again = api(prefix, tmp_path, port, CAMPAIGNS_DATABASE_URL=pg_url).start()
        got = await converge(topics, expected_standings(events, [V1, v2]), timeout=180)
        opening = [s for key, s in got.items() if key.startswith("feb-account-opening|")]
        assert opening and all(s["rule_version"] == 2 for s in opening)

        validated = await read_all(topics.validated)
        assert sorted(r.partition for r in controls(validated, 2)) == list(range(PARTITIONS))
        async with httpx.AsyncClient(base_url=url, timeout=30, auth=api_auth(url)) as client:
            shown = (await client.get("/api/console/competitions/feb-account-opening/versions/2")).json()
            assert shown["status"] == "published" and shown["fanout"]["state"] == "done"
            ready = (await client.get("/readyz")).json()
            assert ready["checks"]["fanout"] == {"ok": True, "pending": 0}
    finally:
        doomed.kill()
        if again is not None:
            again.stop()
        scorer.stop()


async def test_two_publishes_of_one_version_at_once_one_is_taken_the_other_is_409(
    prefix: str, tmp_path: Path, pg_url: str
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = api(prefix, tmp_path, port, CAMPAIGNS_DATABASE_URL=pg_url).start()
    try:
        for version in (3, 4, 5):
            a, b = _variant(version, 11), _variant(version, 12)
            answers = await asyncio.gather(post(url, a), post(url, b))
            assert sorted(r.status_code for r in answers) == [202, 409], [r.text for r in answers]
            taken = next(r for r in answers if r.status_code == 202)
            refused = next(r for r in answers if r.status_code == 409)
            assert "already published" in refused.text
            with Store.from_url(pg_url) as store:
                row = CompetitionRecords(store).get("feb-account-opening", version)
                assert row is not None
                winner = a if str(row["definition"]["rules"][0]["points"]["basic"]) == "11" else b
                assert taken.json()["version"] == version
                assert row["definition"] == {**winner.model_dump(mode="json"), "status": "published"}
        on_topic = [r for r in await read_all(Topics(prefix).competitions) if r.value is not None]
        published: dict[Any, Any] = {}
        for r in on_topic:
            published.setdefault(r.key, set()).add(json.loads(r.value or b"")["rules"][0]["points"]["basic"])
        # Only the winner of each version reached the workers.
        assert all(len(values) == 1 for values in published.values()), published
    finally:
        proc.stop()


def _variant(version: int, basic: int) -> Competition:
    definition = V1.model_dump(mode="json")
    definition["rules"][0]["points"]["basic"] = basic
    return parse_competition({**definition, "version": version})
