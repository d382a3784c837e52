"""The board at a past moment from the ledger (services/history/moments.py), on SQLite and
PostgreSQL: the totals at any instant equal a plain sum over the entries with occurred_at <= it,
whichever snapshots were built first, and an entry arriving late (event time before a snapshot's
close) is counted, not hidden behind a stale snapshot."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.history.moments import LedgerHistory, close_before
from services.history.places import Totals, cents, micros
from services.store import Store

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # Dec 1 00:00 in Shanghai


def entry(n: int, cm: str, at: datetime, points: int, sub_branch: str = "sb1") -> dict[str, Any]:
    return {
        "entry_id": f"e{n}",
        "event_id": f"evt-{n}",
        "competition_id": "c1",
        "rule_version": 1,
        "cm_id": cm,
        "sub_branch_id": sub_branch,
        "team_id": None,
        "occurred_at": at,
        "points": Decimal(points),
        "component": "basic_account",
        "reason": "opened",
    }


def brute(entries: list[dict[str, Any]], at: datetime) -> Totals:
    out: Totals = {}
    for e in entries:
        if e["occurred_at"] <= at:
            key = (e["cm_id"], e["sub_branch_id"], e["team_id"])
            held = out.get(key)
            pts, when = cents(e["points"]), micros(e["occurred_at"])
            out[key] = (pts, when) if held is None else (held[0] + pts, max(held[1], when))
    return out


def test_totals_at_any_moment_equal_the_sum_of_entries_up_to_it(store: Store) -> None:
    rng = random.Random(7)
    entries = [
        entry(
            n,
            f"cm{rng.randrange(12)}",
            START + timedelta(minutes=rng.randrange(10 * 24 * 60)),
            rng.choice([4, 10, -4]),
        )
        for n in range(400)
    ]
    store.add_ledger_entries(entries)
    history = LedgerHistory(store, clock=lambda: datetime(2026, 12, 20, tzinfo=UTC))
    moments = [
        START - timedelta(hours=1),
        START,
        *(START + timedelta(minutes=rng.randrange(11 * 24 * 60)) for _ in range(40)),
    ]
    for at in moments:  # random order: snapshots get built both forward and from gaps
        assert history.totals_at("c1", at) == brute(entries, at), at
    # an entry's exact time counts (<=), the minute before it does not
    first = min(entries, key=lambda e: e["occurred_at"])
    assert history.totals_at("c1", first["occurred_at"]) != history.totals_at(
        "c1", first["occurred_at"] - timedelta(seconds=1)
    )
    assert history.totals_at("other", START + timedelta(days=3)) == {}


def test_a_late_entry_drops_the_snapshots_it_falls_before(store: Store) -> None:
    entries = [entry(n, "cm1", START + timedelta(days=n, hours=2), 10) for n in range(6)]
    store.add_ledger_entries(entries)
    # the real clock: it is compared with recorded_at, which the store stamps from the real clock
    history = LedgerHistory(store)
    day5 = START + timedelta(days=5, hours=12)
    assert history.totals_at("c1", day5)[("cm1", "sb1", None)][0] == 6000
    # a late event for day 2 (recorded now, long after), and a new manager on day 1
    late = [
        entry(100, "cm1", START + timedelta(days=2, hours=3), 5),
        entry(101, "cm2", START + timedelta(hours=20), 7),
    ]
    store.add_ledger_entries(late)
    totals = history.totals_at("c1", day5)
    assert totals == brute(entries + late, day5)
    assert totals[("cm1", "sb1", None)][0] == 6500
    assert history.totals_at("c1", START + timedelta(days=1, hours=1)) == brute(
        entries + late, START + timedelta(days=1, hours=1)
    )
    assert sorted(history.change_times("c1", START + timedelta(days=2), START + timedelta(days=3))) == [
        START + timedelta(days=2, hours=2),
        START + timedelta(days=2, hours=3),
    ]


def test_the_day_closes_are_shanghai_midnights() -> None:
    assert close_before(datetime(2026, 12, 3, 15, 59, tzinfo=UTC)) == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    assert close_before(datetime(2026, 12, 3, 16, 0, tzinfo=UTC)) == datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
