"""The demo's competitions: the seed templates, re-dated so they are running today."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time
from typing import Any

from schemas import SHANGHAI
from streams.core.rules import Competition, parse_competition
from streams.core.templates import load_template

MONTHLY = ["feb_account_opening", "deposit_peak_season", "payroll_drive"]
YEARLY = ["little_banker"]


def _redated(name: str, start: date, end: date) -> dict[str, Any]:
    definition = load_template(name).model_dump(mode="json")
    definition.update(
        window={"start": start.isoformat(), "end": end.isoformat()},
        effective_from=datetime.combine(start, time(), SHANGHAI).isoformat(),
        status="published",
    )
    return definition


def demo_competitions(today: date) -> list[Competition]:
    """Monthly templates over the current Shanghai month, the yearly one over the current year;
    every definition passes the same validation as one posted by an organiser."""
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
    return [parse_competition(d) for d in out]
