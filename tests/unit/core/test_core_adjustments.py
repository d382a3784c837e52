"""Manual adjustments (points.adjusted): booked as the component "adjustment" of the named
competition, in the manager's unit; the stream, a rebuild and a re-score all agree."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import Rejection, parse_event
from schemas.envelope import SHANGHAI, Envelope
from schemas.routing import participant_of
from streams.core import (
    LedgerEntry,
    NeedsRebuild,
    ParticipantState,
    apply,
    parse_competition,
    rank,
    rebuild,
    score_batch,
    standings,
)
from streams.core.scoring.adjustment import code_of
from tests.unit.core.core_builders import arriving, competitions_of, event, events_of, frozen, load_example

FEB = load_example("feb_opening")
PAYROLL = load_example("payroll")
COMPS = competitions_of(FEB) + competitions_of(PAYROLL)
BASE = events_of(FEB) + events_of(PAYROLL)


def adjusted(
    event_id: str,
    when: str,
    cm: str,
    points: str,
    *,
    competition: str = "feb-opening-2025",
    code: str = "department_correction",
    note: str = "部门更正",
    related: str | None = None,
    group: str | None = None,
) -> Envelope:
    return event(
        "points.adjusted",
        event_id,
        when,
        competition_id=competition,
        cm_id=cm,
        points=points,
        reason_code=code,
        note=note,
        adjusted_by="user:zhang",
        related_cm_id=related,
        group_id=group,
    )


# cm-b and cm-c tie at 28 in the example; a split moves 5 of cm-a's points to cm-c, a data fix
# takes 3 from cm-b, one adjustment names the payroll contest, one a competition nobody publishes.
SPLIT = [
    adjusted("adj-1a", "2025-02-20 10:00", "cm-a", "-5", code="split_credit", related="cm-c", group="g1"),
    adjusted("adj-1b", "2025-02-20 10:00", "cm-c", "5", code="split_credit", related="cm-a", group="g1"),
]
OTHERS = [
    adjusted("adj-2", "2025-03-10 09:00", "cm-b", "-3", code="data_fix", note="重复开户"),
    adjusted("adj-3", "2025-02-21 09:00", "cm-f", "7.5", competition="payroll-q1-2025"),
    adjusted("adj-4", "2025-02-21 09:00", "cm-a", "100", competition="nobody-publishes-this"),
]
ADJUSTMENTS = SPLIT + OTHERS
EVENTS = BASE + ADJUSTMENTS
CANONICAL = {k: v.to_dict() for k, v in score_batch(EVENTS, COMPS).items()}
_EXAMPLE = Path(__file__).resolve().parents[3] / "schemas" / "examples" / "points.adjusted.v1.json"


def _stream(events: list[Envelope]) -> tuple[dict[str, ParticipantState], list[LedgerEntry]]:
    """What the stage does: apply, and rebuild from the manager's events so far when asked."""
    states: dict[str, ParticipantState] = {}
    history: dict[str, list[Envelope]] = {}
    entries: list[LedgerEntry] = []
    for e in events:
        cm = participant_of(e)
        state = states.setdefault(cm, ParticipantState(cm))
        past = history.setdefault(cm, [])
        past.append(e)
        try:
            entries += apply(state, e, COMPS)
        except NeedsRebuild:
            states[cm], more = rebuild(cm, past, COMPS, state, cause=e)
            entries += more
    return states, entries


def _as_dicts(states: dict[str, ParticipantState]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(s.competition_id, s.cm_id): s.to_dict() for st_ in states.values() for s in standings(st_)}


def test_an_adjustment_is_one_entry_of_its_competition_with_code_and_note() -> None:
    state = ParticipantState("cm-a")
    for e in events_of(FEB):
        if participant_of(e) == "cm-a":
            apply(state, e, COMPS)
    (entry,) = apply(state, SPLIT[0], COMPS)
    assert entry.competition_id == "feb-opening-2025"
    assert (entry.component, entry.points, entry.event_id) == ("adjustment", Decimal("-5.00"), "adj-1a")
    assert entry.reason == "人工调整[split_credit] 部门更正"
    assert code_of(entry.reason) == "split_credit"
    assert entry.sub_branch_id == "SB1" and entry.rule_version == 1
    (feb,) = [s for s in standings(state) if s.competition_id == "feb-opening-2025"]
    assert feb.points == Decimal("55.00") and feb.components["adjustment"] == Decimal("-5.00")
    assert apply(state, SPLIT[0], COMPS) == []  # the same event again changes nothing


def test_the_example_totals_with_the_adjustments() -> None:
    points = {k: v["points"] for k, v in CANONICAL.items()}
    assert points[("feb-opening-2025", "cm-a")] == "55.00"  # 60 - 5
    assert points[("feb-opening-2025", "cm-c")] == "33.00"  # 28 + 5: now ahead of cm-b
    assert points[("feb-opening-2025", "cm-b")] == "25.00"  # 28 - 3, made in March: still counts
    assert points[("payroll-q1-2025", "cm-f")] == "70.50"  # 63 + 7.5
    assert ("nobody-publishes-this", "cm-a") not in CANONICAL
    board = rank(
        [score_batch(EVENTS, COMPS)[("feb-opening-2025", cm)] for cm in ("cm-a", "cm-b", "cm-c")],
        "sub_branch_total",
    )
    assert {r.unit_id: r.total for r in board} == {"SB1": Decimal("80.00"), "SB2": Decimal("33.00")}


def test_a_split_moves_points_between_managers_and_sums_to_zero() -> None:
    with_split = score_batch(BASE + SPLIT, COMPS)
    without = score_batch(BASE, COMPS)
    moved = {
        cm: with_split[("feb-opening-2025", cm)].points - without[("feb-opening-2025", cm)].points
        for cm in ("cm-a", "cm-b", "cm-c")
    }
    assert moved == {"cm-a": Decimal("-5"), "cm-b": Decimal(0), "cm-c": Decimal("5")}


def test_an_adjustment_after_the_window_lands_in_the_unit_of_the_windows_last_day() -> None:
    move = [
        event("org.changed", "mv1", "2025-03-01 09:00", cm_id="cm-b", action="leave",
              unit_kind="sub_branch", unit_id="SB1", effective_from="2025-03-05"),
        event("org.changed", "mv2", "2025-03-01 09:00", cm_id="cm-b", action="join",
              unit_kind="sub_branch", unit_id="SB9", effective_from="2025-03-05"),
    ]  # fmt: skip
    state, _ = rebuild("cm-b", [e for e in BASE if participant_of(e) == "cm-b"] + move, COMPS, None)
    # February (the window's only period) was frozen on 03-04; the adjustment arrived on 03-10.
    freezes = frozen("feb-opening-2025", "2025-02", "2025-03-04 00:00")
    (entry,) = apply(state, OTHERS[0], COMPS, arrival=arriving("2025-03-10 12:00", freezes))
    assert entry.sub_branch_id == "SB1"  # not SB9: the month was earned in SB1
    assert entry.late  # a visible adjustment of a closed month


def test_rebuilding_from_the_history_gives_the_same_standings_and_no_correction() -> None:
    states, entries = _stream(EVENTS)
    assert _as_dicts(states) == CANONICAL
    for cm, state in states.items():
        history = [e for e in EVENTS if participant_of(e) == cm]
        again, corrections = rebuild(cm, history, COMPS, state)
        assert corrections == []
        assert [s.to_dict() for s in standings(again)] == [s.to_dict() for s in standings(state)]
    adjustment_entries = [x for x in entries if x.component == "adjustment"]
    assert sorted(x.event_id for x in adjustment_entries) == ["adj-1a", "adj-1b", "adj-2", "adj-3"]


def test_a_new_version_rescored_from_the_history_keeps_the_adjustments() -> None:
    raw = competitions_of(FEB)[0].model_dump(mode="json")
    raw["version"] = 2
    raw["rules"][0]["points"] = {"basic": 12, "general": 6}
    v2 = parse_competition(raw)
    states, _ = _stream(EVENTS)
    comps = [*COMPS, v2]
    for cm in ("cm-a", "cm-b", "cm-c"):
        history = [e for e in EVENTS if participant_of(e) == cm]
        state, entries = rebuild(cm, history, comps, states[cm])
        assert not [x for x in entries if x.component == "adjustment"]  # unchanged: not re-booked
        (feb,) = [s for s in standings(state) if s.competition_id == "feb-opening-2025"]
        assert feb.to_dict() == score_batch(EVENTS, comps)[("feb-opening-2025", cm)].to_dict()
    # v2 by hand (test_core_rescore.py): cm-a 60, cm-b 34, cm-c 34; then the adjustments
    totals = {
        cm: score_batch(EVENTS, comps)[("feb-opening-2025", cm)].points for cm in ("cm-a", "cm-b", "cm-c")
    }
    assert totals == {"cm-a": Decimal("55.00"), "cm-b": Decimal("31.00"), "cm-c": Decimal("39.00")}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    order=st.permutations(EVENTS),
    dupes=st.lists(st.sampled_from(ADJUSTMENTS), max_size=6),
    cut=st.integers(0, len(EVENTS)),
)
def test_any_order_with_repeats_and_a_state_round_trip_gives_the_batch_result(order, dupes, cut) -> None:  # type: ignore[no-untyped-def]
    events = list(order[:cut]) + dupes + list(order[cut:])
    states, entries = _stream(events[:cut])
    states = {cm: ParticipantState.from_dict(json.loads(json.dumps(s.to_dict()))) for cm, s in states.items()}
    history: dict[str, list[Envelope]] = {}
    for e in events[:cut]:
        history.setdefault(participant_of(e), []).append(e)
    for e in events[cut:]:
        cm = participant_of(e)
        state = states.setdefault(cm, ParticipantState(cm))
        past = history.setdefault(cm, [])
        past.append(e)
        try:
            entries += apply(state, e, COMPS)
        except NeedsRebuild:
            states[cm], more = rebuild(cm, past, COMPS, state, cause=e)
            entries += more
    assert _as_dicts(states) == CANONICAL
    assert len({x.entry_id for x in entries}) == len(entries)
    sums: dict[tuple[str, str], Decimal] = {}
    for x in entries:
        sums[(x.competition_id, x.cm_id)] = sums.get((x.competition_id, x.cm_id), Decimal(0)) + x.points
    assert {k: v for k, v in sums.items() if v} == {
        k: Decimal(v["points"]) for k, v in CANONICAL.items() if Decimal(v["points"])
    }


def test_a_state_written_before_adjustments_existed_still_takes_them() -> None:
    state, _ = rebuild("cm-a", [e for e in BASE if participant_of(e) == "cm-a"], COMPS, None)
    old = state.to_dict()
    for book in old["books"].values():
        del book["index"]["adjustment"]  # the format-2 state of an earlier release
    restored = ParticipantState.from_dict(json.loads(json.dumps(old)))
    (entry,) = apply(restored, SPLIT[0], COMPS)
    assert entry.points == Decimal("-5.00")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"points": "0"}, "invalid_value"),
        ({"points": "1.234"}, "invalid_value"),
        ({"reason_code": "bonus"}, "invalid_value"),
        ({"note": ""}, "invalid_value"),
        ({"competition_id": None}, "wrong_type"),
    ],
)
def test_the_contract_refuses_a_bad_adjustment(change: dict[str, Any], reason: str) -> None:
    body = json.loads(_EXAMPLE.read_text(encoding="utf-8"))
    body["data"].update(change)
    with pytest.raises(Rejection) as caught:
        parse_event(json.dumps(body), now=datetime(2026, 11, 30, tzinfo=SHANGHAI))
    assert caught.value.reason == reason
