"""The 晨会 page of a sub-branch in a real headless Chromium, as of yesterday's close in
Shanghai (the API's board clock pinned to the morning of 5 February 2026): who climbed and who
fell on the 4th, who is closest to the next rank, every manager's line with the whole board's
rank; its print layout (the controls hidden), its XLSX, and the board of an earlier moment
(`as_of`) it is made from; and the wall screen replaying that day. Scoring runs for real:
worker, ledger sink, API."""

from __future__ import annotations

import asyncio
import io
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.topics import Topics
from tests.e2e.pages_world import OPENING, basic, display_token, member, publish_over_http, row_rank, until
from tests.support.live_browser import live_browser, live_page, page_errors, save_screenshot, text_of
from tests.support.processes import Process, sink
from tests.support.scoring import send_events

pytestmark = pytest.mark.board_clock("2026-02-05T09:00:00+08:00")


async def _report(api_url: str, token: str, want: int) -> dict[str, Any]:
    """The report once the sink has stored every entry (`want` lines of 城东支行)."""
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        while True:
            answer = await client.get(
                f"/api/competitions/{OPENING}/morning", params={"sub_branch": "sb-east", "token": token}
            )
            assert answer.status_code == 200, answer.text
            body: dict[str, Any] = answer.json()
            if len(body["lines"]) == want and body["lines"][0]["points"] == "40.00":
                return body
            assert time.monotonic() < deadline, body
            await asyncio.sleep(0.5)


async def test_the_morning_meeting_page(
    running_worker: Process, api_url: str, prefix: str, topics: Topics, tmp_path: Path
) -> None:
    ledger = sink(prefix, tmp_path, f"sqlite:///{tmp_path / 'api.db'}").start()
    try:
        await publish_over_http(api_url, "feb_account_opening", "badges_and_sprints")
        await send_events(
            topics,
            [
                *member("cm-a", "张伟", "sb-east", "team-pioneer"),
                *member("cm-b", "王芳", "sb-east"),
                *member("cm-d", "赵强", "sb-east"),
                *member("cm-c", "李娜", "sb-west"),
                # 3 February: 王芳 30, 李娜 20, 张伟 10.  4 February: 张伟 +30, 赵强 +10.
                *(basic(f"b{i}", "cm-b", day=3) for i in range(3)),
                *(basic(f"c{i}", "cm-c", day=3) for i in range(2)),
                basic("a0", "cm-a", day=3),
                *(basic(f"a{i}", "cm-a", day=4) for i in range(1, 4)),
                basic("d0", "cm-d", day=4),
                # 5 February, today: after the close the meeting goes over, so not in it.
                basic("b9", "cm-b", day=5),
            ],
        )
        token = display_token(api_url, "sb-east")
        report = await _report(api_url, token, want=3)
        assert report["day"] == "2026-02-04"
        assert [(x["name"], x["rank"], x["points"], x["gained"], x["change"]) for x in report["lines"]] == [
            ("张伟", 1, "40.00", "30.00", 2),
            ("王芳", 2, "30.00", "0.00", -1),
            ("赵强", 4, "10.00", "10.00", None),  # 李娜 (城西) is third: ranks are the whole board's
        ]
        assert [m["name"] for m in report["up"]] == ["张伟"]
        assert [m["name"] for m in report["down"]] == ["王芳"]
        assert [(c["name"], c["gap"], c["ahead"]) for c in report["closest"]] == [
            ("王芳", "10.00", "张伟"),
            ("赵强", "10.00", "李娜"),
        ]
        async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
            # the board at an earlier moment, from the same ledger
            past = await client.get(
                f"/api/competitions/{OPENING}/leaderboard",
                params={"as_of": "2026-02-03T23:59:59+08:00", "token": token},
            )
            assert past.status_code == 200, past.text
            assert [(r["id"], r["rank"], r["points"]) for r in past.json()["rows"]] == [
                ("cm-b", 1, "30.00"),
                ("cm-c", 2, "20.00"),
                ("cm-a", 3, "10.00"),
            ]
            naive = await client.get(
                f"/api/competitions/{OPENING}/leaderboard",
                params={"as_of": "2026-02-03T23:59:59", "token": token},
            )
            assert naive.status_code == 422
            # a display token of one sub-branch reads no other's meeting
            other = await client.get(
                f"/api/competitions/{OPENING}/morning", params={"sub_branch": "sb-west", "token": token}
            )
            assert other.status_code == 403
            workbook = await client.get(
                f"/api/competitions/{OPENING}/morning.xlsx", params={"sub_branch": "sb-east", "token": token}
            )
            assert workbook.status_code == 200
            with zipfile.ZipFile(io.BytesIO(workbook.content)) as book:
                strings = book.read("xl/sharedStrings.xml").decode()
                assert {"张伟", "王芳", "赵强", "客户经理", "还差积分"} <= {
                    s for s in strings.replace("<", ">").split(">")
                }
                sheets = book.read("xl/workbook.xml").decode()
                assert all(f'name="{n}"' in sheets for n in ("排名", "进退", "冲刺", "徽章")), sheets
            # the badges earned on the 4th, in a competition that has them: 赵强's first basic account
            badges = await client.get(
                "/api/competitions/badges-and-sprints/morning",
                params={"sub_branch": "sb-east", "token": token},
            )
            assert badges.status_code == 200, badges.text
            earned = [(b["name"], b["badge"]) for b in badges.json()["badges"]]
            assert ("赵强", "本月首个基本户") in earned, earned
            assert all(name != "王芳" for name, _ in earned), "王芳's came on the 3rd"

        url = f"{api_url}/morning/sb-east?competition={OPENING}&token={token}"
        async with live_browser() as browser, live_page(browser, url, size=(1280, 900)) as page:
            await until(page, "window.morningState.ready === true", what="the report drawn")
            assert await text_of(page, "#title") == "城东支行 晨会"
            assert "截至 2026-02-04 日终" in await text_of(page, "#subtitle")
            assert "张伟 第1名 ↑2" in await text_of(page, "#up")
            assert "王芳 第2名 ↓1" in await text_of(page, "#down")
            assert "再得 10.00 分追平 张伟" in await text_of(page, "#closest")
            rows = await page.eval_on_selector_all("#lines tbody tr", "rows => rows.map((r) => r.dataset.cm)")
            assert rows == ["cm-a", "cm-b", "cm-d"]
            assert "新上榜" in await text_of(page, '#lines tr[data-cm="cm-d"]')
            assert await page.is_hidden("#badges-card")  # the opening contest has no badges
            href = await page.get_attribute("#xlsx", "href") or ""
            assert "/morning.xlsx?" in href and "token=" in href and "day=2026-02-04" in href
            shot = await save_screenshot(page, tmp_path / "morning.png", artefact="morning.png")
            assert shot.stat().st_size > 10_000
            # printed: the controls are not on paper, the report is
            await page.emulate_media(media="print")
            assert not await page.is_visible(".actions")
            assert await page.is_visible("#lines")
            pdf = await page.pdf(format="A4")
            assert pdf[:4] == b"%PDF"
            assert not page_errors(page), page_errors(page)

        # the wall screen replays the 4th from the ledger: 王芳 leads at the day's start, 张伟 at its end
        replay = (
            f"{api_url}/screen?sub_branch=sb-east&competitions={OPENING}&rotate=0&replay=2026-02-04&step=2"
        )
        async with live_browser() as browser, live_page(browser, f"{replay}&token={token}") as page:
            await until(page, "(window.screenState.replay || {}).step === 1", what="the replay's first step")
            assert await page.evaluate(row_rank("cm-b")) == 1
            assert await page.evaluate(row_rank("cm-a")) == 3
            assert await text_of(page, "#clock") == "00:00:00"
            assert "回放 2026-02-04" in await text_of(page, "#conn")
            await until(page, "(window.screenState.replay || {}).done === true", what="the replay's end")
            assert await page.evaluate(row_rank("cm-a")) == 1
            assert await page.evaluate(row_rank("cm-d")) == 4
            assert await text_of(page, "#clock") == "10:00:00"
            assert await page.evaluate("window.screenState.moves") >= 1
            await save_screenshot(page, tmp_path / "screen-replay.png", artefact="screen-replay.png")
            assert not page_errors(page), page_errors(page)
    finally:
        ledger.stop()
