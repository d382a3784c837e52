"""The freeze gate through the whole pipeline (raw topic -> worker -> ledger topic -> the real sink
-> PostgreSQL), with the month-end clock injected (February 2025 closes on 03-03; the freeze is
asked for on 03-05) and the broker's own clock for arrivals.

- The sink is stopped across the freeze: an on-time event is scored but not in SQL, so the
  freeze is refused, naming the sink and the ledger topic. Once the sink has caught up, the
  freeze goes through with that entry in February's own points.
- An event that reaches the platform after the freeze is late (and counts as March's adjustment);
  one sent before it is not, however long after February's cutoff it was scored.
- Verify replays the same history (arrival headers, freeze notices) and finds 0 differences,
  comparing `late` too."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from schemas.topics import Topics
from services.awards import freezing, runs, warnings
from services.awards.errors import FreezeRefused
from services.awards.gate import Gate
from services.awards.positions import Groups, pipeline_lags
from services.publisher import Publisher
from services.readmodel.labels import LATE_NOTE
from services.store import Store
from services.verify import verify
from services.verify.compare import COMPARED
from services.verify.explain import explain_event_id
from tests.integration.awards.builders import at, competition, org
from tests.support.events import joined, opened
from tests.support.kafka import BOOTSTRAP, read_all
from tests.support.processes import Process, sink
from tests.support.scoring import publish, send_events

CONTEST = competition()  # February and March 2025, monthly awards, grace 3 days
CID = CONTEST.id
ASKED = at("2025-03-05 09:00")  # February's cutoff (03-03, end of day) has passed


def _opening(event_id: str, cm_id: str, day: str, account_type: str = "basic") -> dict[str, Any]:
    event = opened(event_id, cm_id, account_type=account_type)
    event["occurred_at"] = f"{day}T10:00:00+08:00"
    return event


def _wait(condition: Any, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception:  # the sink has not created its tables yet
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _totals(store: Store) -> dict[str, str]:
    return _totals_of(store, CID)


def _late_by_event(store: Store) -> dict[str, bool]:
    return {r["event_id"]: bool(r["late"]) for r in store.ledger_scan([CID])}


async def _ledger_has(topics: Topics, event_id: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(event_id.encode() in (r.value or b"") for r in await read_all(topics.ledger)):
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"{event_id} was never scored")


async def test_freeze_waits_for_the_sink_and_late_means_after_the_freeze(
    topics: Topics, running_worker: Process, prefix: str, pg_url: str, tmp_path: Path
) -> None:
    await publish(topics, [CONTEST])
    groups = Groups.of(f"{prefix}app", f"{prefix}app-sink")
    store = Store.from_url(pg_url)
    store.create_schema()
    runs.ensure_schema(store)
    writer = sink(prefix, tmp_path, pg_url).start()
    try:
        await send_events(
            topics,
            [
                joined("cm-1", "SB1", effective="2025-01-01"),
                joined("cm-2", "SB2", effective="2025-01-01"),
                _opening("o-1", "cm-1", "2025-02-10"),
                _opening("o-2", "cm-2", "2025-02-12", "general"),
            ],
        )
        await asyncio.to_thread(_wait, lambda: _totals(store) == {"cm-1": "10.00", "cm-2": "4.00"}, "totals")

        # The sink stops; one more February opening reaches the platform and is scored.
        writer.stop()
        await send_events(topics, [_opening("o-3", "cm-2", "2025-02-20")])
        await _ledger_has(topics, "o-3")

        _, chain = runs.resolve([CONTEST], CID, "2025-02")
        lags = await pipeline_lags(BOOTSTRAP, topics, groups, wait=2.0)
        with pytest.raises(FreezeRefused) as refused:
            runs.close_due(store, CONTEST, chain, ASKED, gate=Gate(lags))
        reason = str(refused.value)
        assert f"{CID} 2025-02 cannot be frozen yet" in reason
        assert f"sink is 2 offsets behind the end of {topics.ledger}" in reason, reason  # o-3 + commit marker
        assert not any(lag.behind for lag in lags if lag.stage != "sink"), lags
        assert freezing.load(store, CID, "2025-02") is None  # nothing frozen by the refusal

        # The sink catches up: the same freeze now goes through, o-3 in February's own points.
        writer = sink(prefix, tmp_path, pg_url).start()
        lags = await pipeline_lags(BOOTSTRAP, topics, groups, wait=60.0)
        frozen = runs.close_due(store, CONTEST, chain, ASKED, gate=Gate(lags))
        assert [(r["cm_id"], r["points"], r["adjustment"]) for r in runs.per_manager(frozen)] == [
            ("cm-1", "10.00", "0.00"),
            ("cm-2", "14.00", "0.00"),
        ]
        await _announce_for(topics, store, CONTEST, chain)

        # After the freeze: a February opening is late (March's adjustment); a March one is not.
        await send_events(
            topics, [_opening("o-4", "cm-1", "2025-02-25"), _opening("o-5", "cm-1", "2025-03-02", "general")]
        )
        await asyncio.to_thread(
            _wait, lambda: _totals(store) == {"cm-1": "24.00", "cm-2": "14.00"}, "o-4, o-5"
        )
        lateness = _late_by_event(store)
        assert {e: lateness[e] for e in ("o-1", "o-2", "o-3", "o-4", "o-5")} == {
            "o-1": False,
            "o-2": False,
            "o-3": False,  # scored after February's cutoff, but it arrived before the freeze
            "o-4": True,
            "o-5": False,
        }
        stored = freezing.load(store, CID, "2025-02")
        assert stored is not None and stored.checksum() == frozen.checksum()
        _, march = runs.resolve([CONTEST], CID, "2025-03")
        snap, is_frozen = runs.results(store, CONTEST, march)
        assert not is_frozen
        (row,) = runs.per_manager(snap)
        assert (row["cm_id"], row["points"], row["adjustment"], row["adjustment_from"]) == (
            "cm-1",
            "4.00",
            "10.00",
            ["2025-02"],
        )

        # Verify judges lateness from the same headers and freeze notices: 0 differences.
        assert "late" in COMPARED
        report = await verify(BOOTSTRAP, topics, store, [CID])
        assert report.ok, report.to_dict()
        assert report.expected_entries == report.sql_entries == 5
    finally:
        writer.stop()
        store.close()


NOVEMBER = competition(
    id="nov-2025",
    effective_from="2025-11-01T00:00:00+08:00",
    window={"start": "2025-11-01", "end": "2025-11-30"},
)
DECEMBER_4 = at("2025-12-04 10:00")  # November's cutoff (12-03, end of day) has passed


async def test_a_contest_set_up_in_december_pays_november_from_novembers_events(
    topics: Topics, running_worker: Process, prefix: str, pg_url: str, tmp_path: Path
) -> None:
    """Backfill: the contest is published after its month, November's events are loaded after it.
    Nothing is frozen yet, so they score into November (not late), and November's run pays from
    them. An extract that arrives after November's freeze is late, and the run says so."""
    await publish(topics, [NOVEMBER])
    groups = Groups.of(f"{prefix}app", f"{prefix}app-sink")
    store = Store.from_url(pg_url)
    store.create_schema()
    runs.ensure_schema(store)
    writer = sink(prefix, tmp_path, pg_url).start()
    cid = NOVEMBER.id
    try:
        await send_events(
            topics,
            [
                joined("cm-1", "SB1", effective="2025-01-01"),
                joined("cm-2", "SB2", effective="2025-01-01"),
                _opening("n-1", "cm-1", "2025-11-03"),
                _opening("n-2", "cm-1", "2025-11-17", "general"),
                _opening("n-3", "cm-2", "2025-11-28"),
            ],
        )
        await asyncio.to_thread(
            _wait, lambda: _totals_of(store, cid) == {"cm-1": "14.00", "cm-2": "10.00"}, "november"
        )
        assert not any(r["late"] for r in store.ledger_scan([cid]))

        directory = org(
            ("cm-1", "join", "sub_branch", "SB1", None), ("cm-2", "join", "sub_branch", "SB2", None)
        )
        gate = Gate(await pipeline_lags(BOOTSTRAP, topics, groups, wait=60.0))
        outcome = runs.run(store, [NOVEMBER], cid, "2025-11", directory, gate=gate, now=DECEMBER_4)
        people = outcome.run["result"]["people"]
        assert [(p["cm_id"], p["points"], p["adjustment"], p["amount"]) for p in people] == [
            ("cm-1", "14.00", "0.00", "500.00"),
            ("cm-2", "10.00", "0.00", "300.00"),
        ]
        _, chain = runs.resolve([NOVEMBER], cid, "2025-11")
        assert warnings.run_warnings(store, NOVEMBER, chain[-1]) == []
        await _announce_for(topics, store, NOVEMBER, chain)

        # A late extract: one more November opening after the freeze.
        await send_events(topics, [_opening("n-4", "cm-2", "2025-11-29")])
        await asyncio.to_thread(
            _wait, lambda: _totals_of(store, cid) == {"cm-1": "14.00", "cm-2": "20.00"}, "the late extract"
        )
        assert {
            r["event_id"]: bool(r["late"]) for r in store.ledger_scan([cid]) if r["event_id"] == "n-4"
        } == {"n-4": True}
        assert warnings.run_warnings(store, NOVEMBER, chain[-1]) == [
            "1 笔迟到条目（合计 10.00 分）属于 2025-11 或更早的期间，尚未计入任何冻结："
            "不在本期奖项中，将计入 2025-12 的调整。"
        ]
        # Explain (and the manager's page, which shows its entries) says so beside "counted".
        explained = await explain_event_id(BOOTSTRAP, topics, store, "n-4")
        (verdict,) = explained["competitions"]
        assert (explained["status"], verdict["late_points"]) == ("counted", "10.00")
        assert verdict["late_note"] == LATE_NOTE and verdict["entries"][0]["late_note"] == LATE_NOTE
        report = await verify(BOOTSTRAP, topics, store, [cid])
        assert report.ok, report.to_dict()
    finally:
        writer.stop()
        store.close()


def _totals_of(store: Store, cid: str) -> dict[str, str]:
    return {cm: f"{p:.2f}" for cm, p in store.totals(cid).items()}


async def _announce_for(topics: Topics, store: Store, comp: Any, chain: list[Any]) -> None:
    publisher = Publisher(BOOTSTRAP, topics)
    await publisher.start()
    try:
        for notice in runs.notices(store, comp, chain):
            await publisher.freeze_notice(notice)
    finally:
        await publisher.stop()
