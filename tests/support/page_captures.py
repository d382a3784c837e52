"""The README's screenshots, captured from a running system (e.g. `make run`, whose demo feeder
sends live events):

    .venv/bin/python -m tests.support.page_captures http://127.0.0.1:8000 <display token> <key> \
        [--sub-branch sb-chengdong] [--competitions feb-account-opening] [--manager cm-101]

writes docs/screenshots/screen.png (the wall screen at 1920x1080, once a few scored events have
reached its ticker) and docs/screenshots/me.png (a manager's page at 390x844). The display token
is one for that sub-branch; the key any reader's key (the manager page's credential).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from tests.support.live_browser import PHONE, ROOT, WALL, live_browser, live_page

OUT = ROOT / "docs" / "screenshots"


async def capture(
    api_url: str, display: str, key: str, sub_branch: str, competitions: str, manager: str, events: int
) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    async with live_browser() as browser:
        screen = (
            f"{api_url}/screen?sub_branch={sub_branch}&competitions={competitions}&rotate=0&token={display}"
        )
        async with live_page(browser, screen, size=WALL) as page:
            await page.wait_for_function(
                f"document.querySelectorAll('#ticker li').length >= {events}", timeout=180_000
            )
            await page.wait_for_timeout(1500)  # let the rows settle after the last move
            await page.screenshot(path=str(OUT / "screen.png"), animations="disabled")
        async with live_page(browser, f"{api_url}/me/{manager}?token={key}", size=PHONE, scale=2) as page:
            await page.wait_for_function("window.meState && window.meState.refreshes >= 1", timeout=60_000)
            await page.wait_for_timeout(1500)
            await page.screenshot(path=str(OUT / "me.png"), animations="disabled")
    for name in ("screen.png", "me.png"):
        print(f"wrote {Path('docs/screenshots') / name}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("api_url")
    parser.add_argument("display_token")
    parser.add_argument("key")
    parser.add_argument("--sub-branch", default="sb-chengdong")
    parser.add_argument("--competitions", default="feb-account-opening", help="shown on the wall")
    parser.add_argument("--manager", default="cm-101")
    parser.add_argument("--events", type=int, default=4, help="scored events to wait for in the ticker")
    args = parser.parse_args()
    url = args.api_url.rstrip("/")
    asyncio.run(
        capture(
            url, args.display_token, args.key, args.sub_branch, args.competitions, args.manager, args.events
        )
    )


if __name__ == "__main__":
    main()
