"""Award tables for the seed's contests, computed by hand (the expected tables below are written
out, not recomputed). Candidates are the frozen per-period figures the SQL layer hands over."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from services.awards.table import Candidate, UnitScore, award_table
from streams.core.award_rules import Awards

D = Decimal


def _awards(obj: dict[str, Any]) -> Awards:
    return Awards.model_validate(obj)


def _people(table: Any) -> list[tuple[Any, ...]]:
    """(rank, cm, total, [(prize, title, amount)], amount) per line, as a reader of the report sees it."""
    return [
        (p.rank, p.cm_id, str(p.total), [(a.prize, a.title, str(a.amount)) for a in p.awards], str(p.amount))
        for p in table.people
    ]


def _units(table: Any) -> list[tuple[Any, ...]]:
    return [
        (u.ranking, u.rank, u.unit_id, str(u.points), [(a.title, str(a.amount)) for a in u.awards])
        for u in table.units
    ]


# --- 多开户、多开基本户 ------------------------------------------------------------------------
# February, from the worked example in docs/competitions.md §1: cm-a 60, cm-b 28, cm-c 28
# (SB1: cm-a, cm-b; SB2: cm-c), events with entries: cm-a 7, cm-b 3, cm-c 5. Added by hand:
# cm-d joined SB2 on Feb 10 (not in post all month), 30 points from 3 events, stamped SB2.

OPENING_AWARDS = {
    "period": "month",
    "ties": "share_rank",
    "eligibility": {"in_post": True, "min_events": 3},
    "prizes": [
        {
            "kind": "rank",
            "name": "开户竞赛奖",
            "tiers": [
                {"count": 1, "title": "一等奖", "amount": 1000},
                {"count": 1, "title": "二等奖", "amount": 600},
            ],
        },
        {"kind": "threshold", "name": "开户达标奖", "min_points": 28, "title": "达标奖", "amount": 100},
        {
            "kind": "team",
            "name": "最佳支行（人均）",
            "ranking": "sub_branch_per_head",
            "tiers": [{"title": "最佳支行", "amount": 2000}],
        },
    ],
}

OPENING_PEOPLE = [
    Candidate("cm-a", D("60.00"), events=7, sub_branch_id="SB1"),
    Candidate("cm-b", D("28.00"), events=3, sub_branch_id="SB1"),
    Candidate("cm-c", D("28.00"), events=5, sub_branch_id="SB2"),
    Candidate("cm-d", D("30.00"), events=3, in_post=False, sub_branch_id="SB2"),
]
# Headcounts on Feb 28: SB1 2 (cm-a, cm-b), SB2 2 (cm-c, cm-d). SB2 holds cm-d's points too:
# a unit's points are its members' entries whoever is eligible for personal prizes.
OPENING_UNITS = {
    "sub_branch_per_head": [
        UnitScore("SB1", D("88.00"), headcount=2),
        UnitScore("SB2", D("58.00"), headcount=2),
    ]
}


def test_opening_share_rank_gives_the_tied_second_place_to_both() -> None:
    table = award_table(
        "feb-opening-2025", "2025-02", _awards(OPENING_AWARDS), ["points_desc"], OPENING_PEOPLE, OPENING_UNITS
    )
    assert _people(table) == [
        (
            1,
            "cm-a",
            "60.00",
            [("开户竞赛奖", "一等奖", "1000.00"), ("开户达标奖", "达标奖", "100.00")],
            "1100.00",
        ),
        (
            2,
            "cm-b",
            "28.00",
            [("开户竞赛奖", "二等奖", "600.00"), ("开户达标奖", "达标奖", "100.00")],
            "700.00",
        ),
        (
            2,
            "cm-c",
            "28.00",
            [("开户竞赛奖", "二等奖", "600.00"), ("开户达标奖", "达标奖", "100.00")],
            "700.00",
        ),
        (None, "cm-d", "30.00", [], "0.00"),
    ]
    assert table.people[3].remarks == ["不符合资格：期内未全程在岗"]
    # SB1 88 / 2 = 44.00, SB2 58 / 2 = 29.00
    assert _units(table) == [
        ("sub_branch_per_head", 1, "SB1", "44.00", [("最佳支行", "2000.00")]),
        ("sub_branch_per_head", 2, "SB2", "29.00", []),
    ]
    assert str(table.amount) == "4500.00"  # 1100 + 700 + 700 + 2000


def test_opening_split_pools_the_places_a_tie_holds() -> None:
    awards = {**OPENING_AWARDS, "ties": "split"}
    table = award_table(
        "feb-opening-2025", "2025-02", _awards(awards), ["points_desc"], OPENING_PEOPLE, OPENING_UNITS
    )
    # cm-b and cm-c hold places 2 and 3; only place 2 (600) exists: 300 each.
    assert _people(table)[:3] == [
        (
            1,
            "cm-a",
            "60.00",
            [("开户竞赛奖", "一等奖", "1000.00"), ("开户达标奖", "达标奖", "100.00")],
            "1100.00",
        ),
        (
            2,
            "cm-b",
            "28.00",
            [("开户竞赛奖", "二等奖", "300.00"), ("开户达标奖", "达标奖", "100.00")],
            "400.00",
        ),
        (
            2,
            "cm-c",
            "28.00",
            [("开户竞赛奖", "二等奖", "300.00"), ("开户达标奖", "达标奖", "100.00")],
            "400.00",
        ),
    ]
    assert str(table.amount) == "3900.00"


def test_opening_min_events_excludes_a_thin_record() -> None:
    awards = {**OPENING_AWARDS, "eligibility": {"in_post": True, "min_events": 4}}
    table = award_table(
        "feb-opening-2025", "2025-02", _awards(awards), ["points_desc"], OPENING_PEOPLE, OPENING_UNITS
    )
    # cm-b (3 events) drops out: cm-c alone is second.
    assert [(p.rank, p.cm_id, str(p.amount)) for p in table.people] == [
        (1, "cm-a", "1100.00"),
        (2, "cm-c", "700.00"),
        (None, "cm-b", "0.00"),
        (None, "cm-d", "0.00"),
    ]
    assert table.people[2].remarks == ["不符合资格：计分事件 3 笔，少于 4 笔"]


# --- 存款旺季营销 / 存款总结表彰 -------------------------------------------------------------------
# June (存款总结表彰), by hand: cm-1 120.50; cm-2, cm-3, cm-4 tied at 98.00 (cm-3's latest entry
# the earliest, cm-4 with no own entry: all its points are an adjustment); cm-5 40.00 plus a 10.00
# adjustment carried from May; cm-6 150.00 from a single event (min_events 2).

DEPOSIT_AWARDS = {
    "period": "month",
    "ties": "split",
    "eligibility": {"min_events": 2},
    "prizes": [
        {
            "kind": "rank",
            "name": "存款总结表彰",
            "tiers": [
                {"count": 1, "title": "一等奖", "amount": 1000},
                {"count": 2, "title": "二等奖", "amount": 500},
            ],
        },
        {"kind": "threshold", "name": "存款达标奖", "min_points": 100, "title": "达标", "amount": 200},
    ],
}

JUNE = [
    Candidate("cm-1", D("120.50"), events=9, last_at=datetime.fromisoformat("2025-06-20T10:00:00+08:00")),
    Candidate("cm-2", D("98.00"), events=4, last_at=datetime.fromisoformat("2025-06-29T10:00:00+08:00")),
    Candidate("cm-3", D("98.00"), events=3, last_at=datetime.fromisoformat("2025-06-12T10:00:00+08:00")),
    Candidate("cm-4", D("0.00"), adjustment=D("98.00"), events=2, last_at=None),
    Candidate("cm-5", D("40.00"), adjustment=D("10.00"), events=5),
    Candidate("cm-6", D("150.00"), events=1),
]


def test_deposit_split_three_way_tie_with_a_leftover_cent() -> None:
    table = award_table(
        "deposit-2025", "2025-06", _awards(DEPOSIT_AWARDS), ["points_desc", "first_reached"], JUNE
    )
    # cm-2/3/4 hold places 2, 3, 4: 500 + 500 + (no place 4) = 1000 / 3 = 333.33, the leftover
    # cent to the first by id (cm-2).
    assert _people(table) == [
        (
            1,
            "cm-1",
            "120.50",
            [("存款总结表彰", "一等奖", "1000.00"), ("存款达标奖", "达标", "200.00")],
            "1200.00",
        ),
        (2, "cm-2", "98.00", [("存款总结表彰", "二等奖", "333.34")], "333.34"),
        (2, "cm-3", "98.00", [("存款总结表彰", "二等奖", "333.33")], "333.33"),
        (2, "cm-4", "98.00", [("存款总结表彰", "二等奖", "333.33")], "333.33"),
        (5, "cm-5", "50.00", [], "0.00"),
        (None, "cm-6", "150.00", [], "0.00"),
    ]
    assert table.people[4].remarks == ["含调整（上期迟到数据） +10.00"]
    assert table.people[5].remarks == ["不符合资格：计分事件 1 笔，少于 2 笔"]
    assert str(table.amount) == "2200.00"


def test_deposit_tie_break_uses_the_competition_keys() -> None:
    awards = {**DEPOSIT_AWARDS, "ties": "tie_break"}
    table = award_table("deposit-2025", "2025-06", _awards(awards), ["points_desc", "first_reached"], JUNE)
    # first_reached: cm-3 (Jun 12) before cm-2 (Jun 29) before cm-4 (no own entry: last).
    assert [(p.rank, p.cm_id, str(p.amount)) for p in table.people] == [
        (1, "cm-1", "1200.00"),
        (2, "cm-3", "500.00"),
        (3, "cm-2", "500.00"),
        (4, "cm-4", "0.00"),
        (5, "cm-5", "0.00"),
        (None, "cm-6", "0.00"),
    ]


def test_deposit_share_rank_pays_every_tied_second() -> None:
    awards = {**DEPOSIT_AWARDS, "ties": "share_rank"}
    table = award_table("deposit-2025", "2025-06", _awards(awards), ["points_desc"], JUNE)
    assert [(p.rank, p.cm_id, str(p.amount)) for p in table.people][:4] == [
        (1, "cm-1", "1200.00"),
        (2, "cm-2", "500.00"),
        (2, "cm-3", "500.00"),
        (2, "cm-4", "500.00"),
    ]


# --- 小小银行家评选 ---------------------------------------------------------------------------
# The year's scorecard, worked example docs/competitions.md §5: cm-1 100.00, cm-5 89.00, cm-3 80.00,
# cm-2 80.00, cm-4 60.00. Teams by hand: T1 = cm-1 + cm-2 = 180.00, T2 = cm-3 + cm-4 + cm-5 = 229.00.

BANKER_AWARDS = {
    "period": "window",
    "ties": "share_rank",
    "eligibility": {"in_post": True},
    "prizes": [
        {"kind": "honour", "name": "小小银行家", "title": "小小银行家", "top": 3},
        {
            "kind": "rank",
            "name": "年度奖金",
            "ties": "split",
            "tiers": [{"count": 3, "title": "年度优秀", "amount": "3000"}],
        },
        {
            "kind": "team",
            "name": "优秀团队",
            "ranking": "team",
            "tiers": [{"title": "优秀团队", "amount": 5000}],
        },
    ],
}
BANKER = [
    Candidate("cm-1", D("100.00"), events=200, team_id="T1"),
    Candidate("cm-2", D("80.00"), events=200, team_id="T1"),
    Candidate("cm-3", D("80.00"), events=120, team_id="T2"),
    Candidate("cm-4", D("60.00"), events=100, team_id="T2"),
    Candidate("cm-5", D("89.00"), events=150, team_id="T2"),
]
BANKER_UNITS = {
    "team": [UnitScore("T1", D("180.00"), headcount=2), UnitScore("T2", D("229.00"), headcount=3)]
}


def test_little_banker_title_shared_past_k_and_money_split() -> None:
    table = award_table(
        "little-banker", "window", _awards(BANKER_AWARDS), ["points_desc"], BANKER, BANKER_UNITS
    )
    # Honour top 3, ties shared: cm-2 and cm-3 tie at rank 3, both are 小小银行家 (4 titles).
    # 年度奖金 split: 3000 each for places 1-3; cm-2/cm-3 hold places 3 and 4: 3000 / 2 = 1500.
    assert _people(table) == [
        (
            1,
            "cm-1",
            "100.00",
            [("小小银行家", "小小银行家", "0.00"), ("年度奖金", "年度优秀", "3000.00")],
            "3000.00",
        ),
        (
            2,
            "cm-5",
            "89.00",
            [("小小银行家", "小小银行家", "0.00"), ("年度奖金", "年度优秀", "3000.00")],
            "3000.00",
        ),
        (
            3,
            "cm-2",
            "80.00",
            [("小小银行家", "小小银行家", "0.00"), ("年度奖金", "年度优秀", "1500.00")],
            "1500.00",
        ),
        (
            3,
            "cm-3",
            "80.00",
            [("小小银行家", "小小银行家", "0.00"), ("年度奖金", "年度优秀", "1500.00")],
            "1500.00",
        ),
        (5, "cm-4", "60.00", [], "0.00"),
    ]
    assert _units(table) == [
        ("team", 1, "T2", "229.00", [("优秀团队", "5000.00")]),
        ("team", 2, "T1", "180.00", []),
    ]
    assert str(table.amount) == "14000.00"


def test_adjustment_period_pays_nothing() -> None:
    table = award_table(
        "little-banker",
        "2027-01",
        _awards(BANKER_AWARDS),
        ["points_desc"],
        BANKER,
        BANKER_UNITS,
        regular=False,
    )
    assert table.amount == 0
    assert all(not p.awards for p in table.people)
    assert table.units == []


def test_team_prize_min_headcount() -> None:
    awards = {
        "prizes": [
            {
                "kind": "team",
                "name": "最佳支行",
                "ranking": "sub_branch_total",
                "min_headcount": 3,
                "tiers": [{"title": "最佳支行", "amount": 100}],
            }
        ]
    }
    units = {
        "sub_branch_total": [
            UnitScore("SB1", D("500.00"), headcount=2),
            UnitScore("SB2", D("300.00"), headcount=3),
        ]
    }
    table = award_table("c", "2025-02", _awards(awards), ["points_desc"], [], units)
    assert _units(table) == [
        ("sub_branch_total", 1, "SB1", "500.00", []),
        ("sub_branch_total", 2, "SB2", "300.00", [("最佳支行", "100.00")]),
    ]
    assert table.units[0].remarks == ["最佳支行：人数 2 少于 3"]
