"""A rule version effective two months back, through the whole pipeline (raw topic -> worker ->
ledger topic -> the real sink -> PostgreSQL -> award runs): each month's run gets that month's
own correction, and the correction of a month already frozen arrives in the next month's run as
an adjustment. A contest published over events already scored books each event in its own month,
under its own id, so eligibility (min_events) and explain count it. Verify finds nothing.

Months are relative to the clock read once below (the worker flags entries late by its own wall
clock, so the window must still be open for it); the award runs get that clock injected."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from schemas import SHANGHAI
from schemas.topics import Topics
from services.awards import freezing, runs
from services.awards.gate import Gate
from services.awards.positions import Groups, pipeline_lags
from services.publisher import Publisher
from services.store import Store
from services.verify import verify
from services.verify.explain import explain_event_id
from streams.core.calendar import start_of
from streams.core.rules import Competition, parse_competition
from tests.integration.awards.builders import org
from tests.support.events import joined, opened
from tests.support.kafka import BOOTSTRAP, read_all
from tests.support.processes import Process, sink
from tests.support.scoring import publish, send_events

NOW = datetime.now(SHANGHAI)  # the test's clock: read once, passed to every award call


def _months(now: datetime) -> tuple[date, date, date]:
    """Two months back (A), last month (B), and the end of next month (the window's end)."""
    this_month = now.date().replace(day=1)
    b = (this_month - timedelta(days=1)).replace(day=1)
    a = (b - timedelta(days=1)).replace(day=1)
    after_next = (this_month + timedelta(days=62)).replace(day=1)
    return a, b, after_next - timedelta(days=1)


A, B, END = _months(NOW)
AFTER_A = start_of(B) + timedelta(hours=1)  # A closed (no grace days), B still open
AFTER_B = start_of(NOW.date().replace(day=1)) + timedelta(hours=1)  # B closed too


def _contest(cid: str, version: int, points: dict[str, int], min_events: int) -> Competition:
    return parse_competition(
        {
            "id": cid,
            "name": "规则回溯测试",
            "version": version,
            "status": "published",
            "effective_from": f"{A.isoformat()}T00:00:00+08:00",
            "window": {"start": A.isoformat(), "end": END.isoformat()},
            "grace_days": 0,
            "rules": [{"kind": "account_opening", "points": points}],
            "awards": {
                "period": "month",
                "eligibility": {"min_events": min_events},
                "prizes": [{"kind": "rank", "name": "月度奖", "tiers": [{"title": "第一名", "amount": 100}]}],
            },
        }
    )


CID = "rescore-months"
V1 = _contest(CID, 1, {"basic": 10, "general": 4}, 2)
V2 = _contest(CID, 2, {"basic": 12, "general": 6}, 2)  # published after A is frozen, effective A's 1st
LATER = "backfilled-months"  # published after every event was scored
BACKFILL = _contest(LATER, 1, {"basic": 10, "general": 4}, 1)


def _opening(event_id: str, cm_id: str, day: date, account_type: str) -> dict[str, Any]:
    event = opened(event_id, cm_id, account_type=account_type)
    event["occurred_at"] = f"{day.isoformat()}T10:00:00+08:00"
    return event


EVENTS = [
    joined("cm-1", "SB1", effective=A.isoformat()),
    joined("cm-2", "SB2", effective=A.isoformat()),
    _opening("a-1", "cm-1", A + timedelta(days=4), "basic"),
    _opening("a-2", "cm-2", A + timedelta(days=9), "general"),
    _opening("b-1", "cm-1", B + timedelta(days=2), "basic"),
    _opening("b-2", "cm-1", B + timedelta(days=15), "general"),
    _opening("b-3", "cm-2", B + timedelta(days=5), "basic"),
    _opening("b-4", "cm-2", B + timedelta(days=20), "general"),
]
DIRECTORY = org(
    ("cm-1", "join", "sub_branch", "SB1", A.isoformat()), ("cm-2", "join", "sub_branch", "SB2", A.isoformat())
)


def _wait(what: str, condition: Callable[[], Any], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception:  # the sink has not created its tables yet
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _totals(store: Store, cid: str) -> dict[str, str]:
    return {cm: f"{p:.2f}" for cm, p in store.totals(cid).items()}


async def _gate(topics: Topics, prefix: str) -> Gate:
    """The freeze's completeness gate, read from the pipeline (every stage caught up)."""
    groups = Groups.of(f"{prefix}app", f"{prefix}app-sink")
    return Gate(await pipeline_lags(BOOTSTRAP, topics, groups, wait=30.0))


async def _announce(topics: Topics, store: Store, comp: Competition, chain: list[Any]) -> None:
    """What the API does after a freeze: tell the scoring partitions, so entries of the frozen
    period that arrive from now on are late."""
    publisher = Publisher(BOOTSTRAP, topics)
    await publisher.start()
    try:
        for notice in runs.notices(store, comp, chain):
            await publisher.freeze_notice(notice)
    finally:
        await publisher.stop()


def _own(snap: freezing.Snapshot) -> dict[str, tuple[str, str, list[str]]]:
    return {r["cm_id"]: (r["points"], r["adjustment"], r["adjustment_from"]) for r in runs.per_manager(snap)}


async def test_each_months_award_run_gets_its_own_correction(
    topics: Topics, running_worker: Process, prefix: str, pg_url: str, tmp_path: Path
) -> None:
    a_id, b_id = f"{A:%Y-%m}", f"{B:%Y-%m}"
    await publish(topics, [V1])
    writer = sink(prefix, tmp_path, pg_url).start()
    store = Store.from_url(pg_url)
    try:
        await send_events(topics, EVENTS)
        # v1: cm-1 A 10, B 10 + 4; cm-2 A 4, B 10 + 4
        want = {"cm-1": "24.00", "cm-2": "18.00"}
        await asyncio.to_thread(_wait, "v1 totals", lambda: _totals(store, CID) == want)
        runs.ensure_schema(store)
        _, chain = runs.resolve([V1], CID, a_id)
        frozen_a = runs.close_due(store, V1, chain, AFTER_A, gate=await _gate(topics, prefix))
        await _announce(topics, store, V1, chain)
        assert _own(frozen_a) == {"cm-1": ("10.00", "0.00", []), "cm-2": ("4.00", "0.00", [])}

        # v2, effective from A's first day, published after A was frozen
        await publish(topics, [V2])
        want = {"cm-1": "30.00", "cm-2": "24.00"}  # v2: cm-1 A 12, B 18; cm-2 A 6, B 18
        await asyncio.to_thread(_wait, "v2 totals", lambda: _totals(store, CID) == want)

        b_run = runs.run(store, [V1, V2], CID, b_id, DIRECTORY, now=AFTER_B, gate=await _gate(topics, prefix))
        _, chain = runs.resolve([V1, V2], CID, b_id)
        snap_b, is_frozen = runs.results(store, V2, chain)
        assert is_frozen
        # B's own points are B's under v2; A's correction (frozen) is carried into B as an adjustment
        assert _own(snap_b) == {"cm-1": ("18.00", "2.00", [a_id]), "cm-2": ("18.00", "2.00", [a_id])}
        # A's corrections reached the platform after A's freeze: late, as late data is
        late = {
            r["event_id"].rsplit(":", 1)[-1]: r["late"]
            for r in store.ledger_scan([CID])
            if r["event_id"].startswith("rescore:")  # one correction per day that held points
        }
        assert any(day < B.isoformat() for day in late) and any(day >= B.isoformat() for day in late)
        assert all(is_late == (day < B.isoformat()) for day, is_late in late.items()), late
        frozen_again = freezing.load(store, CID, a_id)
        assert frozen_again is not None and frozen_again.checksum() == frozen_a.checksum()
        people = {p["cm_id"]: p for p in b_run.run["result"]["people"]}
        assert {cm: p["total"] for cm, p in people.items()} == {"cm-1": "20.00", "cm-2": "20.00"}
        # both managers had two of B's events counted (min_events 2), re-scored or not
        assert {m.cm_id: m.events for m in snap_b.members} == {"cm-1": 2, "cm-2": 2}
        assert all(p["eligible"] for p in people.values()), people

        # a contest published over all these events: each month its own points and events
        await publish(topics, [BACKFILL])
        want = {"cm-1": "24.00", "cm-2": "18.00"}
        await asyncio.to_thread(_wait, "backfill totals", lambda: _totals(store, LATER) == want)
        gate = await _gate(topics, prefix)
        a_late = runs.run(store, [BACKFILL], LATER, a_id, DIRECTORY, now=AFTER_B, gate=gate)
        _, chain = runs.resolve([BACKFILL], LATER, b_id)
        snap_late_b = runs.close_due(store, BACKFILL, chain, AFTER_B, gate=gate)
        snap_late_a = freezing.load(store, LATER, a_id)
        assert snap_late_a is not None
        assert _own(snap_late_a) == {"cm-1": ("10.00", "0.00", []), "cm-2": ("4.00", "0.00", [])}
        assert _own(snap_late_b) == {"cm-1": ("14.00", "0.00", []), "cm-2": ("14.00", "0.00", [])}
        assert {m.cm_id: m.events for m in snap_late_a.members} == {"cm-1": 1, "cm-2": 1}
        assert {m.cm_id: m.events for m in snap_late_b.members} == {"cm-1": 2, "cm-2": 2}
        assert all(p["eligible"] for p in a_late.run["result"]["people"])  # min_events 1
        # explaining an event finds the entry the publish booked for it
        (entry,) = [r for r in store.entries_of_event("b-2") if r["competition_id"] == LATER]
        assert entry["points"] == 4 and entry["correction"] and entry["label"]["account_type"] == "general"
        explained = await explain_event_id(BOOTSTRAP, topics, store, "b-2")
        verdicts = {c["competition_id"]: c for c in explained["competitions"]}
        assert explained["status"] == "counted"
        backfilled = verdicts[LATER]
        assert (backfilled["points_now"], backfilled["recorded_points"]) == ("4.00", "4.00")
        assert [e["label"] for e in backfilled["entries"]] == ["新开一般户"]
        # in the re-scored contest the event keeps its v1 entry; its day's correction makes up v2
        changed = verdicts[CID]
        assert (changed["points_now"], changed["recorded_points"]) == ("6.00", "4.00")
        assert [e["points"] for e in changed["day_corrections"]] == ["2.00"]

        # verify: the SQL ledger is what the core computes from the topics
        ledger = await read_all(topics.ledger)
        await asyncio.to_thread(_wait, "the sink", lambda: sum(1 for _ in store.ledger_scan()) >= len(ledger))
        report = await verify(BOOTSTRAP, topics, store, [CID, LATER])
        assert report.ok, report.to_dict()
        assert report.controls > 0 and report.expected_entries == report.sql_entries > 0
    finally:
        store.close()
        writer.stop()
