"""/metrics of a real worker, sink and API after events went through them: the counts moved, the
lag is there per partition, no credential is asked for, and every metric the Grafana dashboard
queries is in one of the three expositions."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from schemas.topics import Topics
from tests.support.auth import api_auth
from tests.support.events import opened, wire
from tests.support.ports import free_port
from tests.support.processes import sink, worker
from tests.support.scoring import publish, published_templates

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "campaigns.json"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(found: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    return sum(v for (n, ls), v in found.items() if n == name and labels.items() <= dict(ls).items())


async def scrape_until(url: str, done: Callable[[Samples], bool], timeout: float = 90.0) -> Samples:
    deadline = time.monotonic() + timeout
    found: Samples = {}
    async with httpx.AsyncClient() as client:  # no credential, on purpose
        while time.monotonic() < deadline:
            try:
                response = await client.get(f"{url}/metrics")
                assert response.status_code == 200, response.text
                assert response.headers["content-type"].startswith("text/plain")
                found = parse(response.text)
                if done(found):
                    return found
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.5)
    raise AssertionError(f"{url}/metrics never got there; last seen: {sorted(found)[:60]}")


async def test_metrics_of_a_running_worker_sink_and_api_move_with_the_events(
    prefix: str, topics: Topics, tmp_path: Path, api_url: str
) -> None:
    worker_port, sink_port = free_port(), free_port()
    partitions = 4
    procs = [
        worker(
            prefix, tmp_path, CAMPAIGNS_HEALTH_PORT=str(worker_port), CAMPAIGNS_PARTITIONS=str(partitions)
        ),
        sink(
            prefix,
            tmp_path,
            f"sqlite:///{tmp_path / 'api.db'}",
            CAMPAIGNS_SINK_HEALTH_PORT=str(sink_port),
            CAMPAIGNS_SINK_HEARTBEAT_SECONDS="0.5",
        ),
    ]
    try:
        for proc in procs:
            proc.start()
        await publish(topics, published_templates())
        # Managers enough for every partition of every topic; one bad event for a dead letter.
        lines = [wire(opened(f"evt-met-{i}", cm_id=f"cm-met-{i % 24}")) for i in range(96)]
        bad = opened("evt-met-bad")
        bad["data"]["account_type"] = "platinum"
        lines.append(wire(bad))
        async with httpx.AsyncClient(base_url=api_url, auth=api_auth(api_url)) as client:
            response = await client.post("/ingest/batch", content=b"\n".join(lines) + b"\n")
        assert response.status_code == 200 and response.json()["accepted"] == 96

        stages = ("validate", "dedup", "score")

        def worker_done(found: Samples) -> bool:
            return all(
                total(found, "campaigns_stage_events_in_total", stage=s) >= 96
                and total(found, "campaigns_stage_events_out_total", stage=s) > 0
                and {ls for n, ls in found if n == "campaigns_stage_lag_records" and ("stage", s) in ls}
                == {(("partition", str(p)), ("stage", s)) for p in range(partitions)}
                for s in stages
            )

        at_worker = await scrape_until(f"http://127.0.0.1:{worker_port}", worker_done)
        assert total(at_worker, "campaigns_stage_events_in_total", stage="validate") == 96
        assert (
            total(at_worker, "campaigns_stage_events_out_total", stage="validate", topic=topics.accepted)
            == 96
        )
        assert total(at_worker, "campaigns_stage_events_out_total", stage="score", topic=topics.ledger) > 0
        assert total(at_worker, "campaigns_stage_batch_seconds_count", stage="score") >= 1
        assert total(at_worker, "campaigns_stage_running") == 3

        at_sink = await scrape_until(
            f"http://127.0.0.1:{sink_port}",
            lambda f: (
                total(f, "campaigns_sink_records_in_total", topic=topics.ledger) > 0
                and total(f, "campaigns_sink_records_in_total", topic=topics.dead_letters) >= 1
                and total(f, "campaigns_sink_heartbeat_age_seconds") >= 0
                and any(n == "campaigns_sink_heartbeat_age_seconds" for n, _ in f)
            ),
        )
        assert total(at_sink, "campaigns_sink_parked_total") == 0

        at_api = await scrape_until(
            api_url, lambda f: total(f, "campaigns_api_events_in_total", outcome="accepted") == 96
        )
        assert total(at_api, "campaigns_api_events_in_total", outcome="rejected") == 1
        assert total(at_api, "campaigns_sse_clients") == 0
        assert total(at_api, "campaigns_parked_records") == 0  # the sink's database, read by the API

        board = json.loads(DASHBOARD.read_text())
        queried = {
            name
            for panel in board["panels"]
            for target in panel["targets"]
            for name in re.findall(r"\b(?:campaigns|process)_[a-z_]+\b", target["expr"])
        }
        exposed = {name for found in (at_worker, at_sink, at_api) for name, _ in found}
        assert sorted(queried - exposed) == []
    finally:
        for proc in procs:
            proc.stop()
