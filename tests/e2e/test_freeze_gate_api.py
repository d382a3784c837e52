"""The freeze gate over HTTP with everything real: the API, a worker, the ledger sink and
PostgreSQL. The sink is stopped while an on-time February event is scored: POST /api/awards/freezes
answers 409 naming the sink and the ledger topic. Once the sink is back the freeze goes through
(201) with that event in February; the API tells the scoring partitions, so an event sent after the
freeze is late, and its explanation says so."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.topics import Topics
from services.readmodel.labels import LATE_NOTE
from services.store import Store
from tests.integration.awards.builders import competition
from tests.support.auth import api_auth
from tests.support.events import joined, opened
from tests.support.http import poll
from tests.support.kafka import read_all
from tests.support.ports import free_port
from tests.support.processes import Process, api, sink
from tests.support.scoring import publish, send_events

CONTEST = competition()  # February and March 2025: February's cutoff passed long ago
FEB = {"competition_id": CONTEST.id, "period": "2025-02"}


def _opening(event_id: str, cm_id: str, day: str) -> dict[str, Any]:
    event = opened(event_id, cm_id, account_type="basic")
    event["occurred_at"] = f"{day}T10:00:00+08:00"
    return event


@pytest.fixture
def api_on_pg(prefix: str, pg_url: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = api(
        prefix, tmp_path, port, CAMPAIGNS_DATABASE_URL=pg_url, CAMPAIGNS_FREEZE_WAIT_SECONDS="1"
    ).start()
    yield f"http://127.0.0.1:{port}"
    proc.stop()


def _late(store: Store, event_id: str) -> bool | None:
    try:
        rows = [r for r in store.ledger_scan([CONTEST.id]) if r["event_id"] == event_id]
    except Exception:  # the sink has not created its tables yet
        return None
    return bool(rows[0]["late"]) if rows else None


async def _until(check: Any, what: str, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await asyncio.to_thread(check)
        if found is not None:
            return found
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


async def test_freeze_over_http_waits_for_the_sink_then_late_means_after_it(
    topics: Topics, running_worker: Process, prefix: str, pg_url: str, tmp_path: Path, api_on_pg: str
) -> None:
    await publish(topics, [CONTEST])
    store = Store.from_url(pg_url)
    writer = sink(prefix, tmp_path, pg_url).start()
    try:
        await send_events(
            topics,
            [joined("cm-1", "SB1", effective="2025-01-01"), _opening("o-1", "cm-1", "2025-02-10")],
        )
        assert await _until(lambda: _late(store, "o-1"), "o-1 in SQL") is False
        writer.stop()
        await send_events(topics, [_opening("o-2", "cm-1", "2025-02-20")])
        while not any(b"o-2" in (r.value or b"") for r in await read_all(topics.ledger)):
            await asyncio.sleep(0.5)

        async with httpx.AsyncClient(base_url=api_on_pg, auth=api_auth(api_on_pg), timeout=60) as client:
            await poll(
                client, "/api/competitions", lambda b: any(c["id"] == CONTEST.id for c in b["competitions"])
            )
            held = await client.post("/api/awards/freezes", json=FEB)
            assert held.status_code == 409, held.text
            detail = held.json()["detail"]
            assert f"sink is 2 offsets behind the end of {topics.ledger}" in detail, detail
            assert "campaigns_freezes_refused_total 1.0" in (await client.get("/metrics")).text.splitlines()

            writer = sink(prefix, tmp_path, pg_url).start()
            deadline = time.monotonic() + 90
            frozen = await client.post("/api/awards/freezes", json=FEB)
            while frozen.status_code == 409 and time.monotonic() < deadline:
                frozen = await client.post("/api/awards/freezes", json=FEB)
            assert frozen.status_code == 201, frozen.text
            assert (frozen.json()["entries"], frozen.json()["points"]) == (2, "20.00")

            await send_events(topics, [_opening("o-3", "cm-1", "2025-02-25")])
            assert await _until(lambda: _late(store, "o-3"), "o-3, late") is True
            assert _late(store, "o-2") is False
            explained = (await client.get("/api/events/o-3/explain")).json()
            assert explained["competitions"][0]["late_note"] == LATE_NOTE
    finally:
        writer.stop()
        store.close()
