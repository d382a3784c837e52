"""On the three-broker cluster (deploy/kafka/kafka.sh cluster; replication factor 3,
min.insync.replicas 2): one broker SIGKILLed mid-stream, then one of the two workers. The two
brokers left hold every partition's in-sync replicas, so nothing waits for the dead one: the
group and transaction coordinators move, the worker left takes the killed worker's partitions
(fencing its producers), and the stream goes on. The broker is started again at the end, so
the cluster is whole for what runs next. Runs only with `python -m tests.faults --cluster`."""

from __future__ import annotations

import asyncio

from tests.faults.dbs import sqlite_url
from tests.faults.harness import Scenario, scoring, until
from tests.support.random_events import seeded

NAME = "broker-kill"
CLUSTER = True
EVENTS = 4000


async def run(sc: Scenario) -> None:
    url = sqlite_url(sc.dir)
    shared = {"CAMPAIGNS_BATCH_MAX_RECORDS": "150"}  # each worker its own dedup directory (harness)
    first = sc.worker("worker-a", **shared)
    second = sc.worker("worker-b", **shared)
    await sc.prepare()
    await sc.start("worker-a", first)
    await sc.start("worker-b", second)
    await sc.start("sink", sc.sink(url))
    if await until(lambda: scoring(first.output()) and scoring(second.output()), 60) is None:
        sc.fail("the two workers did not both score within 60 s")
        return

    events = seeded(seed=sc.seed, count=EVENTS, cms=16, tag="bk")
    streaming = asyncio.create_task(sc.stream(events, chunk=40, interval=0.4))
    broker = sc.rng.randint(1, 3)
    try:
        await asyncio.sleep(sc.rng.uniform(5.0, 10.0))
        code, _ = await sc.kafka_sh("cluster", "kill", str(broker))
        if code:
            sc.fail(f"kafka.sh cluster kill {broker} exited {code}")
        sc.note(f"broker {broker} SIGKILLed mid-stream")
        await asyncio.sleep(sc.rng.uniform(8.0, 14.0))
        if sc.died("worker-a") or sc.died("worker-b"):
            return
        was_scoring = scoring(second.output())
        sc.kill("worker-b")
        sc.note(f"worker-b SIGKILLed ({'scoring' if was_scoring else 'NOT scoring'}), broker {broker} down")
        if not was_scoring:
            sc.fail("worker-b was not scoring when it was killed")
        probe = await sc.send_probe()
        sc.outcome.recovery_s = await sc.recovery(probe, timeout=120, guard={"worker-a": first})
        await streaming
    finally:
        streaming.cancel()
        code, took = await sc.kafka_sh("cluster", "start-node", str(broker))
        sc.log(f"kafka.sh cluster start-node {broker}: exit {code} in {took:.1f} s")
    if code:
        sc.fail(f"broker {broker} did not start again (exit {code})")
    await sc.verify(url)
