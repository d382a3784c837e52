"""A CSV roster compared with the org as it stands, as org.changed events (no Kafka here: the
org is the API's own OrgDirectory, fed with the events a previous import made)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from schemas import SHANGHAI
from schemas.events import OrgChanged
from services.console.roster import RosterError, org_events, parse_roster, roster_changes
from services.readmodel.org import OrgDirectory

DAY = date(2026, 3, 1)
NOW = datetime(2026, 2, 27, 9, 0, tzinfo=SHANGHAI)
ROSTER = """cm_id,cm_name,sub_branch_id,sub_branch_name,team_id,team_name,effective_from
cm-1,张伟,sb-east,城东支行,team-a,先锋团队,2026-01-01
cm-2,王芳,sb-east,城东支行,,,2026-01-01
cm-3,李娜,sb-west,城西支行,team-a,先锋团队,2026-01-01
"""


def _org(text: str, day: date = DAY) -> OrgDirectory:
    org = OrgDirectory()
    for event in org_events(roster_changes(parse_roster(text, day), org, full=True, leave_date=day), NOW):
        org.add(OrgChanged.model_validate(event))
    return org


def test_a_first_import_joins_everyone_with_names() -> None:
    changes = roster_changes(parse_roster(ROSTER, DAY), OrgDirectory(), full=True, leave_date=DAY)
    assert [(c["cm_id"], c["action"], c["unit_kind"], c["unit_id"]) for c in changes] == [
        ("cm-1", "join", "sub_branch", "sb-east"),
        ("cm-1", "join", "team", "team-a"),
        ("cm-2", "join", "sub_branch", "sb-east"),
        ("cm-3", "join", "sub_branch", "sb-west"),
        ("cm-3", "join", "team", "team-a"),
    ]
    assert changes[0] | {} == {
        "cm_id": "cm-1",
        "cm_name": "张伟",
        "action": "join",
        "unit_kind": "sub_branch",
        "unit_id": "sb-east",
        "unit_name": "城东支行",
        "effective_from": "2026-01-01",
    }
    org = _org(ROSTER)
    assert org.tree(date(2026, 2, 1)) == [
        {
            "id": "sb-east",
            "name": "城东支行",
            "headcount": 2,
            "teams": [
                {"id": "team-a", "name": "先锋团队", "managers": [{"cm_id": "cm-1", "name": "张伟"}]},
                {"id": None, "name": None, "managers": [{"cm_id": "cm-2", "name": "王芳"}]},
            ],
        },
        {
            "id": "sb-west",
            "name": "城西支行",
            "headcount": 1,
            "teams": [{"id": "team-a", "name": "先锋团队", "managers": [{"cm_id": "cm-3", "name": "李娜"}]}],
        },
    ]
    assert org.tree(date(2025, 12, 31)) == []


def test_the_same_roster_again_changes_nothing() -> None:
    org = _org(ROSTER)
    assert roster_changes(parse_roster(ROSTER, DAY), org, full=True, leave_date=DAY) == []


def test_a_move_and_a_departure_against_the_tree_of_that_day() -> None:
    org = _org(ROSTER)
    # From March: 王芳 moves to sb-west and into team-a; 李娜 is no longer on the roster.
    march = """工号,姓名,支行编号,支行名称,团队编号,团队名称
cm-1,张伟,sb-east,城东支行,team-a,先锋团队
cm-2,王芳,sb-west,城西支行,team-a,先锋团队
"""
    changes = roster_changes(parse_roster(march, DAY), org, full=True, leave_date=DAY)
    assert [
        (c["cm_id"], c["action"], c["unit_kind"], c["unit_id"], c["effective_from"]) for c in changes
    ] == [
        ("cm-2", "leave", "sub_branch", "sb-east", "2026-03-01"),
        ("cm-2", "join", "sub_branch", "sb-west", "2026-03-01"),
        ("cm-2", "join", "team", "team-a", "2026-03-01"),
        ("cm-3", "leave", "sub_branch", "sb-west", "2026-03-01"),
        ("cm-3", "leave", "team", "team-a", "2026-03-01"),
    ]
    for event in org_events(changes, NOW):
        org.add(OrgChanged.model_validate(event))
    assert [(u["id"], u["headcount"]) for u in org.tree(date(2026, 2, 28))] == [
        ("sb-east", 2),
        ("sb-west", 1),
    ]
    assert [(u["id"], u["headcount"]) for u in org.tree(DAY)] == [("sb-east", 1), ("sb-west", 1)]
    # A partial roster leaves the unlisted alone.
    partial = roster_changes(
        parse_roster("cm_id,sub_branch_id\ncm-9,sb-east\n", DAY), org, full=False, leave_date=DAY
    )
    assert [(c["cm_id"], c["action"]) for c in partial] == [("cm-9", "join")]


def test_a_renamed_unit_is_joined_again_with_its_new_name() -> None:
    org = _org(ROSTER)
    renamed = ROSTER.replace("城西支行", "城西分理处")
    changes = roster_changes(parse_roster(renamed, DAY), org, full=True, leave_date=DAY)
    assert [(c["cm_id"], c["action"], c["unit_id"], c["unit_name"]) for c in changes] == [
        ("cm-3", "join", "sb-west", "城西分理处")
    ]


def test_event_ids_follow_the_change_so_a_repeat_is_a_duplicate() -> None:
    changes = roster_changes(parse_roster(ROSTER, DAY), OrgDirectory(), full=True, leave_date=DAY)
    first, second = org_events(changes, NOW), org_events(changes, datetime(2026, 3, 5, tzinfo=SHANGHAI))
    assert [e["event_id"] for e in first] == [e["event_id"] for e in second]
    assert len({e["event_id"] for e in first}) == len(first)
    assert all(e["type"] == "org.changed" and e["source"] == "console" for e in first)
    assert (
        "unit_name"
        not in org_events(
            roster_changes(
                parse_roster("cm_id,sub_branch_id\nx,sb\n", DAY), OrgDirectory(), full=False, leave_date=DAY
            ),
            NOW,
        )[0]["data"]
    )


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("", "(roster)"),
        ("cm_name,sub_branch_id\n张伟,sb-east\n", "(header).cm_id"),
        ("cm_id,sub_branch_id\n", "(roster)"),
        ("cm_id,sub_branch_id\ncm 1,sb-east\n", "line 2.cm_id"),
        ("cm_id,sub_branch_id\ncm-1,\n", "line 2.sub_branch_id"),
        ("cm_id,sub_branch_id\ncm-1,sb\ncm-1,sb\n", "line 3.cm_id"),
        ("cm_id,sub_branch_id,effective_from\ncm-1,sb,next week\n", "line 2.effective_from"),
    ],
)
def test_a_bad_roster_names_the_line_and_column(text: str, field: str) -> None:
    with pytest.raises(RosterError) as refused:
        parse_roster(text, DAY)
    assert refused.value.field == field


def test_excel_bom_and_slashed_dates_are_read() -> None:
    (row,) = parse_roster("\ufeffcm_id,sub_branch_id,生效日期\ncm-1,sb,2026/03/01\n", DAY)
    assert (row.cm_id, row.effective_from) == ("cm-1", DAY)


@pytest.mark.parametrize("text", ["$\r\U000bbe32^", "cm_id,sub_branch_id\r\nx\ry\x14,\r", "\x00\r\n\r"])
def test_text_that_is_not_a_roster_is_refused_as_such(text: str) -> None:
    # Found by the API fuzzer: a stray carriage return once escaped as csv.Error (HTTP 500).
    with pytest.raises(RosterError):
        parse_roster(text, date(2026, 1, 1))
