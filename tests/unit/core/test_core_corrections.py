"""A re-score corrects each day, so each award month, by what that day is owed under the new rules;
re-scored items stay countable events; every entry says what it counted (its label)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from schemas.envelope import Envelope
from schemas.routing import participant_of
from streams.core import Competition, ParticipantState, apply, parse_competition, rebuild, standings
from streams.core.calendar import day_of
from streams.core.labels import MODIFIERS
from streams.core.ledger import LedgerEntry
from tests.unit.core.core_builders import competitions_of, event, events_of, load_example

ZERO = Decimal(0)


def _contest(version: int, points: dict[str, int], **extra: Any) -> Competition:
    """April to June, monthly awards; every version effective from April 1st."""
    body: dict[str, Any] = {
        "id": "q2-opening",
        "name": "二季度开户竞赛",
        "version": version,
        "status": "published",
        "effective_from": "2026-04-01T00:00:00+08:00",
        "window": {"start": "2026-04-01", "end": "2026-06-30"},
        "rules": [{"kind": "account_opening", "points": points, **extra}],
    }
    return parse_competition(body)


V1 = _contest(1, {"basic": 10, "general": 4})
V2 = _contest(2, {"basic": 12, "general": 6})  # published in June, effective April 1st


def _opening(event_id: str, when: str, account_type: str = "basic", cm: str = "cm-a") -> Envelope:
    return event(
        "account.opened",
        event_id,
        when,
        cm_id=cm,
        sub_branch_id="SB1",
        customer_id=f"cust-{event_id}",
        account_id=f"acct-{event_id}",
        account_type=account_type,
        segment="non_credit",
        channel="walk_in",
        new_firm=False,
    )


HISTORY = [
    _opening("apr-1", "2026-04-03 10:00"),
    _opening("apr-2", "2026-04-20 10:00", "general"),
    _opening("may-1", "2026-05-06 10:00"),
    _opening("may-2", "2026-05-28 10:00"),
]


def _stream(events: list[Envelope], comps: list[Competition]) -> tuple[ParticipantState, list[LedgerEntry]]:
    state = ParticipantState("cm-a")
    out: list[LedgerEntry] = []
    for e in events:
        out += apply(state, e, comps)
    return state, out


def _months(entries: list[LedgerEntry]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for x in entries:
        month = day_of(x.occurred_at).strftime("%Y-%m")
        out[month] = out.get(month, ZERO) + x.points
    return {m: p for m, p in sorted(out.items()) if p}


def test_a_version_effective_two_months_back_gives_each_month_its_own_correction() -> None:
    state, live = _stream(HISTORY, [V1])
    assert _months(live) == {"2026-04": Decimal(14), "2026-05": Decimal(20)}
    _, corrections = rebuild("cm-a", HISTORY, [V1, V2], state)
    assert _months(corrections) == {"2026-04": Decimal(4), "2026-05": Decimal(4)}
    # the ledger now holds, month by month, what v2 gives each month had it been in force all along
    _, fresh = _stream(HISTORY, [V1, V2])
    assert _months(live + corrections) == _months(fresh) == {"2026-04": Decimal(18), "2026-05": Decimal(24)}
    # each day that held points gets one correction of that day, named after the re-score
    assert sorted(day_of(x.occurred_at).isoformat() for x in corrections) == [
        "2026-04-03",
        "2026-04-20",
        "2026-05-06",
        "2026-05-28",
    ]
    assert all(x.event_id.startswith("rescore:q2-opening:") and x.correction for x in corrections)
    assert all(x.rule_version == 2 and x.reason.startswith("规则 v2 重算：") for x in corrections)


def test_a_correction_of_a_month_is_made_once_and_ids_are_stable() -> None:
    state, _ = _stream(HISTORY, [V1])
    again = ParticipantState.from_dict(state.to_dict())
    rebuilt, corrections = rebuild("cm-a", HISTORY, [V1, V2], state)
    assert rebuild("cm-a", HISTORY, [V1, V2], again)[1] == corrections  # a replay mints the same ids
    assert len({x.entry_id for x in corrections}) == len(corrections)
    assert rebuild("cm-a", HISTORY, [V1, V2], rebuilt)[1] == []  # the same rules again: nothing
    # the state round-trips the days its ledger holds, so a later version corrects from there
    v3 = _contest(3, {"basic": 15, "general": 6})
    loaded = ParticipantState.from_dict(rebuilt.to_dict())
    _, third = rebuild("cm-a", HISTORY, [V1, V2, v3], loaded)
    assert _months(third) == {"2026-04": Decimal(3), "2026-05": Decimal(6)}


def test_a_contest_published_over_past_events_books_each_event_on_its_own_day() -> None:
    """The backfill case: no book before, so every event gets its own entries, under its own id,
    and each month counts its events (min_events) and its points."""
    state, live = _stream(HISTORY, [])
    assert live == []
    _, entries = rebuild("cm-a", HISTORY, [V1], state)
    assert {x.event_id for x in entries} == {e.event_id for e in HISTORY}
    assert all(x.occurred_at == e.occurred_at for x in entries for e in HISTORY if e.event_id == x.event_id)
    assert _months(entries) == {"2026-04": Decimal(14), "2026-05": Decimal(20)}
    events_per_month = Counter(day_of(x.occurred_at).strftime("%Y-%m") for x in entries)
    assert events_per_month == {"2026-04": 2, "2026-05": 2}
    assert all(x.correction and x.reason.startswith("规则 v1 重算：开立") for x in entries)
    # explaining one event finds its entries
    assert [x.points for x in entries if x.event_id == "apr-2"] == [Decimal(4)]


def test_a_contest_cap_added_afterwards_cuts_on_the_day_it_bit() -> None:
    capped = _contest(2, {"basic": 10, "general": 4}, contest_cap=25)
    state, _ = _stream(HISTORY, [V1])  # 10 + 4 in April, 10 + 10 in May
    _, corrections = rebuild("cm-a", HISTORY, [V1, capped], state)
    cuts = {(day_of(x.occurred_at).isoformat(), x.event_id): x.points for x in corrections}
    # running total 10, 14, 24, 34: the cap bites on May 28th, by 9 points; April is untouched
    assert cuts == {("2026-05-28", "may-2"): Decimal(-9)}
    assert corrections[0].label == {"kind": "contest_cap", "rule": "opening"}


def test_a_state_written_before_days_were_kept_still_re_scores() -> None:
    state, live = _stream(HISTORY, [V1])
    raw = state.to_dict()
    for book in raw["books"].values():
        del book["dated"]
    old = ParticipantState.from_dict(raw)
    rebuilt, corrections = rebuild("cm-a", HISTORY, [V1, V2], old)
    assert sum((x.points for x in live + corrections), ZERO) == Decimal(42)
    assert rebuilt.books["q2-opening"].dated  # from now on the days are known


# -- labels -----------------------------------------------------------------------------------------


def _all_entries() -> list[LedgerEntry]:
    out: list[LedgerEntry] = []
    for name in (
        "feb_opening",
        "payroll",
        "products_visits",
        "deposit_point_in_time",
        "deposit_daily_average",
        "little_banker",
    ):
        example = load_example(name)
        comps = competitions_of(example)
        events = events_of(example)
        states: dict[str, ParticipantState] = {}
        for e in events:
            cm = participant_of(e)
            out += apply(states.setdefault(cm, ParticipantState(cm)), e, comps)
        for cm, state in states.items():  # and re-scored: a new version over the same history
            history = [e for e in events if participant_of(e) == cm]
            raw = comps[-1].model_dump(mode="json")
            raw["version"] += 1
            out += rebuild(cm, history, [*comps, parse_competition(raw)], state)[1]
    return out


def test_every_entry_says_what_it_counted() -> None:
    entries = _all_entries()
    seen: set[str] = set()
    for x in entries:
        assert x.label is not None, x
        base, _, modifier = x.component.partition(".")
        assert x.label["kind"] == (modifier or base)
        if modifier:
            assert x.label["rule"] == base
        seen.add(x.label["kind"])
        if x.label["kind"] == "opening" and not x.event_id.startswith("rescore:"):
            assert x.label["account_type"] in {"basic", "general", "special", "temporary"}
        if x.label["kind"] == "product" and not x.event_id.startswith("rescore:"):
            assert "product" in x.label
        if x.label["kind"] == "visit" and not x.event_id.startswith("rescore:"):
            assert "channel" in x.label
        if x.label["kind"] == "deposit" and not x.event_id.startswith("rescore:"):
            assert x.label["measure"] in {"point_in_time", "daily_average"} and x.label["category"]
        assert not any(v.startswith(("acct", "cust", "C-")) for v in x.label.values())  # no ids
    expected = {"opening", "payroll", "product", "visit", "deposit", "scorecard"} | {
        "clawback",
        "daily_cap",
        "contest_cap",
        "multiplier",
    }
    assert expected <= seen
    assert seen >= MODIFIERS


def test_threshold_and_adjustment_entries_are_labelled() -> None:
    minimum = parse_competition(
        {
            **V1.model_dump(mode="json"),
            "modifiers": [{"kind": "minimum_total", "points": 15}],
        }
    )
    adjust = event(
        "points.adjusted",
        "adj-1",
        "2026-04-25 10:00",
        cm_id="cm-a",
        competition_id="q2-opening",
        points="3.00",
        reason_code="data_fix",
        note="补录",
        adjusted_by="user:zhang",
    )
    _, entries = _stream([*HISTORY[:2], adjust, *HISTORY[2:]], [minimum])
    kinds = {x.label["kind"] for x in entries if x.label}
    assert {"threshold", "adjustment", "opening"} <= kinds
    assert all(x.label for x in entries)
    (adjustment,) = [x for x in entries if x.component == "adjustment"]
    assert adjustment.label == {"kind": "adjustment", "reason_code": "data_fix"}


def test_a_rebuild_for_the_state_only_gives_the_same_books() -> None:
    """What-if and explain ask for the state alone (dated=False): the same standings, faster."""
    for name in ("feb_opening", "deposit_point_in_time", "little_banker"):
        example = load_example(name)
        comps, events = competitions_of(example), events_of(example)
        for cm in {participant_of(e) for e in events}:
            history = [e for e in events if participant_of(e) == cm]
            dated, _ = rebuild(cm, history, comps, None)
            undated, _ = rebuild(cm, history, comps, None, dated=False)
            assert [s.to_dict() for s in standings(dated)] == [s.to_dict() for s in standings(undated)]
