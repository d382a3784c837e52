"""Transfers between managers (customer.transferred): the two examples of docs/competitions.md."""

from __future__ import annotations

import asyncio
import itertools
import json
from decimal import Decimal
from typing import Any

import pytest

from schemas.control import Rescore
from schemas.envelope import Envelope
from schemas.records import ARRIVED_HEADER
from schemas.routing import participants_of
from schemas.validate import read_canonical
from streams.core import score_batch
from streams.core.catalog import Catalog
from streams.core.engine import apply, handovers, rebuild
from streams.core.errors import NeedsRebuild
from streams.core.partition import PartitionScorer, Record
from streams.core.rules import Competition
from streams.core.scoring.scorecard import ScorecardScorer
from streams.core.state import ParticipantState
from streams.core.templates import load_template
from tests.support.transfers import (
    balance,
    clawback_example,
    deposit_competition,
    deposit_example,
    opening_competition,
)
from tests.unit.core.test_partition_scorer import FakeDefinitions, FakeHistory


def parsed(events: list[dict[str, Any]]) -> list[Envelope]:
    return [read_canonical(json.dumps(e).encode()) for e in events]


def points(events: list[dict[str, Any]], comp: Competition) -> dict[str, Decimal]:
    return {cm: s.points for (_, cm), s in score_batch(parsed(events), [comp]).items()}


def grown() -> list[dict[str, Any]]:
    """The deposit example with 1,800,000 on 02-28 under cm-b (300,000 after the transfer)."""
    last = balance("bal-b-0228", "cm-b", "acct-1", "2026-02-28", 1_800_000)
    return [last if e["event_id"] == "bal-b-0228" else e for e in deposit_example()]


def test_point_in_time_growth_is_split_at_the_transfer_and_totals_the_accounts_own() -> None:
    result = points(deposit_example(), deposit_competition("point_in_time"))
    assert result == {"cm-a": Decimal("5.00"), "cm-b": Decimal("0.00")}


def test_without_the_transfer_the_new_manager_counted_from_zero() -> None:
    """What the review reproduced: the same balances with no transfer give 5.00 + 15.00."""
    no_move = [e for e in deposit_example() if e["type"] != "customer.transferred"]
    assert points(no_move, deposit_competition("point_in_time")) == {
        "cm-a": Decimal("5.00"),
        "cm-b": Decimal("15.00"),
    }


def test_daily_average_growth_totals_what_one_manager_holding_it_throughout_gets() -> None:
    comp = deposit_competition("daily_average")
    result = points(deposit_example(), comp)
    one = [
        {**e, "data": {**e["data"], "cm_id": "cm-a"}}
        for e in deposit_example()
        if e["type"] == "deposit.balance"
    ]
    alone = points(one, comp)["cm-a"]
    # 500,000 more on each of the 19 days from 02-10 to 02-28, over 28 days, 0.1 point per 万元
    assert alone == Decimal("3.39")
    assert result == {"cm-a": Decimal("3.39"), "cm-b": Decimal("0.00")}


def test_the_new_managers_growth_starts_from_the_balance_at_the_transfer() -> None:
    assert points(grown(), deposit_competition("point_in_time")) == {
        "cm-a": Decimal("5.00"),
        "cm-b": Decimal("3.00"),  # 1,800,000 - 1,500,000 at the transfer, never from 0
    }


def test_a_closing_under_the_new_manager_claws_back_from_the_opener() -> None:
    comp = opening_competition()
    result = points(clawback_example(), comp)
    assert result == {"cm-a": Decimal("0.00"), "cm-b": Decimal("0.00")}
    kept = [e for e in clawback_example() if e["type"] != "account.closed"]
    assert points(kept, comp)["cm-a"] == Decimal("12.00")


def test_the_closing_is_passed_on_whichever_of_it_and_the_transfer_arrives_first() -> None:
    opening, move, closing = parsed(clawback_example())
    catalog = [opening_competition()]
    for order in ([move, closing], [closing, move]):
        state = ParticipantState("cm-b")
        passed = []
        for event in order:
            apply(state, event, catalog)
            passed += handovers(state, event)
        assert [(p.event_id, p.data.cm_id, p.data.account_id) for p in passed] == [
            ("close-9:to:cm-a", "cm-a", "acct-9")
        ]
        rebuilt, _ = rebuild("cm-b", order, catalog, None)
        assert rebuilt.handovers.passed(closing, "cm-b") == passed
    assert handovers(ParticipantState("cm-a"), opening) == []


@pytest.mark.parametrize("measure", ["point_in_time", "daily_average"])
def test_any_arrival_order_and_a_state_round_trip_give_the_same_points(measure: str) -> None:
    comp = deposit_competition(measure)
    events = parsed(deposit_example())
    expected = points(deposit_example(), comp)
    for order in itertools.permutations(events):
        states: dict[str, ParticipantState] = {}
        past: dict[str, list[Envelope]] = {}
        for event in order:
            for cm in ("cm-a", "cm-b"):
                if cm not in (event.data.cm_id, getattr(event.data, "from_cm_id", None)):  # type: ignore[attr-defined]
                    continue
                state = (
                    ParticipantState.from_dict(states[cm].to_dict()) if cm in states else ParticipantState(cm)
                )
                past.setdefault(cm, []).append(event)
                try:
                    apply(state, event, [comp])
                except NeedsRebuild:
                    state, _ = rebuild(cm, past[cm], [comp], state, cause=event)
                states[cm] = state
        got = {cm: sum(state.books[comp.id].totals.values(), Decimal(0)) for cm, state in states.items()}
        assert got == expected, [e.event_id for e in order]


ARRIVED = ((ARRIVED_HEADER, b"1770710400000"),)


def test_the_partition_scorer_passes_the_closing_to_the_openers_history() -> None:
    """The score stage's decision (no Kafka): the closing named cm-b comes out as a record for
    cm-a; fed back (as the stream reads it from the validated topic), it claws back cm-a's 12."""
    comp = opening_competition()
    opening, move, closing = parsed(clawback_example())
    history = FakeHistory()
    scorer = PartitionScorer(history, FakeDefinitions(comp))
    records = [
        Record(0, 0, None, Rescore(comp.id, comp.version, comp.status).encode(), control=True),
        Record(0, 1, b"cm-a", opening.model_dump_json().encode(), control=False),
        Record(0, 2, b"cm-b", move.model_dump_json().encode(), control=False),
        Record(0, 3, b"cm-a", move.model_dump_json().encode(), control=False),  # the old manager's copy
        Record(0, 4, b"cm-b", closing.model_dump_json().encode(), control=False, headers=ARRIVED),
    ]
    history.records += records
    first = asyncio.run(scorer.feed(records, lambda _: None))
    assert [(p.event.event_id, p.event.data.cm_id, p.event.source) for p in first.passed] == [
        ("close-9:to:cm-a", "cm-a", "transfer-handover")
    ]
    assert first.passed[0].headers == ARRIVED  # reached the platform with the closing
    back = Record(0, 5, b"cm-a", first.passed[0].event.model_dump_json().encode(), control=False)
    second = asyncio.run(scorer.feed([back], lambda _: None))
    assert [(e.cm_id, e.component, e.points) for e in second.entries] == [
        ("cm-a", "opening.clawback", Decimal("-12.00"))
    ]
    assert second.passed == []  # a passed copy is never passed on again


def _scorecard_deposit(events: list[dict[str, Any]]) -> dict[str, int]:
    """Each manager's 小小银行家 deposit_increase in the current period, in cents."""
    comp = load_template("little_banker").model_copy(update={"status": "published"})
    states: dict[str, ParticipantState] = {}
    for event in parsed(events):
        for cm in participants_of(event):
            apply(states.setdefault(cm, ParticipantState(cm)), event, [comp])
    out = {}
    for cm, state in states.items():
        scorer = state.books[comp.id].scorers["scorecard"]
        assert isinstance(scorer, ScorecardScorer)
        scorer.compute("scorecard|composite", state.books[comp.id].context(Catalog([comp]), state.org, cm))
        out[cm] = scorer.periods["current"].deposit
    return out


def test_the_scorecards_deposit_increase_splits_like_deposits() -> None:
    moved = grown()
    solo = [{**e, "data": {**e["data"], "cm_id": "cm-a"}} for e in moved if e["type"] == "deposit.balance"]
    # the year's window starts Jan 1: no balance by Dec 31, so the whole 1,800,000 is new money
    assert _scorecard_deposit(solo) == {"cm-a": 180_000_000}
    assert _scorecard_deposit(moved) == {"cm-a": 150_000_000, "cm-b": 30_000_000}
