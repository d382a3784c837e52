"""The read model's memory without Kafka: newest standing per key, revisions, leaderboards."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from services.readmodel import Board, RankingNotOffered, UnknownCompetition
from streams.core.rules import Competition
from streams.core.templates import load_template
from tests.support.events import joined
from tests.support.records import org_record, standing

CID = "feb-account-opening"


def published(name: str = "feb_account_opening", **changes: Any) -> Competition:
    return load_template(name).model_copy(update={"status": "published", **changes})


def key(cm: str) -> bytes:
    return f"{CID}|{cm}".encode()


@pytest.fixture
def board() -> Board:
    b = Board()
    b.set_competitions([published()])
    return b


def test_keeps_the_newest_standing_per_key(board: Board) -> None:
    board.put(key("cm-a"), standing("cm-a", "20.00", [("sb-1", None, "20.00")]))
    board.put(key("cm-a"), standing("cm-a", "40.00", [("sb-1", None, "40.00")]))
    board.put(key("cm-b"), standing("cm-b", "4.00", [("sb-1", None, "4.00")]))

    found = board.standing(CID, "cm-a")
    assert found is not None and str(found.points) == "40.00"
    assert sorted(s.cm_id for s in board.standings(CID)) == ["cm-a", "cm-b"]


def test_a_tombstone_removes_the_standing(board: Board) -> None:
    board.put(key("cm-a"), standing("cm-a", "20.00", []))
    assert board.put(key("cm-a"), None) is True
    assert board.standing(CID, "cm-a") is None
    assert board.put(key("cm-a"), None) is False  # nothing left to remove


def test_revision_grows_on_every_change_and_only_then(board: Board) -> None:
    start = board.revision
    assert board.put(key("cm-a"), standing("cm-a", "20.00", [])) is True
    assert board.revision == start + 1
    # The worker re-sends whole snapshots; an unchanged one must not wake the screens.
    assert board.put(key("cm-a"), standing("cm-a", "20.00", [])) is False
    assert board.revision == start + 1
    assert board.put(key("cm-a"), standing("cm-a", "24.00", [])) is True
    assert board.set_competitions([published()]) is False
    assert board.set_competitions([published(), published(version=2)]) is True
    assert board.revision == start + 3


def test_records_it_cannot_read_are_ignored(board: Board) -> None:
    start = board.revision
    assert board.put(b"no-separator", standing("cm-a", "1.00", [])) is False
    assert board.put(key("cm-a"), b"{not json") is False
    assert board.put(key("cm-a"), b'{"cm_id": "cm-a"}') is False
    assert board.revision == start


def test_customer_manager_board_ranks_by_points_then_basic_accounts(board: Board) -> None:
    board.put(
        key("cm-a"),
        standing("cm-a", "40.00", [("sb-1", "t-1", "40.00")], accounts=2, basic_accounts=2),
    )
    board.put(
        key("cm-b"),
        standing("cm-b", "24.00", [("sb-1", "t-2", "24.00")], accounts=2, basic_accounts=1),
    )
    board.put(
        key("cm-c"),
        standing("cm-c", "24.00", [("sb-2", "t-1", "24.00")], accounts=2, basic_accounts=2),
    )

    lb = board.leaderboard(CID, "customer_manager")

    assert [(r.rank, r.unit_id, str(r.points)) for r in lb.rows] == [
        (1, "cm-a", "40.00"),
        (2, "cm-c", "24.00"),  # the template breaks ties by basic accounts
        (3, "cm-b", "24.00"),
    ]
    assert lb.rows[0].metrics == {"accounts": 2, "basic_accounts": 2}
    assert lb.revision == board.revision


def test_sub_branch_boards_total_and_per_head(board: Board) -> None:
    board.put(key("cm-a"), standing("cm-a", "40.00", [("sb-1", None, "40.00")]))
    board.put(key("cm-b"), standing("cm-b", "24.00", [("sb-1", None, "24.00")]))
    # cm-c moved during the contest: its points stay with the unit it earned them in.
    board.put(key("cm-c"), standing("cm-c", "50.00", [("sb-1", None, "10.00"), ("sb-2", None, "40.00")]))

    total = board.leaderboard(CID, "sub_branch_total").rows
    assert [(r.rank, r.unit_id, str(r.points)) for r in total] == [(1, "sb-1", "74.00"), (2, "sb-2", "40.00")]

    per_head = board.leaderboard(CID, "sub_branch_per_head").rows
    assert [(r.unit_id, r.headcount, str(r.points)) for r in per_head] == [
        ("sb-2", 1, "40.00"),
        ("sb-1", 3, "24.67"),
    ]


def test_unknown_competition_and_ranking_not_offered() -> None:
    board = Board()
    board.set_competitions([published("payroll_drive")])  # customer_manager, team, sub_branch_total
    with pytest.raises(UnknownCompetition):
        board.leaderboard(CID, "customer_manager")
    with pytest.raises(RankingNotOffered):
        board.leaderboard("payroll-drive", "sub_branch_per_head")
    assert board.leaderboard("payroll-drive", "team").rows == []


def test_drafts_are_known_but_not_listed() -> None:
    board = Board()
    draft = load_template("deposit_peak_season")
    board.set_competitions([published(), draft])

    assert [c.id for c in board.competitions()] == [CID]
    assert board.version("deposit-peak-season", 1) == draft
    with pytest.raises(UnknownCompetition):
        board.competition("deposit-peak-season")


def test_manager_rows_carry_the_org_name_else_the_id(board: Board) -> None:
    board.put_org(*org_record(joined("cm-a", "sb-1", name="张伟")))
    board.put_org(*org_record(joined("cm-b", "sb-1")))  # never named
    board.put(key("cm-a"), standing("cm-a", "40.00", [("sb-1", None, "40.00")]))
    board.put(key("cm-b"), standing("cm-b", "24.00", [("sb-1", None, "24.00")]))

    lb = board.leaderboard(CID, "customer_manager")
    assert [(r.unit_id, lb.name_of(r)) for r in lb.rows] == [("cm-a", "张伟"), ("cm-b", "cm-b")]

    units = board.leaderboard(CID, "sub_branch_total")
    assert [units.name_of(r) for r in units.rows] == ["sb-1"]


def test_per_head_divides_by_the_org_headcount_on_the_day(board: Board) -> None:
    # sb-1 has three members from Jan 1, only two of whom scored; sb-2 has nobody in the org
    # yet, so it falls back to the managers who scored there.
    for cm in ("cm-a", "cm-b", "cm-idle"):
        board.put_org(*org_record(joined(cm, "sb-1")))
    board.put(key("cm-a"), standing("cm-a", "40.00", [("sb-1", None, "40.00")]))
    board.put(key("cm-b"), standing("cm-b", "24.00", [("sb-1", None, "24.00")]))
    board.put(key("cm-c"), standing("cm-c", "30.00", [("sb-2", None, "30.00")]))

    per_head = board.leaderboard(CID, "sub_branch_per_head", on=date(2026, 2, 10)).rows
    assert [(r.unit_id, r.headcount, str(r.points)) for r in per_head] == [
        ("sb-2", 1, "30.00"),
        ("sb-1", 3, "21.33"),
    ]
    # Before anyone joined, the org names nobody: the scoring headcount again.
    before = board.leaderboard(CID, "sub_branch_per_head", on=date(2025, 12, 31)).rows
    assert [(r.unit_id, r.headcount) for r in before] == [("sb-1", 2), ("sb-2", 1)]


def test_org_records_bump_the_revision_and_bad_ones_are_ignored(board: Board) -> None:
    start = board.revision
    org_key, value = org_record(joined("cm-a", "sb-1", name="张伟"))
    assert board.put_org(org_key, value) is True
    assert board.put_org(org_key, value) is False  # the same record again
    assert board.revision == start + 1

    assert board.put_org(org_key, b"{not json") is False
    assert board.put_org(None, value) is False
    account = json.loads(value) | {"type": "account.opened"}
    assert board.put_org(b"cm-a|x", json.dumps(account).encode()) is False
    assert board.revision == start + 1

    assert board.put_org(org_key, None) is True  # a tombstone forgets the change
    assert board.org.name("cm-a") is None
    assert board.revision == start + 2
