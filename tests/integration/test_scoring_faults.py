"""Faults and rule changes on the real broker: SIGKILLed workers, duplicates, a new rule version."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from schemas.topics import Topics
from streams.core.rules import parse_competition
from tests.support.kafka import Record, read_all
from tests.support.processes import new_prefix, worker
from tests.support.random_events import seeded
from tests.support.scoring import converge, expected_standings, publish, published_templates, send_events

COMPETITIONS = published_templates()


def unique_ledger_sums(records: list[Record]) -> dict[str, Decimal]:
    """Points per competition|cm over distinct entry ids: what the idempotent sink would store."""
    entries = {e["entry_id"]: e for e in (json.loads(r.value or b"") for r in records)}
    sums: dict[str, Decimal] = {}
    for e in entries.values():
        key = f"{e['competition_id']}|{e['cm_id']}"
        sums[key] = sums.get(key, Decimal(0)) + Decimal(e["points"])
    return sums


def assert_ledger_matches(ledger: list[Record], standings: dict[str, Any]) -> None:
    sums = unique_ledger_sums(ledger)
    for key, standing in standings.items():
        if Decimal(standing["points"]) or key in sums:
            assert sums.get(key, Decimal(0)) == Decimal(standing["points"]), key


async def test_worker_sigkilled_mid_stream_ends_identical_to_an_uninterrupted_run(tmp_path: Path) -> None:
    events = seeded(seed=20260201, count=3000, cms=12, tag="k")
    expected = expected_standings(events, COMPETITIONS)
    calm, crashy = Topics(new_prefix()), Topics(new_prefix())
    calm_worker = worker(calm.prefix, tmp_path, name="calm").start()
    crashy_worker = worker(crashy.prefix, tmp_path, name="crashy").start()
    try:
        for topics in (calm, crashy):
            await publish(topics, COMPETITIONS)
            await send_events(topics, events)

        # Kill once scoring is under way but far from done.
        while len(await read_all(crashy.ledger)) < 200:
            await asyncio.sleep(0.1)
        crashy_worker.kill()
        at_kill = len(await read_all(crashy.ledger))
        crashy_worker.start()

        calm_result = await converge(calm, expected, timeout=420)
        crashy_result = await converge(crashy, expected, timeout=420)
    finally:
        calm_worker.stop()
        crashy_worker.stop()

    assert crashy_result == calm_result == expected
    crashy_ledger = await read_all(crashy.ledger)
    assert at_kill < len({json.loads(r.value or b"")["entry_id"] for r in crashy_ledger}), "killed too late"
    # Re-sent entries carry the ids they had: summed once each, the ledger explains every standing.
    assert_ledger_matches(crashy_ledger, crashy_result)
    assert_ledger_matches(await read_all(calm.ledger), calm_result)


async def test_a_new_rule_version_rescores_with_correcting_entries(
    running_worker: Any, topics: Topics
) -> None:
    v1 = next(c for c in COMPETITIONS if c.id == "feb-account-opening")
    events = [e for e in seeded(seed=3, count=300, cms=4, tag="r") if e["type"].startswith("account.")]
    await publish(topics, [v1])
    await send_events(topics, events)
    await converge(topics, expected_standings(events, [v1]))

    definition = v1.model_dump(mode="json")
    definition["rules"][0]["points"]["basic"] = 12  # 基本户 from 10 to 12, from the window's start
    v2 = parse_competition({**definition, "version": 2})
    await publish(topics, [v2])
    got = await converge(topics, expected_standings(events, [v1, v2]))

    ledger = await read_all(topics.ledger)
    corrections = [e for e in (json.loads(r.value or b"") for r in ledger) if e["rule_version"] == 2]
    assert corrections, "a rule change must show as correcting entries"
    assert all(e["event_id"].startswith("rescore:feb-account-opening:") for e in corrections)
    assert_ledger_matches(ledger, got)
    assert any(s["rule_version"] == 2 for s in got.values())
