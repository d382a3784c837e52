"""The org directory from hand-made timelines: names, units on a day, sub-branch headcounts."""

from __future__ import annotations

from datetime import date

from schemas.events import OrgChanged
from services.readmodel.org import OrgDirectory
from streams.core.org import Unit
from tests.unit.core.core_builders import event


def org(
    eid: str,
    cm: str,
    action: str,
    kind: str,
    unit: str,
    effective: str,
    name: str | None = None,
    recorded: str = "2026-01-01 09:00",
    unit_name: str | None = None,
) -> OrgChanged:
    changed = event(
        "org.changed",
        eid,
        recorded,
        cm_id=cm,
        cm_name=name,
        action=action,
        unit_kind=kind,
        unit_id=unit,
        unit_name=unit_name,
        effective_from=effective,
    )
    assert isinstance(changed, OrgChanged)
    return changed


def directory(*events: OrgChanged) -> OrgDirectory:
    d = OrgDirectory()
    for e in events:
        d.add(e)
    return d


D = date.fromisoformat

# cm-a: in SB1/T1 from Jan 1, moves to SB2/T2 on Feb 15. cm-b: SB1 from Jan 1, leaves on Mar 1.
# cm-c: joins SB2 on Feb 1.
TIMELINE = [
    org("a1", "cm-a", "join", "sub_branch", "SB1", "2026-01-01", name="张伟"),
    org("a2", "cm-a", "join", "team", "T1", "2026-01-01"),
    org("a3", "cm-a", "leave", "sub_branch", "SB1", "2026-02-15"),
    org("a4", "cm-a", "join", "sub_branch", "SB2", "2026-02-15"),
    org("a5", "cm-a", "join", "team", "T2", "2026-02-15"),
    org("b1", "cm-b", "join", "sub_branch", "SB1", "2026-01-01", name="李娜"),
    org("b2", "cm-b", "leave", "sub_branch", "SB1", "2026-03-01"),
    org("c1", "cm-c", "join", "sub_branch", "SB2", "2026-02-01", name="王芳"),
]


def test_units_on_a_day_follow_joins_moves_and_leaves() -> None:
    d = directory(*TIMELINE)

    assert d.unit_of("cm-a", D("2025-12-31")) == Unit(None, None)
    assert d.unit_of("cm-a", D("2026-02-14")) == Unit("SB1", "T1")
    assert d.unit_of("cm-a", D("2026-02-15")) == Unit("SB2", "T2")
    assert d.unit_of("cm-b", D("2026-02-28")) == Unit("SB1", None)
    assert d.unit_of("cm-b", D("2026-03-01")) == Unit(None, None)
    assert d.unit_of("cm-nobody", D("2026-02-15")) == Unit(None, None)


def test_headcounts_count_the_members_on_that_day() -> None:
    d = directory(*TIMELINE)

    assert d.headcounts(D("2025-12-31")) == {}
    assert d.headcounts(D("2026-01-31")) == {"SB1": 2}
    assert d.headcounts(D("2026-02-01")) == {"SB1": 2, "SB2": 1}
    assert d.headcounts(D("2026-02-15")) == {"SB1": 1, "SB2": 2}
    assert d.headcounts(D("2026-03-01")) == {"SB2": 2}  # nobody left in SB1: not listed


def test_arrival_order_does_not_matter() -> None:
    forwards, backwards = directory(*TIMELINE), directory(*reversed(TIMELINE))

    for day in ("2026-01-01", "2026-02-14", "2026-02-15", "2026-03-01"):
        assert forwards.headcounts(D(day)) == backwards.headcounts(D(day))
        assert forwards.unit_of("cm-a", D(day)) == backwards.unit_of("cm-a", D(day))
    assert forwards.name("cm-a") == backwards.name("cm-a") == "张伟"


def test_the_name_is_the_most_recently_recorded_one() -> None:
    d = directory(*TIMELINE)
    assert d.add(
        org("a6", "cm-a", "join", "team", "T3", "2026-04-01", name="张伟明", recorded="2026-03-20 10:00")
    )
    # An older record naming someone else does not override the newer name.
    d.add(org("a0", "cm-a", "join", "team", "T0", "2025-06-01", name="张三", recorded="2025-05-01 10:00"))

    assert d.name("cm-a") == "张伟明"
    assert d.name("cm-c") == "王芳"
    assert d.name("cm-nobody") is None
    assert directory(org("x1", "cm-x", "join", "team", "T1", "2026-01-01")).name("cm-x") is None


def test_a_record_under_the_same_key_replaces_the_older_and_a_tombstone_forgets_it() -> None:
    d = directory(*TIMELINE)
    # The same event again (a re-send, or compaction not run yet) changes nothing.
    assert d.add(TIMELINE[-1]) is False
    assert len(d) == len(TIMELINE)

    # HR corrects cm-c's join: a new event for the same change, under the same key, replaces it.
    corrected = org("c1-fix", "cm-c", "join", "sub_branch", "SB2", "2026-02-01", name="王芳芳")
    assert d.add(corrected) is True
    assert len(d) == len(TIMELINE)
    assert d.name("cm-c") == "王芳芳"

    assert d.put("cm-c|sub_branch|2026-02-01|SB2", None) is True
    assert d.unit_of("cm-c", D("2026-02-15")) == Unit(None, None)
    assert d.headcounts(D("2026-02-15")) == {"SB1": 1, "SB2": 1}
    assert d.name("cm-c") is None
    assert "cm-c" not in d.managers()
    assert d.put("cm-c|sub_branch|2026-02-01|SB2", None) is False


def test_a_unit_is_named_by_the_newest_change_that_names_it() -> None:
    d = directory(
        org(
            "n1",
            "cm-a",
            "join",
            "sub_branch",
            "SB1",
            "2026-01-01",
            unit_name="城东",
            recorded="2026-01-01 09:00",
        ),
        org(
            "n2",
            "cm-b",
            "join",
            "sub_branch",
            "SB1",
            "2026-01-02",
            unit_name="城东支行",
            recorded="2026-01-02 09:00",
        ),
        org("n3", "cm-c", "join", "sub_branch", "SB1", "2026-01-03", recorded="2026-01-03 09:00"),
        org("n4", "cm-c", "join", "team", "T1", "2026-01-03", unit_name="先锋团队"),
    )
    assert d.unit_name("SB1") == "城东支行"
    assert d.unit_name("T1") == "先锋团队"
    assert d.unit_name("SB9") is None
    assert d.unit_names() == {"SB1": "城东支行", "T1": "先锋团队"}
