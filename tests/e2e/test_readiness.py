"""/healthz and /readyz of a real API process: ready only while the ledger sink it expects keeps
beating in the shared database; /healthz answers "ok" throughout, as scripts expect."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.support.ports import free_port
from tests.support.processes import api, sink


def poll_readyz(client: httpx.Client, want: Callable[[httpx.Response], bool], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/readyz")
        if want(response):
            return response.json()
        assert time.monotonic() < deadline, (
            f"/readyz never matched; last {response.status_code} {response.text}"
        )
        time.sleep(0.5)


def test_readyz_follows_the_sink_heartbeat_and_healthz_stays_ok(prefix: str, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'campaigns.db'}"
    port = free_port()
    server = api(
        prefix, tmp_path, port, CAMPAIGNS_DATABASE_URL=database, CAMPAIGNS_SINK_STALE_SECONDS="3"
    ).start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            assert client.get("/healthz").json() == {"status": "ok"}
            # The read model catches up on its own time (slow on a loaded machine); wait for it, so
            # that only the missing sink keeps the API unready.
            before = poll_readyz(
                client, lambda r: r.status_code == 503 and r.json()["detail"] == "not ready: sink"
            )
            assert before["status"] == 503
            assert before["type"] == "about:blank" and before["title"] == "Service Unavailable"
            assert before["checks"]["broker"]["ok"] is True
            assert before["checks"]["sink"]["ok"] is False

            writer = sink(prefix, tmp_path, database, CAMPAIGNS_SINK_HEARTBEAT_SECONDS="0.5").start()
            try:
                ready = poll_readyz(client, lambda r: r.status_code == 200)
            finally:
                writer.stop()
            stale = poll_readyz(client, lambda r: r.status_code == 503)
            assert client.get("/healthz").status_code == 200
    finally:
        server.stop()

    assert ready["status"] == "ready"
    assert ready["checks"]["read_model"]["caught_up"] == {
        "competitions": True,
        "standings": True,
        "org": True,
    }
    assert ready["checks"]["sink"]["parked_total"] == 0
    assert ready["checks"]["sink"]["age_seconds"] < 3
    assert "no heartbeat for" in stale["checks"]["sink"]["error"]
    assert stale["checks"]["broker"]["ok"] and stale["checks"]["read_model"]["ok"]
