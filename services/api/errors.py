"""The read model's refusals as HTTP answers, translated once for every route."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.readmodel import RankingNotOffered, UnknownCompetition


async def _unknown_competition(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


async def _ranking_not_offered(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RankingNotOffered)
    return JSONResponse({"detail": str(exc), "offered": exc.offered}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(UnknownCompetition, _unknown_competition)
    app.add_exception_handler(RankingNotOffered, _ranking_not_offered)
