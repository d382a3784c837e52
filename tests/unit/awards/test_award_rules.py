"""The `awards` part of a competition definition: optional, validated, errors with field paths."""

from __future__ import annotations

from typing import Any

import pytest

from streams.core import RuleError, load_template, parse_competition

PRIZES: list[dict[str, Any]] = [
    {"kind": "rank", "name": "开户竞赛奖", "tiers": [{"count": 1, "title": "一等奖", "amount": 1000}]},
    {"kind": "threshold", "name": "达标奖", "min_points": 100, "title": "达标", "amount": 50},
    {"kind": "honour", "name": "小小银行家", "title": "小小银行家", "top": 10},
    {"kind": "team", "name": "最佳支行", "tiers": [{"title": "最佳支行", "amount": 2000}]},
]


def _with(awards: Any, **changes: Any) -> dict[str, Any]:
    body = load_template("feb_account_opening").model_dump(mode="json")
    body.update(awards=awards, **changes)
    return body


def _error(body: dict[str, Any]) -> str:
    with pytest.raises(RuleError) as caught:
        parse_competition(body)
    return str(caught.value)


def test_awards_are_optional_and_leave_existing_definitions_alone() -> None:
    comp = load_template("feb_account_opening")
    assert comp.awards is None
    assert "awards" not in comp.model_dump_json()  # the catalog's fingerprint is unchanged


def test_a_full_awards_block_parses_with_defaults() -> None:
    comp = parse_competition(_with({"prizes": PRIZES, "eligibility": {"in_post": True, "min_events": 3}}))
    awards = comp.awards
    assert awards is not None
    assert (awards.period, awards.ties) == ("month", "share_rank")
    assert [p.kind for p in awards.prizes] == ["rank", "threshold", "honour", "team"]
    assert awards.prizes[3].ranking == "sub_branch_per_head"  # type: ignore[union-attr]
    assert awards.eligibility.in_post and awards.eligibility.min_events == 3
    assert "awards" in comp.model_dump_json()


@pytest.mark.parametrize(
    ("awards", "message"),
    [
        (
            {"prizes": [{**PRIZES[0], "tiers": [{"title": "一等奖", "amount": -1}]}]},
            "awards.prizes[0].tiers[0].amount: Input should be greater than or equal to 0",
        ),
        (
            {"prizes": [{"kind": "lottery", "name": "x"}]},
            "awards.prizes[0]: Input tag 'lottery' found using 'kind' does not match",
        ),
        (
            {"prizes": [{**PRIZES[1], "min_points": 0}]},
            "awards.prizes[0].min_points: Input should be greater than 0",
        ),
        (
            {"prizes": [{**PRIZES[2], "top": 0}]},
            "awards.prizes[0].top: Input should be greater than or equal to 1",
        ),
        (
            {"prizes": [{**PRIZES[0], "tiers": []}]},
            "awards.prizes[0].tiers: List should have at least 1 item",
        ),
        (
            {"prizes": [{**PRIZES[3], "ranking": "customer_manager"}]},
            "awards.prizes[0].ranking: Input should be",
        ),
        (
            {"prizes": PRIZES, "ties": "coin_toss"},
            "awards.ties: Input should be 'share_rank', 'split' or 'tie_break'",
        ),
        ({"prizes": PRIZES, "period": "week"}, "awards.period: Input should be 'month' or 'window'"),
        (
            {"prizes": PRIZES, "eligibility": {"in_post": True, "tenure": 3}},
            "awards.eligibility.tenure: Extra inputs",
        ),
        ({"prizes": []}, "awards.prizes: List should have at least 1 item"),
        (
            {"prizes": [PRIZES[0], PRIZES[0]]},
            "awards: Value error, prize names must be distinct ('开户竞赛奖' repeats)",
        ),
    ],
)
def test_bad_awards_name_the_field(awards: dict[str, Any], message: str) -> None:
    assert _error(_with(awards)).startswith(message)


def test_tie_break_ties_need_keys_the_ledger_holds() -> None:
    # The February template breaks ties by basic accounts: not in ledger entries.
    message = _error(_with({"prizes": PRIZES, "ties": "tie_break"}))
    assert "awards.ties: 'tie_break' needs tie-break keys the ledger holds; basic_accounts_desc" in message
    per_prize = _with({"prizes": [{**PRIZES[0], "ties": "tie_break"}]})
    assert "awards.prizes[0].ties: 'tie_break'" in _error(per_prize)
    fine = parse_competition(
        _with({"prizes": PRIZES, "ties": "tie_break"}, tie_break=["points_desc", "first_reached"])
    )
    assert fine.awards is not None and fine.awards.ties == "tie_break"
