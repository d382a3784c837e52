"""The scoring worker SIGKILLed at seeded random moments while it scores and events stream in,
restarted each time (its producers, one per input partition, abort the killed one's open
transactions before it reads the committed offsets)."""

from __future__ import annotations

import asyncio
import statistics

from tests.faults.dbs import sqlite_url
from tests.faults.harness import Probe, Scenario, scoring, until
from tests.support.random_events import seeded

NAME = "worker-kills"
KILLS = 10  # that landed while the worker scored
MAX_KILLS = 20
EVENTS = 6000
# Seconds from the worker's take-over of its score partitions to the kill.
DELAY = (0.3, 4.0)
SMALL_BATCHES = {"CAMPAIGNS_BATCH_MAX_RECORDS": "150"}  # many transactions, so kills land between and inside


async def run(sc: Scenario) -> None:
    url = sqlite_url(sc.dir)
    await sc.prepare()
    worker = sc.worker(**SMALL_BATCHES)
    await sc.start("worker", worker)
    await sc.start("sink", sc.sink(url))

    events = seeded(seed=sc.seed, count=EVENTS, cms=16, tag="wk")
    hurry = asyncio.Event()
    streaming = asyncio.create_task(sc.stream(events, chunk=30, interval=0.6, hurry=hurry))
    probes: list[Probe] = []
    moments: list[str] = []
    try:
        n = 0
        # Only a kill that lands while the worker holds score partitions and scores them counts.
        while sum(1 for m in moments if not m.endswith("*")) < KILLS and n < MAX_KILLS:
            n += 1
            # From the moment it scores (a restarted worker waits for the killed one's session to
            # expire first), so the kill lands while it holds partitions.
            await until(lambda: scoring(worker.output()), 60)
            delay = sc.rng.uniform(*DELAY)
            await asyncio.sleep(delay)
            if sc.died("worker"):
                await sc.revive("worker", worker, f"before kill #{n}")
                continue
            was_scoring = scoring(worker.output())
            sc.kill("worker")
            moments.append(f"{delay:.1f}{'' if was_scoring else '*'}")
            sc.log(
                f"kill #{n} {delay:.1f} s after the take-over ({'scoring' if was_scoring else 'not scoring'})"
            )
            probes.append(await sc.send_probe())
            await sc.start("worker", worker)
        hurry.set()
        await streaming
    finally:
        streaming.cancel()

    # The last probe first: once it is published, the earlier ones (older) must be too.
    last = await sc.recovery(probes[-1]) if probes else None
    recoveries = [await sc.recovery(p, timeout=10) for p in probes[:-1]] + [last]
    sc.outcome.recovery_s = last
    measured = [r for r in recoveries if r is not None]
    sc.note(
        f"{len(moments)} kills at {', '.join(moments)} s after the take-over (* = not scoring: not counted); "
        f"probe after each kill published in median {statistics.median(measured):.1f} s, "
        f"max {max(measured):.1f} s"
        if measured
        else f"{len(moments)} kills; no probe was published"
    )
    counted = sum(1 for m in moments if not m.endswith("*"))
    if counted < KILLS:
        sc.fail(f"only {counted} of {KILLS} kills landed while the worker scored ({len(moments)} in all)")
    await sc.verify(url)
