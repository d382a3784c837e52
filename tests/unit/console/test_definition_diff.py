"""The audit log's structural diff of two competition definitions."""

from __future__ import annotations

from services.console.diff import diff
from streams.core.templates import load_template


def _template() -> dict:
    return load_template("feb_account_opening").model_dump(mode="json")


def test_equal_definitions_have_no_changes() -> None:
    assert diff(_template(), _template()) == []


def test_a_changed_value_is_named_by_its_field_path() -> None:
    after = _template()
    after["rules"][0]["points"]["basic"] = "12"  # Decimals dump as strings
    after["name"] = "3月竞赛"
    assert diff(_template(), after) == [
        {"path": "name", "op": "changed", "from": "2月「多开户、多开基本户」竞赛", "to": "3月竞赛"},
        {"path": "rules[0].points.basic", "op": "changed", "from": "10", "to": "12"},
    ]


def test_added_and_removed_fields_and_list_items() -> None:
    before = {"participants": ["sb-a", "sb-b"], "grace_days": 3}
    after = {"participants": ["sb-a", "sb-c", "sb-d"], "window": {"start": "2026-03-01"}}
    assert diff(before, after) == [
        {"path": "participants[1]", "op": "changed", "from": "sb-b", "to": "sb-c"},
        {"path": "participants[2]", "op": "added", "to": "sb-d"},
        {"path": "window", "op": "added", "to": {"start": "2026-03-01"}},
        {"path": "grace_days", "op": "removed", "from": 3},
    ]


def test_rules_are_matched_by_kind_not_by_position() -> None:
    visit = {"kind": "visit", "points": 1}
    payroll = {"kind": "payroll", "points_per_employee": 2}
    before = {"rules": [visit, payroll]}
    after = {"rules": [{"kind": "product_sold", "points": 5}, payroll, {**visit, "points": 2}]}
    assert diff(before, after) == [
        {"path": "rules[0]", "op": "added", "to": {"kind": "product_sold", "points": 5}},
        {"path": "rules[2].points", "op": "changed", "from": 1, "to": 2},
    ]
    assert diff(after, before) == [
        {"path": "rules[0].points", "op": "changed", "from": 2, "to": 1},
        {"path": "rules[0]", "op": "removed", "from": {"kind": "product_sold", "points": 5}},
    ]


def test_a_type_change_is_a_change_even_when_equal_in_python() -> None:
    assert diff({"cap": 1}, {"cap": True}) == [{"path": "cap", "op": "changed", "from": 1, "to": True}]
    assert diff({"cap": None}, {"cap": 60}) == [{"path": "cap", "op": "changed", "from": None, "to": 60}]


def test_nothing_before_means_everything_is_new() -> None:
    assert diff(None, {"id": "x"}) == [{"path": "(competition)", "op": "added", "to": {"id": "x"}}]
