"""A stalled worker wakes after its partitions moved (issue 16, item 1). Two workers score; one is
SIGSTOPped by its fault point after it sent a batch's outputs and its offsets, before its commit
("score.before_commit:<n>:stop"), and stays stopped past the session timeout. The other takes
its partitions and commits (a probe is scored meanwhile); then the first is SIGCONTed. Its
producer must be fenced: the commit is refused, its transaction was aborted when the new owner
started that partition's producer, and nothing it held is written. The transaction timeout is
raised well past the stall, so the broker's timeout cannot be what fences it (with one
transactional id per worker, as before issue 16, the woken worker's commit goes through). The
final check (restart all workers, standings, stored states and SQL ledger equal to the batch
result, and stable) catches a stale commit that a later batch hid."""

from __future__ import annotations

import asyncio
import os
import re
import signal

from tests.faults.dbs import sqlite_url
from tests.faults.harness import Scenario, until
from tests.support.random_events import seeded

NAME = "zombie"
EVENTS = 4000
STOP_AT = "score.before_commit:12:stop"  # the 12th partition commit of the stalled worker
SESSION_S = 10.0  # the workers' session timeout (streams/settings.py)
STALLED_S = SESSION_S + 12.0  # past the session, and long enough for the other to commit
# Far beyond the stall (the probe's wait included): only the new owner can abort the transaction.
TRANSACTION_TIMEOUT_MS = "180000"
TOOK_OVER = re.compile(r"\bscore: took over \[([0-9, ]*)\]")


def took_over(log_text: str) -> list[set[int]]:
    return [{int(p) for p in parts.split(",") if p.strip()} for parts in TOOK_OVER.findall(log_text)]


async def run(sc: Scenario) -> None:
    url = sqlite_url(sc.dir)
    shared = {
        "CAMPAIGNS_BATCH_MAX_RECORDS": "150",
        "CAMPAIGNS_TRANSACTION_TIMEOUT_MS": TRANSACTION_TIMEOUT_MS,
    }
    stalling = sc.worker("worker-a", CAMPAIGNS_FAULT=STOP_AT, **shared)
    other = sc.worker("worker-b", **shared)
    await sc.prepare()
    await sc.start("worker-a", stalling)
    await sc.start("worker-b", other)
    await sc.start("sink", sc.sink(url))
    both = await until(lambda: bool(took_over(stalling.output())) and bool(took_over(other.output())), 60)
    if both is None:
        sc.fail("the two workers did not both take score partitions within 60 s")
        return
    sc.log(f"both workers score ({both:.1f} s)")

    events = seeded(seed=sc.seed, count=EVENTS, cms=16, tag="zb")
    streaming = asyncio.create_task(sc.stream(events, chunk=40, interval=0.4))
    try:
        stopped = await until(lambda: "fault: SIGSTOP at" in stalling.output(), 120)
        if stopped is None:
            sc.fail(f"worker-a never reached {STOP_AT} within 120 s")
            return
        before = len(took_over(other.output()))
        sc.log(f"worker-a stopped inside a commit; waiting {STALLED_S:.0f} s")
        await asyncio.sleep(STALLED_S)
        taken = took_over(other.output())
        if len(taken) <= before or taken[-1] != {0, 1, 2, 3}:
            sc.fail(f"worker-b did not take every score partition while worker-a was stopped: {taken}")
        probe = await sc.send_probe()
        scored = await sc.recovery(probe, timeout=60)
        if scored is None:
            sc.fail("no probe was scored while worker-a was stopped")
        else:
            sc.note(
                f"worker-b took every partition and scored a probe in {scored:.1f} s while worker-a slept"
            )
        assert stalling.proc is not None
        os.kill(stalling.proc.pid, signal.SIGCONT)
        sc.log("worker-a continued (SIGCONT)")
        woke = await until(lambda: "fault: continued" in stalling.output(), 10)
        refused = await until(lambda: _refused(stalling.output()), 60)
        if woke is None:
            sc.fail("worker-a did not continue after SIGCONT")
        elif refused is None:
            sc.fail(f"worker-a's commit after it woke was not refused:\n{stalling.tail(15)}")
        else:
            sc.note(
                f"worker-a's commit was refused {refused:.1f} s after it woke: {_refused(stalling.output())}"
            )
        sc.outcome.recovery_s = scored
        await streaming
    finally:
        streaming.cancel()
    await sc.verify(url)


def _refused(log_text: str) -> str:
    """The loop's line for the fenced commit after the stalled worker woke, or ""."""
    after = log_text.partition("fault: continued")[2]
    for line in after.splitlines():
        if "batch failed" in line:
            rest = line.split("batch failed", 1)[1]
            return (rest.partition("): ")[2] or rest).strip()[:160] or "batch failed"
    return ""
