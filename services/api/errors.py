"""The read model's refusals and unreadable bodies as HTTP answers, translated once for every route."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.api.body import BodyError
from services.readmodel import RankingNotOffered, UnknownCompetition


async def _unknown_competition(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


async def _ranking_not_offered(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RankingNotOffered)
    return JSONResponse({"detail": str(exc), "offered": exc.offered}, status_code=422)


async def _body_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyError)
    # The rest of the body may still be on its way: close the connection rather than read it.
    return JSONResponse(
        {"status": "rejected", "reason": exc.reason, "detail": str(exc)},
        status_code=exc.status_code,
        headers={"Connection": "close"},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(UnknownCompetition, _unknown_competition)
    app.add_exception_handler(RankingNotOffered, _ranking_not_offered)
    app.add_exception_handler(BodyError, _body_error)
