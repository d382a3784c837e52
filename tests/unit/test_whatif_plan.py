"""What history a preview reads: the types its rules need, and a time cut for day-based rules."""

from __future__ import annotations

import json
from datetime import datetime

from schemas.envelope import SHANGHAI
from services.whatif.plan import plan_for, type_of
from streams.core import load_template


def test_an_opening_contest_reads_openings_org_moves_and_adjustments_from_the_window_on() -> None:
    plan = plan_for([load_template("feb_account_opening")])
    assert plan.types == {"account.opened", "account.closed", "org.changed", "points.adjusted"}
    assert plan.since == datetime(2026, 1, 31, tzinfo=SHANGHAI)  # window start less a day
    assert plan.wants("account.opened") and not plan.wants("deposit.balance")
    assert plan.wants(None)  # unreadable type: the parser decides


def test_deposits_and_scorecards_read_the_whole_history() -> None:
    deposits = plan_for([load_template("deposit_peak_season")])
    assert deposits.since is None and "deposit.balance" in deposits.types
    banker = plan_for([load_template("little_banker")])
    assert banker.since is None
    assert {"customer.assigned", "deposit.balance", "payroll.paid", "product.sold"} <= banker.types


def test_every_version_counts_the_earliest_window_and_all_their_kinds() -> None:
    feb = load_template("feb_account_opening")
    raw = feb.model_dump(mode="json")
    raw["version"] = 2
    raw["window"]["start"] = "2026-01-15"
    raw["rules"].append({"kind": "visit", "points": {"phone": 1}})
    from streams.core import parse_competition

    plan = plan_for([feb, parse_competition(raw)])
    assert plan.since == datetime(2026, 1, 14, tzinfo=SHANGHAI)
    assert "customer.visited" in plan.types


def test_the_type_is_read_from_canonical_and_spaced_json() -> None:
    event = {"event_id": "e-1", "type": "account.opened", "schema_version": 1, "data": {"type": "x"}}
    assert type_of(json.dumps(event).encode()) == "account.opened"
    assert type_of(json.dumps(event, separators=(",", ":")).encode()) == "account.opened"
    assert type_of(b'{"competition_id": "x"}') is None
    assert type_of(b'{"type": 3}') is None
    assert type_of(b'{"type":"') is None
