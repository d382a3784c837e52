"""The console's definition form in a real headless Chromium, without a server: the page's own
files are served to the browser from the package, so these checks run in seconds.

- Every template drawn as a form and read back is the same definition (saving an untouched form
  changes nothing, so the audit log shows only what the organiser changed).
- An edit changes exactly the field edited.
- The field paths of the core's own RuleErrors land on the matching field (or, where the form
  draws no input for that exact path, on the nearest part of the form that holds it).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

import pytest
from playwright.async_api import Page, Route

from streams.core.errors import RuleError
from streams.core.rules import parse_competition
from streams.core.templates import load_template, template_names
from tests.support.live_browser import live_browser, live_page, page_errors

ORIGIN = "http://console.test"
PAGES = resources.files("services.api").joinpath("pages")
UNITS = [{"id": "sb-east", "name": "城东支行", "teams": [{"id": "team-1", "name": "先锋团队"}]}]


async def _serve(route: Route) -> None:
    """The console's files as the API serves them; every API call is refused as unauthenticated."""
    path = route.request.url.removeprefix(ORIGIN)
    if path == "/console":
        await route.fulfill(body=PAGES.joinpath("console.html").read_text("utf-8"), content_type="text/html")
    elif path.startswith("/console/assets/"):
        name = path.removeprefix("/console/assets/")
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        await route.fulfill(body=PAGES.joinpath("console", name).read_text("utf-8"), content_type=kind)
    else:
        await route.fulfill(status=401, json={"detail": "authentication required"})


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    async with live_browser() as browser, live_page(browser, None, size=(1440, 1000)) as page:
        await page.route(f"{ORIGIN}/**", _serve)
        await page.goto(f"{ORIGIN}/console")
        await page.wait_for_function("document.body.dataset.ready")
        yield page
        assert not page_errors(page, ignore=("401",)), page_errors(page, ignore=("401",))


async def _render(page: Page, definition: dict[str, Any]) -> dict[str, Any]:
    """Draw the definition in the page's form; return what the form reads back."""
    read: dict[str, Any] = await page.evaluate(
        """async ([definition, units]) => {
            const { DefinitionForm } = await import('/console/assets/form.js');
            for (const id of ['#app', '#editor']) document.querySelector(id).hidden = false;
            window.form = new DefinitionForm(document.querySelector('#definition-form'));
            window.form.render(definition, { units });
            return window.form.read();
        }""",
        [definition, UNITS],
    )
    return read


def _template(name: str) -> dict[str, Any]:
    body: dict[str, Any] = load_template(name).model_dump(mode="json")
    return body


async def test_every_template_reads_back_unchanged(page: Page) -> None:
    assert len(template_names()) >= 6
    for name in template_names():
        definition = _template(name)
        assert await _render(page, definition) == definition, name
        # So does the template file as written by hand (numbers, not the core's decimal text).
        text = resources.files("streams.core.templates").joinpath(f"{name}.json").read_text("utf-8")
        assert await _render(page, json.loads(text)) == json.loads(text), name


async def test_an_edit_changes_exactly_the_field_edited(page: Page) -> None:
    definition = _template("feb_account_opening")
    await _render(page, definition)
    await page.fill('[data-path="rules[0].points.general"]', "6.5")
    await page.fill('[data-path="rules[0].channel_bonus.tax_agent"]', "")  # empty: no points for it
    await page.fill('[data-path="rules[0].daily_cap"]', "")  # empty: no cap
    await page.check('[data-path="participants"] input[value="sb-east"]')
    await page.uncheck('[data-path="rankings"] input[value="team"]')
    await page.fill('[data-path="window.end"]', "2026-02-20")
    got = await page.evaluate("window.form.read()")

    want = json.loads(json.dumps(definition))
    want["rules"][0]["points"]["general"] = "6.5"
    del want["rules"][0]["channel_bonus"]["tax_agent"]
    del want["rules"][0]["daily_cap"]  # left out: the core's default, no cap
    want["participants"] = ["sb-east"]
    want["rankings"].remove("team")
    want["window"]["end"] = "2026-02-20"
    assert got == want
    parse_competition(got)  # and the core takes it


def _refusal(name: str, change: Any) -> RuleError:
    broken = _template(name)
    change(broken)
    with pytest.raises(RuleError) as caught:
        parse_competition(broken)
    return caught.value


def _set(path: list[Any], value: Any) -> Any:
    def change(d: Any) -> None:
        for key in path[:-1]:
            d = d[key]
        d[path[-1]] = value

    return change


# (template, how to break it, where the message must land)
REFUSALS = [
    ("feb_account_opening", _set(["rules", 0, "daily_cap"], "0"), "rules[0].daily_cap"),
    ("feb_account_opening", _set(["rules", 0, "points", "basic"], "ten"), "rules[0].points.basic"),
    ("feb_account_opening", _set(["rules", 0, "clawback_days"], 400), "rules[0].clawback_days"),
    ("feb_account_opening", _set(["window", "end"], "2026-01-15"), "window"),
    ("feb_account_opening", _set(["name"], ""), "name"),
    ("feb_account_opening", _set(["grace_days"], 91), "grace_days"),
    ("little_banker", _set(["rules", 0, "dimensions", 1, "target"], 0), "rules[0].dimensions[1].target"),
    ("little_banker", _set(["rules", 0, "balance_penalty"], "1.5"), "rules[0].balance_penalty"),
    ("deposit_peak_season", _set(["rules", 0, "weights", "pure"], "-1"), "rules[0].weights.pure"),
    ("strong_start", _set(["modifiers", 0, "factor"], 11), "modifiers[0].factor"),
    ("payroll_drive", _set(["rules", 0, "points_per_head"], "0.123"), "rules[0].points_per_head"),
    ("badges_and_sprints", _set(["badges", 3, "run"], 1), "badges[3].run"),
    ("badges_and_sprints", _set(["badges", 1, "measure"], "points"), "badges[1].measure"),
    ("badges_and_sprints", _set(["challenges", 0, "goal"], 0), "challenges[0].goal"),
    ("strong_start", _set(["badges", 0, "every"], "week"), "badges[0].every"),
]


async def test_a_badge_and_a_challenge_added_in_the_form_are_what_the_core_takes(page: Page) -> None:
    definition = _template("feb_account_opening")
    await _render(page, definition)
    await page.select_option('[data-add="badges"]', "streak")
    await page.click('[data-path="badges"] > .row button')
    await page.fill('[data-path="badges[0].id"]', "basic_3_days")
    await page.fill('[data-path="badges[0].name"]', "连续3个工作日开基本户")
    await page.fill('[data-path="badges[0].run"]', "3")
    await page.click('[data-path="challenges"] > .row button')
    for key, value in [("id", "sat"), ("name", "周六冲刺"), ("start", "2026-02-07"), ("end", "2026-02-07")]:
        await page.fill(f'[data-path="challenges[0].{key}"]', value)
    await page.select_option('[data-path="challenges[0].sides"]', "team")
    got = parse_competition(await page.evaluate("window.form.read()"))
    assert [(b.kind, b.id, b.run) for b in got.badges] == [("streak", "basic_3_days", 3)]  # type: ignore[union-attr]
    assert [(c.id, c.sides, c.winners) for c in got.challenges] == [("sat", "team", 3)]


async def test_each_refusal_lands_beside_its_field(page: Page) -> None:
    # One browser for all of them: each case redraws the form.
    for template, change, lands_on in REFUSALS:
        error = _refusal(template, change)
        await _render(page, _template(template))
        placed = await page.evaluate(
            """([path, reason]) => {
                const ok = window.form.showError(path, reason);
                const message = document.querySelector('.field-error');
                const holder = message && message.closest('.invalid');
                const field = holder && (holder.dataset.path ? holder : holder.querySelector('[data-path]'));
                return { ok, text: message && message.textContent, at: field && field.dataset.path };
            }""",
            [error.path, error.reason],
        )
        assert placed["ok"], (error.path, placed)
        assert placed["at"] == lands_on, (error.path, error.reason, placed)
        assert placed["text"], placed
