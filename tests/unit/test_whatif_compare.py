"""The preview's comparison: ranks, deltas, entrants and drop-outs, from the core's standings."""

from __future__ import annotations

from decimal import Decimal

from services.whatif.compare import compare, ranked, scored, summary
from streams.core import score_batch
from streams.core.standing import Standing, UnitPoints
from tests.unit.core.core_builders import competitions_of, events_of, load_example


def standing(cm: str, points: str, sub_branch: str = "SB1", **components: str) -> Standing:
    parts = {k: Decimal(v) for k, v in (components or {"opening": points}).items()}
    return Standing(
        competition_id="c",
        cm_id=cm,
        rule_version=1,
        points=Decimal(points),
        components={k: v for k, v in parts.items() if v},
        units=[UnitPoints(sub_branch_id=sub_branch, team_id=None, points=Decimal(points))]
        if Decimal(points)
        else [],
        metrics={},
    )


TIE = ["points_desc"]


def test_moves_entrants_and_drop_outs() -> None:
    before = [standing("a", "30"), standing("b", "20"), standing("c", "10"), standing("d", "5")]
    after = [standing("a", "15"), standing("b", "20"), standing("c", "40"), standing("e", "1")]
    rows = compare(ranked(before, "customer_manager", TIE), ranked(after, "customer_manager", TIE))
    got = {r.unit_id: (r.change, r.rank_delta, r.points_delta) for r in rows}
    assert got == {
        "c": ("up", 2, Decimal(30)),  # 3rd -> 1st
        "b": ("same", 0, Decimal(0)),  # 2nd -> 2nd
        "a": ("down", -2, Decimal(-15)),  # 1st -> 3rd
        "e": ("new", None, Decimal(1)),
        "d": ("dropped", None, Decimal(-5)),
    }
    assert [r.unit_id for r in rows] == ["c", "b", "a", "e", "d"]  # draft order, then drop-outs
    assert summary(rows) == {"up": 1, "down": 1, "same": 1, "new": 1, "dropped": 1}
    first = rows[0].to_dict()
    assert first["before"]["rank"] == 3 and first["after"]["rank"] == 1
    assert first["points_delta"] == "30.00" and first["rank_delta"] == 2


def test_a_standing_that_scored_nothing_is_not_ranked() -> None:
    zero = Standing(
        competition_id="c", cm_id="z", rule_version=1, points=Decimal(0), components={}, units=[], metrics={}
    )
    assert scored([zero, standing("a", "3")]) == [standing("a", "3")]
    rows = compare(
        ranked([zero], "customer_manager", TIE), ranked([standing("z", "2")], "customer_manager", TIE)
    )
    assert [(r.unit_id, r.change) for r in rows] == [("z", "new")]


def test_ties_share_a_rank_and_sub_branch_rankings_compare_units() -> None:
    before = [standing("a", "10", "SB1"), standing("b", "10", "SB2"), standing("c", "4", "SB2")]
    after = [standing("a", "10", "SB1"), standing("b", "2", "SB2"), standing("c", "4", "SB2")]
    cms = compare(ranked(before, "customer_manager", TIE), ranked(after, "customer_manager", TIE))
    assert {r.unit_id: (r.before.rank if r.before else None) for r in cms} == {"a": 1, "b": 1, "c": 3}
    units = compare(ranked(before, "sub_branch_total", TIE), ranked(after, "sub_branch_total", TIE))
    got = {
        r.unit_id: (r.before.rank if r.before else None, r.after.rank if r.after else None, r.points_delta)
        for r in units
    }
    assert got == {"SB2": (1, 2, Decimal(-8)), "SB1": (2, 1, Decimal(0))}


def test_components_travel_with_the_rows() -> None:
    rows = compare(
        ranked([standing("a", "5")], "customer_manager", TIE),
        ranked([standing("a", "8", opening="5", adjustment="3")], "customer_manager", TIE),
        {"a": {"opening": Decimal(5)}},
        {"a": {"opening": Decimal(5), "adjustment": Decimal(3)}},
    )
    assert rows[0].to_dict()["after"]["components"] == {"adjustment": "3", "opening": "5"}


def test_the_documented_example_compared_with_a_doubled_basic_account() -> None:
    """feb_opening (docs/competitions.md) against a draft paying 20 for a basic account."""
    example = load_example("feb_opening")
    (v1,) = competitions_of(example)
    raw = v1.model_dump(mode="json")
    raw["rules"][0]["points"]["basic"] = 20
    raw["rules"][0].pop("contest_cap")
    raw["rules"][0].pop("daily_cap")
    from streams.core import parse_competition

    v2 = parse_competition({**raw, "version": 2, "status": "draft"})
    events = events_of(example)
    before = [s for (cid, _), s in score_batch(events, [v1]).items() if cid == v1.id]
    after = [s for (cid, _), s in score_batch(events, [v1, v2], preview=True).items() if cid == v1.id]
    rows = compare(
        ranked(before, "customer_manager", v1.tie_break), ranked(after, "customer_manager", v2.tie_break)
    )
    got = {
        r.unit_id: (r.before.points if r.before else None, r.after.points if r.after else None) for r in rows
    }
    # cm-b: two basic (12 -> 22 each) + a general 4 = 48; cm-c: 30 + 4 + 4 (C-003 clawed back) = 38
    # cm-a, uncapped: A-001 30, A-002 22, A-003 4, A-004 clawed, A-005 30, A-006 27 = 113
    assert got == {
        "cm-a": (Decimal(60), Decimal(113)),
        "cm-b": (Decimal(28), Decimal(48)),
        "cm-c": (Decimal(28), Decimal(38)),
    }
    assert [(r.unit_id, r.change) for r in rows] == [("cm-a", "same"), ("cm-b", "same"), ("cm-c", "same")]
