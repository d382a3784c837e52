"""A state's JSON made from its cached books is byte for byte the JSON of its whole dict.

The score stage writes each changed manager's state every batch; `ParticipantState.to_json`
remakes only the books an event changed. These tests write a state at random points of random
event sequences (so some books come from the cache and some are made again) and compare it with
the JSON of `to_dict`, made from scratch; and show that a book not dropped from the cache when it
changes is caught."""

from __future__ import annotations

from itertools import islice
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.envelope import Envelope
from schemas.records import to_json
from schemas.registry import model_for
from schemas.routing import participant_of
from streams.core import Catalog, NeedsRebuild, ParticipantState, apply, rebuild
from tests.bench.workload import mixed_competitions, year_of_events
from tests.unit.core.test_core_properties import COMPS, EVENTS

MIXED = Catalog(mixed_competitions())


def _parse(raw: dict[str, Any]) -> Envelope:
    model = model_for(raw["type"], 1)
    assert model is not None
    return model.model_validate(raw)


MIXED_EVENTS = [_parse(raw) for raw in islice(year_of_events(3, 12, 120, seed=5, balance_every=7), 1500)]


def _run(events: list[Envelope], competitions: Any, write: list[bool]) -> int:
    """Feed the events as the stream does; after each one whose `write` is set, compare the
    manager's cached JSON with its dict's. Returns how many states differed."""
    states: dict[str, ParticipantState] = {}
    history: dict[str, list[Envelope]] = {}
    differed = 0
    for e, wanted in zip(events, write, strict=True):
        cm = participant_of(e)
        state = states.setdefault(cm, ParticipantState(cm))
        past = history.setdefault(cm, [])
        past.append(e)
        try:
            apply(state, e, competitions)
        except NeedsRebuild:
            states[cm], _ = rebuild(cm, past, competitions, state, cause=e)
        if wanted:
            differed += states[cm].to_json() != to_json(states[cm].to_dict())
    for state in states.values():  # and every state at the end
        differed += state.to_json() != to_json(state.to_dict())
    return differed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_cached_json_equals_the_dicts_after_random_sequences(data: st.DataObject) -> None:
    events = data.draw(st.permutations(EVENTS))
    events = events[: data.draw(st.integers(1, len(events)))]
    write = data.draw(st.lists(st.booleans(), min_size=len(events), max_size=len(events)))
    assert _run(events, COMPS, write) == 0


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_cached_json_equals_the_dicts_on_a_branch_mix(data: st.DataObject) -> None:
    """Openings, payroll, weekly balances, products, assignments and org moves: 3 managers, 4 books."""
    start = data.draw(st.integers(0, 500))
    events = MIXED_EVENTS[start : start + data.draw(st.integers(50, 1000))]
    write = data.draw(st.lists(st.booleans(), min_size=len(events), max_size=len(events)))
    assert _run(events, MIXED, write) == 0


def test_a_state_read_back_writes_the_same_bytes() -> None:
    states: dict[str, ParticipantState] = {}
    for e in MIXED_EVENTS[:400]:
        cm = participant_of(e)
        apply(states.setdefault(cm, ParticipantState(cm)), e, MIXED)
    for state in states.values():
        again = ParticipantState.from_dict(state.to_dict())
        assert again.to_json() == state.to_json() == to_json(state.to_dict())


@pytest.mark.parametrize("events", ["properties", "mixed"])
def test_a_book_left_in_the_cache_when_it_changes_is_caught(
    events: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen, competitions = (EVENTS, COMPS) if events == "properties" else (MIXED_EVENTS, MIXED)
    write = [True] * len(chosen)
    assert _run(chosen, competitions, write) == 0
    monkeypatch.setattr(ParticipantState, "touch", lambda self, cid: None)
    assert _run(chosen, competitions, write) > 0
