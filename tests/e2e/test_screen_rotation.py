"""The wall screen rotates through the competitions its URL names, one at a time, each fitting
1920x1080 without scrolling; on the 小小银行家 slide each manager's row carries progress bars
against the scorecard's targets (the plan's 100 customers: 25 offline credit, 30 online credit,
50 non-credit)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page

from schemas.topics import Topics
from tests.e2e.pages_world import (
    LITTLE_BANKER,
    OPENING,
    assigned,
    basic,
    member,
    publish_over_http,
    screen_url,
    until,
)
from tests.support.live_browser import WALL, live_browser, live_page, page_errors, save_screenshot, text_of
from tests.support.processes import Process
from tests.support.scoring import send_events

ROTATE_S = 4


async def _fits(page: Page) -> bool:
    return bool(
        await page.evaluate(
            "document.documentElement.scrollHeight <= innerHeight"
            " && document.documentElement.scrollWidth <= innerWidth"
            " && [...document.querySelectorAll('#rows .row')].every((r) => r.getBoundingClientRect().bottom"
            "      <= document.querySelector('#rows').getBoundingClientRect().bottom)"
        )
    )


async def test_the_screen_rotates_and_shows_progress_against_targets(
    running_worker: Process, api_url: str, topics: Topics, tmp_path: Path
) -> None:
    await publish_over_http(api_url, "feb_account_opening", "little_banker")
    await send_events(
        topics,
        [
            *member("cm-a", "张伟", "sb-east"),
            *member("cm-b", "王芳", "sb-east"),
            *assigned(20, "cm-a", "credit_offline"),
            *assigned(6, "cm-a", "credit_online"),
            *assigned(30, "cm-a", "non_credit"),
            *assigned(5, "cm-b", "non_credit"),
            basic("a0", "cm-a"),
            basic("b0", "cm-b"),
        ],
    )
    url = screen_url(api_url, "sb-east", OPENING, LITTLE_BANKER, rotate=ROTATE_S)
    async with live_browser() as browser, live_page(browser, url, size=WALL) as page:
        await until(page, "document.querySelectorAll('#dots li').length === 2", what="two competitions")
        first = f"window.screenState.current === '{OPENING}'"
        await until(page, f"{first} && document.querySelector('#comp-name').innerText.includes('多开户')")

        banker_row = '#rows .row[data-id="cm-a"] .bar[data-metric="credit_offline_customers"]'
        await until(
            page, f"document.querySelector('{banker_row}') !== null", timeout=60, what="the 小小银行家 slide"
        )
        assert "小小银行家" in await text_of(page, "#comp-name")
        assert await page.get_attribute("#dots li.on", "data-id") == LITTLE_BANKER
        bars = await page.eval_on_selector_all(
            '#rows .row[data-id="cm-a"] .bar',
            "bars => bars.map((b) => [b.dataset.metric, b.innerText.replace(/\\s+/g, ' ')])",
        )
        shown = dict(bars)
        assert shown["credit_offline_customers"] == "线下授信 20/25", shown
        assert shown["credit_online_customers"] == "线上授信 6/30", shown
        assert shown["non_credit_customers"] == "非授信 30/50", shown
        width = await page.evaluate(f"parseFloat(document.querySelector('{banker_row} .fill').style.width)")
        assert abs(width - 80.0) < 0.5, f"20 of 25 drawn as {width}%"
        assert await _fits(page), "the 小小银行家 slide does not fit 1920x1080"
        await save_screenshot(page, tmp_path / "screen-banker.png", artefact="screen-banker.png")

        again = f"{first} && document.querySelectorAll('#rows .row').length === 2"
        await until(page, again, timeout=60, what="back to the first, with its rows")
        assert "多开户" in await text_of(page, "#comp-name")
        assert await _fits(page), "the account-opening slide does not fit 1920x1080"
        assert not page_errors(page), page_errors(page)
