"""企业微信通知 in the console, in Chromium: an organiser opens a published competition, gives it a
group robot (the webhook typed into a password field), and sees it again masked; saving again
with the field empty keeps the robot; a wrong choice is refused with its field named."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.pages_world import OPENING, publish_over_http, until
from tests.support.auth import make_user
from tests.support.live_browser import live_browser, live_page, page_errors, save_screenshot, text_of

ORGANISER, PASSWORD = "li.organiser", "organiser-password-2"
HOOK = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa"


def q(selector: str) -> str:
    return f"document.querySelector({json.dumps(selector)})"


async def test_an_organiser_gives_a_competition_its_robot(api_url: str, tmp_path: Path) -> None:
    make_user(api_url, ORGANISER, PASSWORD, "organiser")
    await publish_over_http(api_url, "feb_account_opening")
    async with live_browser() as browser, live_page(browser, api_url + "/console", size=(1440, 1100)) as page:
        await until(page, f"!{q('#login-view')}.hidden", what="the login form")
        await page.fill("#login-username", ORGANISER)
        await page.fill("#login-password", PASSWORD)
        await page.click("#login-submit")
        row = f"#competition-list tbody tr[data-id='{OPENING}'][data-status='published']"
        await until(page, f"{q(row)} !== null", what="the published competition listed")
        await page.click(row)
        await until(page, f"!{q('#robot')}.hidden", what="the robot card")
        assert await text_of(page, "#robot-status") == "尚未设置"

        await page.fill("#robot-url", HOOK)
        await page.fill("#robot-top", "3")
        await page.uncheck("#robot-kinds input[value=award]")
        await page.click("#robot-save")
        await until(page, f"({q('#robot-status')}.textContent || '').startsWith('已发送')", what="saved")
        placeholder = await page.get_attribute("#robot-url", "placeholder") or ""
        assert "key=693a…5aaa" in placeholder and "7aoc" not in placeholder, placeholder
        assert await page.input_value("#robot-url") == ""
        assert await page.input_value("#robot-top") == "3"
        checked = await page.eval_on_selector_all(
            "#robot-kinds input:checked", "xs => xs.map((x) => x.value)"
        )
        assert checked == ["rank"]
        assert "7aoc" not in await page.content()

        await page.fill("#robot-top", "99")  # past the form's max: the API says which field
        await page.eval_on_selector("#robot-form", "f => f.noValidate = true")
        await page.click("#robot-save")
        await until(page, f"({q('#robot-error')}.textContent || '').includes('top_n')", what="the refusal")
        await page.fill("#robot-top", "4")
        await page.click("#robot-save")  # the webhook field left empty: the robot stays
        await until(page, f"{q('#robot-error')}.textContent === ''", what="saved again")
        await until(page, f"{q('#robot-top')}.value === '4'", what="top 4 shown")
        placeholder = await page.get_attribute("#robot-url", "placeholder") or ""
        assert "key=693a…5aaa" in placeholder
        await save_screenshot(page, tmp_path / "console-robot.png", artefact="console-robot.png")
        assert not page_errors(page, ignore=("Failed to load resource",)), page_errors(page)
