"""The pages: the board page (/), the wall screen (/screen), a manager's own page (/me/{cm_id}) and a
sub-branch's morning meeting (/morning/{sub_branch_id}),
with the scripts and stylesheets they share (/pages/{name}).

All static: the pages hold no data and read everything from the JSON API, so what a visitor may
see is decided there. Which sub-branch, competitions or manager a page shows comes from its own
URL, read by its script. Files are read once at import: a deployment is a fixed set of files.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

router = APIRouter(tags=["pages"])

_PAGES = resources.files("services.api").joinpath("pages")
_LEADERBOARD = _PAGES.joinpath("leaderboard.html").read_text(encoding="utf-8")
_SCREEN = _PAGES.joinpath("screen.html").read_text(encoding="utf-8")
_ME = _PAGES.joinpath("me.html").read_text(encoding="utf-8")
_MORNING = _PAGES.joinpath("morning.html").read_text(encoding="utf-8")
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# A wall screen runs for weeks: after a deployment its next reload must get the new files.
NO_CACHE = {"Cache-Control": "no-cache"}


def read_assets(folder: Traversable) -> dict[str, tuple[str, str]]:
    """The folder's scripts and stylesheets by file name, with their media types. Only the files
    that exist are served, by exact name: no path from the URL reaches the disk."""
    return {
        item.name: (item.read_text(encoding="utf-8"), _TYPES[item.name[item.name.rindex(".") :]])
        for item in folder.iterdir()
        if item.is_file() and item.name[item.name.rfind(".") :] in _TYPES
    }


def asset_response(assets: dict[str, tuple[str, str]], name: str, what: str) -> Response:
    asset = assets.get(name)
    if asset is None:
        raise HTTPException(404, f"no {what} {name!r}")
    text, media_type = asset
    return Response(text, media_type=media_type, headers=NO_CACHE)


_ASSETS = read_assets(_PAGES)


@router.get("/", response_class=HTMLResponse)
async def leaderboard_page() -> HTMLResponse:
    return HTMLResponse(_LEADERBOARD)


@router.get("/screen", response_class=HTMLResponse)
async def wall_screen() -> HTMLResponse:
    """The wall screen, 1920x1080: ?sub_branch=&competitions=a,b&privacy=1&rotate=20 (seconds)."""
    return HTMLResponse(_SCREEN, headers=NO_CACHE)


@router.get("/me/{cm_id}", response_class=HTMLResponse)
async def manager_page(cm_id: str) -> HTMLResponse:
    """A customer manager's own page, phone-sized; its script reads the id from the path."""
    return HTMLResponse(_ME, headers=NO_CACHE)


@router.get("/morning/{sub_branch_id}", response_class=HTMLResponse)
async def morning_page(sub_branch_id: str) -> HTMLResponse:
    """A sub-branch's 晨会 page: ?competition=&day= (yesterday in Shanghai by default); printable."""
    return HTMLResponse(_MORNING, headers=NO_CACHE)


@router.get("/pages/{name}")
async def page_asset(name: str) -> Response:
    return asset_response(_ASSETS, name, "page asset")
