"""Deposit growth, 时点 and 日均, with a decrease counting against (window Feb 1-10, 10 days)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from streams.core import score_batch
from tests.unit.core.core_builders import competitions_of, events_of, load_example

# Baseline = Jan 31 (day before the window). Weights: settlement 1, pure 0.5, savings 1, margin 1.
# 1 point per 万元 of weighted growth.
#
# account  snapshots (as_of: balance)               时点 growth         日均 growth
# D1 sett. Jan31 100k, Feb4 160k, Feb8 140k          140k-100k = +40k    (0x3 + 60k x4 + 40k x3)/10 = +36k
# D2 pure  (no baseline -> 0) Feb6 200k              +200k x0.5          (200k x5)/10 x0.5 = +50k
# E1 sav.  Jan20 500k, Feb3 450k, Feb9 470k,         470k-500k = -30k    (0x2 - 50k x6 - 30k x2)/10 = -36k
#          Feb12 900k (after the window: ignored)
# E2 marg. Feb1 50k then corrected to 80k (same day) +80k                (80k x10)/10 = +80k
EXPECTED = {
    #                            cm-d      cm-e
    "deposit_point_in_time": ("14.00", "5.00"),  # D: 4 + 10,   E: -3 + 8
    "deposit_daily_average": ("8.60", "4.40"),  # D: 3.6 + 5,  E: -3.6 + 8
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_deposit_growth(name: str) -> None:
    example = load_example(name)
    comp = competitions_of(example)[0]
    result = score_batch(events_of(example), [comp])
    d, e = EXPECTED[name]
    assert result[(comp.id, "cm-d")].points == Decimal(d)
    assert result[(comp.id, "cm-e")].points == Decimal(e)


def test_a_decrease_alone_scores_negative() -> None:
    example = load_example("deposit_point_in_time")
    only_e1 = [
        e
        for e in events_of(example)
        if getattr(e.data, "account_id", "E1") == "E1" and e.data.cm_id == "cm-e"
    ]
    result = score_batch(only_e1, competitions_of(example))
    assert result[("deposit-pit-2025", "cm-e")].points == Decimal("-3.00")
