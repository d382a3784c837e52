"""A second worker joins mid-stream (partitions move to it) and is later SIGKILLed (they move
back once its session expires). Each worker has a dedup directory of its own, as workers on two
machines do: the seen ids follow the partitions through the changelog topic (dedup.seen), so
copies in the stream are dropped whichever worker meets them.

The kill is at a seeded random moment, and it counts only if it landed while worker-b held score
partitions and scored them (its last score-stage line in the log is a take-over,
tests.faults.harness.scoring); a moment that finds it mid-rebalance is drawn again."""

from __future__ import annotations

import asyncio
import re

from tests.faults.dbs import sqlite_url
from tests.faults.harness import Scenario, scoring, until
from tests.support.random_events import seeded

NAME = "rebalance"
EVENTS = 5000
STAGES = {"validate", "dedup", "score"}
KILL_ATTEMPTS = 5  # random moments drawn at most, until one finds worker-b scoring
ASSIGNED = re.compile(r"\b(validate|dedup|score): assigned \[([0-9, ]*)\]")


def assignments(log_text: str) -> dict[str, list[list[int]]]:
    """Each stage's assignments in log order (the loop logs every non-empty one)."""
    out: dict[str, list[list[int]]] = {}
    for stage, parts in ASSIGNED.findall(log_text):
        out.setdefault(stage, []).append([int(p) for p in parts.split(",") if p.strip()])
    return out


async def run(sc: Scenario) -> None:
    url = sqlite_url(sc.dir)
    small = {"CAMPAIGNS_BATCH_MAX_RECORDS": "150"}
    first = sc.worker("worker-a", **small)  # each its own dedup directory (the harness's default)
    second = sc.worker("worker-b", **small)
    await sc.prepare()
    await sc.start("worker-a", first)
    await sc.start("sink", sc.sink(url))

    events = seeded(seed=sc.seed, count=EVENTS, cms=16, tag="rb")
    streaming = asyncio.create_task(sc.stream(events, chunk=40, interval=0.4))
    try:
        await asyncio.sleep(8.0)
        a_before = len(assignments(first.output()).get("score", []))
        await sc.start("worker-b", second)
        took = await until(lambda: set(assignments(second.output())) >= STAGES, 60)
        if took is None:
            sc.fail(f"worker-b had no partitions of some stage after 60 s: {assignments(second.output())}")
        else:
            sc.log(f"worker-b has partitions of every stage {took:.1f} s after it was ready")
        shared_at = await until(lambda: len(assignments(first.output()).get("score", [])) > a_before, 30)
        if shared_at is None:
            sc.fail("worker-a never gave up partitions to worker-b")
        landed = False
        for attempt in range(1, KILL_ATTEMPTS + 1):
            # From the moment worker-b scores, so the kill can land while it holds partitions.
            if await until(lambda: scoring(second.output()), 60) is None:
                sc.fail("worker-b did not score within 60 s")
                return
            delay = sc.rng.uniform(5.0, 12.0) if attempt == 1 else sc.rng.uniform(0.5, 4.0)
            await asyncio.sleep(delay)
            if sc.died("worker-b") or sc.died("worker-a"):
                return
            if scoring(second.output()):
                landed = True
                break
            sc.log(
                f"kill moment #{attempt} ({delay:.1f} s) found worker-b not scoring: not counted, drawn again"
            )
        if not landed:
            sc.fail(f"none of {KILL_ATTEMPTS} random moments found worker-b scoring; it was not killed")
            return
        b_had = assignments(second.output())
        a_had = assignments(first.output())
        sc.kill("worker-b")
        sc.note(
            f"worker-b SIGKILLed while scoring (moment #{attempt}, {delay:.1f} s), "
            f"holding score partitions {(b_had.get('score') or [[]])[-1]}"
        )
        probe = await sc.send_probe()
        await streaming
    finally:
        streaming.cancel()

    sc.outcome.recovery_s = await sc.recovery(probe)
    a_after = assignments(first.output())
    sc.note(
        "score partitions: worker-a "
        + " -> ".join(str(p) for p in a_after.get("score", []))
        + f", worker-b {b_had.get('score', [])} until SIGKILLed"
    )
    taken_back = {stage: (a_after.get(stage) or [[]])[-1] for stage in STAGES}
    if any(sorted(parts) != [0, 1, 2, 3] for parts in taken_back.values()):
        sc.fail(f"worker-a did not take every partition back after worker-b died: {taken_back}")
    if len(a_after.get("score", [])) <= len(a_had.get("score", [])):
        sc.fail("no rebalance of worker-a was logged after worker-b died")
    await sc.verify(url)
