"""February 多开户、多开基本户: bonuses, daily and contest caps, clawback within N days."""

from __future__ import annotations

from decimal import Decimal

from streams.core import ParticipantState, apply, rank, score_batch, standings
from tests.unit.core.core_builders import arriving, competitions_of, event, events_of, frozen, load_example

EXAMPLE = load_example("feb_opening")

# Worked by hand (rule: basic 10, general 4; bonuses for basic only: 非授信 +2, tax agent /
# bookkeeper / registration office +3, new firm +5; daily cap 30; contest cap 60; clawback 7 days).
#
# cm-a  Feb 3: A-001 20 (10+2+3+5), A-002 12, A-003 4 = 36 -> daily cap -6 -> 30
#       Feb 10: A-004 18 (10+3+5), closed Feb 12 (2 days)  -> clawback -18 -> 0
#       Feb 11: A-005 20, closed Feb 25 (14 days)          -> kept
#       Feb 20: A-006 17 (10+2+5)                          -> running 67 > 60 -> contest cap -7
# cm-b  B-001 12, B-002 12, B-003 4 (moved away after 19 days: kept); B-004 on Mar 2 is outside
# cm-c  C-001 20 (closed after 12 days: kept), C-002 4, C-004 4, C-003 10 opened Feb 27 and
#       closed Mar 3 (4 days, after the window) -> clawback -10
EXPECTED = {
    #        total    opening  clawback  daily_cap  contest_cap  accounts  basic
    "cm-a": ("60.00", "91.00", "-18.00", "-6.00", "-7.00", 5, 4),
    "cm-b": ("28.00", "28.00", None, None, None, 3, 2),
    "cm-c": ("28.00", "38.00", "-10.00", None, None, 3, 1),
}
CM_RANKING = [(1, "cm-a", "60.00"), (2, "cm-b", "28.00"), (3, "cm-c", "28.00")]  # b beats c on basic accounts
SUB_BRANCH_TOTAL = [(1, "SB1", "88.00"), (2, "SB2", "28.00")]
SUB_BRANCH_PER_HEAD = [(1, "SB1", "44.00"), (2, "SB2", "28.00")]  # SB1 has 2 heads, SB2 has 1


def _d(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


def test_standings_match_the_hand_table() -> None:
    result = score_batch(events_of(EXAMPLE), competitions_of(EXAMPLE))
    for cm, (total, opening, clawback, daily, contest, accounts, basic) in EXPECTED.items():
        s = result[("feb-opening-2025", cm)]
        assert s.points == Decimal(total)
        assert s.components.get("opening") == _d(opening)
        assert s.components.get("opening.clawback") == _d(clawback)
        assert s.components.get("opening.daily_cap") == _d(daily)
        assert s.components.get("opening.contest_cap") == _d(contest)
        assert s.metrics == {"accounts": accounts, "basic_accounts": basic}


def test_rankings_with_tie_break_and_per_head() -> None:
    comp = competitions_of(EXAMPLE)[0]
    result = list(score_batch(events_of(EXAMPLE), [comp]).values())
    heads = EXAMPLE["headcounts"]
    rows = [
        (r.rank, r.unit_id, str(r.points)) for r in rank(result, "customer_manager", tie_break=comp.tie_break)
    ]
    assert rows == CM_RANKING
    rows = [(r.rank, r.unit_id, str(r.points)) for r in rank(result, "sub_branch_total", heads)]
    assert rows == SUB_BRANCH_TOTAL
    rows = [(r.rank, r.unit_id, str(r.points)) for r in rank(result, "sub_branch_per_head", heads)]
    assert rows == SUB_BRANCH_PER_HEAD


def test_each_event_yields_its_own_deltas_with_reasons() -> None:
    comps = competitions_of(EXAMPLE)
    state = ParticipantState("cm-a")
    by_id = {}
    for e in events_of(EXAMPLE):
        if e.data.cm_id == "cm-a":  # type: ignore[attr-defined]
            by_id[e.event_id] = [
                (x.component, str(x.points), x.sub_branch_id) for x in apply(state, e, comps)
            ]
    assert by_id["a1"] == [("opening", "20.00", "SB1")]
    assert by_id["a2"] == [("opening", "12.00", "SB1"), ("opening.daily_cap", "-2.00", "SB1")]  # 32 > 30
    assert by_id["a3"] == [("opening", "4.00", "SB1"), ("opening.daily_cap", "-4.00", "SB1")]  # 36 > 30
    assert by_id["a5"] == [("opening.clawback", "-18.00", "SB1")]  # closed within 7 days
    assert by_id["a8"] == []  # closed after 14 days: nothing taken back
    assert by_id["a7"] == [("opening", "17.00", "SB1"), ("opening.contest_cap", "-7.00", "SB1")]
    assert standings(state)[0].points == Decimal("60.00")


def test_reason_names_the_bonuses() -> None:
    comps = competitions_of(EXAMPLE)
    state = ParticipantState("cm-a")
    [entry] = apply(state, events_of(EXAMPLE)[3], comps)
    assert entry.reason == "开立基本户 +20（基础 +10，非授信 +2，渠道 tax_agent +3，新注册企业 +5）"


def test_late_arrival_is_flagged_but_still_counts() -> None:
    comps = competitions_of(EXAMPLE)  # window ends Feb 28, grace 3 days; frozen 03-04 00:00
    late = event(
        "account.opened",
        "late-1",
        "2025-02-27 09:00",
        account_id="L-1",
        customer_id="L",
        cm_id="cm-z",
        account_type="general",
        segment="non_credit",
    )
    freezes = frozen("feb-opening-2025", "2025-02", "2025-03-04 00:00")
    on_time = apply(ParticipantState("cm-z"), late, comps, arrival=arriving("2025-03-03 12:00", freezes))
    too_late = apply(ParticipantState("cm-z"), late, comps, arrival=arriving("2025-03-04 00:01", freezes))
    assert [(e.points, e.late) for e in on_time] == [(Decimal("4.00"), False)]
    assert [(e.points, e.late) for e in too_late] == [(Decimal("4.00"), True)]
    assert on_time[0].entry_id == too_late[0].entry_id
