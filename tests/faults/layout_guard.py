"""The partition layout guard: an operator runs `--alter --partitions` on events.validated while
the platform is scored half way; the worker, killed and started again, must refuse the altered
topics (scoring from an empty state in a new partition would corrupt standings silently) and say
what to do. The operator then does it: `python -m streams.layout grow` copies the topic set into
a new one with more partitions, the worker and sink run there, the rest of the events go in, and
the grown set must end where the batch result over every event ends.
"""

from __future__ import annotations

import asyncio
import subprocess

from schemas.topics import Topics
from tests.faults.dbs import sqlite_url
from tests.faults.harness import PARTITIONS, Scenario, StandingsWatch
from tests.support.layout import alter_partitions, run_grow
from tests.support.processes import ROOT, new_prefix
from tests.support.random_events import seeded
from tests.support.scoring import expected_standings, published_templates

NAME = "layout-guard"
EVENTS = 3000
GROWN = PARTITIONS + 2


async def run(sc: Scenario) -> None:
    await sc.prepare()
    old_dir = sc.dir / "before-grow"
    old_dir.mkdir(exist_ok=True)
    await sc.start("worker", sc.worker())
    await sc.start("sink", sc.sink(sqlite_url(old_dir)))
    events = seeded(seed=sc.seed, count=EVENTS, cms=12, tag="lg")
    first, rest = events[: EVENTS // 2], events[EVENTS // 2 :]
    await sc.stream(first, chunk=50, interval=0.2)
    if await sc.converge(expected_standings(sc.accepted, published_templates()), 120) is None:
        sc.fail("the first half was not scored within 120 s, before any change to the topics")
        return
    sc.kill("worker")
    await alter_partitions(sc.topics.validated, GROWN)
    sc.log(f"{sc.topics.validated} altered to {GROWN} partitions; the worker started again")

    again = sc.worker(name="worker-again")
    refused = await asyncio.to_thread(
        subprocess.run, again.args, cwd=ROOT, env=again.env, capture_output=True, timeout=120
    )
    said = refused.stderr.decode()
    if refused.returncode == 0:
        sc.fail("the worker ran on topics whose partition count changed behind its back")
    elif "python -m streams.layout grow" not in said:
        sc.fail(f"the worker stopped (exit {refused.returncode}) without saying what to do: {said[-300:]}")
    else:
        sc.note(f"the worker refused the altered topics (exit {refused.returncode}), naming the grow command")

    to = new_prefix()
    grown = await asyncio.to_thread(run_grow, sc.topics.prefix, GROWN, to)
    if grown.returncode != 0:
        sc.fail(f"grow failed (exit {grown.returncode}): {grown.stderr.decode()[-300:]}")
        return
    sc.note(f"grown into {to} ({GROWN} partitions): {grown.stdout.decode().strip().splitlines()[-1]}")

    # From here on the scenario is the grown set: its standings, states, validated topic and ledger.
    await asyncio.to_thread(sc.running.pop("sink").stop)
    await sc.watch.stop()
    sc.topics = Topics(to)
    sc.watch = StandingsWatch(sc.topics.standings)
    await sc.watch.start()
    url = sqlite_url(sc.dir)
    await sc.start("worker", sc.worker(name="worker-grown"))
    await sc.start("sink", sc.sink(url))
    await sc.stream(rest, chunk=50, interval=0.2)
    probe = await sc.send_probe()
    sc.outcome.recovery_s = await sc.recovery(probe)
    await sc.verify(url)
