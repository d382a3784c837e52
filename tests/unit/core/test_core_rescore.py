"""A new version published: rebuild from the history emits the correcting deltas once, then nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from schemas.routing import participant_of
from streams.core import (
    NeedsRebuild,
    ParticipantState,
    apply,
    parse_competition,
    rebuild,
    rescore,
    score_batch,
    standings,
)
from tests.unit.core.core_builders import competitions_of, events_of, load_example

EXAMPLE = load_example("feb_opening")
V1 = competitions_of(EXAMPLE)[0]
raw: dict[str, Any] = V1.model_dump(mode="json")
raw["version"] = 2
raw["rules"][0]["points"] = {"basic": 12, "general": 6}  # from the window start: replaces v1 entirely
V2 = parse_competition(raw)

# v2 by hand: cm-b 14 + 14 + 6 = 34; cm-c 22 + 6 + 6 = 34 (C-003 clawed back);
# cm-a Feb 3: 22+14+6 = 42 -> cap 30; Feb 10 clawed; Feb 11: 22; Feb 20: 19 -> 71 -> contest cap 60
V2_TOTALS = {"cm-a": "60.00", "cm-b": "34.00", "cm-c": "34.00"}


def _stream_v1() -> dict[str, ParticipantState]:
    states: dict[str, ParticipantState] = {}
    for e in events_of(EXAMPLE):
        cm = participant_of(e)
        apply(states.setdefault(cm, ParticipantState(cm)), e, [V1])
    return states


def test_rebuild_matches_a_fresh_batch_and_is_idempotent() -> None:
    states = _stream_v1()
    events = events_of(EXAMPLE)
    fresh = score_batch(events, [V1, V2])
    for cm, state in states.items():
        history = [e for e in events if participant_of(e) == cm]
        before = standings(state)[0].points
        with pytest.raises(NeedsRebuild):
            rescore(state, [V1, V2])  # without the history the state cannot re-score itself
        state, entries = rebuild(cm, history, [V1, V2], state)
        assert all(x.rule_version == 2 and (x.correction or "").startswith("rescore:") for x in entries)
        assert before + sum((x.points for x in entries), Decimal(0)) == Decimal(V2_TOTALS[cm])
        assert standings(state)[0].to_dict() == fresh[("feb-opening-2025", cm)].to_dict()
        assert rescore(state, [V1, V2]) == []
        assert rebuild(cm, history, [V1, V2], state)[1] == []
        assert len({x.entry_id for x in entries}) == len(entries)
        again = rebuild(cm, history, [V1, V2], states[cm])[1]
        assert again == entries  # same previous state and catalog: the same ids


def test_an_event_after_a_publish_asks_for_a_rebuild_that_carries_its_id() -> None:
    states = _stream_v1()
    late = events_of(EXAMPLE)[-3]  # c4, re-sent under a new id after v2 is published
    resent = late.model_copy(update={"event_id": "c4-again"})
    before = states["cm-c"].to_dict()
    with pytest.raises(NeedsRebuild):
        apply(states["cm-c"], resent, [V1, V2])
    assert states["cm-c"].to_dict() == before  # nothing changed
    history = [e for e in events_of(EXAMPLE) if participant_of(e) == "cm-c"] + [resent]
    state, entries = rebuild("cm-c", history, [V1, V2], states["cm-c"], cause=resent)
    assert entries and all(x.event_id == "c4-again" and x.rule_version == 2 for x in entries)
    assert Decimal("28.00") + sum((x.points for x in entries), Decimal(0)) == Decimal("34.00")
    assert standings(state)[0].points == Decimal("34.00")
    assert apply(state, resent, [V1, V2]) == []  # the cause is remembered


def test_drafts_only_score_in_preview() -> None:
    draft = parse_competition({**raw, "version": 3, "status": "draft"})
    events = events_of(EXAMPLE)
    assert score_batch(events, [V1, draft])[("feb-opening-2025", "cm-b")].points == Decimal("28.00")
    preview = score_batch(events, [V1, draft], preview=True)
    assert preview[("feb-opening-2025", "cm-b")].points == Decimal("34.00")
