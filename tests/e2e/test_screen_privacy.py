"""Privacy mode, for wall screens customers can see: the same payroll event reaches two open
screens of the same office. The ordinary one shows what scored and why (the agreement's id is in
the reason); the privacy=1 one shows who scored what ("张伟 代发工资 +40") and nothing that names
an agreement, an employer (a customer) or an amount. The page hides them itself too: a privacy
screen whose requests lose their privacy flag on the way (so the server sends everything) still
shows none of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from playwright.async_api import Page, Route

from schemas.topics import Topics
from tests.e2e.pages_world import member, publish_over_http, screen_url, ticker_text, until
from tests.support.live_browser import WALL, live_browser, live_page, page_errors, save_screenshot
from tests.support.processes import Process
from tests.support.scoring import send_events

PAYROLL = "payroll-drive"
AGREEMENT, EMPLOYER, AMOUNT = "pay-agr-secret-7", "cust-employer-acme", "612480.00"
# 签约 20 + 40 人 × 0.5 = 40 points, the agreement's first batch paid in February.
SCORED = "张伟 代发工资 +40"


def payroll(kind: str, **data: Any) -> dict[str, Any]:
    return {
        "event_id": f"evt-{kind}",
        "type": f"payroll.{kind}",
        "schema_version": 1,
        "occurred_at": "2026-02-05T10:00:00+08:00" if kind == "signed" else "2026-02-25T10:00:00+08:00",
        "source": "test",
        "data": {"agreement_id": AGREEMENT, "employer_id": EMPLOYER, "cm_id": "cm-a", **data},
    }


async def _without_privacy(route: Route) -> None:
    """Let the request through with its privacy flag removed."""
    parts = urlsplit(route.request.url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "privacy"])
    await route.continue_(url=urlunsplit(parts._replace(query=query)))


async def _text(page: Page) -> str:
    return await page.inner_text("body") + await page.content()


async def test_privacy_mode_hides_amounts_and_customers(
    running_worker: Process, api_url: str, topics: Topics, tmp_path: Path
) -> None:
    await publish_over_http(api_url, "payroll_drive")
    await send_events(topics, [*member("cm-a", "张伟", "sb-east"), *member("cm-b", "王芳", "sb-east")])
    base = screen_url(api_url, "sb-east", PAYROLL)

    async with (
        live_browser() as browser,
        live_page(browser, base, size=WALL) as ordinary,
        live_page(browser, base + "&privacy=1", size=WALL) as private,
        live_page(browser, size=WALL) as stripped,
    ):
        await stripped.route("**/api/**", _without_privacy)
        await stripped.goto(base + "&privacy=1")
        for page in (ordinary, private, stripped):
            await until(page, "window.screenState.connection === 'live'", what="the stream connected")
        assert await private.evaluate("document.body.classList.contains('privacy')")

        await send_events(
            topics,
            [
                payroll("signed", employees=40),
                payroll("paid", batch_id="batch-1", headcount=40, amount=AMOUNT, month="2026-02"),
            ],
        )
        for page in (ordinary, private, stripped):
            await until(page, f"{ticker_text()}.some((t) => t.includes('{SCORED}'))", what=SCORED)
            await until(page, "document.querySelector('#rows .row[data-id=\"cm-a\"]') !== null", what="a row")

        shown = await _text(ordinary)
        assert AGREEMENT in shown, "the ordinary screen does not show the reason: the test proves nothing"
        for page, name in ((private, "privacy"), (stripped, "privacy-stripped")):
            text = await _text(page)
            for secret in (AGREEMENT, EMPLOYER, "612480", "612,480", "61.25万", "cust-"):
                assert secret not in text, f"{name} screen shows {secret!r}"
            await save_screenshot(page, tmp_path / f"screen-{name}.png", artefact=f"screen-{name}.png")
        for page in (ordinary, private, stripped):
            assert not page_errors(page), page_errors(page)
