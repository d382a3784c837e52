"""The demo's pure parts: re-dated competitions and a feed whose records pass validation."""

from __future__ import annotations

import json
import random
from datetime import date, datetime

from schemas import SHANGHAI, Rejection, parse_event
from services.demo.backfill import backfill
from services.demo.competitions import LAST_MONTH_ID, demo_competitions
from services.demo.feed import Feed
from services.demo.roster import managers, org_events


def test_competitions_are_published_and_running_today() -> None:
    today = date(2027, 2, 14)
    comps = {c.id: c for c in demo_competitions(today)}
    past = comps.pop(LAST_MONTH_ID)

    assert sorted(comps) == ["deposit-peak-season", "feb-account-opening", "little-banker", "payroll-drive"]
    assert all(c.status == "published" and today in c.window for c in comps.values())
    assert (comps["payroll-drive"].window.start, comps["payroll-drive"].window.end) == (
        date(2027, 2, 1),
        date(2027, 2, 28),
    )
    assert comps["payroll-drive"].effective_from == datetime(2027, 2, 1, tzinfo=SHANGHAI)
    assert comps["little-banker"].window.end == date(2027, 12, 31)
    assert comps["feb-account-opening"].name.startswith("2月")
    # Last month's contest with awards, closed at the end of January (no grace days).
    assert (past.status, past.window.start, past.window.end) == (
        "published",
        date(2027, 1, 1),
        date(2027, 1, 31),
    )
    assert past.grace_days == 0 and past.awards is not None and past.name.startswith("1月")


def test_last_month_across_a_year_and_a_short_month() -> None:
    by_id = {c.id: c for c in demo_competitions(date(2027, 1, 31))}
    assert (by_id[LAST_MONTH_ID].window.start, by_id[LAST_MONTH_ID].window.end) == (
        date(2026, 12, 1),
        date(2026, 12, 31),
    )
    by_id = {c.id: c for c in demo_competitions(date(2027, 3, 31))}
    assert by_id[LAST_MONTH_ID].window.end == date(2027, 2, 28)


def test_backfill_is_valid_within_last_month_and_the_same_each_start() -> None:
    staff = managers()
    records = backfill(staff, date(2027, 1, 1), date(2027, 1, 31))
    now = datetime(2027, 2, 14, 10, 0, tzinfo=SHANGHAI)
    events = [parse_event(value, now=now) for _, value in records]
    assert len(events) == len({e.event_id for e in events}) == len(records)
    assert all(e.occurred_at.astimezone(SHANGHAI).month == 1 for e in events)
    assert sum(e.type == "account.opened" for e in events) >= len(events) // 3
    # A demo started again sends the same ids: dedup drops them, last month's points do not grow.
    assert backfill(staff, date(2027, 1, 1), date(2027, 1, 31)) == records


def test_feed_records_are_valid_except_every_nth() -> None:
    now = datetime(2027, 2, 14, 10, 0, tzinfo=SHANGHAI)
    feed = Feed(random.Random(7), managers(), "run1", bad_every=10)
    ids: set[str] = set()
    for n in range(1, 301):
        key, value = feed.next(now)
        if n % 10 == 0:
            try:
                parse_event(value, now=now)
            except Rejection:
                continue
            raise AssertionError(f"record {n} should have been broken: {value!r}")
        event = parse_event(value, now=now)
        assert event.data.cm_id == key  # type: ignore[attr-defined]
        assert event.event_id not in ids
        ids.add(event.event_id)


def test_org_places_twelve_managers_in_three_sub_branches_and_two_teams() -> None:
    now = datetime(2027, 2, 14, 10, 0, tzinfo=SHANGHAI)
    events = [
        parse_event(json.dumps(e).encode(), now=now)
        for e in org_events(managers(), date(2027, 1, 1), now, "r")
    ]
    units = {(e.data.unit_kind, e.data.unit_id) for e in events}  # type: ignore[attr-defined]
    assert len({e.data.cm_id for e in events}) == 12  # type: ignore[attr-defined]
    assert sorted(kind for kind, _ in units) == ["sub_branch"] * 3 + ["team"] * 2
