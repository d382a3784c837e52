"""Award periods: months clipped to the window, cutoffs with grace days, who owns which entries."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services.awards.periods import PeriodError, period_of, periods_until, regular_periods
from streams.core import parse_competition
from streams.core.rules import Competition


def _comp(
    period: str = "month", start: str = "2025-02-10", end: str = "2025-04-05", grace: int = 3
) -> Competition:
    return parse_competition(
        {
            "id": "c",
            "name": "c",
            "version": 1,
            "status": "published",
            "effective_from": "2025-02-01T00:00:00+08:00",
            "window": {"start": start, "end": end},
            "grace_days": grace,
            "rules": [{"kind": "visit", "points": {"phone": 1}}],
            "awards": {"period": period, "prizes": [{"kind": "honour", "name": "t", "title": "t", "top": 1}]},
        }
    )


def _sh(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


def test_months_are_clipped_to_the_window_and_the_ends_are_open() -> None:
    feb, mar, apr = regular_periods(_comp())
    assert [(p.id, p.start, p.end) for p in (feb, mar, apr)] == [
        ("2025-02", date(2025, 2, 10), date(2025, 2, 28)),
        ("2025-03", date(2025, 3, 1), date(2025, 3, 31)),
        ("2025-04", date(2025, 4, 1), date(2025, 4, 5)),
    ]
    # Feb 28 + 3 grace days; the window's last day Apr 5 + 3.
    assert feb.cutoff.isoformat() == "2025-03-03T23:59:59.999999+08:00"
    assert apr.cutoff.isoformat() == "2025-04-08T23:59:59.999999+08:00"
    # The first period owns everything before March, the last everything from April on.
    assert (feb.owns_from, feb.owns_until) == (None, _sh("2025-03-01T00:00:00"))
    assert (mar.owns_from, mar.owns_until) == (_sh("2025-03-01T00:00:00"), _sh("2025-04-01T00:00:00"))
    assert (apr.owns_from, apr.owns_until) == (_sh("2025-04-01T00:00:00"), None)


def test_adjustment_months_follow_the_window() -> None:
    comp = _comp()
    may = period_of(comp, "2025-05")
    assert (may.regular, may.start, may.end) == (False, date(2025, 5, 1), date(2025, 5, 31))
    assert [p.id for p in periods_until(comp, may)] == ["2025-02", "2025-03", "2025-04", "2025-05"]
    assert [p.id for p in periods_until(comp, period_of(comp, "2025-03"))] == ["2025-02", "2025-03"]


def test_window_mode_is_one_period() -> None:
    comp = _comp("window", "2026-01-01", "2026-12-31", 5)
    (year,) = regular_periods(comp)
    assert (year.id, year.owns_from, year.owns_until) == ("window", None, None)
    assert year.cutoff.isoformat() == "2027-01-05T23:59:59.999999+08:00"
    assert [p.id for p in periods_until(comp, period_of(comp, "2027-02"))] == ["window", "2027-01", "2027-02"]
    with pytest.raises(PeriodError, match="a month of its window"):
        period_of(comp, "2026-06")


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("window", "awards by month"),
        ("2025-01", "before its window"),
        ("2025-13", "period must be 'YYYY-MM'"),
        ("Feb", "period must be 'YYYY-MM'"),
    ],
)
def test_unknown_periods(period: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        period_of(_comp(), period)
