"""The organisers' console: one HTML page and its own scripts and stylesheet, all static.

The page holds no data and no secret: everything it shows comes from the JSON API with the
visitor's session cookie, so serving the files needs no login (the API refuses what the
visitor may not see). Files are read once at import: a deployment is a fixed set of files.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.api.routes.pages import NO_CACHE, asset_response, read_assets

router = APIRouter(tags=["pages"])

_PAGES = resources.files("services.api").joinpath("pages")
_CONSOLE = _PAGES.joinpath("console.html").read_text(encoding="utf-8")
_ASSETS = read_assets(_PAGES.joinpath("console"))


@router.get("/console", response_class=HTMLResponse)
async def console_page() -> HTMLResponse:
    return HTMLResponse(_CONSOLE, headers=NO_CACHE)


@router.get("/console/assets/{name}")
async def console_asset(name: str) -> Response:
    return asset_response(_ASSETS, name, "console asset")
