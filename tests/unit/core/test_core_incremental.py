"""The figures the core keeps between events instead of recomputing them (a day's earliest item,
the index's JSON rows, an entry's dict) say what a computation from scratch says."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.envelope import SHANGHAI, Envelope
from streams.core import LedgerEntry, ParticipantState, apply, parse_competition, rebuild, standings
from streams.core.ledger import make_entry
from streams.core.rules import Competition
from tests.unit.core.core_builders import event

CAPPED = parse_competition(
    {
        "id": "opening-capped",
        "name": "开户（封顶）",
        "version": 1,
        "status": "published",
        "effective_from": "2025-02-01T00:00:00+08:00",
        "window": {"start": "2025-02-01", "end": "2025-02-28"},
        "rules": [
            {
                "kind": "account_opening",
                "points": {"basic": 10, "general": 4},
                "segment_bonus": {"non_credit": 2},
                "new_firm_bonus": 3,
                "bonus_account_types": ["basic"],
                "daily_cap": 25,
                "contest_cap": 60,
                "clawback_days": 3,
            }
        ],
    }
)
UNITS = ("SB1", "SB2", "SB3", None)


def _narrowed(version: int, effective_day: int, first: int, last: int) -> Competition:
    """CAPPED with a window of a few of the days the events fall on: openings on the other days
    are kept (the earliest opening of an account may lie there) but never score."""
    raw = CAPPED.model_dump(mode="json")
    raw.update(
        version=version,
        effective_from=f"2025-02-{effective_day:02d}T00:00:00+08:00",
        window={"start": f"2025-02-{first:02d}", "end": f"2025-02-{last:02d}"},
    )
    return parse_competition(raw)


# The drawn events fall on days 2 to 5: all in CAPPED's window; in NARROW's, only 3 and 4; in the
# two versions' windows together, 3 to 5, with day 5 scored by the second version only.
NARROW = [_narrowed(1, 1, 3, 4)]
TWO_WINDOWS = [_narrowed(1, 1, 3, 4), _narrowed(2, 4, 4, 5)]


def _opening(i: int, account: int, day: int, minute: int, sub_branch: str | None) -> Envelope:
    data: dict[str, Any] = {
        "account_id": f"a{account}",
        "customer_id": f"c{account}",
        "cm_id": "cm-a",
        "account_type": "basic" if account % 3 else "general",
        "segment": "non_credit" if account % 2 else "credit_online",
        "channel": "walk_in",
        "new_firm": account % 5 == 0,
    }
    if sub_branch is not None:
        data["sub_branch_id"] = sub_branch
    return event(
        "account.opened", f"open-{i}", f"2025-02-{day:02d} {minute // 60:02d}:{minute % 60:02d}", **data
    )


def _closing(i: int, account: int, day: int) -> Envelope:
    return event(
        "account.closed",
        f"close-{i}",
        f"2025-02-{day:02d} 23:00",
        account_id=f"a{account}",
        customer_id="c",
        cm_id="cm-a",
    )


# (kind, account, day, minute, unit): an account opened more than once keeps its earliest opening,
# so a later event can move an item earlier within its day, or to another day.
EVENTS = st.lists(
    st.tuples(
        st.sampled_from(("open", "open", "open", "close")),
        st.integers(0, 11),
        st.integers(2, 5),
        st.integers(0, 1439),
        st.sampled_from(UNITS),
    ),
    min_size=1,
    max_size=40,
)


@pytest.mark.parametrize("competitions", [[CAPPED], NARROW, TWO_WINDOWS], ids=["window", "narrow", "two"])
@settings(max_examples=150, deadline=None)
@given(raw=EVENTS)
def test_event_by_event_equals_a_build_from_scratch(
    competitions: list[Competition], raw: list[tuple[str, int, int, int, str | None]]
) -> None:
    events = [
        _opening(i, account, day, minute, unit) if kind == "open" else _closing(i, account, day)
        for i, (kind, account, day, minute, unit) in enumerate(raw)
    ]
    state = ParticipantState("cm-a")
    entries: list[LedgerEntry] = []
    for e in events:
        entries += apply(state, e, competitions)
    built, _ = rebuild("cm-a", events, competitions, None)
    assert [s.to_dict() for s in standings(state)] == [s.to_dict() for s in standings(built)]
    book, fresh = state.books[CAPPED.id], built.books[CAPPED.id]
    assert {n: b.values for n, b in book.buckets.items()} == {n: b.values for n, b in fresh.buckets.items()}
    sums: dict[tuple[str, str | None], Decimal] = {}
    for x in entries:
        sums[(x.component, x.sub_branch_id)] = sums.get((x.component, x.sub_branch_id), Decimal(0)) + x.points
    totals: dict[tuple[str, str | None], Decimal] = {}
    for (component, sub_branch, _), points in fresh.totals.items():
        totals[(component, sub_branch)] = totals.get((component, sub_branch), Decimal(0)) + points
    assert {k: v for k, v in sums.items() if v} == totals
    # the state's JSON (index rows kept beside the index) loads back to the same JSON
    once = state.to_dict()
    assert ParticipantState.from_dict(json.loads(json.dumps(once))).to_dict() == once


def test_an_earlier_opening_elsewhere_moves_the_day_to_its_unit() -> None:
    state = ParticipantState("cm-a")
    apply(state, _opening(1, 1, 3, 600, "SB1"), [CAPPED])
    apply(state, _opening(2, 2, 3, 700, "SB2"), [CAPPED])
    [standing] = standings(state)
    assert [(u.sub_branch_id, u.points) for u in standing.units] == [("SB1", Decimal("22.00"))]
    entries = apply(state, _opening(3, 3, 3, 500, "SB3"), [CAPPED])  # now the day's first
    [standing] = standings(state)
    assert [(u.sub_branch_id, u.points) for u in standing.units] == [("SB3", Decimal("25.00"))]
    assert {(x.sub_branch_id, x.points) for x in entries if x.component == "opening"} == {
        ("SB1", Decimal("-22.00")),
        ("SB3", Decimal("26.00")),  # and 1 cut by the daily cap of 25
    }


def _entry(label: dict[str, str] | None) -> LedgerEntry:
    return make_entry(
        competition_id="c",
        rule_version=2,
        event_id="e",
        cm_id="cm-a",
        sub_branch_id="SB1",
        team_id=None,
        occurred_at=datetime(2025, 2, 3, 9, 30, 15, 123, tzinfo=SHANGHAI),
        points=Decimal("12.50"),
        component="opening",
        reason="开立基本户 +12.50",
        late=True,
        correction=None,
        label=label,
    )


def test_an_entry_dict_is_every_field_in_order() -> None:
    for label in (None, {"kind": "opening", "account_type": "basic"}):
        entry = _entry(label)
        expected = dataclasses.asdict(entry)
        expected["occurred_at"] = entry.occurred_at.isoformat()
        expected["points"] = str(entry.points)
        got = entry.to_dict()
        assert list(got.items()) == list(expected.items())
        if got["label"] is not None:
            got["label"]["kind"] = "changed"  # the dict is the caller's: the entry keeps its own
            assert entry.label == label


def test_an_earlier_opening_outside_the_window_takes_the_points_back_with_the_accounts_detail() -> None:
    """The account's earliest opening moves out of every window: the correction on its old,
    in-window day is an entry of this event, labelled with what the account is, as any other."""
    (narrow,) = NARROW
    state = ParticipantState("cm-a")
    apply(state, _opening(1, 1, 3, 600, "SB1"), NARROW)  # day 3: in the window
    entries = apply(state, _opening(2, 1, 2, 600, "SB1"), NARROW)  # day 2: earlier, outside it
    [taken_back] = [x for x in entries if x.component == "opening"]
    assert taken_back.points < 0 and taken_back.competition_id == narrow.id
    assert taken_back.label is not None and "account_type" in dict(taken_back.label), taken_back.label
