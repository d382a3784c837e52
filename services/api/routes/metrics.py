"""GET /metrics: Prometheus metrics (services/api/metrics.py).

Public, as /healthz and /readyz are: counts and gauges only, no names, ids or points, and a
scraper should not need a credential that could also read the boards. Keep it off the public
ingress (docs/operations.md).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from services.api.deps import SettingsDep, StoreDep
from services.api.metrics import ApiMetrics

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(request: Request, settings: SettingsDep, store: StoreDep) -> Response:
    found: ApiMetrics = request.app.state.metrics
    await found.refresh(store, settings.ready_check_seconds)
    return Response(found.exposition(), media_type=CONTENT_TYPE_LATEST)
