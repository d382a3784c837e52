"""The worker's own health, on <CAMPAIGNS_HEALTH_HOST>:<CAMPAIGNS_HEALTH_PORT> (127.0.0.1; 0 = not served).

GET /healthz: 200 while the process's event loop answers (liveness).
GET /readyz:  200 when the rules feed has caught up and every stage's loop is running and has
              partitions of its topic; 503 otherwise. Both bodies carry each stage's status:
              partitions, batches, records, failures, the last error, lag (records behind the
              last stable offset of its partitions), how many records it parked, and the partitions
              it holds and why (the score stage waiting for a rule version: not ready).
GET /metrics: Prometheus metrics (streams/metrics.py), with no credential, like the probes.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from streams.health_server import serve_probes
from streams.metrics import WorkerMetrics
from streams.worker import Worker


def readiness(worker: Worker) -> dict[str, Any]:
    stages = [loop.status() for loop in worker.loops]
    for loop, status in zip(worker.loops, stages, strict=True):
        status["parked"] = loop.stage.parked
    problems = [] if worker.rules.ready.is_set() else ["rules feed has not caught up"]
    problems += [f"{s['stage']} is not running: {s['last_error']}" for s in stages if not s["running"]]
    problems += [f"{s['stage']} has no partitions" for s in stages if s["running"] and not s["partitions"]]
    # A partition held at a control record (a rule version not readable yet) scores nothing more.
    problems += [
        f"{s['stage']} partition {p} is {reason}"
        for s in stages
        for p, reason in (s.get("holds") or {}).items()
    ]
    return {"ready": not problems, "problems": problems, "stages": stages}


async def serve(worker: Worker, port: int, host: str = "127.0.0.1") -> web.AppRunner:
    metrics = WorkerMetrics(worker)
    return await serve_probes(lambda: readiness(worker), metrics.exposition, host, port)
