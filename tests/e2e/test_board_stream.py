"""Live boards over Server-Sent Events through real processes (worker + API + Kafka): the first
message is a snapshot; each event that scores arrives as a `scored` message with the manager's
name and a Chinese label; a client that reconnects with Last-Event-ID gets exactly what it
missed; pings keep an idle stream open; and a client that stops reading does not delay anyone
else (its bounded queue overflows into a fresh snapshot instead)."""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from schemas.topics import Topics
from tests.support.auth import api_auth, auth_headers
from tests.support.events import joined, opened
from tests.support.http import poll
from tests.support.kafka import BOOTSTRAP
from tests.support.ports import free_port
from tests.support.processes import Process, api
from tests.support.scoring import publish, published_templates, send_events
from tests.support.sse import SseClient, SseMessage

CID = "feb-account-opening"
STREAM = f"/api/competitions/{CID}/stream"


@pytest.fixture
def stream_api(prefix: str, tmp_path: Path) -> Iterator[str]:
    """The API with short pings, small client queues and a snapshot on every change."""
    port = free_port()
    proc = api(
        prefix,
        tmp_path,
        port,
        CAMPAIGNS_DATABASE_URL=f"sqlite:///{tmp_path / 'api.db'}",
        CAMPAIGNS_SSE_PING_SECONDS="1",
        CAMPAIGNS_SSE_QUEUE_SIZE="64",
        CAMPAIGNS_SSE_SNAPSHOT_SECONDS="0",
    ).start()
    yield f"http://127.0.0.1:{port}"
    proc.stop()


def member(cm: str, name: str) -> dict[str, Any]:
    return joined(cm, "sb-east", name, f"org-{cm}", unit_name="城东支行")


def basic(event_id: str, cm: str) -> dict[str, Any]:
    return opened(event_id, cm_id=cm, channel="tax_agent", new_firm=True)  # 20 points


def scored_ids(messages: list[SseMessage]) -> list[str]:
    return [m.json()["event_id"] for m in messages if m.event == "scored"]


async def test_resume_with_last_event_id_gets_the_missed_scored_messages(
    running_worker: Process, stream_api: str, topics: Topics
) -> None:
    await publish(topics, [c for c in published_templates() if c.id == CID])
    west = joined("cm-w", "sb-west", "王强", "org-cm-w", unit_name="城西支行")
    await send_events(topics, [member("cm-a", "张伟"), member("cm-b", "李娜"), west])
    async with httpx.AsyncClient(base_url=stream_api, timeout=30, auth=api_auth(stream_api)) as client:
        await poll(client, "/api/managers/cm-b", lambda b: b["name"] == "李娜")
        await poll(client, "/api/managers/cm-w", lambda b: b["name"] == "王强")
        first = SseClient(client, STREAM)
        await first.wait_for(lambda ms: any(m.event == "snapshot" for m in ms))
        assert first.status == 200
        assert first.messages[0].event == "snapshot"  # the first message is a snapshot

        await send_events(topics, [basic("s-1", "cm-a")])
        await first.wait_for(lambda ms: "s-1" in scored_ids(ms))
        (s1,) = [m for m in first.of("scored") if m.json()["event_id"] == "s-1"]
        body = s1.json()
        assert (body["cm_id"], body["name"], body["label"], body["points"]) == (
            "cm-a",
            "张伟",
            "新开基本户",
            "20.00",
        )
        assert (body["sub_branch_id"], body["sub_branch_name"], body["component"]) == (
            "sb-east",
            "城东支行",
            "opening",
        )
        assert body["reason"].startswith("开立基本户")
        await first.wait_for(
            lambda ms: any(m.event == "comment" and m.data == "ping" for m in ms), timeout=10
        )
        await first.close()

        # While the client is away: two more events score.
        await send_events(topics, [basic("s-2", "cm-b"), basic("s-3", "cm-a")])
        await poll(client, "/api/managers/cm-a", lambda b: "s-3" in [r["event_id"] for r in b["recent"]])
        await poll(client, "/api/managers/cm-b", lambda b: "s-2" in [r["event_id"] for r in b["recent"]])

        resumed = SseClient(client, STREAM, headers={"Last-Event-ID": str(s1.id)})
        await resumed.wait_for(lambda ms: any(m.event == "snapshot" for m in ms))
        before_snapshot = resumed.messages[: [m.event for m in resumed.messages].index("snapshot")]
        assert sorted(scored_ids(before_snapshot)) == ["s-2", "s-3"]  # exactly what was missed
        ids = [int(m.id or 0) for m in before_snapshot if m.event == "scored"]
        assert ids == sorted(ids) and ids[0] > int(s1.id or 0)
        snapshot = resumed.of("snapshot")[0].json()
        assert [(r["id"], r["points"]) for r in snapshot["rows"]] == [
            ("cm-a", "40.00"),
            ("cm-b", "20.00"),
            ("cm-w", "0.00"),  # in the org, nothing scored yet
        ]
        assert int(resumed.of("snapshot")[0].id or 0) >= ids[-1]
        await resumed.close()

        # An id this process never gave (another replica's, or from before a restart): a snapshot only.
        stranger = SseClient(client, STREAM, headers={"Last-Event-ID": "12"})
        await stranger.wait_for(lambda ms: any(m.event == "snapshot" for m in ms))
        assert next(m.event for m in stranger.messages if m.event != "comment") == "snapshot"
        await stranger.close()

        # Privacy mode: no reason (it may name accounts or amounts); scope by sub-branch.
        private = SseClient(client, STREAM, params={"privacy": 1, "sub_branch": "sb-east"})
        await private.wait_for(lambda ms: any(m.event == "snapshot" for m in ms))
        elsewhere = SseClient(client, STREAM, params={"sub_branch": "sb-west"})
        await elsewhere.wait_for(lambda ms: any(m.event == "snapshot" for m in ms))
        await send_events(topics, [basic("s-4", "cm-b")])
        await private.wait_for(lambda ms: "s-4" in scored_ids(ms))
        (s4,) = [m.json() for m in private.of("scored")]
        assert "reason" not in s4 and s4["label"] == "新开基本户"
        # A west event after it: once the west screen has that one, it would have had s-4 before
        # it (one hub, one queue per client, in order) had s-4 been sent there.
        await send_events(topics, [basic("s-5", "cm-w")])
        await elsewhere.wait_for(lambda ms: "s-5" in scored_ids(ms))
        assert scored_ids(elsewhere.messages) == ["s-5"]  # another sub-branch's screen does not show s-4
        assert "s-5" not in scored_ids(private.messages)
        await private.close()
        await elsewhere.close()

        assert (await client.get("/api/competitions/no-such/stream")).status_code == 404


def stalled_connection(url: str, path: str) -> socket.socket:
    """A client that sends its request and never reads: a tiny receive buffer, so the server's
    side fills up quickly."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    headers = "".join(f"{k}: {v}\r\n" for k, v in auth_headers(url, path).items())
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Accept: text/event-stream\r\n\r\n".encode()
    )
    return sock


async def test_a_stalled_client_does_not_delay_the_others(
    running_worker: Process, stream_api: str, topics: Topics
) -> None:
    await publish(topics, [c for c in published_templates() if c.id == CID])
    managers = [f"cm-{i:03d}" for i in range(150)]
    await send_events(topics, [member(cm, f"经理{i}") for i, cm in enumerate(managers)])
    big = f"{STREAM}?limit=200"  # large snapshots: the stalled client's buffers fill within seconds
    async with httpx.AsyncClient(base_url=stream_api, timeout=30, auth=api_auth(stream_api)) as client:
        await poll(client, "/api/managers/cm-149", lambda b: b["name"] == "经理149")
        stalled = stalled_connection(stream_api, big)
        healthy = SseClient(client, big)
        try:
            await healthy.wait_for(lambda ms: any(m.event == "snapshot" for m in ms))
            sent: dict[str, float] = {}
            producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, linger_ms=0)
            await producer.start()
            try:
                for i in range(600):  # 40 events/s for 15 s
                    e = basic(f"load-{i}", managers[i % len(managers)])
                    await producer.send_and_wait(
                        topics.raw, json.dumps(e).encode(), key=e["data"]["cm_id"].encode()
                    )
                    sent[e["event_id"]] = time.perf_counter()
                    await asyncio.sleep(0.025)
            finally:
                await producer.stop()
            await healthy.wait_for(lambda ms: set(sent) <= set(scored_ids(ms)), timeout=60)
            received = {m.json()["event_id"]: m.at for m in healthy.of("scored")}
            delays = sorted(received[k] - sent[k] for k in sent)
            health = (await client.get("/readyz")).json()["checks"]["read_model"]["push"]
        finally:
            stalled.close()
            await healthy.close()
    p50, worst = statistics.median(delays), delays[-1]
    print(
        f"healthy client beside a stalled one: p50 {p50 * 1000:.0f} ms, max {worst * 1000:.0f} ms, {health}"
    )
    assert health["overflows"] >= 1, health  # the stalled client really was stalled, and bounded
    assert worst < 5.0, f"the healthy client waited up to {worst:.1f} s"
