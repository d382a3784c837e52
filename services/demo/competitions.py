"""The demo's competitions: the seed templates, re-dated so they are running today, and one over
last month with awards, so a month end (freeze, award run, report, approval) can be tried at once."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from typing import Any

from schemas import SHANGHAI
from streams.core.rules import Competition, parse_competition
from streams.core.templates import load_template

MONTHLY = ["feb_account_opening", "deposit_peak_season", "payroll_drive"]
YEARLY = ["little_banker"]
LAST_MONTH_ID = "last-month-account-opening"

# Rank prizes and a threshold, as the docs' seed example (docs/competitions.md, "Awards").
_AWARDS: dict[str, Any] = {
    "period": "month",
    "ties": "share_rank",
    "eligibility": {"in_post": True, "min_events": 1},
    "prizes": [
        {
            "kind": "rank",
            "name": "开户竞赛奖",
            "tiers": [
                {"title": "一等奖", "amount": 1000},
                {"title": "二等奖", "count": 2, "amount": 600},
                {"title": "三等奖", "count": 3, "amount": 300},
            ],
        },
        {"kind": "threshold", "name": "开户达标奖", "min_points": 30, "title": "达标奖", "amount": 100},
    ],
}


def _redated(name: str, start: date, end: date) -> dict[str, Any]:
    definition = load_template(name).model_dump(mode="json")
    definition.update(
        window={"start": start.isoformat(), "end": end.isoformat()},
        effective_from=datetime.combine(start, time(), SHANGHAI).isoformat(),
        status="published",
    )
    return definition


def last_month(today: date) -> tuple[date, date]:
    """The first and last day of the month before `today`'s."""
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def demo_competitions(today: date) -> list[Competition]:
    """Monthly templates over the current Shanghai month, the yearly one over the current year,
    the account-opening one again over last month with awards; every definition passes the same
    validation as one posted by an organiser."""
    first = today.replace(day=1)
    last = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    out: list[dict[str, Any]] = []
    for name in MONTHLY:
        definition = _redated(name, first, last)
        if name == "feb_account_opening":
            definition["name"] = definition["name"].replace("2月", f"{today.month}月", 1)
            # At demo rates every manager would reach the daily cap within minutes and the board
            # would freeze: the demo lifts the caps (the clawback stays).
            for rule in definition["rules"]:
                rule.update(daily_cap=None, contest_cap=None)
        out.append(definition)
    for name in YEARLY:
        definition = _redated(name, date(today.year, 1, 1), date(today.year, 12, 31))
        for rule in definition["rules"]:
            if rule.get("previous_period"):
                rule["previous_period"] = {
                    "start": date(today.year - 1, 1, 1).isoformat(),
                    "end": date(today.year - 1, 12, 31).isoformat(),
                }
        out.append(definition)
    out.append(_last_month_awards(today))
    return [parse_competition(d) for d in out]


def _last_month_awards(today: date) -> dict[str, Any]:
    """Last month's account-opening contest with awards: its period closes at the end of the
    month (no grace days), so it can be frozen and awarded as soon as the demo starts, from the
    events the demo backfills (services/demo/backfill.py)."""
    start, end = last_month(today)
    definition = _redated("feb_account_opening", start, end)
    definition.update(
        id=LAST_MONTH_ID,
        name=definition["name"].replace("2月", f"{start.month}月", 1) + "（上月·评奖演示）",
        grace_days=0,
        awards=_AWARDS,
    )
    for rule in definition["rules"]:
        rule.update(daily_cap=None, contest_cap=None)
    return definition
