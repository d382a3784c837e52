"""The console's templates: the seed's six contests, and a draft re-dated from one."""

from __future__ import annotations

from datetime import date

import pytest

from services.console.templates import catalog, instantiate
from streams.core.errors import RuleError
from streams.core.rules import parse_competition


def test_the_catalog_offers_the_seed_contests_by_their_chinese_names() -> None:
    titles = [t["title"] for t in catalog()]
    assert titles == [
        "多开户、多开基本户",
        "存款旺季营销",
        "开门红",
        "代发工资",
        "三小一卡",
        "小小银行家",
        "徽章与冲刺",
    ]
    for template in catalog():
        parse_competition(template["definition"])  # each is a valid definition


def test_a_draft_moves_every_date_with_its_window() -> None:
    draft = instantiate(
        "strong_start", competition_id="strong-start-2027", start=date(2027, 1, 1), end=date(2027, 3, 31)
    )
    assert (draft["id"], draft["version"], draft["status"]) == ("strong-start-2027", 1, "draft")
    assert draft["window"] == {"start": "2027-01-01", "end": "2027-03-31"}
    assert draft["effective_from"] == "2027-01-01T00:00:00+08:00"
    template = next(t["definition"] for t in catalog() if t["key"] == "strong_start")
    multiplier = template["modifiers"][0]
    moved = draft["modifiers"][0]
    assert (moved["start"], moved["end"]) == (
        multiplier["start"].replace("2026", "2027"),
        multiplier["end"].replace("2026", "2027"),
    )


def test_a_yearly_contest_moves_its_previous_period_too() -> None:
    draft = instantiate(
        "little_banker", competition_id="lb-2027", start=date(2027, 1, 1), end=date(2027, 12, 31)
    )
    (scorecard,) = [r for r in draft["rules"] if r.get("previous_period")]
    assert scorecard["previous_period"] == {"start": "2026-01-01", "end": "2026-12-31"}


def test_name_and_participants_can_be_set() -> None:
    draft = instantiate(
        "feb_account_opening",
        competition_id="mar-opening",
        start=date(2026, 3, 1),
        end=date(2026, 3, 31),
        name="3月「多开户、多开基本户」竞赛",
        participants=["sb-east"],
    )
    assert (draft["name"], draft["participants"]) == ("3月「多开户、多开基本户」竞赛", ["sb-east"])


def test_refusals_name_the_field() -> None:
    with pytest.raises(KeyError):
        instantiate("no_such", competition_id="x", start=date(2026, 1, 1), end=date(2026, 1, 2))
    with pytest.raises(RuleError) as bad_window:
        instantiate("payroll_drive", competition_id="x", start=date(2026, 3, 1), end=date(2026, 2, 1))
    assert bad_window.value.path == "window"
    with pytest.raises(RuleError) as bad_id:
        instantiate("payroll_drive", competition_id="有 空格", start=date(2026, 3, 1), end=date(2026, 3, 2))
    assert bad_id.value.path == "id"


@pytest.mark.parametrize(
    ("key", "start", "end", "name"),
    [
        ("feb_account_opening", date(2026, 11, 1), date(2026, 11, 30), "2026年11月「多开户、多开基本户」"),
        ("strong_start", date(2027, 1, 1), date(2027, 3, 31), "2027年1—3月「开门红」"),
        ("payroll_drive", date(2026, 12, 1), date(2027, 1, 31), "2026年12月—2027年1月「代发工资」"),
        (
            "deposit_peak_season",
            date(2026, 11, 5),
            date(2026, 11, 20),
            "2026年11月5日—11月20日「存款旺季营销」",
        ),
    ],
)
def test_a_draft_without_a_name_is_named_for_its_window_not_the_templates_month(
    key: str, start: date, end: date, name: str
) -> None:
    draft = instantiate(key, competition_id="x-1", start=start, end=end)
    assert draft["name"] == name
