"""A real headless Chromium the test keeps talking to: Playwright (Python) driving Debian's
`chromium` from PATH, never a browser Playwright downloads (the machine's network is closed).

`tests/support/browser.py` runs Chromium once and dumps what it drew; this one keeps a page open,
so a test can change the world (send events, kill the API) and watch the page react.

    async with live_browser() as browser:
        async with live_page(browser, api_url + "/screen", size=WALL) as page:
            await page.wait_for_function("...")
            await save_screenshot(page, tmp_path / "screen.png")
            assert not page_errors(page)

Without chromium on PATH this raises BrowserError: browser tests fail, they do not skip.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

from tests.support.browser import BrowserError, chromium

ROOT = Path(__file__).resolve().parents[2]
# Screenshots also land here, under a stable name, so a person can look at the last run's pages.
ARTEFACTS = ROOT / ".run" / "screenshots"

WALL = (1920, 1080)  # the wall screen
PHONE = (390, 844)  # a manager's phone

# Playwright adds its own headless and automation flags; these keep a closed network quiet (see
# browser.py) and let Chromium run as root.
_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]

_ERRORS_KEY = "_campaigns_errors"


@asynccontextmanager
async def live_browser(timeout_ms: float = 60_000) -> AsyncIterator[Browser]:
    """Chromium from PATH, headless, closed on exit."""
    path = chromium()
    async with async_playwright() as pw:
        try:
            browser = await pw.chromium.launch(executable_path=path, args=_FLAGS, timeout=timeout_ms)
        except Exception as exc:  # Playwright's own error types differ by version
            raise BrowserError(f"Playwright could not start {path}: {exc}") from exc
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def live_page(
    browser: Browser,
    url: str | None = None,
    size: tuple[int, int] = WALL,
    *,
    scale: float = 1.0,
    timeout_ms: float = 30_000,
) -> AsyncIterator[Page]:
    """A page in its own context (no shared cookies or storage) at `size`, optionally opened at
    `url`. JavaScript errors and console errors are collected for `page_errors`."""
    context = await browser.new_context(
        viewport={"width": size[0], "height": size[1]},
        device_scale_factor=scale,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(timeout_ms)
    page = await context.new_page()
    errors: list[str] = []
    setattr(page, _ERRORS_KEY, errors)

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            errors.append(f"console: {msg.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    try:
        if url is not None:
            await page.goto(url, wait_until="domcontentloaded")
        yield page
    finally:
        await context.close()


def page_errors(page: Page, *, ignore: tuple[str, ...] = ()) -> list[str]:
    """JavaScript exceptions and console errors the page produced so far, minus those containing
    any of `ignore` (e.g. the failed requests a test caused on purpose by stopping the API)."""
    errors: list[str] = getattr(page, _ERRORS_KEY, [])
    return [e for e in errors if not any(part in e for part in ignore)]


async def save_screenshot(page: Page, path: Path, *, artefact: str | None = None) -> Path:
    """A PNG of the viewport at `path`; also copied to .run/screenshots/<artefact or name>."""
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(path), animations="disabled")
    if not path.is_file():
        raise BrowserError(f"no screenshot written to {path}")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, ARTEFACTS / (artefact or path.name))
    return path


async def text_of(page: Page, selector: str) -> str:
    """The rendered text of the first element matching `selector` ("" if none)."""
    handle = await page.query_selector(selector)
    return "" if handle is None else " ".join((await handle.inner_text()).split())
