"""One customer manager's own summary (the /me page): rank, points by component and progress
against targets in each competition, and the latest entries that scored."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from services.api import views
from services.api.access import Reader, ensure_manager
from services.api.deps import ReadModelDep
from services.readmodel.manager import manager_view

router = APIRouter(prefix="/api/managers", tags=["managers"])


@router.get("/{cm_id}")
async def manager(
    cm_id: str, read_model: ReadModelDep, principal: Reader, privacy: Annotated[int, Query(ge=0, le=1)] = 0
) -> dict[str, Any]:
    ensure_manager(principal, read_model.board.org, cm_id)  # a viewer: managers of its sub-branch only
    view = manager_view(read_model.board, read_model.recent, cm_id)
    if view is None:
        raise HTTPException(404, f"nothing is known of manager {cm_id}")
    return views.manager(view, bool(privacy))
