"""One customer manager's standing in one competition, with its component breakdown."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from services.api.access import Reader, ensure_manager
from services.api.deps import ReadModelDep

router = APIRouter(prefix="/api/competitions", tags=["standings"])


@router.get("/{competition_id}/standings/{cm_id}")
async def standing(
    competition_id: str, cm_id: str, read_model: ReadModelDep, principal: Reader
) -> dict[str, Any]:
    ensure_manager(principal, read_model.board.org, cm_id)
    found = read_model.standing(competition_id, cm_id)
    if found is None:
        raise HTTPException(404, f"{cm_id} has no standing in {competition_id}")
    return found.to_dict()
