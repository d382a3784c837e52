"""The sink's own health, on <CAMPAIGNS_SINK_HEALTH_HOST>:<CAMPAIGNS_SINK_HEALTH_PORT> (0 = not
served), for an orchestrator's probes. The API's /readyz judges the sink from its heartbeat row
in the database; this answers from inside the process, so a sink that cannot reach the database
is kept out of "ready" but not restarted (a restart would not bring the database back).

GET /healthz: 200 while the process's event loop answers (liveness).
GET /readyz:  200 while the last heartbeat reached the database less than
              CAMPAIGNS_SINK_STALE_SECONDS ago; 503 otherwise, with the reason.
GET /metrics: Prometheus metrics (services/sink/metrics.py), with no credential, like the probes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from services.settings import ServiceSettings

if TYPE_CHECKING:
    from services.sink.metrics import SinkMetrics
    from services.sink.runner import Heartbeat


def readiness(last_stored: float | None, last_error: str, now: float, stale_seconds: float) -> dict[str, Any]:
    """`last_stored` and `now` on the monotonic clock."""
    if last_stored is None:
        problem = "no heartbeat stored yet" + (f": {last_error}" if last_error else "")
        return {"ready": False, "problem": problem}
    age = now - last_stored
    if age > stale_seconds:
        problem = f"no heartbeat stored for {age:.0f} s" + (f": {last_error}" if last_error else "")
        return {"ready": False, "problem": problem, "age_seconds": round(age, 1)}
    return {"ready": True, "age_seconds": round(age, 1)}


async def serve(heartbeat: Heartbeat, metrics: SinkMetrics, settings: ServiceSettings) -> web.AppRunner:
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        body = readiness(
            heartbeat.last_stored, heartbeat.last_error, time.monotonic(), settings.sink_stale_seconds
        )
        return web.json_response(body, status=200 if body["ready"] else 503)

    async def exposition(request: web.Request) -> web.Response:
        return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", exposition)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.sink_health_host, settings.sink_health_port).start()
    return runner
