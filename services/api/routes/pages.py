"""The placeholder wall page: a static document that polls the JSON endpoints."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["pages"])

_LEADERBOARD = resources.files("services.api").joinpath("pages/leaderboard.html").read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse)
async def leaderboard_page() -> HTMLResponse:
    return HTMLResponse(_LEADERBOARD)
