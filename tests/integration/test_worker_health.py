"""The worker's /readyz on the real broker, and a poison record in the validated topic: parked,
counted, and the event behind it still scored."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx

from schemas.topics import Topics
from tests.support.kafka import produce, read_all
from tests.support.ports import free_port
from tests.support.processes import new_prefix, worker
from tests.support.random_events import seeded
from tests.support.scoring import converge, expected_standings, publish, published_templates, send_events


async def _ready(url: str, timeout: float = 60.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                response = await client.get(f"{url}/readyz")
                if response.status_code == 200:
                    body: dict[str, object] = response.json()
                    return body
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.3)
    raise AssertionError(f"{url}/readyz never answered 200")


async def test_readyz_reports_every_stage_and_a_poison_record_is_parked_not_fatal(tmp_path: Path) -> None:
    topics = Topics(new_prefix())
    port = free_port()
    proc = worker(topics.prefix, tmp_path, CAMPAIGNS_HEALTH_PORT=str(port)).start()
    url = f"http://127.0.0.1:{port}"
    try:
        competitions = published_templates()
        await publish(topics, competitions)
        body = await _ready(url)
        assert [s["stage"] for s in body["stages"]] == ["validate", "dedup", "score"]  # type: ignore[index]

        # Bytes no validator would pass, written straight into the scoring input: parked with a
        # reason, and the stage goes on to the good event behind it.
        await produce(topics.validated, [(b"cm-poison", b'{"not": "an event"')])
        events = [e for e in seeded(seed=9, count=60, cms=2, tag="hp") if e["type"] == "account.opened"]
        await send_events(topics, events)
        await converge(topics, expected_standings(events, competitions))

        letters = [r for r in await read_all(topics.dead_letters) if r.key == b"cm-poison"]
        assert [r.headers["dlq.reason"] for r in letters] == [b"scoring_failed"]
        body = await _ready(url)
        score = next(s for s in body["stages"] if s["stage"] == "score")  # type: ignore[union-attr]
        assert score["parked"] == 1 and score["failures"] == 0 and score["running"]
        assert json.loads(json.dumps(body))["problems"] == []
    finally:
        proc.stop()
