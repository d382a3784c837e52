"""Two rulings docs/competitions.md states outright ("Month-end rulings"), pinned here.

(a) 小小银行家: a payroll agreement counts in the period of its FIRST paid batch, whenever it was
    signed: signed before the period and first paid inside it counts; first paid before the
    period does not count again in it. (The 代发工资 contest rule is stricter: signed in the window.)
(b) Deposit contests: the participants filter is checked per balance day (the CM's sub-branch
    on each step's as_of day for 时点, on each window day for 日均), not on the window's last day.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from schemas.envelope import Envelope
from streams.core import Competition, parse_competition, score_batch
from tests.unit.core.core_builders import event, join

CARD = parse_competition(
    {
        "id": "lb-march",
        "name": "小小银行家（3月）",
        "version": 1,
        "status": "published",
        "effective_from": "2025-01-01T00:00:00+08:00",
        "window": {"start": "2025-03-01", "end": "2025-03-31"},
        "rules": [
            {
                "kind": "scorecard",
                "dimensions": [
                    {"name": "payroll", "measure": "payroll_agreements", "target": 2, "weight": 1}
                ],
                "balance_floor": 0,
            }
        ],
    }
)
PAYROLL_CONTEST = parse_competition(
    {
        "id": "payroll-march",
        "name": "代发工资（3月）",
        "version": 1,
        "status": "published",
        "effective_from": "2025-01-01T00:00:00+08:00",
        "window": {"start": "2025-03-01", "end": "2025-03-31"},
        "rules": [{"kind": "payroll", "points_per_agreement": 20}],
    }
)
ORG = join("o1", "2024-12-31 09:00", "cm-1", "sub_branch", "SB1", "2025-01-01")


def signed(eid: str, when: str) -> Envelope:
    return event("payroll.signed", eid, when, agreement_id="P1", employer_id="E1", cm_id="cm-1", employees=10)


def paid(eid: str, when: str) -> Envelope:
    return event(
        "payroll.paid",
        eid,
        when,
        agreement_id="P1",
        employer_id="E1",
        batch_id=f"B-{eid}",
        cm_id="cm-1",
        headcount=10,
        amount="60000",
        month=when[:7],
    )


def _agreements(events: list[Envelope]) -> Decimal:
    standing = score_batch(events, [CARD])[("lb-march", "cm-1")]
    assert standing.scorecard is not None
    return standing.scorecard.actual["payroll"]


def test_scorecard_counts_an_agreement_signed_before_the_period_first_paid_inside_it() -> None:
    events = [ORG, signed("s1", "2025-02-20 10:00"), paid("p1", "2025-03-25 10:00")]
    assert _agreements(events) == Decimal(1)
    # target 2, one agreement: attainment 0.5 x scale 100
    assert score_batch(events, [CARD])[("lb-march", "cm-1")].points == Decimal("50.00")


def test_scorecard_does_not_count_an_agreement_first_paid_before_the_period() -> None:
    events = [
        ORG,
        signed("s1", "2025-01-20 10:00"),
        paid("p0", "2025-02-25 10:00"),
        paid("p1", "2025-03-25 10:00"),
    ]
    assert _agreements(events) == Decimal(0)


def test_scorecard_needs_the_signing_but_not_its_date() -> None:
    assert _agreements([ORG, paid("p1", "2025-03-25 10:00")]) == Decimal(0)  # never signed
    assert _agreements([ORG, signed("s1", "2025-04-02 10:00"), paid("p1", "2025-03-25 10:00")]) == Decimal(1)


def test_the_payroll_contest_rule_instead_needs_the_signing_in_its_window() -> None:
    events = [ORG, signed("s1", "2025-02-20 10:00"), paid("p1", "2025-03-25 10:00")]
    assert score_batch(events, [PAYROLL_CONTEST])[("payroll-march", "cm-1")].points == Decimal(0)


def _deposit(measure: str) -> Competition:
    return parse_competition(
        {
            "id": "deposit-feb",
            "name": "存款旺季",
            "version": 1,
            "status": "published",
            "effective_from": "2025-02-01T00:00:00+08:00",
            "window": {"start": "2025-02-01", "end": "2025-02-10"},
            "participants": ["SB1"],
            "rules": [
                {
                    "kind": "deposit_growth",
                    "measure": measure,
                    "points_per_wan": 1,
                    "weights": {"settlement": 1},
                }
            ],
        }
    )


def balance(eid: str, as_of: str, amount: str) -> Envelope:
    return event(
        "deposit.balance",
        eid,
        f"{as_of} 20:00",
        account_id="D1",
        customer_id="C1",
        cm_id="cm-1",
        category="settlement",
        balance=amount,
        as_of=as_of,
    )


BALANCES = [
    balance("b0", "2025-01-31", "100000"),
    balance("b1", "2025-02-03", "160000"),
    balance("b2", "2025-02-08", "200000"),
]


@pytest.mark.parametrize(
    ("measure", "expected"),
    [
        # 时点: the Feb 3 step (+60k) was made in SB1 and counts; the Feb 8 step (+40k) in SB2 does not.
        ("point_in_time", "6.00"),
        # 日均: Feb 3-5 at +60k in SB1 = 180k day-yuan / 10 days = 18k; Feb 6-10 in SB2 do not count.
        ("daily_average", "1.80"),
    ],
)
def test_deposit_participants_are_checked_per_balance_day(measure: str, expected: str) -> None:
    """The CM leaves participating SB1 for SB2 from Feb 6: on the window's last day they are not a
    participant, yet the growth made while in SB1 counts (a last-day check would give 0)."""
    moves = [ORG, join("o2", "2025-02-05 09:00", "cm-1", "sub_branch", "SB2", "2025-02-06")]
    standing = score_batch([*moves, *BALANCES], [_deposit(measure)])[("deposit-feb", "cm-1")]
    assert standing.points == Decimal(expected)
    assert {u.sub_branch_id for u in standing.units} == {"SB1"}


@pytest.mark.parametrize(("measure", "expected"), [("point_in_time", "4.00"), ("daily_average", "4.20")])
def test_deposit_growth_before_joining_a_participant_does_not_count(measure: str, expected: str) -> None:
    """The reverse move: in SB2 until Feb 5, in SB1 from Feb 6 (a participant on the last day).
    时点: only the Feb 8 step (+40k) counts. 日均 over the baseline of 100k: Feb 6-7 at +60k and
    Feb 8-10 at +100k = 120k + 300k = 420k day-yuan / 10 days = 42k; Feb 1-5 (+0k, +60k) do not count."""
    moves = [
        join("o1", "2024-12-31 09:00", "cm-1", "sub_branch", "SB2", "2025-01-01"),
        join("o2", "2025-02-05 09:00", "cm-1", "sub_branch", "SB1", "2025-02-06"),
    ]
    standing = score_batch([*moves, *BALANCES], [_deposit(measure)])[("deposit-feb", "cm-1")]
    assert standing.points == Decimal(expected)
