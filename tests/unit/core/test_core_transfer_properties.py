"""For any sequence of transfers of an account among managers, arriving in any order, the points
summed over the managers equal the points of one manager who held the account throughout:
deposits (时点 and 日均) and an opening with its clawback."""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.envelope import Envelope
from schemas.routing import participants_of
from schemas.validate import read_canonical
from streams.core.engine import apply, handovers, rebuild, rescore, standings
from streams.core.errors import NeedsRebuild
from streams.core.rules import Competition
from streams.core.state import ParticipantState
from tests.support.transfers import (
    balance,
    closed,
    deposit_competition,
    opened,
    opening_competition,
    transfer,
)

COMPS: list[Competition] = [
    deposit_competition("point_in_time", "dep-pit"),
    deposit_competition("daily_average", "dep-avg"),
    opening_competition(),
]
MANAGERS = ("cm-a", "cm-b", "cm-c")
FIRST = date(2026, 1, 25)  # the days drawn run from here to 03-03, around the February window
DAYS = 38
UNIT = 28_000  # balances in steps of 28,000 yuan keep every 日均 figure exact to the cent


def day(offset: int) -> str:
    return (FIRST + timedelta(days=offset)).isoformat()


def scenario(
    snaps: dict[int, int], moves: dict[int, int], first: int, opening: int, closing: int | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the events with transfers, the same history for one manager holding it throughout)."""
    holders = [(0, MANAGERS[first])]
    for effective in sorted(moves):
        to = MANAGERS[moves[effective]]
        if to == holders[-1][1]:
            to = MANAGERS[(moves[effective] + 1) % len(MANAGERS)]
        holders.append((effective, to))

    def holder(offset: int) -> str:
        return [cm for start, cm in holders if start <= offset][-1]

    def balance_before(offset: int) -> int:
        return next((snaps[d] for d in sorted(snaps, reverse=True) if d < offset), 0) * UNIT

    opening = min(opening, holders[1][0] - 1) if len(holders) > 1 else opening
    events = [
        opened("open", MANAGERS[first], "acct", f"{day(opening)}T10:00:00"),
        *(balance(f"bal-{d}", holder(d), "acct", day(d), v * UNIT) for d, v in snaps.items()),
    ]
    for (_, old), (effective, new) in itertools.pairwise(holders):
        accounts = [("acct", balance_before(effective))]
        events.append(
            transfer(f"move-{effective}", old, new, day(effective), accounts, opened_by=MANAGERS[first])
        )
    if closing is not None:
        at = max(closing, opening)
        events.append(closed("close", holder(at), "acct", f"{day(at)}T16:00:00"))
    solo = [
        {**e, "data": {**e["data"], "cm_id": "solo"}} for e in events if e["type"] != "customer.transferred"
    ]
    return events, solo


def stream(events: list[dict[str, Any]]) -> dict[tuple[str, str], Decimal]:
    """Event by event as the scoring stage does it: each manager's state read back from JSON,
    apply or rebuild from that manager's history, passed closings delivered after the rest."""
    states: dict[str, dict[str, Any]] = {}
    history: dict[str, list[Envelope]] = {}
    queue: list[Envelope] = [read_canonical(json.dumps(e).encode()) for e in events]
    i = 0
    while i < len(queue):
        event = queue[i]
        i += 1
        for cm in participants_of(event):
            state = ParticipantState.from_dict(states[cm]) if cm in states else ParticipantState(cm)
            past = history.setdefault(cm, [])
            try:
                apply(state, event, COMPS)
            except NeedsRebuild:
                state, _ = rebuild(cm, [*past, event], COMPS, state, cause=event)
            past.append(event)
            queue += handovers(state, event)
            rescore(state, COMPS)
            states[cm] = state.to_dict()
    out: dict[tuple[str, str], Decimal] = {}
    for raw in states.values():
        for s in standings(ParticipantState.from_dict(raw)):
            out[(s.competition_id, s.cm_id)] = s.points
    return out


def by_competition(result: dict[tuple[str, str], Decimal]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {c.id: Decimal(0) for c in COMPS}
    for (cid, _), points in result.items():
        totals[cid] += points
    return totals


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    snaps=st.dictionaries(st.integers(0, DAYS - 1), st.integers(0, 80), max_size=10),
    moves=st.dictionaries(st.integers(1, DAYS - 1), st.integers(0, 2), max_size=4),
    first=st.integers(0, 2),
    opening=st.integers(0, DAYS - 1),
    closing=st.none() | st.integers(0, DAYS - 1),
    shuffle=st.randoms(use_true_random=False),
)
def test_the_managers_together_score_what_one_manager_holding_it_throughout_scores(
    snaps: dict[int, int],
    moves: dict[int, int],
    first: int,
    opening: int,
    closing: int | None,
    shuffle: Any,
) -> None:
    events, solo = scenario(snaps, moves, first, opening, closing)
    expected = by_competition(stream(solo))
    shuffle.shuffle(events)
    assert by_competition(stream(events)) == expected
