"""A control record for a version the worker cannot read yet: the partition holds there (never
skips it), /readyz says why, and once the version is published the partition scores on with it."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from schemas.control import HEADER as CONTROL_HEADER
from schemas.control import Rescore
from schemas.topics import Topics
from streams.admin import partitions_of
from streams.core.rules import Competition
from tests.support.events import opened
from tests.support.kafka import BOOTSTRAP, read_all
from tests.support.ports import free_port
from tests.support.processes import new_prefix, worker
from tests.support.scoring import converge, expected_standings, publish, published_templates, send_events

COMPETITIONS = published_templates()
V1 = COMPETITIONS[0]
CID = V1.id


def _v2() -> Competition:
    raw = V1.model_dump(mode="json")
    raw["version"] = 2
    raw["rules"][0]["points"]["basic"] = "30"  # a basic account is worth 20 more
    return Competition.model_validate(raw)


async def _control_everywhere(topics: Topics, order: Rescore) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        partitions = await partitions_of(BOOTSTRAP, topics.validated)
        for p in partitions:
            await producer.send(
                topics.validated, order.encode(), partition=p, headers=[(CONTROL_HEADER, b"rescore")]
            )
        await producer.flush()
    finally:
        await producer.stop()
    return len(partitions)


async def _readyz(url: str, until: Any, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                response = await client.get(f"{url}/readyz")
                body = response.json()
                if until(response.status_code, body):
                    return body
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.3)
    raise AssertionError(f"{url}/readyz never showed what was awaited; last: {body}")


def _events(prefix: str, count: int) -> list[dict[str, Any]]:
    return [opened(f"{prefix}{n}", f"cm-{n % 3}") for n in range(count)]


async def test_a_partition_waits_for_an_unknown_version_then_scores_on_with_it(tmp_path: Path) -> None:
    topics = Topics(new_prefix())
    port = free_port()
    proc = worker(topics.prefix, tmp_path, CAMPAIGNS_HEALTH_PORT=str(port)).start()
    url = f"http://127.0.0.1:{port}"
    try:
        await publish(topics, COMPETITIONS)
        before = _events("b", 6)
        await send_events(topics, before)
        await converge(topics, expected_standings(before, COMPETITIONS))
        await _readyz(url, lambda code, body: code == 200)

        # The control record of version 2 reaches every partition before the version itself.
        partitions = await _control_everywhere(topics, Rescore(CID, 2, "published"))
        after = _events("a", 6)
        await send_events(topics, after)
        waiting = f"is waiting for competition {CID} version 2 (published)"
        body = await _readyz(
            url, lambda code, body: code == 503 and sum(waiting in p for p in body["problems"]) == partitions
        )
        score = next(s for s in body["stages"] if s["stage"] == "score")
        assert len(score["holds"]) == partitions
        await asyncio.sleep(3.0)  # several retries of the held partitions
        scored = {json.loads(r.value or b"")["event_id"] for r in await read_all(topics.ledger)}
        assert {e["event_id"] for e in before} <= scored  # the ledger is read right...
        assert not scored & {e["event_id"] for e in after}  # ...and nothing behind the hold is in it

        # The version arrives (with a control record of its own behind the held one): every
        # partition re-scores with it and then scores the events it held back.
        v2 = _v2()
        await publish(topics, [v2])
        await converge(topics, expected_standings(before + after, [*COMPETITIONS, v2]))
        body = await _readyz(url, lambda code, body: code == 200)
        assert body["problems"] == []
        assert "holds at offset" in proc.output() and "goes on" in proc.output()
    finally:
        proc.stop()
