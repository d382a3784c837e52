"""`make run` as a new user meets it: deploy/local/run.sh starts the platform (worker, sink, API,
demo, dev credentials) on a run directory and ports of its own (tests/support/platform.py).

- A second `make run` under an open wall screen (real headless Chromium) locks nobody out: the
  same credentials, the screen still shows the board, its stream is never refused.
- The URLs it prints carry no key that can write; the API's log holds no token.
- `make stop` leaves no process of the platform, what-if workers and multiprocessing's resource
  tracker included (the last test of the module).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Response

from tests.e2e.pages_world import until
from tests.support.kafka import drop_topics
from tests.support.live_browser import WALL, live_browser, live_page, page_errors, save_screenshot, text_of
from tests.support.platform import Platform

DENIED = "无权查看"
LIVE = "window.screenState.current !== null && window.screenState.connection === 'live'"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    running = Platform(tmp_path_factory.mktemp("make-run"))
    running.start()
    try:
        yield running
    finally:
        running.stop()  # a second stop (after the last test's) is a no-op
        running.kill_leftovers()  # only if a test failed: none of this run may outlive it
        with contextlib.suppress(Exception):  # the broker gone by now: nothing left to tidy
            asyncio.run(drop_topics(running.prefix))


def _secrets(platform: Platform) -> dict[str, str]:
    found = platform.credentials()
    return {
        k: found[k]
        for k in ("CAMPAIGNS_DEV_ORGANISER_KEY", "CAMPAIGNS_DEV_SOURCE_KEY", "CAMPAIGNS_DEV_DISPLAY_TOKEN")
    }


def test_the_printed_page_urls_carry_the_display_token_only(platform: Platform) -> None:
    printed = platform.start()  # what a second `make run` prints: everything is already running
    found = platform.credentials()
    for name in ("CAMPAIGNS_DEV_ORGANISER_KEY", "CAMPAIGNS_DEV_SOURCE_KEY", "CAMPAIGNS_DEV_ADMIN_PASSWORD"):
        assert found[name] not in printed.replace(f"password {found['CAMPAIGNS_DEV_ADMIN_PASSWORD']}", ""), (
            name
        )
    urls = [w for w in printed.split() if w.startswith("http") and "token=" in w]
    assert len(urls) == 3, printed
    for url in urls:
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["token"]
        assert token == [found["CAMPAIGNS_DEV_DISPLAY_TOKEN"]], url
    # The manager's page reads with that token (cm-101 is in the display token's sub-branch).
    manager = httpx.get(
        f"{platform.url}/api/managers/cm-101",
        params={"token": found["CAMPAIGNS_DEV_DISPLAY_TOKEN"]},
        timeout=30,
    )
    assert manager.status_code == 200, manager.text


async def test_a_second_make_run_leaves_an_open_wall_screen_working(
    platform: Platform, tmp_path: Path
) -> None:
    before = _secrets(platform)
    refused: list[str] = []
    answered: list[str] = []

    def on_response(response: Response) -> None:
        path = urllib.parse.urlsplit(response.url).path
        if response.status in (401, 403):
            refused.append(f"{response.status} {path}")
        elif response.status == 200 and path.startswith("/api/"):
            answered.append(path)

    url = platform.credentials()["CAMPAIGNS_DEV_SCREEN_URL"]
    async with live_browser() as browser, live_page(browser, url, size=WALL) as page:
        page.on("response", on_response)
        await until(page, LIVE, what="the demo's board, live")
        await until(page, "document.querySelectorAll('#rows .row').length > 0", what="rows on the board")

        second = await asyncio.to_thread(platform.start)
        assert "already running" in second
        assert _secrets(platform) == before, "a second make run changed the dev credentials"

        # An open stream was let in when it opened and goes on; what a revoked token breaks is
        # the screen's next request: it reloads the list of competitions every minute.
        answered.clear()
        await _until_answered(answered, refused, "/api/competitions", timeout=90)
        await until(page, LIVE, what="still live")
        await until(page, "document.querySelectorAll('#rows .row').length > 0", what="rows after the reload")
        assert DENIED not in await text_of(page, "body")
        await save_screenshot(
            page, tmp_path / "screen-after-second-run.png", artefact="screen-after-second-run.png"
        )
        assert refused == []
        assert not page_errors(
            page, ignore=("ERR_INTERNET_DISCONNECTED", "Failed to load resource", "EventSource")
        )


async def _until_answered(answered: list[str], refused: list[str], path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while path not in answered:
        assert not refused, refused
        assert time.monotonic() < deadline, f"no 200 for {path} in {timeout}s; answered: {answered}"
        await asyncio.sleep(0.5)


def test_the_api_log_holds_no_token(platform: Platform) -> None:
    found = _secrets(platform)
    # A request with the token in its query, as the wall screen makes them, and one with a header.
    token = found["CAMPAIGNS_DEV_DISPLAY_TOKEN"]
    assert (
        httpx.get(f"{platform.url}/api/competitions", params={"token": token}, timeout=30).status_code == 200
    )
    organiser = {"Authorization": f"Bearer {found['CAMPAIGNS_DEV_ORGANISER_KEY']}"}
    assert (
        httpx.get(f"{platform.url}/api/console/competitions", headers=organiser, timeout=30).status_code
        == 200
    )
    log = platform.logs()["api"].read_text(errors="replace")
    assert "token=cmp." in log  # the requests are logged, with their key ids
    for name, secret in found.items():
        assert secret.split(".")[-1] not in log, f"{name} is in the API's log"


def test_the_openapi_document_lets_docs_send_a_key(platform: Platform) -> None:
    document = httpx.get(f"{platform.url}/openapi.json", timeout=30).json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert document["paths"]["/api/competitions"]["get"]["security"] == [{"bearer": []}]


def test_make_stop_leaves_no_process_behind(platform: Platform) -> None:
    """Last: a what-if preview first, so the API has its process pool (and the resource tracker)."""
    key = platform.credentials()["CAMPAIGNS_DEV_ORGANISER_KEY"]
    preview = httpx.post(
        f"{platform.url}/api/console/competitions/feb-account-opening/preview",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        content=json.dumps({"version": 1}),
        timeout=120,
    )
    assert preview.status_code == 200, preview.text
    running = platform.leftovers()
    commands = " | ".join(p.cmdline for p in running)
    assert "multiprocessing.spawn" in commands and "resource_tracker" in commands, commands
    assert len(running) >= 7, commands  # worker, sink, API, demo, two what-if processes, the tracker

    platform.stop()
    assert platform.leftovers() == []
