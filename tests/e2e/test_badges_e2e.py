"""Badges and challenges in a real headless Chromium, from events scored by a real worker: the
wall screen celebrates a badge (gold and green, never red), shows the week's sprint with its
winners in the order they reached the goal, and takes a badge back quietly when a clawback undoes
its reason; the manager's page shows the badge wall, won badges lit and the rest still to win.
Screenshots go to the test's directory and .run/screenshots/ (the README's are copies)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from schemas.topics import Topics
from tests.e2e.pages_world import admin_token, basic, member, publish_over_http, screen_url, until
from tests.support.events import joined
from tests.support.live_browser import (
    ARTEFACTS,
    PHONE,
    WALL,
    live_browser,
    live_page,
    page_errors,
    save_screenshot,
)
from tests.support.processes import Process
from tests.support.scoring import send_events

SPRINTS = "badges-and-sprints"


def closed(account: str, cm_id: str, day: int) -> dict[str, Any]:
    return {
        "event_id": f"close-{account}",  # an account opened by basic() (tests/support/events.py)
        "type": "account.closed",
        "schema_version": 1,
        "occurred_at": f"2026-02-{day:02d}T16:00:00+08:00",
        "source": "test",
        "data": {
            "account_id": f"acct-{account}",
            "customer_id": f"cust-{account}",
            "cm_id": cm_id,
            "kind": "closed",
        },
    }


@pytest.mark.board_clock("2026-02-06T17:00:00+08:00")  # inside the 开门红 week
async def test_badges_celebrated_on_the_screen_and_shown_on_the_badge_wall(
    running_worker: Process, api_url: str, topics: Topics, tmp_path: Path
) -> None:
    await publish_over_http(api_url, "badges_and_sprints")
    org = [
        *member("cm-a", "张伟", "sb-east", "team-pioneer"),
        *member("cm-b", "王芳", "sb-east"),
        joined("cm-d", "sb-east", "赵磊", "org-cm-d-sb", unit_name="城东支行"),
    ]
    # The week's sprint (two basic accounts): 王芳 on Tuesday at 10:00, 赵磊 on Wednesday at 10:00.
    early = [basic("w1", "cm-b", day=2), basic("w2", "cm-b", day=3), basic("z1", "cm-d", day=3)]
    early.append(basic("z2", "cm-d", day=4))
    await send_events(topics, org + early)

    url = screen_url(api_url, "sb-east", SPRINTS)
    async with live_browser() as browser:
        async with live_page(browser, url, size=WALL) as page:
            await until(page, "window.screenState.connection === 'live'", what="the stream connected")
            await until(
                page, "document.querySelectorAll('#challenges .c-rows li.won').length >= 1", what="a winner"
            )
            # 张伟 opens a basic account every working day, Monday to Friday: the month's first
            # basic account, the sprint's goal (third to reach it) and the five-day streak.
            await send_events(topics, [basic(f"a{d}", "cm-a", day=d) for d in range(2, 7)])
            await until(page, "(window.screenState.celebrations || 0) >= 1", what="a celebration")
            await until(page, "document.getElementById('celebrate').classList.contains('show')", what="shown")
            await page.wait_for_timeout(900)  # mid-animation: the medal in, the sparks flying
            # animations allowed: a finished one would have faded the celebration out
            await page.screenshot(path=str(tmp_path / "celebration.png"), animations="allow")
            ARTEFACTS.mkdir(parents=True, exist_ok=True)
            (ARTEFACTS / "celebration.png").write_bytes((tmp_path / "celebration.png").read_bytes())
            text = await page.inner_text("#celebrate")
            assert "张伟" in text and ("徽章" in text or "挑战" in text), text
            colour = await page.evaluate(
                "getComputedStyle(document.getElementById('celebrate')).backgroundImage"
            )
            assert "192, 57, 43" not in colour and "rgb(122, 31, 43)" not in colour, "a celebration in red"

            await until(
                page,
                "Array.from(document.querySelectorAll('#ticker li.reward'))"
                ".map((li) => li.innerText).join(' ').includes('连续5个工作日开基本户')",
                what="the streak in the ticker",
            )
            await until(
                page,
                "document.querySelectorAll('#challenges .c-rows li.won').length === 3",
                what="three winners",
            )
            sprint = await page.eval_on_selector_all(
                '#challenges [data-challenge="kaimenhong_week"] .c-rows li',
                "items => items.map((li) => li.querySelector('.n').innerText + ':' + li.className)",
            )
            # by the moment each reached two basic accounts, in event time: 张伟's Tuesday arrived
            # last but ties 王芳's Tuesday 10:00 (the id decides), 赵磊 on Wednesday comes third
            assert sprint[:3] == ["张伟:won", "王芳:won", "赵磊:won"], sprint
            await until(page, "!document.getElementById('celebrate').classList.contains('show')", timeout=30)
            await save_screenshot(page, tmp_path / "challenge.png", artefact="challenge.png")

            # Monday's account closed within 30 days: the streak loses its first day and goes,
            # quietly; nothing on the screen turns red.
            await send_events(topics, [closed("a2", "cm-a", 9)])
            await until(
                page,
                "Array.from(document.querySelectorAll('#ticker li.reward-off')).some((li) =>"
                " li.innerText.includes('收回徽章'))",
                what="the badge taken back",
            )
            assert await page.query_selector("#ticker li.reward-off.minus") is None
            assert not page_errors(page)

        async with live_page(browser, f"{api_url}/me/cm-a?token={admin_token(api_url)}", size=PHONE) as page:
            wall = f'article.comp[data-id="{SPRINTS}"] .badge-wall'
            await until(
                page, f"document.querySelectorAll('{wall} .badge.won').length === 1", what="the badge wall"
            )
            badges = await page.eval_on_selector_all(
                f"{wall} .badge",
                "items => items.map((li) => [li.dataset.badge, li.classList.contains('won')])",
            )
            assert badges == [
                ["first_basic_of_month", True],
                ["payroll_10th", False],
                ["points_100", False],
                ["basic_5_days", False],  # taken back by the clawback
            ]
            sprints = await page.inner_text(f'article.comp[data-id="{SPRINTS}"] .sprints')
            assert "已达成" in sprints
            await page.locator(wall).scroll_into_view_if_needed()
            await save_screenshot(page, tmp_path / "badges.png", artefact="badges.png")
            assert not page_errors(page)
