"""HTTP ingest through a real API process, the real broker and a real worker."""

from __future__ import annotations

import json

import httpx

from schemas.dead_letters import EVENT_ID, REASON
from schemas.topics import Topics
from tests.support.auth import api_auth
from tests.support.events import opened, wire
from tests.support.kafka import wait_for
from tests.support.problems import problem
from tests.support.processes import Process


async def test_single_event_is_accepted_and_reaches_the_validated_topic(
    running_worker: Process, api_url: str, topics: Topics
) -> None:
    async with httpx.AsyncClient(base_url=api_url, auth=api_auth(api_url)) as client:
        response = await client.post("/ingest/events", content=wire(opened("evt-http-1", cm_id="cm-h")))

    assert response.status_code == 202
    assert response.json() == {"line": 1, "status": "accepted", "event_id": "evt-http-1"}
    (record,) = await wait_for(topics.validated, lambda rs: len(rs) >= 1)
    assert record.key == b"cm-h"
    assert json.loads(record.value or b"")["event_id"] == "evt-http-1"


async def test_bad_single_event_gets_422_with_reason_and_a_dead_letter(
    running_worker: Process, api_url: str, topics: Topics
) -> None:
    bad = opened("evt-http-bad")
    bad["data"]["account_type"] = "platinum"
    async with httpx.AsyncClient(base_url=api_url, auth=api_auth(api_url)) as client:
        response = await client.post("/ingest/events", content=wire(bad))

    body = problem(response, 422)
    assert body["reason"] == "invalid_value" and body["event_id"] == "evt-http-bad"
    assert body["errors"][0]["field"] == "data.account_type"
    assert "account_type" in body["detail"]
    (letter,) = await wait_for(topics.dead_letters, lambda rs: len(rs) >= 1)
    assert letter.headers[REASON] == b"invalid_value"
    assert letter.value == wire(bad)


async def test_ndjson_batch_answers_record_by_record(
    running_worker: Process, api_url: str, topics: Topics
) -> None:
    lines = [
        wire(opened("evt-b1")),
        b"{broken",
        b"",
        wire(opened("evt-b4")),
        wire({**opened("evt-b5"), "type": "loan.granted"}),
        wire(opened("evt-b1")),  # the same id again in one batch: answered duplicate, sent once
    ]
    async with httpx.AsyncClient(base_url=api_url, auth=api_auth(api_url)) as client:
        response = await client.post("/ingest/batch", content=b"\n".join(lines) + b"\n")

    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["rejected"], body["duplicates"]) == (2, 2, 1)
    assert [(r["line"], r["status"], r.get("reason"), r.get("event_id")) for r in body["results"]] == [
        (1, "accepted", None, "evt-b1"),
        (2, "rejected", "malformed_json", None),
        (4, "accepted", None, "evt-b4"),
        (5, "rejected", "unknown_type", "evt-b5"),  # its dead letter names it: explain finds it
        (6, "duplicate", None, "evt-b1"),
    ]
    validated = await wait_for(topics.validated, lambda rs: len(rs) >= 2, settle=1.0)
    assert sorted(json.loads(r.value or b"")["event_id"] for r in validated) == ["evt-b1", "evt-b4"]
    letters = await wait_for(topics.dead_letters, lambda rs: len(rs) >= 2)
    assert sorted(r.headers[REASON] for r in letters) == [b"malformed_json", b"unknown_type"]
    assert sorted(r.headers.get(EVENT_ID, b"") for r in letters) == [b"", b"evt-b5"]
