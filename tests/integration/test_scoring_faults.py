"""Faults on the real broker: a worker SIGKILLed inside each window of a batch's commit, during a
re-score, and while a rule version is published; every run ends as the core's batch result."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from schemas.topics import Topics
from streams.core.rules import Competition, parse_competition
from tests.support.kafka import Record, read_all
from tests.support.processes import new_prefix, worker
from tests.support.random_events import seeded
from tests.support.scoring import (
    converge,
    expected_standings,
    held_badges,
    publish,
    published_templates,
    send_events,
    shown_badges,
)

COMPETITIONS = published_templates()
SMALL_BATCHES = {"CAMPAIGNS_BATCH_MAX_RECORDS": "150"}  # many batches, so a kill lands mid-stream


def ledger_entries(records: list[Record]) -> dict[str, dict[str, Any]]:
    """Entries by id; an id sent twice must carry the same points and reason both times."""
    out: dict[str, dict[str, Any]] = {}
    for r in records:
        entry = json.loads(r.value or b"")
        known = out.setdefault(entry["entry_id"], entry)
        assert (known["points"], known["reason"]) == (entry["points"], entry["reason"]), entry["entry_id"]
    return out


def assert_ledger_matches(ledger: list[Record], standings: dict[str, Any]) -> None:
    """Summed once per id (as the idempotent sink stores them), the entries explain every standing."""
    sums: dict[str, Decimal] = {}
    for e in ledger_entries(ledger).values():
        key = f"{e['competition_id']}|{e['cm_id']}"
        sums[key] = sums.get(key, Decimal(0)) + Decimal(e["points"])
    for key, standing in standings.items():
        if Decimal(standing["points"]) or key in sums:
            assert sums.get(key, Decimal(0)) == Decimal(standing["points"]), key
    # every badge shown is held once in the ledger, and none the standings do not show
    entries = ledger_entries(ledger).values()
    held = held_badges(entries)
    assert held == shown_badges(standings)
    if any(e["competition_id"] == "badges-and-sprints" for e in entries):
        assert held, "badges were earned"


def killed(proc: Any, point: str) -> None:
    assert proc.proc is not None
    proc.proc.wait(240)
    assert f"fault: SIGKILL at {point.split(':')[0]}" in proc.output(), proc.tail()


async def run_until_killed(
    topics: Topics,
    events: list[dict[str, Any]],
    competitions: list[Competition],
    doomed: Any,
    point: str,
) -> int:
    """Publish, send, and wait for the fault point to kill the (started) worker; the ledger's
    length then."""
    try:
        await publish(topics, competitions)
        await send_events(topics, events)
        killed(doomed, point)
    finally:
        doomed.kill()
    return len(await read_all(topics.ledger))


async def assert_ended_as_the_batch_result(
    topics: Topics, got: dict[str, Any], expected: dict[str, Any], before: int
) -> list[Record]:
    """The standings equal the batch result, the worker that came after the kill scored (the
    ledger grew), and the ledger explains the standings. The ledger, for more checks."""
    assert got == expected
    ledger = await read_all(topics.ledger)
    assert before < len(ledger), "the kill came after the last batch"
    assert_ledger_matches(ledger, got)
    return ledger


@pytest.mark.parametrize(
    "point",
    [
        "score.sent:4",  # every output acknowledged, offsets not yet in the transaction
        "score.states_midway:4",  # ledger and standings sent, half of the states
        "score.before_commit:4",  # everything sent, offsets added, not committed
        "dedup.sent:3",
        "validate.before_commit:3",
    ],
)
async def test_a_worker_killed_inside_a_commit_ends_as_the_batch_result(point: str, tmp_path: Path) -> None:
    events = seeded(seed=20260201, count=2500, cms=12, tag="k")
    expected = expected_standings(events, COMPETITIONS)
    topics = Topics(new_prefix())
    # The states are stored at every batch only where the kill must land amid them.
    every = {"CAMPAIGNS_STATE_CHECKPOINT_SECONDS": "0"} if "states" in point else {}
    doomed = worker(topics.prefix, tmp_path, CAMPAIGNS_FAULT=point, **SMALL_BATCHES, **every).start()
    before = await run_until_killed(topics, events, COMPETITIONS, doomed, point)
    again = worker(topics.prefix, tmp_path, **SMALL_BATCHES).start()
    try:
        got = await converge(topics, expected, timeout=300)
    finally:
        again.stop()
    await assert_ended_as_the_batch_result(topics, got, expected, before)


async def test_a_batch_that_fails_inside_its_commit_is_aborted_and_read_again(tmp_path: Path) -> None:
    """No kill: an error mid-transaction (as a broker error would be). The worker aborts the
    batch, drops its caches, rewinds to the committed offsets and goes on by itself."""
    events = seeded(seed=77, count=1500, cms=8, tag="f")
    expected = expected_standings(events, COMPETITIONS)
    topics = Topics(new_prefix())
    proc = worker(
        topics.prefix,
        tmp_path,
        CAMPAIGNS_FAULT="score.states_midway:3:raise",
        CAMPAIGNS_STATE_CHECKPOINT_SECONDS="0",
        **SMALL_BATCHES,
    ).start()
    try:
        await publish(topics, COMPETITIONS)
        await send_events(topics, events)
        got = await converge(topics, expected, timeout=300)
    finally:
        proc.stop()
    assert "fault: raising at score.states_midway #3" in proc.output()
    assert "score: batch failed, reading it again" in proc.output()
    assert got == expected
    assert_ledger_matches(await read_all(topics.ledger), got)


def _v2(v1: Competition) -> Competition:
    definition = v1.model_dump(mode="json")
    definition["rules"][0]["points"]["basic"] = 12  # 基本户 from 10 to 12, from the window's start
    if definition.get("badges"):  # streaks of 2 days (more badges), no threshold (one taken back)
        definition["badges"] = [
            {**b, "run": 2} if b["kind"] == "streak" else b
            for b in definition["badges"]
            if b["kind"] != "threshold"
        ]
    return parse_competition({**definition, "version": 2})


@pytest.mark.parametrize("cid", ["feb-account-opening", "badges-and-sprints"])
async def test_a_worker_killed_during_a_rescore_ends_as_the_batch_result(cid: str, tmp_path: Path) -> None:
    v1 = next(c for c in COMPETITIONS if c.id == cid)
    v2 = _v2(v1)
    events = [e for e in seeded(seed=3, count=600, cms=6, tag="r") if e["type"].startswith("account.")]
    topics = Topics(new_prefix())
    # Four partitions re-score once for v1; the fifth re-score is the first partition's v2.
    doomed = worker(topics.prefix, tmp_path, CAMPAIGNS_FAULT="score.rescore:5").start()
    try:
        await publish(topics, [v1])
        await send_events(topics, events)
        await converge(topics, expected_standings(events, [v1]))
        await publish(topics, [v2])
        killed(doomed, "score.rescore")
    finally:
        doomed.kill()
    again = worker(topics.prefix, tmp_path).start()
    try:
        got = await converge(topics, expected_standings(events, [v1, v2]))
    finally:
        again.stop()
    ledger = await read_all(topics.ledger)
    assert_ledger_matches(ledger, got)
    corrections = [e for e in ledger_entries(ledger).values() if e["rule_version"] == 2]
    assert corrections and all(
        (e["correction"] or "").startswith(f"rescore:{cid}:") or e["component"] in ("badge", "challenge")
        for e in corrections
    )


async def test_a_version_published_while_the_worker_is_down_leaves_ledger_and_standings_agreeing(
    tmp_path: Path,
) -> None:
    v1 = next(c for c in COMPETITIONS if c.id == "feb-account-opening")
    v2 = _v2(v1)
    events = [e for e in seeded(seed=5, count=1500, cms=8, tag="d") if e["type"].startswith("account.")]
    topics = Topics(new_prefix())
    doomed = worker(topics.prefix, tmp_path, CAMPAIGNS_FAULT="score.sent:3", **SMALL_BATCHES).start()
    try:
        await publish(topics, [v1])
        await send_events(topics, events)
        killed(doomed, "score.sent")
        await publish(topics, [v2])  # the worker is dead: v2 waits in the log at its position
    finally:
        doomed.kill()
    again = worker(topics.prefix, tmp_path, **SMALL_BATCHES).start()
    try:
        got = await converge(topics, expected_standings(events, [v1, v2]), timeout=300)
    finally:
        again.stop()
    assert_ledger_matches(await read_all(topics.ledger), got)
    assert any(s["rule_version"] == 2 for s in got.values())
