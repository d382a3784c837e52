"""explain_event: what each rule did with one event, and what the event is worth given the rest.

On the February opening example (docs/competitions.md §1): 30 points a day, 60 per contest,
accounts closed within 7 days clawed back.
"""

from __future__ import annotations

from decimal import Decimal

from schemas.envelope import Envelope
from streams.core.explain import Verdict, explain_event
from tests.unit.core.core_builders import competitions_of, event, events_of, load_example

EXAMPLE = load_example("feb_opening")
COMPS = competitions_of(EXAMPLE)
EVENTS = events_of(EXAMPLE)
BY_ID = {e.event_id: e for e in EVENTS}


def _explain(event_id: str, extra: list[Envelope] | None = None) -> Verdict:
    target = BY_ID[event_id] if event_id in BY_ID else next(e for e in extra or [] if e.event_id == event_id)
    cm = target.data.cm_id  # type: ignore[attr-defined]
    history = [e for e in [*EVENTS, *(extra or [])] if e.data.cm_id == cm]  # type: ignore[attr-defined]
    (verdict,) = explain_event(target, history, COMPS)
    return verdict


def _codes(v: Verdict) -> list[str]:
    return [f.code for f in v.findings]


def test_a_scored_opening_names_its_version_points_and_the_caps_that_cut_it() -> None:
    v = _explain("a1")
    assert v.counted
    assert _codes(v) == ["scored", "daily_cap", "contest_cap"]
    assert v.findings[0].version == 1 and "开立基本户 +20" in v.findings[0].text
    # a1, a2, a3 on Feb 3 = 36 > 30; a1's own 20 is cut by the day cap (-6) and the contest cap (-7)
    assert v.changes == {
        "opening": Decimal("20.00"),
        "opening.contest_cap": Decimal("-7.00"),
        "opening.daily_cap": Decimal("-6.00"),
    }


def test_a_clawed_back_opening_and_the_closing_that_clawed_it() -> None:
    opening, closing = _explain("a4"), _explain("a5")
    assert "clawed_back" in _codes(opening)
    assert opening.points == Decimal(0)  # +18, then -18 clawback
    assert _codes(closing) == ["clawback"] and "a4" in closing.findings[0].text
    assert closing.changes["opening.clawback"] == Decimal("-18.00")


def test_a_closing_after_the_clawback_period_does_not_count() -> None:
    v = _explain("b4")  # B-003 opened Feb 7, moved away Feb 26: 19 days > 7
    assert not v.counted and _codes(v) == ["beyond_clawback"]


def test_an_opening_outside_the_window() -> None:
    v = _explain("b5")
    assert not v.counted and _codes(v) == ["outside_window"]


def test_a_second_report_of_the_same_account_is_superseded() -> None:
    again = event(
        "account.opened",
        "a1-again",
        "2025-02-04 09:00",
        account_id="A-001",
        customer_id="C-A-001",
        cm_id="cm-a",
        account_type="basic",
        segment="non_credit",
    )
    v = _explain("a1-again", [again])
    assert not v.counted and _codes(v) == ["superseded"] and "a1" in v.findings[0].text


def test_an_event_type_the_rules_do_not_read() -> None:
    visit = event(
        "customer.visited",
        "v1",
        "2025-02-04 09:00",
        customer_id="C1",
        cm_id="cm-a",
        visitor_id="cm-a",
        channel="phone",
    )
    v = _explain("v1", [visit])
    assert not v.counted and _codes(v) == ["not_read"]


def test_a_sub_branch_outside_the_participants() -> None:
    only_sb2 = COMPS[0].model_copy(update={"participants": ["SB2"]})
    target = BY_ID["a6"]
    (v,) = explain_event(target, [e for e in EVENTS if e.data.cm_id == "cm-a"], [only_sb2])  # type: ignore[attr-defined]
    assert not v.counted and _codes(v) == ["participants"] and "SB1" in v.findings[0].text


def test_the_worth_of_an_event_does_not_depend_on_it_being_in_the_history() -> None:
    with_it = _explain("a6")
    (without,) = explain_event(
        BY_ID["a6"], [e for e in EVENTS if e.event_id != "a6" and e.data.cm_id == "cm-a"], COMPS
    )  # type: ignore[attr-defined]
    assert with_it == without
