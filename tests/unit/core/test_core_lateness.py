"""Late means: the entry's period was frozen when its event reached the platform. Nothing else."""

from __future__ import annotations

from decimal import Decimal

from streams.core.engine import _is_late, apply, rebuild
from streams.core.lateness import Arrival, Freezes
from streams.core.state import ParticipantState
from tests.unit.core.core_builders import arriving, at, competitions_of, event, frozen, load_example

FEB = "feb-opening-2025"
OPENED = event("account.opened", "o-1", "2025-02-27 09:00", account_id="A-1", customer_id="C-1",
               cm_id="cm-z", account_type="general", segment="non_credit")  # fmt: skip


def test_no_freeze_no_late_however_long_after_the_window() -> None:
    # The old rule (window end + grace by the worker's clock) made this late; a backfill a year
    # on still scores into its own, unfrozen month.
    assert not _is_late(FEB, at("2025-02-27 09:00"), arriving("2026-03-01 00:00"))


def test_late_only_at_or_after_the_freeze_of_the_entrys_own_period() -> None:
    freezes = frozen(FEB, "2025-02", "2025-03-04 00:00")
    assert not _is_late(FEB, at("2025-02-27 09:00"), arriving("2025-03-03 23:59", freezes))
    assert _is_late(FEB, at("2025-02-27 09:00"), arriving("2025-03-04 00:00", freezes))
    assert not _is_late("another-contest", at("2025-02-27 09:00"), arriving("2025-03-05 00:00", freezes))


def test_a_frozen_month_does_not_make_the_next_month_late() -> None:
    freezes = frozen(FEB, "2025-02", "2025-03-04 00:00", owns_until="2025-03-01 00:00")
    assert _is_late(FEB, at("2025-02-28 23:00"), arriving("2025-03-10 00:00", freezes))
    assert not _is_late(FEB, at("2025-03-01 00:00"), arriving("2025-03-10 00:00", freezes))
    freezes_march = frozen(FEB, "2025-03", "2025-04-04 00:00", owns_from="2025-03-01 00:00")
    assert not _is_late(FEB, at("2025-02-28 23:00"), arriving("2025-05-01 00:00", freezes_march))


def test_unknown_arrival_is_never_late() -> None:
    freezes = frozen(FEB, "2025-02", "2025-03-04 00:00")
    assert not _is_late(FEB, at("2025-02-27 09:00"), Arrival(None, freezes))
    assert not _is_late(FEB, at("2025-02-27 09:00"), None)


def test_a_repeated_freeze_notice_keeps_the_first_time() -> None:
    freezes = frozen(FEB, "2025-02", "2025-03-04 00:00")
    again = frozen(FEB, "2025-02", "2025-03-09 00:00").by_competition[FEB]["2025-02"]
    assert not freezes.add(FEB, again)
    assert _is_late(FEB, at("2025-02-27 09:00"), arriving("2025-03-05 00:00", freezes))
    assert Freezes.from_dict(freezes.to_dict()) == freezes


def test_the_same_event_late_or_not_has_the_same_id_and_points() -> None:
    comps = competitions_of(load_example("feb_opening"))
    freezes = frozen(FEB, "2025-02", "2025-03-04 00:00")
    on_time = apply(ParticipantState("cm-z"), OPENED, comps, arrival=arriving("2025-03-03 12:00", freezes))
    late = apply(ParticipantState("cm-z"), OPENED, comps, arrival=arriving("2025-03-04 12:00", freezes))
    assert [(e.entry_id, e.points, e.late) for e in on_time] == [(late[0].entry_id, Decimal("4.00"), False)]
    assert [e.late for e in late] == [True]
    # A rebuild the late event causes judges it the same way.
    _, rebuilt = rebuild("cm-z", [OPENED], comps, None, arrival=arriving("2025-03-04 12:00", freezes))
    assert [e.late for e in rebuilt] == [True]
