"""Period close through the SQL ledger (SQLite and PostgreSQL): a frozen month never changes;
what arrives after its freeze, or flagged late, is carried into the next open period as an
adjustment, once."""

from __future__ import annotations

import pytest

from services.awards import freezing
from services.awards.errors import PeriodOpen, UnknownPeriod
from services.awards.runs import close_due, ensure_schema, per_manager, resolve, results
from services.store import Store
from tests.integration.awards.builders import NO_STREAMS, add, at, competition, entry


@pytest.fixture
def awards_store(store: Store) -> Store:
    ensure_schema(store)
    return store


def _figures(store: Store, period: str) -> tuple[list[dict[str, object]], bool]:
    comp = competition()
    _, chain = resolve([comp], comp.id, period)
    snap, frozen = results(store, comp, chain)
    return per_manager(snap), frozen


def _freeze(store: Store, period: str, now: str) -> freezing.Snapshot:
    comp = competition()
    _, chain = resolve([comp], comp.id, period)
    return close_due(store, comp, chain, at(now), gate=NO_STREAMS)


def test_freeze_waits_for_cutoff_plus_grace(awards_store: Store) -> None:
    # February closes at the end of Mar 3 (Feb 28 + 3 grace days).
    with pytest.raises(PeriodOpen, match="2025-02 closes at 2025-03-03T23:59:59"):
        _freeze(awards_store, "2025-02", "2025-03-03 23:00")
    assert _freeze(awards_store, "2025-02", "2025-03-04 00:00").freeze_id is not None
    with pytest.raises(UnknownPeriod):
        _freeze(awards_store, "2025-1", "2025-03-04 00:00")
    with pytest.raises(UnknownPeriod, match="before its window"):
        _freeze(awards_store, "2025-01", "2025-03-04 00:00")


def test_late_entries_become_the_next_periods_adjustment(awards_store: Store) -> None:
    s = awards_store
    add(
        s,
        entry("a1", "cm-1", "2025-02-10 09:00", "10.00", recorded="2025-02-10 09:01"),
        entry("b1", "cm-2", "2025-02-12 09:00", "5.00", recorded="2025-02-12 09:01", sub_branch="SB2"),
        entry("a2", "cm-1", "2025-03-05 09:00", "3.00", recorded="2025-03-05 09:01"),
        # Flagged late by the scoring worker: never part of February's own result.
        entry("a3", "cm-1", "2025-02-25 09:00", "2.00", recorded="2025-03-02 09:00", late=True),
    )
    feb = _freeze(s, "2025-02", "2025-03-04 08:00")
    assert per_manager(feb) == [
        {"cm_id": "cm-1", "points": "10.00", "adjustment": "0.00", "adjustment_from": [], "total": "10.00"},
        {"cm_id": "cm-2", "points": "5.00", "adjustment": "0.00", "adjustment_from": [], "total": "5.00"},
    ]
    # The high-water mark is the latest recorded_at the freeze read (a3, recorded Mar 2).
    assert feb.high_water == at("2025-03-02 09:00")
    before = feb.checksum()

    # After the freeze: a February event arrives (recorded Mar 6), through the SQL ledger.
    add(s, entry("b2", "cm-2", "2025-02-20 09:00", "7.00", recorded="2025-03-06 10:00", sub_branch="SB2"))

    again, frozen = _figures(s, "2025-02")
    assert frozen
    assert again == per_manager(feb)
    assert freezing.load(s, "open-2025", "2025-02").checksum() == before  # type: ignore[union-attr]

    march, frozen = _figures(s, "2025-03")  # still open: a preview
    assert not frozen
    assert march == [
        {
            "cm_id": "cm-1",
            "points": "3.00",
            "adjustment": "2.00",
            "adjustment_from": ["2025-02"],
            "total": "5.00",
        },
        {
            "cm_id": "cm-2",
            "points": "0.00",
            "adjustment": "7.00",
            "adjustment_from": ["2025-02"],
            "total": "7.00",
        },
    ]

    # March freezes with those adjustments; one more February entry after that goes to April,
    # the adjustment month after the window, and nothing is counted twice.
    mar = _freeze(s, "2025-03", "2025-04-05 00:00")
    assert per_manager(mar) == march
    add(
        s,
        entry("b3", "cm-2", "2025-02-21 09:00", "1.50", recorded="2025-04-06 10:00", sub_branch="SB2"),
        entry("a4", "cm-1", "2025-03-30 09:00", "4.00", recorded="2025-04-06 10:00", late=True),
    )
    april, frozen = _figures(s, "2025-04")
    assert not frozen
    assert april == [
        {
            "cm_id": "cm-1",
            "points": "0.00",
            "adjustment": "4.00",
            "adjustment_from": ["2025-03"],
            "total": "4.00",
        },
        {
            "cm_id": "cm-2",
            "points": "0.00",
            "adjustment": "1.50",
            "adjustment_from": ["2025-02"],
            "total": "1.50",
        },
    ]
    assert per_manager(freezing.load(s, "open-2025", "2025-03")) == march  # type: ignore[arg-type]


def test_freezing_twice_is_one_freeze(awards_store: Store) -> None:
    add(awards_store, entry("a1", "cm-1", "2025-02-10 09:00", "10.00", recorded="2025-02-10 09:01"))
    first = _freeze(awards_store, "2025-02", "2025-03-04 08:00")
    add(awards_store, entry("a2", "cm-1", "2025-02-11 09:00", "1.00", recorded="2025-03-05 09:01"))
    second = _freeze(awards_store, "2025-02", "2025-03-09 08:00")
    assert (second.freeze_id, second.checksum(), second.frozen_at) == (
        first.freeze_id,
        first.checksum(),
        first.frozen_at,
    )
