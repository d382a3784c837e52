"""The organisers' console: one HTML page and its own scripts and stylesheet, all static.

The page holds no data and no secret: everything it shows comes from the JSON API with the
visitor's session cookie, so serving the files needs no login (the API refuses what the
visitor may not see). Files are read once at import: a deployment is a fixed set of files.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

router = APIRouter(tags=["pages"])

_PAGES = resources.files("services.api").joinpath("pages")
_CONSOLE = _PAGES.joinpath("console.html").read_text(encoding="utf-8")
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Only the files that exist are served, by exact name: no path from the URL reaches the disk.
_ASSETS: dict[str, tuple[str, str]] = {
    item.name: (item.read_text(encoding="utf-8"), _TYPES[item.name[item.name.rindex(".") :]])
    for item in _PAGES.joinpath("console").iterdir()
    if item.is_file() and item.name[item.name.rfind(".") :] in _TYPES
}
# The files change with a deployment: a browser asks again on each load (they are small).
_NO_CACHE = {"Cache-Control": "no-cache"}


@router.get("/console", response_class=HTMLResponse)
async def console_page() -> HTMLResponse:
    return HTMLResponse(_CONSOLE, headers=_NO_CACHE)


@router.get("/console/assets/{name}")
async def console_asset(name: str) -> Response:
    asset = _ASSETS.get(name)
    if asset is None:
        raise HTTPException(404, f"no console asset {name!r}")
    text, media_type = asset
    return Response(text, media_type=media_type, headers=_NO_CACHE)
