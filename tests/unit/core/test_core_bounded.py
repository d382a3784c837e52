"""A real year: the state stays bounded, late data asks for a rebuild, and rebuild = batch = stream."""

from __future__ import annotations

import json
import zlib
from functools import cache
from itertools import islice
from typing import Any

import pytest

from schemas.envelope import Envelope
from schemas.registry import model_for
from schemas.routing import participant_of
from streams.core import (
    Catalog,
    LedgerEntry,
    NeedsRebuild,
    ParticipantState,
    apply,
    rebuild,
    score_batch,
    standings,
)
from tests.bench.workload import mixed_competitions, year_of_events

CATALOG = Catalog(mixed_competitions())


def _parse(raw: dict[str, Any]) -> Envelope:
    model = model_for(raw["type"], 1)
    assert model is not None
    return model.model_validate(raw)


def _size(state: ParticipantState) -> int:
    return len(zlib.compress(json.dumps(state.to_dict()).encode(), 6))


def _standings(state: ParticipantState) -> dict[str, dict[str, Any]]:
    return {s.competition_id: s.to_dict() for s in standings(state)}


def _batch(events: list[Envelope], cm: str) -> dict[str, dict[str, Any]]:
    return {cid: s.to_dict() for (cid, who), s in score_batch(events, CATALOG).items() if who == cm}


@cache
def _year() -> tuple[list[Envelope], int, int, ParticipantState]:
    """One manager, 215 accounts, a nightly balance each for 250 days, plus the rest: 50,000 events."""
    events = [_parse(raw) for raw in islice(year_of_events(1, 215, 260, seed=3), 50_000)]
    state = ParticipantState(participant_of(events[0]))
    half = 0
    for i, event in enumerate(events, start=1):
        apply(state, event, CATALOG)
        if i == 25_000:
            half = _size(state)
    return events, half, _size(state), state


def test_a_year_of_one_manager_fits_in_a_small_state() -> None:
    events, _, full, state = _year()
    assert len(events) == 50_000
    assert sum(e.type == "deposit.balance" for e in events) > 45_000
    assert full < 65_536, full
    assert "events" not in state.to_dict()


def test_state_growth_is_bounded() -> None:
    _, half, full, _ = _year()
    # the second half of the year adds a few sales, customers and payroll batches, not balances
    assert abs(full - half) < 8_192, (half, full)


def test_the_year_streamed_equals_the_batch_and_a_rebuild() -> None:
    events, _, _, state = _year()
    cm = state.cm_id
    rebuilt, entries = rebuild(cm, reversed(events), CATALOG, state)
    assert entries == []  # nothing to correct: the stream got it right
    assert _standings(rebuilt) == _standings(state) == _batch(events, cm)


# -- smaller histories for the paths around the fold ----------------------------------------------


@cache
def _small() -> list[Envelope]:
    return [_parse(raw) for raw in year_of_events(1, 6, 70, seed=11)]


def _stream(events: list[Envelope]) -> tuple[ParticipantState, list[LedgerEntry]]:
    state = ParticipantState(participant_of(events[0]))
    entries: list[LedgerEntry] = []
    for event in events:
        entries += apply(state, event, CATALOG)
    return state, entries


def _late_balance(events: list[Envelope]) -> Envelope:
    """A correction of a February balance, sent weeks later: beyond the fold horizon."""
    original = next(
        e
        for e in events
        if e.type == "deposit.balance" and e.data.as_of.isoformat() == "2026-02-10"  # type: ignore[attr-defined]
    )
    data = original.data.model_copy(update={"balance": original.data.balance + 1_234_567})  # type: ignore[attr-defined]
    return original.model_copy(update={"event_id": "late-fix", "data": data})


def test_a_late_balance_beyond_the_horizon_asks_for_a_rebuild_and_changes_nothing() -> None:
    events = _small()
    state, entries = _stream(events)
    late = _late_balance(events)
    before = json.dumps(state.to_dict(), sort_keys=True)
    with pytest.raises(NeedsRebuild):
        apply(state, late, CATALOG)
    assert json.dumps(state.to_dict(), sort_keys=True) == before
    rebuilt, fixes = rebuild(state.cm_id, [*events, late], CATALOG, state, cause=late)
    assert fixes and all(x.event_id == "late-fix" for x in fixes)
    assert {x.competition_id for x in fixes} == {"deposit-peak-season"}  # 小小银行家 reads only ends
    assert _standings(rebuilt) == _batch([*events, late], state.cm_id)
    # entries summed over the stream and the fix give the standings
    totals: dict[str, Any] = {}
    for x in entries + fixes:
        totals[x.competition_id] = totals.get(x.competition_id, 0) + x.points
    assert {cid: str(v) for cid, v in totals.items() if v} == {
        cid: s["points"] for cid, s in _standings(rebuilt).items() if s["points"] != "0.00"
    }
    assert apply(rebuilt, late, CATALOG) == []


def test_a_late_org_move_into_folded_days_asks_for_a_rebuild() -> None:
    events = _small()
    state, _ = _stream(events)
    move = _parse(
        {
            "event_id": "move-sb9",
            "type": "org.changed",
            "schema_version": 1,
            "occurred_at": "2026-03-09T09:00:00+08:00",
            "source": "test",
            "data": {
                "cm_id": state.cm_id,
                "action": "join",
                "unit_kind": "sub_branch",
                "unit_id": "SB9",
                "effective_from": "2026-02-15",
            },
        }
    )
    before = json.dumps(state.to_dict(), sort_keys=True)
    with pytest.raises(NeedsRebuild):
        apply(state, move, CATALOG)
    assert json.dumps(state.to_dict(), sort_keys=True) == before
    rebuilt, fixes = rebuild(state.cm_id, [*events, move], CATALOG, state, cause=move)
    assert fixes and all(x.event_id == "move-sb9" for x in fixes)
    assert _standings(rebuilt) == _batch([*events, move], state.cm_id)


def test_rebuild_with_only_leaves_the_other_books_untouched() -> None:
    events = _small()
    state, _ = _stream(events)
    before = state.to_dict()["books"]
    rebuilt, entries = rebuild(state.cm_id, events[::-1], CATALOG, state, only={"little-banker"})
    assert entries == []
    after = rebuilt.to_dict()["books"]
    assert after.keys() == before.keys()
    for cid in before:
        if cid != "little-banker":
            assert after[cid] == before[cid], cid
    assert rebuilt.books["little-banker"].revision == state.books["little-banker"].revision + 1
    assert rebuilt.books["payroll-drive"].revision == state.books["payroll-drive"].revision


def test_a_json_round_trip_mid_year_changes_nothing() -> None:
    events = _small()
    cut = len(events) // 2
    state, first = _stream(events[:cut])
    state = ParticipantState.from_dict(json.loads(json.dumps(state.to_dict())))
    rest: list[LedgerEntry] = []
    for event in events[cut:]:
        rest += apply(state, event, CATALOG)
    streamed, all_entries = _stream(events)
    assert _standings(state) == _standings(streamed) == _batch(events, state.cm_id)
    assert first + rest == all_entries


def test_score_batch_takes_any_order() -> None:
    events = _small()
    cm = participant_of(events[0])
    assert _batch(events[::-1], cm) == _batch(events, cm) == _standings(rebuild(cm, events, CATALOG, None)[0])
