"""The scoring worker SIGKILLed at seeded random moments while events stream in, restarted each
time with the same data directory (so its producers abort the killed one's open transactions)."""

from __future__ import annotations

import asyncio
import statistics

from tests.faults.dbs import sqlite_url
from tests.faults.harness import Probe, Scenario
from tests.support.random_events import seeded

NAME = "worker-kills"
KILLS = 10
EVENTS = 6000
# Seconds from "Worker]: Ready" to the kill. A restarted worker is ready once the killed one's
# session has expired and the groups have rejoined (about 10 s), so kills land while it scores.
DELAY = (0.5, 6.0)
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
        for n in range(1, KILLS + 1):
            delay = sc.rng.uniform(*DELAY)
            await asyncio.sleep(delay)
            if sc.died("worker"):
                await sc.revive("worker", worker, f"before kill #{n}")
                continue
            scoring = "score: assigned" in worker.output()
            sc.kill("worker")
            moments.append(f"{delay:.1f}{'' if scoring else '*'}")
            sc.log(f"kill #{n} {delay:.1f} s after ready ({'scoring' if scoring else 'not yet assigned'})")
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
        f"{len(moments)} kills at {', '.join(moments)} s after ready (* = before the worker had partitions); "
        f"probe after each kill published in median {statistics.median(measured):.1f} s, "
        f"max {max(measured):.1f} s"
        if measured
        else f"{len(moments)} kills; no probe was published"
    )
    if len(moments) < KILLS:
        sc.fail(f"only {len(moments)} of {KILLS} kills happened")
    await sc.verify(url)
