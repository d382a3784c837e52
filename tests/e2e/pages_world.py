"""A small named org and its events, for the wall screen's and the manager page's browser tests,
and the waits those tests share.

Every basic account here is opened for an offline credit customer through no special channel:
10 points (基本户 10, no segment, channel or new-firm bonus) under the February account-opening
contest, so a scored event reads "… 新开基本户 +10".
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from playwright.async_api import Page

from streams.core.templates import load_template
from tests.support.auth import api_auth, credentials_for, make_key
from tests.support.events import joined, opened

OPENING = "feb-account-opening"
LITTLE_BANKER = "little-banker"
UNITS = {"sb-east": "城东支行", "sb-west": "城西支行", "team-pioneer": "先锋团队"}


def member(cm_id: str, name: str, sub_branch: str, team: str | None = None) -> list[dict[str, Any]]:
    """The manager joins a named sub-branch (and a named team) from the start of the year."""
    out = [joined(cm_id, sub_branch, name, f"org-{cm_id}-sb", unit_name=UNITS[sub_branch])]
    if team is not None:
        out.append(joined(cm_id, team, name, f"org-{cm_id}-team", kind="team", unit_name=UNITS[team]))
    return out


def basic(event_id: str, cm_id: str, day: int = 3, **data: Any) -> dict[str, Any]:
    """A basic account worth exactly 10 points in the February contest."""
    event = opened(event_id, cm_id=cm_id, segment="credit_offline", **data)
    event["occurred_at"] = f"2026-02-{day:02d}T10:00:00+08:00"
    return event


def assigned(n: int, cm_id: str, segment: str) -> list[dict[str, Any]]:
    """n customers of one segment put in the manager's care (小小银行家 counts them)."""
    return [
        {
            "event_id": f"asg-{cm_id}-{segment}-{i}",
            "type": "customer.assigned",
            "schema_version": 1,
            "occurred_at": "2026-03-02T09:00:00+08:00",
            "source": "test",
            "data": {"customer_id": f"cust-{segment}-{i}", "cm_id": cm_id, "segment": segment},
        }
        for i in range(n)
    ]


def definition(template: str) -> dict[str, Any]:
    body: dict[str, Any] = load_template(template).model_dump(mode="json")
    return body | {"status": "published"}


async def publish_over_http(api_url: str, *templates: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30, auth=api_auth(api_url)) as client:
        for template in templates:
            answer = await client.post("/api/competitions", json=definition(template))
            assert answer.status_code == 202, answer.text
        listed: set[str] = set()
        deadline = time.monotonic() + 60
        wanted = {load_template(t).id for t in templates}
        while time.monotonic() < deadline and not wanted <= listed:
            listed = {c["id"] for c in (await client.get("/api/competitions")).json()["competitions"]}
            await asyncio.sleep(0.3)
        assert wanted <= listed, f"published {wanted}, listed {listed}"


async def until(page: Page, expression: str, timeout: float = 90.0, what: str = "") -> Any:
    """Wait until a JavaScript expression is truthy in the page; fail naming what was awaited,
    with the page's own view (window.screenState / meState) and the visible text."""
    try:
        handle = await page.wait_for_function(expression, timeout=timeout * 1000, polling=200)
        return await handle.json_value()
    except Exception as exc:
        state = await page.evaluate("JSON.stringify(window.screenState || window.meState || null)")
        text = " ".join((await page.inner_text("body")).split())[:1500]
        raise AssertionError(
            f"{what or expression} did not happen in {timeout}s; state {state}; page: {text}"
        ) from exc


def display_token(api_url: str, sub_branch: str) -> str:
    """What a wall screen's URL carries: a read-only token for its own sub-branch."""
    return make_key(api_url, "display", f"wall screen {sub_branch}", sub_branch=sub_branch)


def screen_url(api_url: str, sub_branch: str, *competitions: str, rotate: int = 0) -> str:
    """A sub-branch's wall screen showing `competitions` (`rotate`: seconds on each), opened with
    its display token."""
    shown = f"competitions={','.join(competitions)}&rotate={rotate}"
    return f"{api_url}/screen?sub_branch={sub_branch}&{shown}&token={display_token(api_url, sub_branch)}"


def admin_token(api_url: str) -> str:
    return credentials_for(api_url).admin_key


def row_rank(cm_id: str) -> str:
    """JS: the rank the screen shows for this manager's row (NaN if the row is absent)."""
    row = f"document.querySelector('#rows .row[data-id=\"{cm_id}\"]')"
    return f"Number(({row} || {{dataset: {{}}}}).dataset.rank)"


def ticker_text() -> str:
    return (
        "Array.from(document.querySelectorAll('#ticker li')).map((li) => li.innerText.replace(/\\s+/g, ' '))"
    )
