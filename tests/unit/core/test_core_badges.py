"""Badges, streaks and challenges: derived from the set of events, written to the ledger once."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.envelope import Envelope
from schemas.routing import participants_of
from schemas.validate import read_canonical
from streams.core import (
    Competition,
    LedgerEntry,
    ParticipantState,
    RuleError,
    apply,
    parse_competition,
    rebuild,
)
from streams.core.challenges import board
from streams.core.engine import score_batch
from streams.core.errors import NeedsRebuild
from streams.core.templates import load_template
from tests.support.random_events import event_streams
from tests.unit.core.core_builders import event

SPRINTS = load_template("badges_and_sprints").model_copy(update={"status": "published"})
STRONG = load_template("strong_start").model_copy(update={"status": "published"})


def opened(n: int, when: str, cm: str = "cm-a", kind: str = "basic") -> Envelope:
    return event(
        "account.opened",
        f"o{n}",
        when,
        account_id=f"a{n}",
        customer_id=f"c{n}",
        cm_id=cm,
        account_type=kind,
        segment="non_credit",
        channel="tax_agent",
        new_firm=False,
    )


def closed(n: int, when: str, cm: str = "cm-a") -> Envelope:
    return event(
        "account.closed", f"x{n}", when, account_id=f"a{n}", customer_id=f"c{n}", cm_id=cm, kind="closed"
    )


def badges_of(events: list[Envelope], comp: Competition = SPRINTS, cm: str = "cm-a") -> dict[str, str]:
    standing = score_batch(events, [comp])[(comp.id, cm)]
    return {b.id: b.at.isoformat() for b in standing.badges}


def run(events: list[Envelope], comp: Competition = SPRINTS) -> tuple[ParticipantState, list[LedgerEntry]]:
    state = ParticipantState("cm-a")
    out: list[LedgerEntry] = []
    for e in events:
        out += apply(state, e, [comp])
    return state, out


def rewards(entries: list[LedgerEntry]) -> list[tuple[str, str]]:
    return [(e.event_id, (e.label or {})["action"]) for e in entries if e.component in ("badge", "challenge")]


def test_the_months_first_basic_account_and_the_tenth_payroll_agreement() -> None:
    events = [opened(1, "2026-02-03 09:30", kind="general"), opened(2, "2026-02-03 11:00")]
    for n in range(1, 11):
        agreement = {"agreement_id": f"g{n}", "employer_id": f"emp{n}", "cm_id": "cm-a"}
        events.append(
            event("payroll.signed", f"s{n}", f"2026-02-{n + 9:02d} 10:00", employees=5, **agreement)
        )
        events.append(
            event(
                "payroll.paid",
                f"p{n}",
                f"2026-02-{n + 9:02d} 15:00",
                batch_id=f"b{n}",
                headcount=5,
                amount="1000.00",
                month="2026-02",
                **agreement,
            )
        )
    got = badges_of(events)
    assert (
        got["first_basic_of_month@2026-02"] == "2026-02-03T11:00:00+08:00"
    )  # the general one does not count
    assert "payroll_10th" in got and got["payroll_10th"].startswith("2026-02-19")
    assert "payroll_10th" not in badges_of(events[:-2])  # nine agreements paid


def test_a_streak_skips_holidays_and_counts_the_weekend_made_a_workday() -> None:
    # 2026-02-12 Thu, 13 Fri, 14 Sat (调休 workday), 16-20 春节 holidays, 23 holiday, 24 Tue.
    days = ["2026-02-12", "2026-02-13", "2026-02-14", "2026-02-24", "2026-02-25"]
    events = [opened(n, f"{d} 10:00") for n, d in enumerate(days)]
    assert badges_of(events)["basic_5_days@2026-02-12"] == "2026-02-25T10:00:00+08:00"
    without_saturday = [e for e in events if not e.occurred_at.isoformat().startswith("2026-02-14")]
    assert not any(k.startswith("basic_5_days") for k in badges_of(without_saturday))
    # a working day with nothing breaks the run: Thu 5th to Wed 11th misses Mon 9th
    broken = [opened(10 + n, f"2026-02-{d:02d} 10:00") for n, d in enumerate([5, 6, 10, 11, 12])]
    assert not any(k.startswith("basic_5_days") for k in badges_of(broken))


def test_three_months_running_on_target() -> None:
    # a basic account is worth 15 here (10, non-credit 2, tax agent 3): 14 a month reach 200, 13 do not
    def month(m: int, count: int) -> list[Envelope]:
        return [opened(m * 100 + i, f"2026-{m:02d}-{i + 2:02d} 10:00") for i in range(count)]

    assert badges_of(month(1, 14) + month(2, 14) + month(3, 14), STRONG)["on_target_3_months@2026-01"] == (
        "2026-03-15T10:00:00+08:00"
    )
    assert "on_target_3_months@2026-01" not in badges_of(month(1, 14) + month(2, 13) + month(3, 14), STRONG)


def test_a_clawback_takes_the_badge_back_and_a_new_basic_account_earns_it_again_under_a_new_id() -> None:
    _, entries = run(
        [opened(1, "2026-02-03 10:00"), closed(1, "2026-02-10 10:00"), opened(2, "2026-02-11 10:00")]
    )
    assert rewards(entries) == [
        ("badge:first_basic_of_month@2026-02:1", "award"),
        ("badge-revoke:first_basic_of_month@2026-02:1", "revoke"),
        ("badge:first_basic_of_month@2026-02:2", "award"),
    ]
    revoke = next(e for e in entries if e.event_id.startswith("badge-revoke"))
    assert revoke.points == 0 and revoke.occurred_at.isoformat().startswith("2026-02-10")
    assert len({e.entry_id for e in entries}) == len(entries)


def test_redelivery_rebuild_and_rescore_never_write_a_badge_twice() -> None:
    events = [opened(n, f"2026-02-{d:02d} 10:00") for n, d in enumerate([2, 3, 4, 5, 6])]
    state, entries = run(events)
    assert sorted(k for k, _ in rewards(entries)) == [
        "badge:basic_5_days@2026-02-02:1",
        "badge:first_basic_of_month@2026-02:1",
        "challenge:kaimenhong_week:1",
    ]
    assert run_again(state, events) == []
    # the same rules rebuilt from the history: nothing to correct
    again, more = rebuild("cm-a", events, [SPRINTS], state)
    assert rewards(more) == []
    # new rules (a second version): the held badges stay held, one that no longer holds is revoked
    v2 = SPRINTS.model_copy(update={"version": 2, "badges": SPRINTS.badges[:1]})
    _, corrections = rebuild("cm-a", events, [SPRINTS, v2], again)
    assert rewards(corrections) == [("badge-revoke:basic_5_days@2026-02-02:1", "revoke")]
    assert [b.id for b in score_batch(events, [SPRINTS, v2])[(SPRINTS.id, "cm-a")].badges] == [
        "first_basic_of_month@2026-02",
        "challenge:kaimenhong_week",
    ]


def run_again(state: ParticipantState, events: list[Envelope]) -> list[LedgerEntry]:
    out: list[LedgerEntry] = []
    for e in events:
        out += apply(state, e, [SPRINTS])
    return out


def _parse(raw: list[dict[str, Any]]) -> list[Envelope]:
    return [read_canonical(json.dumps(e).encode()) for e in raw]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=event_streams(tag="b", cms=2, max_events=50), data=st.data())
def test_any_order_of_the_same_events_gives_the_same_badges_and_the_ledger_holds_them(
    raw: list[dict[str, Any]], data: st.DataObject
) -> None:
    events = _parse(raw)
    other = data.draw(st.permutations(events))
    first, second = score_batch(events, [SPRINTS]), score_batch(other, [SPRINTS])
    assert {k: (s.badges, s.challenges) for k, s in first.items()} == {
        k: (s.badges, s.challenges) for k, s in second.items()
    }
    # what the ledger holds after the stream's order (awards minus revokes) is what the standing shows
    states: dict[str, ParticipantState] = {}
    held: Counter[tuple[str, str]] = Counter()
    history: dict[str, list[Envelope]] = {}
    for e in other:
        for cm in participants_of(e):
            state = states.setdefault(cm, ParticipantState(cm))
            past = history.setdefault(cm, [])
            if e.event_id not in {p.event_id for p in past}:
                past.append(e)
            try:
                entries = apply(state, e, [SPRINTS])
            except NeedsRebuild:
                states[cm], entries = rebuild(cm, past, [SPRINTS], state, cause=e)
            for entry in entries:
                if entry.component in ("badge", "challenge"):
                    instance = entry.event_id.split(":", 1)[1].rsplit(":", 1)[0]
                    held[(cm, instance)] += 1 if entry.label and entry.label["action"] == "award" else -1
    assert all(n in (0, 1) for n in held.values())
    for (cid, cm), standing in second.items():
        shown = {b.id.removeprefix("challenge:") for b in standing.badges}
        assert shown == {i for (who, i), n in held.items() if who == cm and n == 1}, cid


def test_the_first_to_reach_the_goal_win_in_event_time_then_by_id() -> None:
    week = [
        opened(1, "2026-02-02 09:00", cm="cm-b"),
        opened(2, "2026-02-03 09:00", cm="cm-b"),  # cm-b reaches 2 on Tue 09:00
        opened(3, "2026-02-02 10:00", cm="cm-a"),
        opened(4, "2026-02-03 09:00", cm="cm-a"),  # cm-a too, the same minute: the id decides
        opened(5, "2026-02-02 08:00", cm="cm-c"),
        opened(6, "2026-02-02 08:30", cm="cm-c"),  # cm-c first, on Monday
        opened(7, "2026-02-04 09:00", cm="cm-d"),
        opened(8, "2026-02-05 09:00", cm="cm-e"),
        opened(9, "2026-02-05 10:00", cm="cm-e"),  # fourth to reach it: no prize
    ]
    for order in (week, list(reversed(week))):
        standings = score_batch(order, [SPRINTS]).values()
        rows = board(SPRINTS.challenges[0], standings)["rows"]
        assert [(r["id"], r["place"]) for r in rows] == [
            ("cm-c", 1),
            ("cm-a", 2),
            ("cm-b", 3),
            ("cm-e", None),
            ("cm-d", None),
        ]
        assert rows[3]["reached_at"] is not None and rows[4]["progress"] == "0.5000"


def test_team_against_team_merges_the_members_steps_in_event_time() -> None:
    def join(cm: str, team: str) -> Envelope:
        return event(
            "org.changed", f"j-{cm}", "2026-02-01 08:00", cm_id=cm, action="join",
            unit_kind="team", unit_id=team, effective_from="2026-02-01",
        )  # fmt: skip

    saturday = [
        join("cm-a", "T1"),
        join("cm-b", "T1"),
        join("cm-c", "T2"),
        opened(1, "2026-02-07 09:00", cm="cm-a"),
        opened(2, "2026-02-07 09:10", cm="cm-b"),
        opened(3, "2026-02-07 11:00", cm="cm-a"),  # T1 reaches 3 at 11:00
        opened(4, "2026-02-07 09:00", cm="cm-c", kind="general"),
        opened(5, "2026-02-07 09:05", cm="cm-c", kind="general"),
        opened(6, "2026-02-07 10:59", cm="cm-c", kind="temporary"),  # T2 at 10:59: first
        opened(7, "2026-02-08 09:00", cm="cm-a"),  # Sunday: outside the sprint
    ]
    rows = board(SPRINTS.challenges[1], score_batch(saturday, [SPRINTS]).values())["rows"]
    assert [(r["id"], r["value"], r["place"]) for r in rows] == [("T2", "3", 1), ("T1", "3", None)]
    assert rows[1]["reached_at"] == "2026-02-07T11:00:00+08:00"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"challenges": [{**SPRINTS.model_dump(mode="json")["challenges"][0], "end": "2026-03-02"}]},
            "inside",
        ),
        ({"badges": [SPRINTS.model_dump(mode="json")["badges"][0]] * 2}, "unique"),
        ({"calendar": {"holidays": ["2026-02-14"], "workdays": ["2026-02-14"]}}, "both"),
        ({"badges": [{"kind": "streak", "id": "s", "name": "s", "measure": "bogus", "run": 3}]}, "measure"),
    ],
)
def test_badge_rules_are_validated_like_the_other_rules(change: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleError) as err:
        parse_competition({**SPRINTS.model_dump(mode="json"), **change})
    assert message in str(err.value)
