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

from services.settings import ServiceSettings
from streams.health_server import serve_probes

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
    def ready() -> dict[str, Any]:
        return readiness(
            heartbeat.last_stored, heartbeat.last_error, time.monotonic(), settings.sink_stale_seconds
        )

    return await serve_probes(ready, metrics.exposition, settings.sink_health_host, settings.sink_health_port)
