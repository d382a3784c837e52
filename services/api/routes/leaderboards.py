"""Leaderboards ranked from the read model (unknown competition 404, ranking not offered 422)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.api import views
from services.api.deps import ReadModelDep
from streams.core.rules import RankingKind

router = APIRouter(prefix="/api/competitions", tags=["leaderboards"])


@router.get("/{competition_id}/leaderboard")
async def leaderboard(
    competition_id: str, read_model: ReadModelDep, ranking: RankingKind = "customer_manager"
) -> dict[str, Any]:
    return views.leaderboard(read_model.leaderboard(competition_id, ranking))
