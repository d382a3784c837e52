"""The organisers' console in a real headless Chromium, against a real API and worker on the real
broker: an organiser logs in, makes a contest from the 多开户、多开基本户 template, is told beside
the field what is wrong with a rule, previews the draft on the history already in Kafka, publishes
it, changes a rule in a new version, sees who would move, publishes that, and watches the live
board move when new events arrive; then closes the contest and finds it all in the audit view.

The history (February 2026, all in the contest's window), under the template's rules with the
daily cap raised to 80:

    张伟 cm-a  2 basic accounts, tax agent, new firm: 2 x (10 + 2 + 3 + 5)   = 40
    王芳 cm-b  4 general accounts (no bonuses on general accounts): 4 x 4   = 16
    李娜 cm-c  1 basic account, non-credit, no channel: 10 + 2               = 12

Version 2 pays 12 for a general account: 王芳 48 moves up past 张伟 40. Then 李娜 opens three
more basic accounts through a tax agent for new firms (+60): 72, first on the live board.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import FilePayload, Page, Response

from schemas.topics import Topics
from streams.core.templates import load_template
from tests.support.auth import api_auth, credentials_for, make_user
from tests.support.events import joined, opened
from tests.support.http import poll
from tests.support.kafka import wait_for
from tests.support.live_browser import live_browser, live_page, page_errors, save_screenshot, text_of
from tests.support.processes import Process, sink
from tests.support.scoring import send_events

ORGANISER, PASSWORD = "wang.organiser", "organiser-password-1"
CID = "feb-opening-e2e"
NAME = "2月开户竞赛（端到端）"
SIZE = (1440, 1000)
NAMES = {"cm-a": "张伟", "cm-b": "王芳", "cm-c": "李娜"}
UNITS = {"cm-a": ("sb-east", "城东支行"), "cm-b": ("sb-west", "城西支行"), "cm-c": ("sb-east", "城东支行")}
# The browser logs each refused request as a console error; the test checks those by URL itself.
EXPECTED = ("Failed to load resource",)


def _member(cm_id: str) -> dict[str, Any]:
    sub_branch, unit_name = UNITS[cm_id]
    event = joined(cm_id, sub_branch, name=NAMES[cm_id], event_id=f"org-{cm_id}")
    event["data"]["unit_name"] = unit_name
    return event


def _opening(event_id: str, cm_id: str, day: int, **data: Any) -> dict[str, Any]:
    event = opened(event_id, cm_id=cm_id, **data)
    event["occurred_at"] = f"2026-02-{day:02d}T10:00:00+08:00"
    return event


def _star(event_id: str, cm_id: str, day: int) -> dict[str, Any]:
    """A basic account from a tax agent for a new firm: 10 + 2 + 3 + 5 = 20 points."""
    return _opening(event_id, cm_id, day, account_type="basic", channel="tax_agent", new_firm=True)


HISTORY = [
    *(_member(cm) for cm in NAMES),
    _star("h-a1", "cm-a", 3),
    _star("h-a2", "cm-a", 3),
    *(_opening(f"h-b{i}", "cm-b", 4 + i, account_type="general") for i in range(4)),
    _opening("h-c1", "cm-c", 5, account_type="basic"),
]
LIVE = [_star(f"live-c{i}", "cm-c", 20) for i in range(3)]


async def _until(page: Page, expression: str, what: str, timeout: float = 90.0) -> Any:
    """Wait for a JavaScript expression to be truthy; fail naming what was awaited and showing
    the page's visible text."""
    try:
        handle = await page.wait_for_function(expression, timeout=timeout * 1000, polling=250)
        return await handle.json_value()
    except Exception as exc:
        text = " ".join((await page.inner_text("body")).split())[:2000]
        raise AssertionError(f"{what}: not in {timeout}s; the page shows: {text}") from exc


def _q(selector: str) -> str:
    """JS: the first element matching the selector (null if none)."""
    return f"document.querySelector({json.dumps(selector)})"


async def _shown(page: Page, selector: str, what: str, timeout: float = 90.0) -> None:
    await _until(page, f"{_q(selector)} !== null", what, timeout)


async def _says(page: Page, selector: str, start: str, what: str) -> None:
    """Wait until the element's text starts with `start`."""
    await _until(page, f"({_q(selector)}.textContent || '').startsWith({json.dumps(start)})", what)


async def _status(page: Page, status: str, what: str) -> None:
    await _until(page, f"{_q('#editor-status')}.dataset.status === {json.dumps(status)}", what)


def _cells(table: str, cm_id: str) -> str:
    """JS: the texts of the cells of this manager's row in a table, [] if absent."""
    row = _q(f'{table} tbody tr[data-id="{cm_id}"]')
    return f"Array.from(({row} || {{children: []}}).children).map((td) => td.innerText.trim())"


async def _row(page: Page, table: str, cm_id: str) -> list[str]:
    cells: list[str] = await page.evaluate(_cells(table, cm_id))
    return cells


async def _board_shows(page: Page, cm_id: str, rank: str, points: str, what: str) -> None:
    cells = _cells("#live-table", cm_id)
    await _until(page, f"{cells}[0] === '{rank}' && {cells}[2] === '{points}'", what)


async def _order(page: Page, table: str) -> list[str]:
    ids: list[str] = await page.eval_on_selector_all(f"{table} tbody tr", "rs => rs.map((r) => r.dataset.id)")
    return ids


async def _confirm(page: Page) -> None:
    await page.wait_for_selector("#confirm[open]")
    await page.click("#confirm-ok")
    await page.wait_for_selector("#confirm", state="hidden")


async def _save(page: Page, what: str) -> None:
    await page.click("#save-draft")
    await _says(page, "#save-status", "已保存", what)


async def _preview(page: Page) -> None:
    await page.click("#run-preview")
    await _until(page, f"{_q('#preview')}.dataset.state === 'done'", "the preview", timeout=120)


async def _log_in(page: Page, username: str = ORGANISER, password: str = PASSWORD) -> None:
    await _until(page, f"!{_q('#login-view')}.hidden", "the login form")
    await page.fill("#login-username", username)
    await page.fill("#login-password", password)
    await page.click("#login-submit")
    await _until(page, f"!{_q('#app')}.hidden", "the console after logging in")


async def test_an_organiser_builds_previews_publishes_and_watches_a_contest(
    running_worker: Process, api_url: str, topics: Topics, tmp_path: Path
) -> None:
    make_user(api_url, ORGANISER, PASSWORD, "organiser")
    await send_events(topics, HISTORY)
    # The preview reads the validated history: wait until the worker has passed all of it on.
    await wait_for(topics.validated, lambda records: len(records) >= len(HISTORY), timeout=120)

    async with live_browser() as browser, live_page(browser, None, size=SIZE) as page:
        refused: list[tuple[int, str, str]] = []

        def on_response(response: Response) -> None:
            if response.status >= 400:
                refused.append((response.status, response.request.method, response.url))

        page.on("response", on_response)
        await page.goto(api_url + "/console")

        # -- 登录: a wrong password says nothing about which part was wrong ----------------
        await _until(page, f"!{_q('#login-view')}.hidden", "the login form")
        await page.fill("#login-username", ORGANISER)
        await page.fill("#login-password", "not-the-password")
        await page.click("#login-submit")
        await _says(page, "#login-error", "用", "the refusal")
        assert await text_of(page, "#login-error") == "用户名或密码错误"
        await _log_in(page)
        assert await text_of(page, "#who-name") == ORGANISER
        assert await text_of(page, "#who-role") == "组织者"

        # -- 从模板新建 -------------------------------------------------------------------
        await _until(page, f"{_q('#template')}.options.length >= 6", "the templates")
        titles = await page.eval_on_selector_all("#template option", "os => os.map((o) => o.textContent)")
        for title in ("多开户、多开基本户", "存款旺季营销", "开门红", "代发工资", "三小一卡", "小小银行家"):
            assert any(title in t for t in titles), (title, titles)
        await page.select_option("#template", "feb_account_opening")
        await page.fill("#new-id", CID)
        await page.fill("#new-name", NAME)
        await page.fill("#new-start", "2026-02-01")
        await page.fill("#new-end", "2026-02-28")
        await page.click("#create")
        await _says(page, "#editor-title", NAME, "the new draft")
        assert await page.get_attribute("#editor-status", "data-status") == "draft"
        assert await page.input_value('[data-path="rules[0].points.basic"]') == "10"
        assert await page.input_value('[data-path="window.start"]') == "2026-02-01"

        # -- a refused rule is shown beside its field -------------------------------------
        cap = '[data-path="rules[0].daily_cap"]'
        await page.fill(cap, "0")
        await page.click("#save-draft")
        await _shown(page, ".field-error", "the field's message")
        message = await page.eval_on_selector(".field-error", "e => [e.dataset.errorFor, e.textContent]")
        assert message == ["rules[0].daily_cap", "必须大于 0"]
        beside = await page.eval_on_selector(
            ".field-error", "e => e.closest('.field').querySelector('input').dataset.path"
        )
        assert beside == "rules[0].daily_cap", "the message is not beside the daily cap"
        assert await page.eval_on_selector(cap, "e => e.closest('.field').classList.contains('invalid')")
        await save_screenshot(page, tmp_path / "console-invalid.png", artefact="console-invalid.png")
        await page.fill(cap, "80")
        await _save(page, "the corrected draft saved")
        assert await page.query_selector(".field-error") is None

        # -- 试算 on the history: nothing published yet, everyone is new --------------------
        await _preview(page)
        assert await _row(page, "#preview-table", "cm-a") == [
            "1",
            "张伟（cm-a）",
            "40.00",
            "—",
            "—",
            "新上榜",
            "+40.00",
        ]
        assert (await _row(page, "#preview-table", "cm-b"))[:3] == ["2", "王芳（cm-b）", "16.00"]
        assert (await _row(page, "#preview-table", "cm-c"))[:3] == ["3", "李娜（cm-c）", "12.00"]
        meta = await text_of(page, "#preview-meta")
        assert "耗时" in meta and "秒" in meta, meta
        assert float(await page.get_attribute("#preview-meta", "data-elapsed-ms") or "-1") > 0

        # -- 发布 v1, with confirmation; the live board shows the history's standings ------
        await page.click("#publish")
        await _confirm(page)
        await _status(page, "published", "v1 published")
        await _board_shows(page, "cm-a", "1", "40.00", "张伟 first with 40 on the live board")
        await _board_shows(page, "cm-c", "3", "12.00", "李娜 third with 12 on the live board")
        assert await page.is_hidden("#save-draft"), "a published version offers to be edited"

        # -- v2: general accounts pay 12; the preview says who moves -----------------------
        await page.click("#new-version")
        await _status(page, "draft", "the v2 draft")
        assert await page.get_attribute("#versions button.selected", "data-version") == "2"
        await page.fill('[data-path="rules[0].points.general"]', "12")
        await _save(page, "v2 saved")
        await _preview(page)
        assert await _order(page, "#preview-table") == ["cm-b", "cm-a", "cm-c"]
        assert await _row(page, "#preview-table", "cm-b") == [
            "1",
            "王芳（cm-b）",
            "48.00",
            "2",
            "16.00",
            "↑1",
            "+32.00",
        ]
        assert await _row(page, "#preview-table", "cm-a") == [
            "2",
            "张伟（cm-a）",
            "40.00",
            "1",
            "40.00",
            "↓1",
            "0",
        ]
        assert await _row(page, "#preview-table", "cm-c") == [
            "3",
            "李娜（cm-c）",
            "12.00",
            "3",
            "12.00",
            "—",
            "0",
        ]
        moved = await page.eval_on_selector_all(
            "#preview-table tr.moved", "rs => rs.map((r) => r.dataset.id)"
        )
        assert moved == ["cm-b", "cm-a"], "the movers are not the highlighted rows"
        assert "对比已发布 v1" in await text_of(page, "#preview-meta")
        await page.evaluate(f"{_q('#preview')}.scrollIntoView()")
        await save_screenshot(page, tmp_path / "console-preview.png", artefact="console-preview.png")
        # The preview did not touch the live board.
        assert (await _row(page, "#live-table", "cm-b"))[2] == "16.00"

        await page.click("#publish")
        await _confirm(page)
        await _status(page, "published", "v2 published")
        await _board_shows(page, "cm-b", "1", "48.00", "王芳 first with 48 on the live board")

        # -- new events arrive: the live board moves ----------------------------------------
        await send_events(topics, LIVE)
        await _board_shows(page, "cm-c", "1", "72.00", "李娜 first with 72 after her new accounts")
        assert await _order(page, "#live-table") == ["cm-c", "cm-b", "cm-a"]
        await page.evaluate(f"{_q('#live')}.scrollIntoView()")
        await save_screenshot(page, tmp_path / "console-live.png", artefact="console-live.png")

        # -- 结束 ----------------------------------------------------------------------------
        await page.click("#close-competition")
        await _confirm(page)
        await _status(page, "closed", "v2 closed")
        statuses = await page.eval_on_selector_all(
            f"#competition-list tbody tr[data-id='{CID}']", "rs => rs.map((r) => r.dataset.status)"
        )
        assert statuses == ["published", "closed"], statuses

        # -- 审计: who did what, with the diff ----------------------------------------------
        await page.click("nav.tabs button[data-tab=audit]")
        await _until(
            page, "document.querySelectorAll('#audit-list tr[data-action]').length >= 6", "the audit log"
        )
        entries = await page.eval_on_selector_all(
            "#audit-list tbody tr[data-action]",
            "rs => rs.map((r) => [r.dataset.action, r.dataset.object, r.children[1].innerText, r.innerText])",
        )
        ours = [e for e in entries if e[1] == f"competition/{CID}"]
        actions = [e[0] for e in ours]
        for action in ("competition.create", "competition.edit", "competition.publish", "competition.close"):
            assert action in actions, actions
        assert all(e[2] == f"user:{ORGANISER}" for e in ours), ours
        assert any("rules[0].points.general" in e[3] and "4" in e[3] and "12" in e[3] for e in ours), ours
        await save_screenshot(page, tmp_path / "console-audit.png", artefact="console-audit.png")

        # The only refusals are those the test caused: the visit before logging in (who am I?),
        # the wrong password and the bad daily cap.
        paths = [(status, method, url.removeprefix(api_url)) for status, method, url in refused]
        assert paths == [
            (401, "GET", "/api/auth/me"),
            (401, "POST", "/api/auth/login"),
            (422, "PUT", f"/api/console/competitions/{CID}/versions/1"),
        ], paths
        assert not page_errors(page, ignore=EXPECTED), page_errors(page, ignore=EXPECTED)


ROSTER = """客户经理编号,客户经理姓名,支行编号,支行名称,团队编号,团队名称,生效日期
cm-a,张伟,sb-east,城东支行,team-pioneer,先锋团队,2026-01-01
cm-b,王芳,sb-east,城东支行,,,2026-01-01
cm-c,李娜,sb-west,城西支行,,,2026-03-01
"""


async def test_an_organiser_imports_the_roster_and_adjusts_points_by_hand(
    running_worker: Process, api_url: str, topics: Topics, prefix: str, tmp_path: Path
) -> None:
    """The roster becomes the org tree (as of any day); a manual adjustment with its reason code
    reaches the ledger, the list and the board. The sink keeps the ledger the list reads."""
    make_user(api_url, ORGANISER, PASSWORD, "organiser")
    ledger = sink(prefix, tmp_path, f"sqlite:///{tmp_path / 'api.db'}").start()
    try:
        async with httpx.AsyncClient(base_url=api_url, auth=api_auth(api_url), timeout=30) as client:
            published = await client.post("/api/competitions", json=_published("feb_account_opening"))
            assert published.status_code == 202, published.text

        async with live_browser() as browser, live_page(browser, api_url + "/console", size=SIZE) as page:
            await _log_in(page)

            # -- 组织架构: import the roster, see the tree on two days ----------------------
            await page.click("nav.tabs button[data-tab=org]")
            roster = FilePayload(name="花名册.csv", mimeType="text/csv", buffer=ROSTER.encode())
            await page.set_input_files("#org-file", files=[roster])
            await page.fill("#org-effective", "2026-01-01")
            await page.click("#org-import")
            await _says(page, "#org-import-result", "已导入 3 行", "the import")
            await page.fill("#org-as-of", "2026-02-15")
            await page.click("#org-show")
            await _shown(page, '#org-tree li[data-cm="cm-b"]', "the tree in February", timeout=60)
            tree = await text_of(page, "#org-tree")
            assert all(name in tree for name in ("城东支行", "先锋团队", "张伟", "王芳")), tree
            assert await page.query_selector('#org-tree [data-unit="sb-west"]') is None, "李娜 joins in March"
            assert (
                await page.query_selector('#org-tree [data-unit="team-pioneer"] [data-cm="cm-a"]') is not None
            )
            await page.fill("#org-as-of", "2026-03-15")
            await page.click("#org-show")
            await _shown(
                page, '#org-tree [data-unit="sb-west"] [data-cm="cm-c"]', "李娜 in 城西支行 in March"
            )
            await save_screenshot(page, tmp_path / "console-org.png", artefact="console-org.png")

            # -- 人工调整: a refusal beside its field, then a correction --------------------
            await page.click("nav.tabs button[data-tab=adjustments]")
            await _shown(
                page, '#adjust-competition option[value="feb-account-opening"]', "the contest to adjust"
            )
            await page.select_option("#adjust-competition", "feb-account-opening")
            await page.select_option("#adjust-reason", "department_correction")
            await page.fill("#adjust-cm", "cm-a")
            await page.fill("#adjust-points", "15")
            await page.click("#adjust-submit")  # no note: refused
            await _shown(page, "#adjust-form .field-error", "the note's message")
            assert await page.eval_on_selector("#adjust-note", "e => e.classList.contains('invalid')")
            await page.fill("#adjust-note", "部门更正：补记2月3日漏报的基本户")
            await page.click("#adjust-submit")
            await _says(page, "#adjust-result", "已记录", "the adjustment")
            await _shown(page, '#adjust-list tr[data-cm="cm-a"]', "the adjustment in the ledger's list")
            row = await text_of(page, '#adjust-list tbody tr[data-cm="cm-a"]')
            assert all(part in row for part in ("张伟", "15.00", "部门更正", "补记2月3日")), row
            await save_screenshot(page, tmp_path / "console-adjust.png", artefact="console-adjustments.png")

        # The adjustment is points like any other: on the board.
        async with httpx.AsyncClient(base_url=api_url, auth=api_auth(api_url), timeout=30) as client:
            board = await poll(
                client,
                "/api/competitions/feb-account-opening/leaderboard?ranking=customer_manager",
                lambda b: any(r["id"] == "cm-a" for r in b["rows"]),
            )
        assert next(r for r in board["rows"] if r["id"] == "cm-a")["points"] == "15.00"
    finally:
        ledger.stop()


def _published(template: str) -> dict[str, Any]:
    body: dict[str, Any] = load_template(template).model_dump(mode="json")
    return body | {"status": "published"}


async def test_an_admin_adds_a_viewer_and_a_screen_token_and_the_viewer_only_reads(
    api_url: str, tmp_path: Path
) -> None:
    """Users and keys are an admin's: a viewer made in the console logs in and sees no form that
    writes (the API would refuse it anyway); a display token is shown once, with its screen URL."""
    admin = credentials_for(api_url)
    async with live_browser() as browser, live_page(browser, api_url + "/console", size=SIZE) as page:
        await _log_in(page, admin.admin_user, admin.admin_password)
        assert await text_of(page, "#who-role") == "管理员"
        await page.click("nav.tabs button[data-tab=access]")
        await _shown(page, f'#user-list tr[data-user="{admin.admin_user}"]', "the users")

        # A viewer without a sub-branch is refused beside the field.
        await page.fill("#user-name", "li.viewer")
        await page.fill("#user-password", "viewer-password-1")
        await page.select_option("#user-role", "viewer")
        await page.click("#user-submit")
        await _says(page, "#user-error", "失败", "the refusal")
        await page.fill("#user-sub-branch", "sb-east")
        await page.click("#user-submit")
        await _shown(page, '#user-list tr[data-user="li.viewer"]', "the new viewer")
        assert "只读" in await text_of(page, '#user-list tr[data-user="li.viewer"]')

        await page.select_option("#key-role", "display")
        await page.fill("#key-label", "城东支行大厅大屏")
        await page.fill("#key-sub-branch", "sb-east")
        await page.click("#key-submit")
        await _until(page, f"!{_q('#key-made')}.hidden", "the new token")
        token = await text_of(page, "#key-value")
        assert token.startswith("cmp."), token
        link = await page.get_attribute("#key-screen-link", "href")
        assert link is not None and "/screen?sub_branch=sb-east&token=" in link, link
        await save_screenshot(page, tmp_path / "console-access.png", artefact="console-access.png")
        await page.click("#logout")
        await _until(page, f"!{_q('#login-view')}.hidden", "the login form after logging out")

        await _log_in(page, "li.viewer", "viewer-password-1")
        assert await text_of(page, "#who-role") == "只读"
        await _until(page, f"{_q('#competition-list tbody tr')} !== null", "the competition list")
        for hidden in ("#create-form", "nav.tabs button[data-tab=audit]", "nav.tabs button[data-tab=access]"):
            assert await page.is_hidden(hidden), f"a viewer sees {hidden}"

    # The token reads the screen's own sub-branch; it cannot write.
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        answer = await client.get("/api/competitions", params={"token": token})
        assert answer.status_code == 200, answer.text
        answer = await client.post(
            "/api/competitions", json=_published("payroll_drive"), params={"token": token}
        )
        assert answer.status_code == 401, answer.text
