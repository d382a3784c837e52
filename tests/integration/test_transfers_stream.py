"""Transfers between managers through the real pipeline: Kafka, the worker, the ledger sink into
PostgreSQL and month-end verify. The deposit example totals 5.00 over both managers, the closing
reported under the new manager claws back from the opener, and a worker SIGKILLed inside a
batch's commit ends with the same ledger (verify finds no difference)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from schemas.topics import Topics
from services.store import Store
from services.verify import verify
from streams.core.rules import Competition, parse_competition
from tests.integration.test_scoring_faults import (
    assert_ended_as_the_batch_result,
    run_until_killed,
)
from tests.support.kafka import BOOTSTRAP, read_all
from tests.support.processes import Process, new_prefix, sink, worker
from tests.support.scoring import converge, expected_standings, publish, send_events
from tests.support.transfers import (
    clawback_example,
    deposit_competition,
    deposit_example,
    opening_competition,
)

COMPETITIONS = [deposit_competition("point_in_time"), opening_competition()]
DEPOSIT, OPENING = (c.id for c in COMPETITIONS)


def _wait(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError("timed out")


async def _verified(topics: Topics, pg_url: str, log_dir: Path) -> None:
    """The sink writes the whole ledger to SQL; verify re-scores the history and finds nothing."""
    ledger = await read_all(topics.ledger)
    ids = {json.loads(r.value or b"")["entry_id"] for r in ledger}
    store = Store.from_url(pg_url)
    store.create_schema()
    writer = sink(topics.prefix, log_dir, pg_url).start()
    try:
        _wait(lambda: ids <= {r["entry_id"] for r in store.ledger_scan([DEPOSIT, OPENING])})
        report = await verify(BOOTSTRAP, topics, store, [DEPOSIT, OPENING])
    finally:
        writer.stop()
        store.close()
    assert report.ok, report.to_dict()
    assert report.expected_entries == report.sql_entries > 0
    assert not report.entries and not report.totals


def _sums(ledger: list[Any]) -> dict[tuple[str, str], Decimal]:
    seen: dict[str, dict[str, Any]] = {json.loads(r.value)["entry_id"]: json.loads(r.value) for r in ledger}
    out: dict[tuple[str, str], Decimal] = {}
    for e in seen.values():
        key = (e["competition_id"], e["cm_id"])
        out[key] = out.get(key, Decimal(0)) + Decimal(e["points"])
    return out


async def test_the_transfer_examples_through_kafka_and_postgresql(
    running_worker: Process, topics: Topics, pg_url: str, tmp_path: Path
) -> None:
    events = deposit_example() + clawback_example()
    await publish(topics, COMPETITIONS)
    await send_events(topics, events)
    got = await converge(topics, expected_standings(events, COMPETITIONS), timeout=120)

    assert got[f"{DEPOSIT}|cm-a"]["points"] == "5.00"
    assert got[f"{DEPOSIT}|cm-b"]["points"] == "0.00"  # 5.00 over both managers, not 20.00
    assert got[f"{OPENING}|cm-a"]["points"] == "0.00"  # 12.00 opened, 12.00 clawed back
    ledger = await read_all(topics.ledger)
    entries = [json.loads(r.value or b"") for r in ledger]
    (clawback,) = [e for e in entries if e["event_id"] == "close-9:to:cm-a"]
    assert (clawback["cm_id"], clawback["points"]) == ("cm-a", "-12.00")
    passed = [json.loads(r.value or b"") for r in await read_all(topics.validated) if r.key == b"cm-a"]
    assert [e["source"] for e in passed if e["type"] == "account.closed"] == ["transfer-handover"]
    assert _sums(ledger)[(DEPOSIT, "cm-a")] + _sums(ledger).get((DEPOSIT, "cm-b"), Decimal(0)) == 5

    # A rule re-score rebuilds both managers from their histories: the split holds.
    doubled = _doubled(COMPETITIONS[0])
    await publish(topics, [doubled])
    got = await converge(topics, expected_standings(events, [*COMPETITIONS, doubled]), timeout=120)
    assert (got[f"{DEPOSIT}|cm-a"]["points"], got[f"{DEPOSIT}|cm-b"]["points"]) == ("10.00", "0.00")

    await _verified(topics, pg_url, tmp_path)


def _doubled(v1: Competition) -> Competition:
    """Version 2 from the window's start: 0.2 point per 万元."""
    definition = v1.model_dump(mode="json")
    definition["rules"][0]["points_per_wan"] = "0.2"
    return parse_competition({**definition, "version": 2})


def _many(count: int) -> list[dict[str, Any]]:
    """`count` copies of both examples among eight managers; half send the closing before the
    transfer (the closing is passed on when the transfer arrives)."""
    events: list[dict[str, Any]] = []
    for i in range(count):
        old, new = f"cm-{i % 8}", f"cm-{(i + 3) % 8}"
        claw = clawback_example(f"k{i}-", old, new)
        if i % 2:
            claw = [claw[0], claw[2], claw[1]]
        events += deposit_example(f"k{i}-", old, new) + claw
    return events


async def test_a_worker_killed_inside_a_commit_passes_each_closing_back_once(
    tmp_path: Path, pg_url: str
) -> None:
    events = _many(60)
    expected = expected_standings(events, COMPETITIONS)
    topics = Topics(new_prefix())
    small = {"CAMPAIGNS_BATCH_MAX_RECORDS": "40"}
    doomed = worker(
        topics.prefix, tmp_path, "doomed", CAMPAIGNS_FAULT="score.before_commit:3", **small
    ).start()
    before = await run_until_killed(topics, events, COMPETITIONS, doomed, "score.before_commit")
    again = worker(topics.prefix, tmp_path, **small).start()
    try:
        got = await converge(topics, expected, timeout=300)
    finally:
        again.stop()
    ledger = await assert_ended_as_the_batch_result(topics, got, expected, before)
    sums = _sums(ledger)
    assert sum(v for (cid, _), v in sums.items() if cid == DEPOSIT) == 60 * 5
    assert sum(v for (cid, _), v in sums.items() if cid == OPENING) == 0
    passed = [r for r in await read_all(topics.validated) if b'"transfer-handover"' in (r.value or b"")]
    assert len({json.loads(r.value or b"")["event_id"] for r in passed}) == 60

    await _verified(topics, pg_url, tmp_path)
