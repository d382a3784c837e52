"""A competition's award periods, their cutoffs and which ledger entries each one owns. Pure.

- awards.period "month" (the default): each calendar month of the window, clipped to it, id "YYYY-MM".
  "window": the whole window is one period, id "window".
- A period closes at the end of its last Shanghai day plus the competition's grace_days; only
  then may it be frozen.
- The entries a period owns are those whose occurred_at falls on its days, except that the first
  period also owns what occurred before the window (an item scored by a version effective before
  it) and the last also owns what occurred after it (a clawback for an account closed after the
  window): every entry of the competition belongs to exactly one regular period. A rule change's
  corrections are dated on the days they correct (streams/core/engine.py), so each period owns
  its own.
- After the last regular period come adjustment months ("YYYY-MM" after the window): they own no
  entries and only carry what arrived after the previous freeze. Prizes are paid in regular periods.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from streams.core.calendar import end_of, start_of
from streams.core.rules import Competition

WINDOW = "window"


class PeriodError(ValueError):
    """A period id this competition does not have."""


@dataclass(frozen=True)
class Period:
    id: str
    start: date
    end: date
    cutoff: datetime  # freezing is allowed from this instant
    regular: bool  # owns entries and pays prizes; False for an adjustment month after the window
    owns_from: datetime | None  # entries with occurred_at >= this (None: no lower bound)
    owns_until: datetime | None  # entries with occurred_at < this (None: no upper bound)

    @property
    def owns_entries(self) -> bool:
        return self.regular


def _month_id(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _month_bounds(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def _parse_month(period_id: str) -> tuple[int, int]:
    try:
        year, month = period_id.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        y, m = int(year), int(month)
        if not 2000 <= y <= 2200:  # a contest calendar, not the whole proleptic one
            raise ValueError
        date(y, m, 1)
    except ValueError:
        raise PeriodError(f"period must be 'YYYY-MM' or '{WINDOW}', got {period_id!r}") from None
    return y, m


def _cutoff(comp: Competition, last_day: date) -> datetime:
    return end_of(last_day + timedelta(days=comp.grace_days))


def regular_periods(comp: Competition) -> list[Period]:
    """The periods that own entries and pay prizes, in order."""
    window = comp.window
    mode = comp.awards.period if comp.awards is not None else "month"
    spans: list[tuple[str, date, date]] = []
    if mode == WINDOW:
        spans.append((WINDOW, window.start, window.end))
    else:
        year, month = window.start.year, window.start.month
        while date(year, month, 1) <= window.end:
            first, last = _month_bounds(year, month)
            spans.append((_month_id(first), max(first, window.start), min(last, window.end)))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    out = []
    for i, (pid, start, end) in enumerate(spans):
        out.append(
            Period(
                id=pid,
                start=start,
                end=end,
                cutoff=_cutoff(comp, end),
                regular=True,
                owns_from=None if i == 0 else start_of(start),
                owns_until=None if i == len(spans) - 1 else start_of(end + timedelta(days=1)),
            )
        )
    return out


def period_of(comp: Competition, period_id: str) -> Period:
    """The period with this id, or PeriodError."""
    regular = regular_periods(comp)
    for period in regular:
        if period.id == period_id:
            return period
    if period_id == WINDOW:
        raise PeriodError(f"{comp.id} awards by month: ask for a month 'YYYY-MM', not '{WINDOW}'")
    year, month = _parse_month(period_id)
    first, last = _month_bounds(year, month)
    if first <= comp.window.end:
        inside = "before its window" if last < comp.window.start else "a month of its window"
        raise PeriodError(
            f"{period_id} is {inside} but not one of {comp.id}'s award periods "
            f"({', '.join(p.id for p in regular)})"
        )
    return Period(period_id, first, last, _cutoff(comp, last), False, None, None)


def periods_until(comp: Competition, period: Period) -> list[Period]:
    """Every period from the first up to and including `period`, in order."""
    out: list[Period] = []
    for p in regular_periods(comp):
        out.append(p)
        if p.id == period.id:
            return out
    if period.regular:
        raise PeriodError(f"{period.id} is not a period of {comp.id}")
    year, month = comp.window.end.year, comp.window.end.month
    while (year, month) < (period.start.year, period.start.month):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        out.append(period_of(comp, f"{year:04d}-{month:02d}"))
    return out
