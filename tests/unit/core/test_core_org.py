"""Points belong to the unit the CM was in on the event's Shanghai day, whatever the arrival order."""

from __future__ import annotations

from decimal import Decimal

from streams.core import Competition, ParticipantState, apply, parse_competition, rank, standings
from tests.unit.core.core_builders import event

COMP: Competition = parse_competition(
    {
        "id": "move",
        "name": "org move",
        "version": 1,
        "status": "published",
        "effective_from": "2025-02-01T00:00:00+08:00",
        "window": {"start": "2025-02-01", "end": "2025-02-28"},
        "rules": [{"kind": "account_opening", "points": {"basic": 10}}],
    }
)


def org(eid: str, action: str, kind: str, unit: str, effective: str) -> object:
    return event(
        "org.changed",
        eid,
        "2025-01-01 09:00",
        cm_id="cm-m",
        action=action,
        unit_kind=kind,
        unit_id=unit,
        effective_from=effective,
    )


def opening(eid: str, when: str) -> object:
    return event(
        "account.opened",
        eid,
        when,
        account_id=eid,
        customer_id=eid,
        cm_id="cm-m",
        account_type="basic",
        segment="non_credit",
    )


JOIN = [org("j1", "join", "sub_branch", "SB1", "2025-01-01"), org("j2", "join", "team", "T1", "2025-01-01")]
MOVE = [
    org("m1", "leave", "sub_branch", "SB1", "2025-02-15"),
    org("m2", "join", "sub_branch", "SB2", "2025-02-15"),
    org("m3", "join", "team", "T2", "2025-02-15"),
]
# Feb 14 23:30 Shanghai is still the old unit; Feb 15 00:10 the new one.
BEFORE, AFTER = opening("x1", "2025-02-14 23:30"), opening("x2", "2025-02-15 00:10")
EXPECTED_UNITS = [("SB1", "T1", Decimal("10.00")), ("SB2", "T2", Decimal("10.00"))]


def _units(state: ParticipantState) -> list[tuple[str | None, str | None, Decimal]]:
    return [(u.sub_branch_id, u.team_id, u.points) for u in standings(state)[0].units]


def test_events_land_in_the_unit_of_their_day() -> None:
    state = ParticipantState("cm-m")
    stamped = []
    for e in [*JOIN, *MOVE, BEFORE, AFTER]:
        stamped += [(x.event_id, x.sub_branch_id, x.team_id) for x in apply(state, e, [COMP])]  # type: ignore[arg-type]
    assert stamped == [("x1", "SB1", "T1"), ("x2", "SB2", "T2")]
    assert _units(state) == EXPECTED_UNITS


def test_a_late_org_move_restamps_with_visible_deltas() -> None:
    state = ParticipantState("cm-m")
    for e in [*JOIN, BEFORE, AFTER]:
        apply(state, e, [COMP])  # type: ignore[arg-type]
    assert _units(state) == [("SB1", "T1", Decimal("20.00"))]
    net: dict[tuple[str | None, str | None], Decimal] = {}
    for e in MOVE:  # each org event restamps; intermediate units may appear and vanish again
        for x in apply(state, e, [COMP]):  # type: ignore[arg-type]
            net[(x.sub_branch_id, x.team_id)] = net.get((x.sub_branch_id, x.team_id), Decimal(0)) + x.points
    assert {k: v for k, v in net.items() if v} == {
        ("SB1", "T1"): Decimal("-10.00"),
        ("SB2", "T2"): Decimal("10.00"),
    }
    assert _units(state) == EXPECTED_UNITS
    rows = rank(standings(state), "sub_branch_total")
    assert [(r.unit_id, str(r.points)) for r in rows] == [("SB1", "10.00"), ("SB2", "10.00")]
    teams = rank(standings(state), "team")
    assert [(r.rank, r.unit_id) for r in teams] == [(1, "T1"), (1, "T2")]  # a true tie shares the rank
