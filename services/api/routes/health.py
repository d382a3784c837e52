"""Liveness and readiness (docs/operations.md).

/healthz: the process answers (scripts wait on it; it never looks further).
/readyz: 200 when every check passes, 503 otherwise; the body names each check either way.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.api.deps import PublisherDep, ReadModelDep, SettingsDep, StoreDep
from services.api.readiness import readiness

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={
        200: {"description": "ready: every check passed"},
        503: {"description": "not ready: the body names the failing checks"},
    },
)
async def readyz(
    settings: SettingsDep, publisher: PublisherDep, read_model: ReadModelDep, store: StoreDep
) -> JSONResponse:
    ready, body = await readiness(settings, publisher, read_model, store)
    return JSONResponse(body, status_code=200 if ready else 503)
