"""A manager's own page in a real headless Chromium at a phone's size (390x844): rank and points
per competition, points by component with Chinese labels, who is just above and by how much,
the 小小银行家 dimensions against their targets with the balance-rule warning, the latest events
that scored; then, live, a new event moves the manager to first place without a reload."""

from __future__ import annotations

from pathlib import Path

from schemas.topics import Topics
from tests.e2e.pages_world import OPENING, admin_token, assigned, basic, member, publish_over_http, until
from tests.support.live_browser import PHONE, live_browser, live_page, page_errors, save_screenshot, text_of
from tests.support.processes import Process, sink
from tests.support.scoring import send_events


def card(cid: str) -> str:
    return f'article.comp[data-id="{cid}"]'


async def test_the_manager_page_on_a_phone(
    running_worker: Process, api_url: str, prefix: str, topics: Topics, tmp_path: Path
) -> None:
    # The ledger sink writes what 积分明细 (the explain API) reads: the API's own database.
    ledger = sink(prefix, tmp_path, f"sqlite:///{tmp_path / 'api.db'}").start()
    try:
        await publish_over_http(api_url, "feb_account_opening", "little_banker")
        events = [
            *member("cm-a", "张伟", "sb-east", "team-pioneer"),
            *member("cm-b", "王芳", "sb-east"),
            *member("cm-c", "李娜", "sb-west"),
            # 小小银行家: 张伟 has 20 of 25 offline credit customers, 6 of 30 online (20 %: below the
            # 60 % floor, so the balance rule applies), 30 of 50 non-credit.
            *assigned(20, "cm-a", "credit_offline"),
            *assigned(6, "cm-a", "credit_online"),
            *assigned(30, "cm-a", "non_credit"),
            # February: 王芳 30, 张伟 20, 李娜 10.
            *(basic(f"b{i}", "cm-b") for i in range(3)),
            *(basic(f"a{i}", "cm-a") for i in range(2)),
            basic("c0", "cm-c"),
        ]
        await send_events(topics, events)

        async with (
            live_browser() as browser,
            live_page(browser, f"{api_url}/me/cm-a?token={admin_token(api_url)}", size=PHONE) as page,
        ):
            opening = card(OPENING)
            await until(
                page,
                f"(document.querySelector('{opening} .hero .rank b') || {{}}).innerText === '2'",
                what="张伟 second in February",
            )
            assert await text_of(page, "#name") == "张伟"
            assert await text_of(page, "#unit") == "城东支行 · 先锋团队"
            assert await text_of(page, f"{opening} .hero .pts b") == "20"
            assert "距第 1 名（王芳）还差 10 分" in await text_of(page, f"{opening} .gap")
            around = await page.eval_on_selector_all(
                f"{opening} .around li", "items => items.map((li) => [li.dataset.id, li.className])"
            )
            assert around[:2] == [["cm-b", "above"], ["cm-a", "me"]], around
            components = await text_of(page, f"{opening} table.components")
            assert "新开" in components and "合计" in components, components
            assert "opening" not in components, "a component shown by its code, not its Chinese label"

            banker = card("little-banker")
            await until(
                page, f"document.querySelector('{banker} .warning') !== null", what="the balance warning"
            )
            warning = await text_of(page, f"{banker} .warning")
            assert "线上授信客户" in warning, warning
            offline = await text_of(page, f'{banker} .bar[data-metric="credit_offline_customers"]')
            assert "线下授信客户" in offline and "20 / 25" in offline and "还差 5" in offline, offline
            online = await text_of(page, f'{banker} .bar[data-metric="credit_online_customers"]')
            assert "6 / 30" in online and "还差 24" in online, online
            assert "low" in (
                await page.get_attribute(f'{banker} .bar[data-metric="credit_online_customers"]', "class")
                or ""
            )

            recent = await text_of(page, "#recent")
            assert "新开基本户 ×2 +10" in recent, recent
            assert "小小银行家综合得分 ×" in recent, f"twenty re-scores not read as one line: {recent}"

            # 积分明细: the ledger entries behind the 20 points, from the sink's database.
            await page.click(f"{opening} .ledger-toggle")
            await until(
                page,
                f"document.querySelectorAll('{opening} .ledger-list li .p').length === 2",
                what="two entries in 积分明细",
            )
            entries = await page.eval_on_selector_all(
                f"{opening} .ledger-list li", "items => items.map((li) => li.innerText)"
            )
            assert all("新开基本户" in e and "+10" in e and "规则第 1 版" in e for e in entries), entries
            fits = await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
            assert fits, "the page is wider than a phone"
            shot = await save_screenshot(page, tmp_path / "me.png", artefact="me.png")
            assert shot.stat().st_size > 10_000

            # Live: two more basic accounts (40 against 王芳's 30) and 张伟 leads, no reload.
            await until(page, "window.meState.connection === 'live'", what="the streams connected")
            await send_events(topics, [basic("a2", "cm-a"), basic("a3", "cm-a")])
            await until(
                page,
                f"(document.querySelector('{opening} .hero .rank b') || {{}}).innerText === '1'",
                what="张伟 first",
            )
            assert await text_of(page, f"{opening} .hero .pts b") == "40"
            assert "暂列第一" in await text_of(page, f"{opening} .gap")
            await until(page, "window.meState.scored >= 2", what="the page heard both events")
            assert "新开基本户 +10" in await text_of(page, "#toast")
            await save_screenshot(page, tmp_path / "me-live.png", artefact="me-live.png")

            # 为什么这笔没算分: one of 张伟's own events is explained; 王芳's is not found under his page.
            await page.fill("#why-id", "a2")
            await page.click("#why-form button")
            answer = await until(
                page, "(document.querySelector('#why-answer .why-status') || {}).innerText", what="the answer"
            )
            assert answer == "a2：已计分", answer
            assert "计 +10 分" in await text_of(page, "#why-answer")
            await page.fill("#why-id", "b0")
            await page.click("#why-form button")
            refused = await until(
                page,
                "(t => t.includes('找不到') && t)(document.querySelector('#why-answer').innerText)",
                what="王芳's event refused",
            )
            assert "只能查询本人的事件" in refused, refused
            assert not page_errors(page, ignore=("404",)), page_errors(page)
    finally:
        ledger.stop()
