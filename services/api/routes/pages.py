"""The pages: the board page (/), the wall screen (/screen) and a manager's own page (/me/{cm_id}),
with the scripts and stylesheets they share (/pages/{name}).

All static: the pages hold no data and read everything from the JSON API, so what a visitor may
see is decided there. Which sub-branch, competitions or manager a page shows comes from its own
URL, read by its script. Files are read once at import: a deployment is a fixed set of files.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

router = APIRouter(tags=["pages"])

_PAGES = resources.files("services.api").joinpath("pages")
_LEADERBOARD = _PAGES.joinpath("leaderboard.html").read_text(encoding="utf-8")
_SCREEN = _PAGES.joinpath("screen.html").read_text(encoding="utf-8")
_ME = _PAGES.joinpath("me.html").read_text(encoding="utf-8")
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Only the files that exist are served, by exact name: no path from the URL reaches the disk.
_ASSETS: dict[str, tuple[str, str]] = {
    item.name: (item.read_text(encoding="utf-8"), _TYPES[item.name[item.name.rindex(".") :]])
    for item in _PAGES.iterdir()
    if item.is_file() and item.name[item.name.rfind(".") :] in _TYPES
}
# A wall screen runs for weeks: after a deployment its next reload must get the new files.
_NO_CACHE = {"Cache-Control": "no-cache"}


@router.get("/", response_class=HTMLResponse)
async def leaderboard_page() -> HTMLResponse:
    return HTMLResponse(_LEADERBOARD)


@router.get("/screen", response_class=HTMLResponse)
async def wall_screen() -> HTMLResponse:
    """The wall screen, 1920x1080: ?sub_branch=&competitions=a,b&privacy=1&rotate=20 (seconds)."""
    return HTMLResponse(_SCREEN, headers=_NO_CACHE)


@router.get("/me/{cm_id}", response_class=HTMLResponse)
async def manager_page(cm_id: str) -> HTMLResponse:
    """A customer manager's own page, phone-sized; its script reads the id from the path."""
    return HTMLResponse(_ME, headers=_NO_CACHE)


@router.get("/pages/{name}")
async def page_asset(name: str) -> Response:
    asset = _ASSETS.get(name)
    if asset is None:
        raise HTTPException(404, f"no page asset {name!r}")
    text, media_type = asset
    return Response(text, media_type=media_type, headers=_NO_CACHE)
