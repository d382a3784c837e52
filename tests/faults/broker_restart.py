"""The Kafka broker stopped and started again mid-stream (deploy/kafka/kafka.sh stop/start), with
the worker, the sink and the API running. None of them is restarted by the runner: each must
reconnect by itself. One that dies is a failure naming it and its last log lines; it is then
restarted only so that the rest of the check can still measure what was lost."""

from __future__ import annotations

import asyncio
import socket
import time

from tests.faults.dbs import pg_schema
from tests.faults.harness import Scenario, api_check
from tests.support.kafka import BOOTSTRAP
from tests.support.ports import free_port
from tests.support.random_events import seeded

NAME = "broker-restart"
EVENTS = 4000
DOWN_S = 30.0  # stopped this long, plus its start (~30 s here): longer than the clients' 40 s timeouts
RECOVERY_S = 90.0
PIPELINE_GONE = "Terminating cancelled task"  # faust: the worker's pipeline task ended


def answering() -> bool:
    """Whether anything accepts connections at the broker's address."""
    host, _, port = BOOTSTRAP.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


async def run(sc: Scenario) -> None:
    code, _ = await sc.kafka_sh("status")
    if code != 0:
        # Something else listens on the address (another checkout's broker): stopping it is not
        # ours to do, and kafka.sh stop here would stop nothing.
        sc.fail(f"the broker at {BOOTSTRAP} is not this checkout's (kafka.sh status: not running)")
        return
    async with pg_schema() as url:
        port = free_port()
        await sc.prepare()
        processes = {"worker": sc.worker(), "sink": sc.sink(url), "api": sc.api(port, url)}
        for role, proc in processes.items():
            await sc.start(role, proc)

        events = seeded(seed=sc.seed, count=EVENTS, cms=12, tag="br")
        streaming = asyncio.create_task(sc.stream(events, chunk=40, interval=0.5))  # ~50 s of events
        try:
            await asyncio.sleep(8.0)
            try:
                code, took = await sc.kafka_sh("stop")
                down_at = time.monotonic()
                sc.log(f"kafka.sh stop: exit {code} in {took:.1f} s")
                if code:
                    sc.fail(f"kafka.sh stop exited {code} (see kafka-ops.log)")
                if answering():
                    sc.fail(f"something still answers at {BOOTSTRAP} after kafka.sh stop")
                await asyncio.sleep(DOWN_S)
            finally:
                code, took = await sc.kafka_sh("start")  # always: the broker is shared
            up_at = time.monotonic()
            sc.log(f"kafka.sh start: exit {code} in {took:.1f} s; broker down {up_at - down_at:.1f} s")
            if code:
                sc.fail(f"kafka.sh start exited {code} (see kafka-ops.log)")
                return
            sc.note(f"broker down {up_at - down_at:.1f} s (start took {took:.1f} s)")
            probe = await sc.send_probe()
            await streaming
        finally:
            streaming.cancel()
        if sc.sender.retries:
            sc.note(f"the test's producer retried {sc.sender.retries} sends while the broker was away")

        sc.outcome.recovery_s = await sc.recovery(probe, timeout=RECOVERY_S, guard=processes)
        await asyncio.sleep(2.0)  # a process that gives up after the broker returned shows by now
        for role, proc in processes.items():
            if role in sc.running and sc.died(role):
                await sc.revive(role, proc, "after the broker restart")
        if sc.outcome.recovery_s is None and "worker" in sc.running:
            # Alive but not scoring: name what its log says, then replace it (SIGKILL, restart)
            # only so that the check below can tell what the stuck worker cost.
            worker = sc.running["worker"]
            gone = [line for line in worker.output().splitlines() if PIPELINE_GONE in line]
            sc.fail(
                "the worker process stayed alive but stopped scoring after the broker restart"
                + (f"; its log says: {gone[0][:200]}" if gone else "")
            )
            sc.kill("worker")
            await sc.start("worker", worker)
            sc.note("SIGKILLed and restarted the stuck worker, to measure what it cost")
        await sc.verify(url, timeout=90.0)
        await api_check(sc, f"http://127.0.0.1:{port}")
