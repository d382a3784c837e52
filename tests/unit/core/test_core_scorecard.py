"""小小银行家: capped attainment, weights, the balance penalty, and a most-improved ranking."""

from __future__ import annotations

from decimal import Decimal

from streams.core import rank, score_batch
from tests.unit.core.core_builders import competitions_of, events_of, load_example

EXAMPLE = load_example("little_banker")

# Targets: offline 25, online 30, non-credit 50 customers, deposits +10,000,000 yuan, 5 payroll
# agreements, 20 products. Weights .2 .2 .2 .2 .1 .1; cap 120%; any attainment < 60% -> x0.8.
#
# cm    off  on  non  deposit     pay prod | attainment                 | composite
# cm-1  25   30  50   10,000,000  5   20   | all 1.0                    | 100.00
# cm-2  50   6   60   12,000,000  6   24   | 1.2 .2 1.2 1.2 1.2 1.2     | 100 x 0.8 = 80.00 (online gap)
# cm-3  20   24  40   8,000,000   4   16   | all .8                     | 80.00
# cm-4  15   18  30   6,000,000   3   12   | all .6 (not below floor)   | 60.00
# cm-5  25   24  45   9,000,000   4   18   | 1 .8 .9 .9 .8 .9           | 20+16+18+18+8+9 = 89.00
#
# Previous period (2024): cm-1 had 25/30/50 customers only -> 60 x 0.8 = 48.00; cm-2 50 offline
# only -> 24 x 0.8 = 19.20; cm-4 25 offline only -> 20 x 0.8 = 16.00; cm-3, cm-5 nothing -> 0.
EXPECTED = {
    #        composite  penalised  previous  improvement
    "cm-1": ("100.00", False, "48.00", "52.00"),
    "cm-2": ("80.00", True, "19.20", "60.80"),
    "cm-3": ("80.00", False, "0.00", "80.00"),
    "cm-4": ("60.00", False, "16.00", "44.00"),
    "cm-5": ("89.00", False, "0.00", "89.00"),
}
BY_POINTS = [
    (1, "cm-1"),
    (2, "cm-5"),
    (3, "cm-3"),
    (4, "cm-2"),
    (5, "cm-4"),
]  # cm-3 beats cm-2 on improvement
MOST_IMPROVED = [
    (1, "cm-5", "89.00"),
    (2, "cm-3", "80.00"),
    (3, "cm-2", "60.80"),
    (4, "cm-1", "52.00"),
    (5, "cm-4", "44.00"),
]


def _result():  # type: ignore[no-untyped-def]
    return score_batch(events_of(EXAMPLE), competitions_of(EXAMPLE))


def test_composites_penalty_and_improvement() -> None:
    result = _result()
    for cm, (composite, penalised, previous, improvement) in EXPECTED.items():
        s = result[("little-banker-2025", cm)]
        assert s.points == Decimal(composite)
        assert s.scorecard is not None
        assert s.scorecard.penalised is penalised
        assert s.scorecard.previous_composite == Decimal(previous)
        assert s.scorecard.improvement == Decimal(improvement)


def test_attainment_is_capped_per_dimension() -> None:
    figures = _result()[("little-banker-2025", "cm-2")].scorecard
    assert figures is not None
    assert figures.actual["credit_offline_customers"] == Decimal(50)
    assert figures.attainment["credit_offline_customers"] == Decimal("1.2")  # 200% capped at 120%
    assert figures.attainment["credit_online_customers"] == Decimal("0.2")


def test_rankings_by_points_and_by_improvement() -> None:
    comp = competitions_of(EXAMPLE)[0]
    standings = list(_result().values())
    assert [
        (r.rank, r.unit_id) for r in rank(standings, "customer_manager", tie_break=comp.tie_break)
    ] == BY_POINTS
    rows = rank(standings, "customer_manager", tie_break=("improvement_desc", "points_desc"))
    assert [(r.rank, r.unit_id, str(r.improvement)) for r in rows] == MOST_IMPROVED
