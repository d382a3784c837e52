"""The ranked index behind the boards: the same rows and ranks as the core's `rank`, after every
single change, at O(log n) per change; pages, around-me, filters, the day's rank changes with an
injected clock, and the per-head headcount day."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.readmodel import Board
from services.readmodel.ranked import RankedIndex
from streams.core.ranking import rank, scoring_headcounts
from streams.core.rules import Competition, RankingKind, TieBreak
from streams.core.standing import Standing
from streams.core.templates import load_template
from tests.support.events import joined
from tests.support.records import org_record, standing

CID = "feb-account-opening"
KINDS: list[RankingKind] = ["customer_manager", "team", "sub_branch_total", "sub_branch_per_head"]
TIE_BREAKS: list[tuple[TieBreak, ...]] = [
    ("points_desc", "basic_accounts_desc", "first_reached"),
    ("points_desc", "improvement_desc"),
    ("accounts_desc", "points_desc"),
]


def make_standing(rnd: random.Random, cm: str) -> Standing:
    """Coarse points so that ties are common; some managers moved between units mid-contest."""
    units = []
    for _ in range(rnd.choice([0, 1, 1, 1, 2])):
        units.append(
            {
                "sub_branch_id": rnd.choice(["sb-1", "sb-2", "sb-3", None]),
                "team_id": rnd.choice(["t-1", "t-2", "t-3", "t-4", None]),
                "points": f"{rnd.choice([0, 4, 10, 20, 24]) + rnd.choice([0, 0, 0.5])}0",
            }
        )
    total = sum((Decimal(u["points"]) for u in units), Decimal(0))
    metrics = {"accounts": rnd.randint(0, 3)}
    if rnd.random() < 0.7:
        metrics["basic_accounts"] = rnd.randint(0, 2)
    reached = rnd.choice([None, "2026-02-03T10:00:00+08:00", "2026-02-04T09:00:00+08:00"])
    scorecard = None
    if rnd.random() < 0.5:
        imp = rnd.choice(["1.00", "2.00", "-1.00", None])
        scorecard = {
            "composite": "10.00",
            "penalised": False,
            "attainment": {},
            "actual": {},
            "previous_composite": None,
            "improvement": imp,
        }
    body: dict[str, Any] = {
        "competition_id": CID,
        "cm_id": cm,
        "rule_version": 1,
        "points": str(total),
        "components": {"opening": str(total)},
        "units": units,
        "metrics": metrics,
        "reached_at": reached,
        "scorecard": scorecard,
    }
    return Standing.from_dict(body)


@pytest.mark.parametrize("tie_break", TIE_BREAKS)
@pytest.mark.parametrize("ranking", KINDS)
def test_incremental_index_equals_core_rank_after_every_change(
    ranking: RankingKind, tie_break: tuple[TieBreak, ...]
) -> None:
    rnd = random.Random(f"{ranking}{tie_break}")
    heads = {"sb-1": 5, "sb-3": 2}  # sb-2 falls back to who scored there, as in the core
    index = RankedIndex(ranking, tie_break, heads if ranking == "sub_branch_per_head" else None)
    held: dict[str, Standing] = {}
    for step in range(400):
        cm = f"cm-{rnd.randint(0, 25):02d}"
        new = None if rnd.random() < 0.15 else make_standing(rnd, cm)
        index.put(cm, held.get(cm), new)
        if new is None:
            held.pop(cm, None)
        else:
            held[cm] = new
        expected_heads = None
        if ranking == "sub_branch_per_head":
            expected_heads = scoring_headcounts(held.values()) | heads
        expected = rank(held.values(), ranking, expected_heads, tie_break=tie_break)
        assert index.ranked_rows() == expected, f"step {step}"
        for row in expected:
            assert index.rank_of(row.unit_id) == row.rank
    assert len(index) >= 2  # the walk did build a board


def test_ranks_are_shared_on_full_ties_and_listed_by_id() -> None:
    index = RankedIndex("customer_manager", ("points_desc",))
    for cm, points in [("cm-c", "10.00"), ("cm-a", "10.00"), ("cm-b", "20.00"), ("cm-d", "5.00")]:
        body = {"competition_id": CID, "cm_id": cm, "rule_version": 1, "points": points}
        body |= {"components": {}, "units": [], "metrics": {}}
        index.put(cm, None, Standing.from_dict(body))
    assert [(r, row.unit_id) for r, row in index.ordered()] == [
        (1, "cm-b"),
        (2, "cm-a"),
        (2, "cm-c"),
        (4, "cm-d"),
    ]
    assert [(r, row.unit_id) for r, row in index.slice(1, 3)] == [(2, "cm-a"), (2, "cm-c")]
    assert index.position_of("cm-c") == 2 and index.rank_of("cm-c") == 2
    assert index.rank_of("cm-z") is None


# -- the board over the index: clock, pages, filters --------------------------------------------


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def published(**changes: Any) -> Competition:
    return load_template("feb_account_opening").model_copy(update={"status": "published", **changes})


def key(cm: str) -> bytes:
    return f"{CID}|{cm}".encode()


def value(cm: str, points: str, sub_branch: str = "sb-1", team: str | None = None, basic: int = 0) -> bytes:
    return standing(cm, points, [(sub_branch, team, points)], accounts=basic, basic_accounts=basic)


SHANGHAI_9AM = datetime(2026, 2, 10, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def test_rank_change_compares_with_the_start_of_the_shanghai_day() -> None:
    clock = Clock(SHANGHAI_9AM)
    board = Board(clock=clock)
    board.set_competitions([published()])
    for cm, points in [("cm-a", "30.00"), ("cm-b", "20.00"), ("cm-c", "10.00")]:
        board.put(key(cm), value(cm, points))
    first = board.page(CID, "customer_manager")
    assert [(r.row.unit_id, r.rank_change) for r in first.rows] == [
        ("cm-a", None),
        ("cm-b", None),
        ("cm-c", None),
    ]

    # 23:59 the same day in Shanghai (15:59 UTC): still the same day, nobody had a rank at its start.
    clock.at = datetime(2026, 2, 10, 15, 59, tzinfo=UTC)
    board.put(key("cm-c"), value("cm-c", "25.00"))
    assert all(r.rank_change is None for r in board.page(CID, "customer_manager").rows)

    # 00:01 on the 11th in Shanghai (16:01 UTC on the 10th): the day began with a, c, b.
    clock.at = datetime(2026, 2, 10, 16, 1, tzinfo=UTC)
    board.put(key("cm-b"), value("cm-b", "40.00"))
    board.put(key("cm-d"), value("cm-d", "1.00"))
    rows = board.page(CID, "customer_manager").rows
    assert [(r.row.unit_id, r.row.rank, r.rank_change) for r in rows] == [
        ("cm-b", 1, 2),  # from 3rd to 1st
        ("cm-a", 2, -1),
        ("cm-c", 3, -1),
        ("cm-d", 4, None),  # new today
    ]


def test_rank_change_after_a_restart_uses_the_records_timestamps() -> None:
    """The start-up replay sees yesterday's records (by their Kafka timestamps) as the day's start."""
    board = Board(clock=Clock(SHANGHAI_9AM))
    board.set_competitions([published()])
    yesterday = SHANGHAI_9AM - timedelta(days=1)
    board.put(key("cm-a"), value("cm-a", "30.00"), at=yesterday)
    board.put(key("cm-b"), value("cm-b", "20.00"), at=yesterday)
    board.put(key("cm-b"), value("cm-b", "50.00"), at=SHANGHAI_9AM - timedelta(minutes=5))
    rows = board.page(CID, "customer_manager").rows
    assert [(r.row.unit_id, r.rank_change) for r in rows] == [("cm-b", 1), ("cm-a", -1)]


def test_per_head_divides_by_the_headcount_of_the_window_last_day_once_ended() -> None:
    clock = Clock(datetime(2026, 2, 20, 2, 0, tzinfo=UTC))
    board = Board(clock=clock)
    board.set_competitions([published()])
    for cm in ("cm-a", "cm-b"):
        board.put_org(*org_record(joined(cm, "sb-1")))
    # A third member joins sb-1 on Feb 25 and a fourth after the contest (Mar 3).
    board.put_org(*org_record(joined("cm-c", "sb-1", effective="2026-02-25")))
    board.put_org(*org_record(joined("cm-d", "sb-1", effective="2026-03-03")))
    board.put(key("cm-a"), value("cm-a", "60.00"))

    running = board.page(CID, "sub_branch_per_head")
    assert running.headcount_day == date(2026, 2, 20)
    assert [(r.row.unit_id, r.row.headcount, str(r.row.points)) for r in running.rows] == [
        ("sb-1", 2, "30.00")
    ]

    clock.at = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # ended: the window's last day, Feb 28
    ended = board.page(CID, "sub_branch_per_head")
    assert ended.headcount_day == date(2026, 2, 28)
    assert [(r.row.headcount, str(r.row.points)) for r in ended.rows] == [(3, "20.00")]


def test_pages_filters_names_and_around_me() -> None:
    board = Board(clock=Clock(SHANGHAI_9AM))
    board.set_competitions([published()])
    people = {
        "cm-a": ("sb-east", "t-1", "张伟", "40.00"),
        "cm-b": ("sb-east", "t-2", "李娜", "30.00"),
        "cm-c": ("sb-west", "t-3", "王芳", "30.00"),
        "cm-d": ("sb-west", "t-3", "刘洋", "10.00"),
        "cm-e": ("sb-east", "t-1", "陈静", "5.00"),
    }
    sub_branches = {"sb-east": "城东支行", "sb-west": "城西支行"}
    for cm, (sb, team, name, points) in people.items():
        board.put_org(*org_record(joined(cm, sb, name=name, unit_name=sub_branches[sb])))
        board.put_org(*org_record(joined(cm, team, kind="team", unit_name=f"团队{team[-1]}")))
        board.put(key(cm), value(cm, points, sb, team))

    top = board.page(CID, "customer_manager", offset=1, limit=2)
    assert top.count == 5
    assert [(r.row.rank, r.row.unit_id, r.name, r.sub_branch_name, r.team_name) for r in top.rows] == [
        (2, "cm-b", "李娜", "城东支行", "团队2"),
        (2, "cm-c", "王芳", "城西支行", "团队3"),
    ]
    west = board.page(CID, "customer_manager", sub_branch="sb-west")
    assert (west.count, [(r.row.rank, r.row.unit_id) for r in west.rows]) == (2, [(2, "cm-c"), (4, "cm-d")])
    team = board.page(CID, "customer_manager", team="t-1")
    assert [(r.row.rank, r.row.unit_id) for r in team.rows] == [(1, "cm-a"), (5, "cm-e")]
    both = board.page(CID, "customer_manager", sub_branch="sb-east", team="t-2")
    assert [r.row.unit_id for r in both.rows] == ["cm-b"]
    teams_west = board.page(CID, "team", sub_branch="sb-west")
    assert [(r.row.unit_id, r.name, r.sub_branch_id) for r in teams_west.rows] == [
        ("t-3", "团队3", "sb-west")
    ]
    units = board.page(CID, "sub_branch_total")
    assert [(r.row.unit_id, r.name, str(r.row.points)) for r in units.rows] == [
        ("sb-east", "城东支行", "75.00"),
        ("sb-west", "城西支行", "40.00"),
    ]

    around = board.around(CID, "customer_manager", "cm-c", size=1)
    assert around is not None
    assert (around.count, around.row.row.unit_id) == (5, "cm-c")
    assert [r.row.unit_id for r in around.above] == ["cm-b"]
    assert [r.row.unit_id for r in around.below] == ["cm-d"]
    edge = board.around(CID, "customer_manager", "cm-a", size=2)
    assert edge is not None and edge.above == [] and [r.row.unit_id for r in edge.below] == ["cm-b", "cm-c"]
    assert board.around(CID, "customer_manager", "cm-z") is None

    # A move in the org moves the manager's row to the other sub-branch's filter.
    board.put_org(*org_record(joined("cm-e", "sb-west", effective="2026-02-05")))
    assert [r.row.unit_id for r in board.page(CID, "customer_manager", sub_branch="sb-west").rows] == [
        "cm-c",
        "cm-d",
        "cm-e",
    ]


def test_the_rows_json_is_pydantics_written_out() -> None:
    from services.api.views import row

    rnd = random.Random(3)
    index = RankedIndex("team", ("points_desc", "improvement_desc", "first_reached"))
    for i in range(40):
        index.put(f"cm-{i}", None, make_standing(rnd, f"cm-{i}"))
    rows = index.ranked_rows()
    utc = rows[0].model_copy(update={"reached_at": datetime(2026, 2, 3, 2, 0, 5, 123, tzinfo=UTC)})
    assert rows and any(r.improvement is not None for r in rows)
    for r in [*rows, utc]:
        body = r.model_dump(mode="json", exclude={"ranking", "unit_id"})
        assert row(r, "名") == {"rank": body.pop("rank"), "id": r.unit_id, "name": "名", **body}


def test_a_board_restricted_to_a_sub_branch_ranks_only_who_takes_part() -> None:
    """The worker reports every manager it saw, those of other sub-branches at 0.00; a board with
    participants lists only its own, judged again when the org moves someone."""
    board = Board(clock=Clock(SHANGHAI_9AM))
    board.set_competitions([published(participants=["sb-east"])])
    for cm, sb in [("cm-a", "sb-east"), ("cm-b", "sb-east"), ("cm-w", "sb-west"), ("cm-x", "sb-west")]:
        board.put_org(*org_record(joined(cm, sb)))
    board.put(key("cm-a"), value("cm-a", "20.00", "sb-east"))
    board.put(key("cm-w"), standing("cm-w", "0.00", []))
    listed = board.page(CID, "customer_manager")
    assert [(r.row.rank, r.row.unit_id) for r in listed.rows] == [(1, "cm-a")]
    # Updates after the board is built: a participant with nothing yet is listed, others are not.
    board.put(key("cm-b"), standing("cm-b", "0.00", []))
    board.put(key("cm-x"), standing("cm-x", "0.00", []))
    assert [r.row.unit_id for r in board.page(CID, "customer_manager").rows] == ["cm-a", "cm-b"]
    assert [r.row.unit_id for r in board.page(CID, "sub_branch_total").rows] == ["sb-east"]
    # cm-w moves into the sub-branch: now on the board.
    board.put_org(*org_record(joined("cm-w", "sb-east", effective="2026-02-05")))
    assert [r.row.unit_id for r in board.page(CID, "customer_manager").rows] == ["cm-a", "cm-b", "cm-w"]
    # Points earned in the sub-branch keep a manager who has since left it on its board.
    board.put(key("cm-x"), value("cm-x", "4.00", "sb-east"))
    assert [r.row.unit_id for r in board.page(CID, "customer_manager").rows] == [
        "cm-a",
        "cm-x",
        "cm-b",
        "cm-w",
    ]
    # Without participants, everyone the worker reports is ranked, as before.
    board.set_competitions([published()])
    assert len(board.page(CID, "customer_manager").rows) == 4
