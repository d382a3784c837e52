"""The 晨会 report from two boards (services/history/morning.py): lines, movers, closest, targets,
and the badges earned during the day by the sub-branch's own managers."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from services.history.morning import NewBadge, morning
from services.history.places import Place
from streams.core.templates import load_template

SH = timezone(timedelta(hours=8))


def place(rank: int, unit: str, cents: int) -> Place:
    return Place(rank, unit, cents, cents, 0, (unit,))


def test_the_report_of_one_sub_branch() -> None:
    comp = load_template("feb_account_opening")
    before = [place(1, "b", 3000), place(2, "c", 2000), place(3, "a", 1000)]
    after = [place(1, "a", 4000), place(2, "b", 3000), place(3, "c", 2000), place(4, "d", 1000)]
    members = {"a": "east", "b": "east", "c": "west", "d": "east"}
    day = date(2026, 2, 4)
    earned = [
        NewBadge("d", "本月首个基本户", "milestone", datetime(2026, 2, 4, 10, tzinfo=SH)),
        NewBadge("b", "本月首个基本户", "milestone", datetime(2026, 2, 3, 10, tzinfo=SH)),  # the day before
        NewBadge(
            "c", "本月首个基本户", "milestone", datetime(2026, 2, 4, 11, tzinfo=SH)
        ),  # another sub-branch
        NewBadge("a", "连续 5 天开基本户", "streak", datetime(2026, 2, 4, 23, 59, tzinfo=SH)),
        NewBadge("a", "百分达人", "threshold", datetime(2026, 2, 5, 0, 0, tzinfo=SH)),  # the next day
    ]
    report = morning(comp, "east", day, before, after, members, earned)
    assert [(x.cm_id, x.rank, x.change, x.gained) for x in report.lines] == [
        ("a", 1, 2, Decimal("30.00")),
        ("b", 2, -1, Decimal("0.00")),
        ("d", 4, None, Decimal("10.00")),
    ]
    assert [m.unit_id for m in report.up] == ["a"] and [m.unit_id for m in report.down] == ["b"]
    assert [(c.unit_id, c.ahead_id, c.gap) for c in report.closest] == [
        ("b", "a", Decimal("10.00")),
        ("d", "c", Decimal("10.00")),
    ]
    assert (report.total, report.gained) == (Decimal("80.00"), Decimal("40.00"))
    assert [(b.cm_id, b.name) for b in report.badges] == [("d", "本月首个基本户"), ("a", "连续 5 天开基本户")]
