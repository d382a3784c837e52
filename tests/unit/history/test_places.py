"""The board ranked from ledger totals, and how two boards differ (services/history/places.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.history.places import (
    Place,
    _key,
    add_shares,
    cents,
    chasing,
    micros,
    movers,
    moves,
    rank_totals,
)
from streams.core.ranking import sort_key
from streams.core.rules import TieBreak

T0 = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def d(text: str) -> Decimal:
    return Decimal(text)


def c(text: str) -> int:
    return cents(Decimal(text))


def us(minutes: int) -> int:
    return micros(at(minutes))


def test_shares_add_up_per_manager_and_unit_keeping_the_latest_time() -> None:
    totals = add_shares({}, [("a", "sb1", "t1", c("10.00"), us(5)), ("b", "sb1", "t1", c("4.00"), us(1))])
    totals = add_shares(totals, [("a", "sb1", "t1", c("-2.00"), us(9)), ("a", "sb2", None, c("3.00"), us(7))])
    assert totals == {
        ("a", "sb1", "t1"): (c("8.00"), us(9)),
        ("b", "sb1", "t1"): (c("4.00"), us(1)),
        ("a", "sb2", None): (c("3.00"), us(7)),
    }


def test_managers_rank_by_points_then_who_got_there_first_and_equal_rows_share_a_rank() -> None:
    totals = add_shares(
        {},
        [
            ("a", "sb1", "t1", c("10.00"), us(5)),
            ("b", "sb1", "t1", c("10.00"), us(3)),
            ("c", "sb2", "t2", c("12.00"), us(9)),
            ("d", "sb2", "t2", c("10.00"), us(3)),
            ("e", "sb2", "t2", c("1.00"), us(1)),
        ],
    )
    board = rank_totals(totals, "customer_manager", ("points_desc", "first_reached"))
    assert [(p.rank, p.unit_id) for p in board] == [(1, "c"), (2, "b"), (2, "d"), (4, "a"), (5, "e")]
    # the count tie-breaks are not in the ledger: they see equal values and pass the tie on
    board = rank_totals(totals, "customer_manager", ("points_desc", "basic_accounts_desc", "first_reached"))
    assert [(p.rank, p.unit_id) for p in board] == [(1, "c"), (2, "b"), (2, "d"), (4, "a"), (5, "e")]


def test_unit_boards_sum_their_members_and_per_head_divides_by_the_headcount() -> None:
    totals = add_shares(
        {},
        [
            ("a", "sb1", "t1", c("10.00"), us(5)),
            ("b", "sb1", "t2", c("6.00"), us(3)),
            ("b", "sb2", None, c("1.00"), us(8)),
        ],
    )
    teams = rank_totals(totals, "team", ("points_desc",))
    assert [(p.unit_id, p.points, p.members) for p in teams] == [
        ("t1", d("10.00"), ("a",)),
        ("t2", d("6.00"), ("b",)),
    ]
    subs = rank_totals(totals, "sub_branch_total", ("points_desc",))
    assert [(p.unit_id, p.points, p.reached_at) for p in subs] == [
        ("sb1", d("16.00"), at(5)),
        ("sb2", d("1.00"), at(8)),
    ]
    per_head = rank_totals(totals, "sub_branch_per_head", ("points_desc",), {"sb1": 4, "sb2": 0})
    assert [(p.unit_id, p.points, p.total, p.headcount) for p in per_head] == [
        ("sb1", d("4.00"), d("16.00"), 4)
    ]


def place(rank: int, unit: str, points: str) -> Place:
    return Place(rank, unit, c(points), c(points), micros(T0), (unit,))


def test_movers_up_and_down_leave_out_newcomers_and_those_who_stayed() -> None:
    before = [place(1, "a", "30"), place(2, "b", "20"), place(3, "c", "10"), place(4, "d", "5")]
    after = [
        place(1, "c", "40"),
        place(2, "a", "31"),
        place(3, "d", "25"),
        place(4, "b", "20"),
        place(5, "n", "1"),
    ]
    found = moves(before, after)
    assert {m.unit_id: m.change for m in found} == {"c": 2, "a": -1, "d": 1, "b": -2, "n": None}
    assert {m.unit_id: m.gained for m in found}["c"] == d("30")
    up, down = movers(found, 5)
    assert [m.unit_id for m in up] == ["c", "d"]
    assert [m.unit_id for m in down] == ["b", "a"]
    up, down = movers(moves(before, after, among={"a", "d"}), 1)
    assert [m.unit_id for m in up] == ["d"] and [m.unit_id for m in down] == ["a"]


def test_who_is_close_to_the_next_rank_counts_the_gap_to_the_nearest_better_row() -> None:
    board = [
        place(1, "a", "50"),
        place(1, "b", "50"),
        place(3, "c", "48"),
        place(4, "d", "40"),
        place(5, "e", "39"),
    ]
    found = chasing(board)
    assert [(c.unit_id, c.gap, c.ahead_id, c.next_rank) for c in found] == [
        ("e", d("1"), "d", 4),
        ("c", d("2"), "b", 1),
        ("d", d("8"), "c", 3),
    ]
    assert [c.unit_id for c in chasing(board, among={"c", "d", "e"}, within=d("2"))] == ["e", "c"]


def test_the_integer_board_orders_as_the_cores_sort_key_would() -> None:
    rows = [("a", "10.00", 5), ("b", "-3.50", 0), ("c", "0.00", 99), ("d", "10.00", 2), ("e", "0.00", 99)]
    totals = add_shares({}, [(cm, None, None, c(p), us(m)) for cm, p, m in rows])
    usual: tuple[TieBreak, ...] = ("points_desc", "first_reached")
    fast = [(p.rank, p.unit_id) for p in rank_totals(totals, "customer_manager", usual)]
    other = rank_totals(totals, "customer_manager", ("first_reached", "points_desc"))

    def core(r: tuple[str, str, int]) -> tuple[object, ...]:
        return (sort_key({"points": d(r[1]), "metrics": {}, "reached_at": at(r[2])}, usual), r[0])

    assert [u for _, u in fast] == [r[0] for r in sorted(rows, key=core)] == ["d", "a", "c", "e", "b"]
    assert fast[2][0] == fast[3][0] == 3  # equal on every key: one rank
    assert [p.unit_id for p in other] == ["b", "d", "a", "c", "e"]
    assert _key(1000, us(5), usual) == sort_key({"points": d("10.00"), "reached_at": at(5)}, usual)
