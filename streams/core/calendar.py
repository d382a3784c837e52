"""Contest time is Asia/Shanghai calendar days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from schemas.envelope import SHANGHAI

ONE_DAY = timedelta(days=1)


def day_of(moment: datetime) -> date:
    """The Shanghai calendar day an aware datetime falls on."""
    return moment.astimezone(SHANGHAI).date()


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, SHANGHAI)


def end_of(day: date) -> datetime:
    """The last representable instant of a Shanghai day."""
    return datetime.combine(day, time.max, SHANGHAI)


def days(first: date, last: date) -> int:
    """Number of days in the inclusive range first..last (0 if empty)."""
    return max(0, (last - first).days + 1)


def is_working_day(
    day: date, holidays: frozenset[date] = frozenset(), workdays: frozenset[date] = frozenset()
) -> bool:
    """A bank working day: Monday to Friday unless a holiday, or a weekend day made a workday (调休)."""
    if day in workdays:
        return True
    return day.weekday() < 5 and day not in holidays
