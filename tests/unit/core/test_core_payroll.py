"""代发工资: an agreement is credited only once its first batch is paid; per-head uses the largest batch."""

from __future__ import annotations

from decimal import Decimal

from streams.core import ParticipantState, apply, score_batch, standings
from tests.unit.core.core_builders import competitions_of, events_of, load_example

EXAMPLE = load_example("payroll")

# Rule: 20 per agreement + 0.5 per head (largest batch headcount in the window), window Jan 1 - Mar 31.
# cm-f  P1 signed Jan 5, batches 30 (Jan) and 36 (Feb)  -> 20 + 0.5 x 36 = 38
#       P2 signed Feb 10, first batch Mar 25, 10 heads  -> 20 + 0.5 x 10 = 25
#       P3 signed Dec 20 (before the window)            -> 0
# cm-g  P4 signed Mar 1, first batch Apr 25 (after)     -> 0
#       P5 signed Jan 10, batch Jan 31, 8 heads         -> 20 + 4 = 24
EXPECTED = {"cm-f": ("63.00", 2), "cm-g": ("24.00", 1)}


def test_payroll_totals() -> None:
    result = score_batch(events_of(EXAMPLE), competitions_of(EXAMPLE))
    for cm, (points, agreements) in EXPECTED.items():
        s = result[("payroll-q1-2025", cm)]
        assert s.points == Decimal(points)
        assert s.metrics == {"payroll_agreements": agreements}


def test_signing_alone_scores_nothing_until_the_first_batch() -> None:
    comps = competitions_of(EXAMPLE)
    state = ParticipantState("cm-f")
    got = {}
    for e in events_of(EXAMPLE):
        if e.data.cm_id == "cm-f":  # type: ignore[attr-defined]
            got[e.event_id] = [str(x.points) for x in apply(state, e, comps)]
    assert got["f1"] == []  # P1 signed
    assert got["f2"] == ["35.00"]  # first batch: 20 + 0.5 x 30
    assert got["f3"] == ["3.00"]  # a bigger batch: 0.5 x (36 - 30)
    assert got["f4"] == []  # P2 signed
    assert got["f5"] == ["25.00"]
    assert got["f7"] == []  # P3 signed before the window
    assert standings(state)[0].points == Decimal("63.00")


def test_batch_before_signing_is_credited_when_the_signing_arrives() -> None:
    comps = competitions_of(EXAMPLE)
    by_id = {e.event_id: e for e in events_of(EXAMPLE)}
    state = ParticipantState("cm-g")
    assert apply(state, by_id["g4"], comps) == []
    assert [str(x.points) for x in apply(state, by_id["g3"], comps)] == ["24.00"]
