"""Definition errors name the field path and the reason; templates parse; the JSON schema is current."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from streams.core import RuleError, competition_json_schema, load_template, parse_competition, template_names
from tests.unit.core.core_builders import load_example

ROOT = Path(__file__).resolve().parents[3]
GOOD: dict[str, Any] = load_example("feb_opening")["competition"]


def _with(path: str, value: Any) -> dict[str, Any]:
    obj = json.loads(json.dumps(GOOD))
    *parents, last = path.split(".")
    node = obj
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is KeyError:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return obj


CASES = [
    ("rules.0.points.basic", "ten", "rules[0].points.basic", "valid decimal"),
    ("rules.0.points.vip", 5, "rules[0].points.vip", "Input should be"),
    ("rules.0.daily_cap", -1, "rules[0].daily_cap", "greater than 0"),
    ("rules.0.kind", "lottery", "rules[0]", "does not match any of the expected tags"),
    ("rules.0.bonus", 1, "rules[0].bonus", "Extra inputs are not permitted"),
    ("window.end", "2025-01-01", "window", "end is before start"),
    ("effective_from", "2025-02-01T00:00:00", "effective_from", "timezone"),
    ("version", KeyError, "version", "field required"),
    ("tie_break", ["points_desc", "luck"], "tie_break[1]", "Input should be"),
    ("rankings", ["by_region"], "rankings[0]", "Input should be"),
]


@pytest.mark.parametrize(("path", "value", "where", "why"), CASES)
def test_errors_name_field_and_reason(path: str, value: Any, where: str, why: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_competition(_with(path, value))
    assert caught.value.path == where
    assert why in caught.value.reason
    assert str(caught.value).startswith(f"{where}: ")


def test_one_rule_per_kind() -> None:
    obj = _with("rules", GOOD["rules"] * 2)
    with pytest.raises(RuleError, match="at most one rule of kind 'account_opening'"):
        parse_competition(obj)


def test_not_an_object() -> None:
    with pytest.raises(RuleError, match="expected a JSON object"):
        parse_competition([])  # type: ignore[arg-type]


def test_templates_parse() -> None:
    names = template_names()
    assert {"feb_account_opening", "deposit_peak_season", "payroll_drive", "little_banker"} <= set(names)
    for name in names:
        assert load_template(name).id


def test_checked_in_json_schema_is_current() -> None:
    path = ROOT / "schemas" / "json" / "competition.schema.json"
    assert json.loads(path.read_text(encoding="utf-8")) == competition_json_schema()


def test_a_copy_with_other_rules_answers_from_its_own_rules() -> None:
    """pydantic's model_copy carries cached properties along: the rule lookup must not."""
    first = parse_competition(GOOD)
    kind = first.rules[0].kind
    assert first.rule(kind) is first.rules[0]  # the lookup is cached on the original now
    changed = first.rules[0].model_copy(update={"daily_cap": 7})
    second = first.model_copy(update={"version": first.version + 1, "rules": [changed]})
    assert second.rule(kind) is changed
    assert first.rule(kind) is first.rules[0]
