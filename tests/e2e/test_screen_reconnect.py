"""The wall screen outlives its server: the API process is stopped while the page is open, the
page says so ("连接已断开，正在重连…"), a new API process starts on the same port, and the page,
never reloaded, is live again by itself and moves on the next scored event."""

from __future__ import annotations

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
from tests.support.ports import free_port
from tests.support.processes import Process, api
from tests.support.scoring import send_events

LOST = "连接已断开，正在重连…"


async def test_the_screen_reconnects_by_itself_after_the_api_restarts(
    running_worker: Process, prefix: str, topics: Topics, tmp_path: Path
) -> None:
    port = free_port()
    database = f"sqlite:///{tmp_path / 'api.db'}"
    server = api(prefix, tmp_path, port, CAMPAIGNS_DATABASE_URL=database).start()
    api_url = f"http://127.0.0.1:{port}"
    try:
        await publish_over_http(api_url, "feb_account_opening")
        await send_events(
            topics,
            [
                *member("cm-a", "张伟", "sb-east"),
                *member("cm-b", "王芳", "sb-east"),
                basic("a0", "cm-a"),
                basic("a1", "cm-a"),
                basic("b0", "cm-b"),
            ],
        )
        url = screen_url(api_url, "sb-east", OPENING)
        async with live_browser() as browser, live_page(browser, url, size=WALL) as page:
            await until(page, f"{row_rank('cm-a')} === 1 && {row_rank('cm-b')} === 2", what="the first board")
            await until(page, "window.screenState.connection === 'live'", what="the stream connected")
            assert await text_of(page, "#conn") == "实时更新"
            await page.evaluate("window.sameDocument = true")  # gone if the page reloads

            server.stop()
            await until(
                page, f"document.querySelector('#conn').innerText.includes('{LOST}')", what="the lost state"
            )
            assert await page.get_attribute("#conn", "class") == "conn lost"
            await save_screenshot(page, tmp_path / "screen-lost.png", artefact="screen-lost.png")

            server = api(prefix, tmp_path, port, CAMPAIGNS_DATABASE_URL=database).start()
            await until(page, "window.screenState.connection === 'live'", timeout=120, what="live again")
            assert await text_of(page, "#conn") == "实时更新"
            assert await page.evaluate("window.sameDocument === true"), "the page was reloaded"

            # 王芳 passes 张伟 (20) with two more accounts (30), seen through the new server.
            await send_events(topics, [basic("b1", "cm-b"), basic("b2", "cm-b")])
            await until(page, f"{row_rank('cm-b')} === 1 && {row_rank('cm-a')} === 2", what="王芳 overtakes")
            await until(
                page,
                f"{ticker_text()}.some((t) => t.includes('王芳 新开基本户 +10'))",
                what="the ticker after reconnect",
            )
            await save_screenshot(page, tmp_path / "screen-recovered.png", artefact="screen-recovered.png")
            # Requests failed while the server was away; nothing else may have gone wrong.
            errors = page_errors(
                page, ignore=("Failed to load resource", "ERR_CONNECTION_REFUSED", "EventSource")
            )
            assert not errors, errors
    finally:
        server.stop()
