"""A competition's challenges (streams/core/badge_rules.py): each one's board of progress and
winners, from the standings the read model holds (the order: streams/core/challenges.py).
Like a whole-branch ranking, readable by every reader."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.api.access import Reader
from services.api.deps import ReadModelDep
from streams.core.challenges import board as challenge_board

router = APIRouter(prefix="/api/competitions", tags=["challenges"])


@router.get("/{competition_id}/challenges")
async def challenges(competition_id: str, read_model: ReadModelDep, principal: Reader) -> dict[str, Any]:
    board = read_model.board
    comp = board.competition(competition_id)  # 404 for an unknown competition
    standings = board.standings(competition_id)
    names = board.unit_names()
    out = []
    for challenge in comp.challenges:
        found = challenge_board(challenge, standings)
        for row in found["rows"]:
            person = challenge.sides == "customer_manager"
            row["name"] = (board.org.name(row["id"]) if person else names.get(row["id"])) or row["id"]
        found["today"] = challenge.start <= board.today <= challenge.end
        out.append(found)
    return {"competition_id": comp.id, "name": comp.name, "challenges": out}
