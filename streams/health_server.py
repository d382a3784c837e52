"""The small HTTP server a background process (worker, ledger sink) answers probes and scrapes on:
/healthz while the process runs, /readyz from its own readiness check, /metrics for Prometheus."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST


async def serve_probes(
    ready: Callable[[], dict[str, Any]], exposition: Callable[[], bytes], host: str, port: int
) -> web.AppRunner:
    """Start serving; `ready()` returns a body whose "ready" says 200 or 503."""

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        body = ready()
        return web.json_response(body, status=200 if body["ready"] else 503)

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(body=exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
