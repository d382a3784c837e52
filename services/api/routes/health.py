"""Liveness and readiness (docs/operations.md).

/healthz: the process answers (scripts wait on it; it never looks further).
/readyz: 200 when every check passes; 503 otherwise, as a problem (services/api/errors.py) whose
`checks` member names each check, as the 200 body does.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.api.deps import PublisherDep, ReadModelDep, SettingsDep, StoreDep
from services.api.errors import problem
from services.api.readiness import readiness
from services.store.outbox import Outbox

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
    ready, body = await readiness(settings, publisher, read_model, store, Outbox(store))
    if ready:
        return JSONResponse(body)
    failing = [name for name, check in body["checks"].items() if not check["ok"]]
    return problem(503, f"not ready: {', '.join(failing)}", checks=body["checks"])
