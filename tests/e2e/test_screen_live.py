"""The wall screen in a real headless Chromium at 1920x1080: events sent into Kafka, scored by a
real worker, reach the open page through the API's stream. A manager overtakes another (the rows
swap places and the ranks change), each scoring event shows in the ticker ("王芳 新开基本户 +10"),
the office's own sub-branch is named, not shown by id, and only its managers are on its screen.
A cap reached is a neutral note on the screen, not a red loss."""

from __future__ import annotations

import struct
from pathlib import Path

from schemas.topics import Topics
from tests.e2e.pages_world import (
    OPENING,
    basic,
    member,
    publish_over_http,
    row_rank,
    screen_url,
    ticker_text,
    until,
)
from tests.support.live_browser import WALL, live_browser, live_page, page_errors, save_screenshot, text_of
from tests.support.processes import Process
from tests.support.scoring import send_events


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_scored_events_move_the_wall_screen(
    running_worker: Process, api_url: str, topics: Topics, tmp_path: Path
) -> None:
    await publish_over_http(api_url, "feb_account_opening")
    org = [
        *member("cm-a", "张伟", "sb-east", "team-pioneer"),
        *member("cm-b", "王芳", "sb-east"),
        *member("cm-c", "李娜", "sb-west"),  # another office: not on sb-east's screen
    ]
    # 张伟 30, 王芳 10, 李娜 50 (the board's leader, but in sb-west).
    first = [basic(f"a{i}", "cm-a") for i in range(3)] + [basic("b0", "cm-b")]
    first += [basic(f"c{i}", "cm-c") for i in range(5)]
    await send_events(topics, org + first)

    url = screen_url(api_url, "sb-east", OPENING)
    async with live_browser() as browser, live_page(browser, url, size=WALL) as page:
        # Ranks are the whole board's (李娜 leads it); the screen lists sb-east's managers only.
        await until(page, f"{row_rank('cm-a')} === 2 && {row_rank('cm-b')} === 3", what="张伟 2nd, 王芳 3rd")
        await until(page, "window.screenState.connection === 'live'", what="the stream connected")
        assert await page.query_selector('#rows .row[data-id="cm-c"]') is None, (
            "sb-west's manager on sb-east's screen"
        )
        assert await text_of(page, "#unit") == "城东支行"
        assert "sb-east" not in await page.inner_text("body"), "the office is shown by id"
        assert "张伟" in await text_of(page, '#rows .row[data-id="cm-a"]')
        assert "先锋团队" in await text_of(page, '#rows .row[data-id="cm-a"]')
        await until(page, "document.querySelector('#branches li.mine') !== null", what="the sub-branch card")
        assert "城东支行" in await text_of(page, "#branches li.mine")
        before = await save_screenshot(page, tmp_path / "screen-before.png", artefact="screen-before.png")
        assert _png_size(before) == WALL
        top_before = await page.evaluate(
            "document.querySelector('#rows .row[data-id=\"cm-b\"]').getBoundingClientRect().top"
        )

        # 王芳 opens three more basic accounts: 40 against 张伟's 30.
        await send_events(topics, [basic(f"b{i}", "cm-b") for i in range(1, 4)])

        await until(page, f"{row_rank('cm-b')} === 2 && {row_rank('cm-a')} === 3", what="王芳 overtakes 张伟")
        order = await page.eval_on_selector_all("#rows .row", "rows => rows.map((r) => r.dataset.id)")
        assert order == ["cm-b", "cm-a"]
        assert await page.get_attribute('#rows .row[data-id="cm-b"]', "data-moved") == "up"
        assert await page.get_attribute('#rows .row[data-id="cm-a"]', "data-moved") == "down"
        assert "40" in await text_of(page, '#rows .row[data-id="cm-b"] .points')
        top_after = await page.evaluate(
            "document.querySelector('#rows .row[data-id=\"cm-b\"]').getBoundingClientRect().top"
        )
        assert top_after < top_before, "王芳's row did not move up the screen"

        ticker = await until(
            page,
            f"{ticker_text()}.filter((t) => t.includes('王芳 新开基本户 +10')).length >= 3"
            f" && {ticker_text()}",
            what="three 王芳 新开基本户 +10 lines in the ticker",
        )
        assert not any("李娜" in line for line in ticker), "another office's event in sb-east's ticker"
        assert "新开基本户 +10" in await text_of(page, "#toast")
        after = await save_screenshot(page, tmp_path / "screen-after.png", artefact="screen-after.png")
        assert _png_size(after) == WALL
        assert after.stat().st_size > 20_000, "a screenshot that plain cannot show the board"
        # Nothing scrolls on a wall: the page fits the window.
        fits = await page.evaluate(
            "document.documentElement.scrollHeight <= innerHeight"
            " && document.documentElement.scrollWidth <= innerWidth"
        )
        assert fits, "the wall screen overflows 1920x1080"

        # 王芳 reaches the daily cap (60): the 7th account's cap entry is a neutral note, not a loss.
        await send_events(topics, [basic(f"b{i}", "cm-b") for i in range(4, 7)])
        cap_line = await until(
            page,
            "(() => { const li = [...document.querySelectorAll('#ticker li')]"
            ".find((x) => x.textContent.includes('单日封顶'));"
            " return li && [li.className, li.textContent]; })()",
            what="the daily cap in the ticker",
        )
        assert cap_line[0] == "cap" and "已达上限" in cap_line[1] and "10 分不计" in cap_line[1], cap_line
        assert "−" not in cap_line[1], cap_line
        toast = await until(
            page,
            "(() => { const t = document.querySelector('#toast');"
            " return t.textContent.includes('单日封顶') && [t.className, t.textContent]; })()",
            what="the cap's toast",
        )
        assert "cap" in toast[0].split() and "minus" not in toast[0].split(), toast
        assert not page_errors(page), page_errors(page)
