"""The seed's contests as the console offers them, and a new draft made from one.

A template is a complete definition (streams/core/templates); instantiating it gives it a new id,
a new window (every other date in it, such as a multiplier's days or a previous period, moves
with the window), a name for that window unless one is given (the template's own names its
month: 2月「多开户、多开基本户」竞赛 must not name November's), optionally participants, version 1,
status draft. The result
passes the core's own validation: RuleError names the field that is wrong.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from typing import Any

from schemas import SHANGHAI
from streams.core.rules import parse_competition
from streams.core.templates import load_template, template_names

# The department's own names for its recurring contests (docs/competitions.md, the seed's list).
TITLES: dict[str, str] = {
    "feb_account_opening": "多开户、多开基本户",
    "deposit_peak_season": "存款旺季营销",
    "strong_start": "开门红",
    "payroll_drive": "代发工资",
    "featured_products_month": "三小一卡",
    "little_banker": "小小银行家",
    "badges_and_sprints": "徽章与冲刺",
}


def catalog() -> list[dict[str, Any]]:
    """Every template: key, short Chinese title, the definition's own name and window, its rule
    kinds and rankings, and the whole definition (for the form to start from)."""
    out = []
    for key in sorted(template_names(), key=lambda k: (list(TITLES).index(k) if k in TITLES else 99, k)):
        definition = load_template(key).model_dump(mode="json")
        out.append(
            {
                "key": key,
                "title": TITLES.get(key, definition["name"]),
                "name": definition["name"],
                "window": definition["window"],
                "rule_kinds": [rule["kind"] for rule in definition["rules"]],
                "rankings": definition["rankings"],
                "definition": definition,
            }
        )
    return out


def instantiate(
    key: str,
    *,
    competition_id: str,
    start: date,
    end: date,
    name: str | None = None,
    participants: list[str] | None = None,
) -> dict[str, Any]:
    """A draft (as a plain definition) from the template `key`; KeyError for an unknown key,
    RuleError for a result the core refuses (e.g. a bad id, or end before start)."""
    if key not in template_names():
        raise KeyError(key)
    template = load_template(key).model_dump(mode="json")
    old_start = date.fromisoformat(template["window"]["start"])
    definition = _shifted(template, lambda d: _move(d, old_start, start))
    definition.update(
        id=competition_id,
        version=1,
        status="draft",
        window={"start": start.isoformat(), "end": end.isoformat()},
        effective_from=datetime.combine(start, time(), SHANGHAI).isoformat(),
    )
    definition["name"] = name if name is not None else window_name(TITLES.get(key, key), start, end)
    if participants is not None:
        definition["participants"] = participants
    return parse_competition(definition).model_dump(mode="json")


def window_name(title: str, start: date, end: date) -> str:
    """The contest's title after its window: 2026年11月「多开户、多开基本户」, 2027年1—3月「开门红」,
    2026年12月—2027年1月「…」 for whole months; the dates otherwise."""
    whole = start.day == 1 and end.day == calendar.monthrange(end.year, end.month)[1]
    if not whole:
        when = f"{start.year}年{start.month}月{start.day}日—"
        when += (
            f"{end.month}月{end.day}日" if end.year == start.year else f"{end.year}年{end.month}月{end.day}日"
        )
    elif (start.year, start.month) == (end.year, end.month):
        when = f"{start.year}年{start.month}月"
    elif start.year == end.year:
        when = f"{start.year}年{start.month}—{end.month}月"
    else:
        when = f"{start.year}年{start.month}月—{end.year}年{end.month}月"
    return f"{when}「{title}」"


def _move(day: date, old_start: date, new_start: date) -> date:
    """Whole months when both windows start on the same day of the month (February's contest
    copied to March keeps its multiplier on the same days of the month); days otherwise."""
    if old_start.day == new_start.day:
        months = (new_start.year - old_start.year) * 12 + (new_start.month - old_start.month)
        index = day.month - 1 + months
        year, month = day.year + index // 12, index % 12 + 1
        return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
    return day + timedelta(days=(new_start - old_start).days)


def _shifted(value: Any, move: Any) -> Any:
    """Every ISO date string found in `value` (not datetimes, not other text), moved."""
    if isinstance(value, dict):
        return {k: _shifted(v, move) for k, v in value.items()}
    if isinstance(value, list):
        return [_shifted(v, move) for v in value]
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return move(date.fromisoformat(value)).isoformat()
        except ValueError:
            return value
    return value
