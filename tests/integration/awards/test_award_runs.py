"""Award runs over the SQL ledger: idempotent, reproducible (same bytes on SQLite and
PostgreSQL), approved through the audit log, corrected only by a new run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.awards import runs
from services.awards.errors import PeriodOpen, RunConflict
from services.awards.reports import csv_report, xlsx_report
from services.store import Store
from services.store.audit import entries as audit_entries
from tests.integration.awards.builders import NO_STREAMS, add, at, competition, entry, org

NOW = at("2025-03-10 09:00")


def _load(store: Store) -> None:
    runs.ensure_schema(store)
    add(
        store,
        entry("a1", "cm-1", "2025-02-10 09:00", "20.00", recorded="2025-02-10 09:01"),
        entry("a2", "cm-1", "2025-02-11 09:00", "10.00", recorded="2025-02-11 09:01"),
        entry("b1", "cm-2", "2025-02-12 09:00", "14.00", recorded="2025-02-12 09:01", sub_branch="SB2"),
        entry("c1", "cm-3", "2025-02-13 09:00", "14.00", recorded="2025-02-13 09:01"),
        entry("d1", "cm-4", "2025-02-14 09:00", "4.00", recorded="2025-02-14 09:01", sub_branch="SB2"),
    )


def _org(rename: bool = False) -> Any:
    directory = org(
        ("cm-1", "join", "sub_branch", "SB1", None),
        ("cm-2", "join", "sub_branch", "SB2", None),
        ("cm-3", "join", "sub_branch", "SB1", None),
        ("cm-4", "join", "sub_branch", "SB2", None),
    )
    if rename:  # an HR correction: cm-4 moves to SB1 from Feb 20
        directory = org(
            ("cm-1", "join", "sub_branch", "SB1", None),
            ("cm-2", "join", "sub_branch", "SB2", None),
            ("cm-3", "join", "sub_branch", "SB1", None),
            ("cm-4", "join", "sub_branch", "SB2", None),
            ("cm-4", "join", "sub_branch", "SB1", "2025-02-20"),
        )
    return directory


@pytest.fixture
def loaded(store: Store) -> Store:
    _load(store)
    return store


def _people(run: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            p["rank"],
            p["cm_id"],
            p["sub_branch_id"],
            p["total"],
            [a["title"] for a in p["awards"]],
            p["amount"],
        )
        for p in run["result"]["people"]
    ]


def test_a_run_computes_freezes_and_repeats_identically(loaded: Store) -> None:
    comp = competition()
    with pytest.raises(PeriodOpen):
        runs.run(loaded, [comp], comp.id, "2025-02", _org(), gate=NO_STREAMS, now=at("2025-03-02 09:00"))
    first = runs.run(loaded, [comp], comp.id, "2025-02", _org(), gate=NO_STREAMS, now=NOW)
    assert first.created
    # By hand: cm-1 30, cm-2 and cm-3 tie at 14 (share_rank: both second), cm-4 4.
    # Per head on Feb 28: SB1 (cm-1, cm-3) 44 / 2 = 22.00; SB2 (cm-2, cm-4) 18 / 2 = 9.00.
    assert _people(first.run) == [
        (1, "cm-1", "SB1", "30.00", ["一等奖"], "500.00"),
        (2, "cm-2", "SB2", "14.00", ["二等奖"], "300.00"),
        (2, "cm-3", "SB1", "14.00", ["二等奖"], "300.00"),
        (4, "cm-4", "SB2", "4.00", [], "0.00"),
    ]
    assert [(u["unit_id"], u["points"], u["amount"]) for u in first.run["result"]["units"]] == [
        ("SB1", "22.00", "1000.00"),
        ("SB2", "9.00", "0.00"),
    ]
    assert first.run["result"]["amount"] == "2100.00"
    assert first.run["inputs"]["freeze"]["entries"] == 5
    assert first.run["inputs"]["freeze"]["high_water"] == "2025-02-14T01:01:00+00:00"

    # Same inputs (a late entry after the freeze changes nothing frozen): the same run, no new row.
    add(
        loaded,
        entry("e1", "cm-4", "2025-02-27 09:00", "50.00", recorded="2025-03-09 09:00", sub_branch="SB2"),
    )
    again = runs.run(loaded, [comp], comp.id, "2025-02", _org(), gate=NO_STREAMS, now=at("2025-03-11 09:00"))
    assert not again.created
    assert (again.run["id"], again.run["checksum"]) == (first.run["id"], first.run["checksum"])
    assert len(runs.listing(loaded, comp.id)) == 1
    lines = runs.lines(loaded, first.run["id"], sub_branch="SB2")
    assert [(x["kind"], x["unit_id"], x["total"]) for x in lines] == [
        ("customer_manager", "cm-2", pytest.approx(14)),
        ("customer_manager", "cm-4", pytest.approx(4)),
        ("sub_branch_per_head", "SB2", pytest.approx(18)),
    ]


def test_approve_is_audited_and_a_correction_is_a_new_run(loaded: Store) -> None:
    comp = competition()
    draft = runs.run(loaded, [comp], comp.id, "2025-02", _org(), gate=NO_STREAMS, now=NOW).run
    approved = runs.approve(loaded, draft["id"], "user:zhang", "月末审批", now=at("2025-03-11 10:00"))
    assert (approved["status"], approved["approved_by"]) == ("approved", "user:zhang")
    (audit,) = audit_entries(loaded, object_id=f"award_run/{draft['id']}")
    assert (audit["actor"], audit["action"]) == ("user:zhang", "award_run.approve")
    assert audit["diff"]["status"] == ["draft", "approved"]
    assert audit["diff"]["checksum"] == draft["checksum"]
    with pytest.raises(RunConflict, match="approved"):
        runs.approve(loaded, draft["id"], "user:li")

    # Same inputs after approval: the approved run itself, unchanged.
    same = runs.run(loaded, [comp], comp.id, "2025-02", _org(), gate=NO_STREAMS, now=NOW)
    assert (same.created, same.run["id"], same.run["status"]) == (False, draft["id"], "approved")

    # The org is corrected (cm-4 was in SB1 from Feb 20): the run is not recomputed in place;
    # a new draft supersedes it, and the approved one keeps its result and checksum.
    corrected = runs.run(loaded, [comp], comp.id, "2025-02", _org(rename=True), gate=NO_STREAMS, now=NOW)
    assert corrected.created
    assert corrected.run["supersedes"] == draft["id"]
    assert corrected.run["status"] == "draft"
    assert corrected.run["fingerprint"] != draft["fingerprint"]
    old = runs.get(loaded, draft["id"])
    assert (old["status"], old["checksum"], old["result"]) == ("approved", draft["checksum"], draft["result"])
    # cm-4's unit on Feb 28 is now SB1: headcounts SB1 3, SB2 1. Units keep event-time stamps:
    # SB1 44 / 3 = 14.67, SB2 18 / 1 = 18.00.
    assert [(u["unit_id"], u["points"], u["amount"]) for u in corrected.run["result"]["units"]] == [
        ("SB2", "18.00", "1000.00"),
        ("SB1", "14.67", "0.00"),
    ]


def test_two_runs_over_the_same_inputs_give_byte_identical_reports(tmp_path: Path, pg_url: str) -> None:
    comp = competition()
    made = []
    for url in (f"sqlite:///{tmp_path / 'a.db'}", pg_url):
        with Store.from_url(url) as store:
            _load(store)
            run = runs.run(store, [comp], comp.id, "2025-02", _org(), gate=NO_STREAMS, now=NOW).run
            made.append(
                (
                    run["checksum"],
                    csv_report(run, comp.name),
                    xlsx_report(run, comp.name),
                    csv_report(run, comp.name, "SB1"),
                    xlsx_report(run, comp.name, "SB1"),
                )
            )
    assert made[0] == made[1]
    checksum, csv_all, xlsx_all, csv_sb1, xlsx_sb1 = made[0]
    assert csv_all.startswith(b"\xef\xbb\xbf")
    text = csv_all.decode("utf-8-sig")
    assert (
        "排名,客户经理编号,客户经理,支行,团队,本期积分,调整（上期迟到数据）,积分合计,奖项,奖金（元）,备注"
        in text
    )
    assert "1,cm-1,cm-1 名,SB1 支行,,30.00,0.00,30.00,月度开户奖·一等奖,500.00," in text
    assert checksum in text
    sb1 = csv_sb1.decode("utf-8-sig")
    assert "cm-3" in sb1 and "cm-2" not in sb1
    assert xlsx_all[:2] == b"PK" and xlsx_all != xlsx_sb1


def test_eligibility_reads_the_org_day_by_day(loaded: Store) -> None:
    base = competition()
    assert base.awards is not None
    awards = base.awards.model_dump(mode="json")
    awards["eligibility"] = {"in_post": True, "min_events": 2}
    comp = competition(awards=awards)
    # cm-3 joined SB1 only on Feb 14: not in post on Feb 1-13. cm-1 has 2 events, the others 1.
    directory = org(
        ("cm-1", "join", "sub_branch", "SB1", None),
        ("cm-2", "join", "sub_branch", "SB2", None),
        ("cm-3", "join", "sub_branch", "SB1", "2025-02-14"),
        ("cm-4", "join", "sub_branch", "SB2", None),
    )
    add(
        loaded, entry("b2", "cm-2", "2025-02-15 09:00", "1.00", recorded="2025-02-15 09:01", sub_branch="SB2")
    )
    run = runs.run(loaded, [comp], comp.id, "2025-02", directory, gate=NO_STREAMS, now=NOW).run
    people = {
        p["cm_id"]: (p["rank"], p["eligible"], p["remarks"], p["amount"]) for p in run["result"]["people"]
    }
    assert people == {
        "cm-1": (1, True, [], "500.00"),
        "cm-2": (2, True, [], "300.00"),
        "cm-3": (None, False, ["不符合资格：期内未全程在岗", "不符合资格：计分事件 1 笔，少于 2 笔"], "0.00"),
        "cm-4": (None, False, ["不符合资格：计分事件 1 笔，少于 2 笔"], "0.00"),
    }
