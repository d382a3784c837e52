"""The console's 月末 tab in a real headless Chromium, its API stubbed (the API's side is tested in
tests/e2e/test_awards_api.py): a refused freeze shows the API's reason, naming what lags; a run's
warnings are listed and the approval sends the organiser's acknowledgement."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

import pytest
from playwright.async_api import Page, Route

from tests.support.live_browser import live_browser, live_page, page_errors

ORIGIN = "http://console.test"
PAGES = resources.files("services.api").joinpath("pages")
LAGS = "open-2025 2025-02 cannot be frozen yet: sink is 2 offsets behind the end of score.ledger"
WARNING = "1 笔迟到条目（合计 10.00 分）属于 2025-02 或更早的期间，尚未计入任何冻结：将计入 2025-03 的调整。"
RUN = {"id": 7, "status": "draft", "people": 2, "amount": "800.00", "warnings": [WARNING]}


class Api:
    """The API as the tab meets it; remembers what was posted."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, dict[str, Any]]] = []

    async def serve(self, route: Route) -> None:
        request = route.request
        path = request.url.removeprefix(ORIGIN)
        if path == "/console":
            await route.fulfill(
                body=PAGES.joinpath("console.html").read_text("utf-8"), content_type="text/html"
            )
        elif path.startswith("/console/assets/"):
            name = path.removeprefix("/console/assets/")
            kind = "text/css" if name.endswith(".css") else "text/javascript"
            await route.fulfill(body=PAGES.joinpath("console", name).read_text("utf-8"), content_type=kind)
        elif path == "/api/auth/me":
            await route.fulfill(json={"username": "wang", "role": "organiser"})
        elif path.startswith("/api/console/competitions"):
            version = {"competition_id": "open-2025", "version": 1, "status": "published", "name": "开户竞赛"}
            await route.fulfill(json={"competitions": [{"id": "open-2025", "versions": [version]}]})
        elif request.method == "POST" and path.startswith("/api/awards/"):
            body = json.loads(request.post_data or "{}")
            self.posted.append((path, body))
            if path == "/api/awards/freezes":
                problem = {"type": "about:blank", "title": "Conflict", "status": 409, "detail": LAGS}
                await route.fulfill(status=409, json=problem, content_type="application/problem+json")
            elif path == "/api/awards/runs":
                await route.fulfill(status=201, json=RUN)
            else:
                await route.fulfill(json={**RUN, "status": "approved", "warnings_acknowledged": [WARNING]})
        else:
            await route.fulfill(status=404, json={"detail": "not here"})


@pytest.fixture
async def world() -> AsyncIterator[tuple[Page, Api]]:
    api = Api()
    async with live_browser() as browser, live_page(browser, None, size=(1440, 1000)) as page:
        await page.route(f"{ORIGIN}/**", api.serve)
        await page.goto(f"{ORIGIN}/console")
        await page.wait_for_function("document.body.dataset.ready === '1'")
        yield page, api
        # The 409 is the one refusal expected (the browser logs it as a failed resource).
        assert not page_errors(page, ignore=("409", "Failed to load resource")), page_errors(page)


async def test_a_refused_freeze_names_what_lags_and_warnings_need_acknowledging(
    world: tuple[Page, Api],
) -> None:
    page, api = world
    await page.click("nav.tabs button[data-tab=awards]")
    await page.wait_for_function("document.querySelector('#awards-competition').options.length === 1")
    await page.fill("#awards-period", "2025-02")
    await page.click("#awards-freeze")
    await page.wait_for_function("document.querySelector('#awards-error').textContent.length > 0")
    assert await page.text_content("#awards-error") == "冻结未完成：" + LAGS
    assert api.posted[-1] == (
        "/api/awards/freezes",
        {"competition_id": "open-2025", "period": "2025-02", "acknowledge_parked": False},
    )

    await page.click("#awards-run")
    await page.wait_for_function("!document.querySelector('#awards-warnings-box').hidden")
    assert await page.text_content("#awards-warnings li") == WARNING
    await page.check("#awards-ack-warnings")
    await page.click("#awards-approve")
    await page.wait_for_function("document.querySelector('#awards-approve-box').hidden")
    assert api.posted[-1] == ("/api/awards/runs/7/approve", {"acknowledge_warnings": True})
    assert "已审批" in (await page.text_content("#awards-result") or "")
