"""Badges, streaks and challenges as data: what a competition awards besides points.

A badge is earned from what the participant's day-based items counted (streams/core/badges.py):
- `milestone`: the Nth item of a kind, per contest or per calendar month (the month's first 基本户,
  the 10th payroll agreement);
- `threshold`: a running total (points or a count) reaching a value;
- `streak`: N working days running, or N calendar months running, each reaching `at_least`.
A challenge is a time-boxed sprint inside the window: the first `winners` to reach `goal` win,
in the order each reached it (event time, then id), individuals or teams against each other.

Points here are the items' own points (openings, payroll, sales, visits) before multipliers and
caps: what an item is worth does not depend on the order the others arrived in.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from streams.core.vocabulary import Frozen

Measure = Literal["accounts", "basic_accounts", "payroll_agreements", "products", "visits", "points"]
BadgeId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]
Amount = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]


class MilestoneBadge(Frozen):
    """The `count`-th item of `measure` (per contest, or again in every calendar month)."""

    kind: Literal["milestone"] = "milestone"
    id: BadgeId
    name: str = Field(min_length=1, max_length=40)
    measure: Literal["accounts", "basic_accounts", "payroll_agreements", "products", "visits"]
    count: int = Field(ge=1, le=100_000)
    per: Literal["contest", "month"] = "contest"


class ThresholdBadge(Frozen):
    """The running total of `measure` over the window reaching `at`."""

    kind: Literal["threshold"] = "threshold"
    id: BadgeId
    name: str = Field(min_length=1, max_length=40)
    measure: Measure
    at: Amount


class StreakBadge(Frozen):
    """`run` working days (or calendar months) running, each with at least `at_least` of `measure`.
    Days off (weekends, holidays in the competition's calendar) neither count nor break a run.
    One badge per run, earned on the day the run reaches `run`."""

    kind: Literal["streak"] = "streak"
    id: BadgeId
    name: str = Field(min_length=1, max_length=40)
    measure: Measure
    every: Literal["working_day", "month"] = "working_day"
    at_least: Amount = Decimal(1)
    run: int = Field(ge=2, le=366)


Badge = Annotated[MilestoneBadge | ThresholdBadge | StreakBadge, Field(discriminator="kind")]


class Challenge(Frozen):
    """A sprint from `start` to `end` (Shanghai days, inclusive): the first `winners` to reach
    `goal` of `measure` win, by the moment each reached it; `sides` says who competes."""

    id: BadgeId
    name: str = Field(min_length=1, max_length=40)
    start: date
    end: date
    measure: Measure
    goal: Amount
    winners: int = Field(default=3, ge=1, le=100)
    sides: Literal["customer_manager", "team", "sub_branch"] = "customer_manager"

    @model_validator(mode="after")
    def _ordered(self) -> Challenge:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


class WorkCalendar(Frozen):
    """The bank's working days: Monday to Friday, less `holidays`, plus `workdays` (调休 weekends)."""

    holidays: list[date] = Field(default_factory=list, max_length=400)
    workdays: list[date] = Field(default_factory=list, max_length=400)

    @model_validator(mode="after")
    def _disjoint(self) -> WorkCalendar:
        if set(self.holidays) & set(self.workdays):
            raise ValueError("a day cannot be both a holiday and a workday")
        return self


def check_badges(badges: list[Badge], challenges: list[Challenge], start: date, end: date) -> str | None:
    """Why these badges and challenges do not fit the competition, or None."""
    ids = [b.id for b in badges] + [c.id for c in challenges]
    if len(ids) != len(set(ids)):
        return "badge and challenge ids must be unique"
    for c in challenges:
        if c.start < start or c.end > end:
            return f"challenge '{c.id}' must lie inside the window"
    return None
