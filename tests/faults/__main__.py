"""`python -m tests.faults [scenario ...] [--seed N] [--cluster]`: run the fault scenarios, print
one line per scenario and end with `N passed, M failed` (exit 1 if any failed).

Needs the local broker (deploy/kafka/kafka.sh start) and the project's PostgreSQL
(deploy/postgres/pg.sh start); deploy/local/faults.sh (`make faults`) starts both. `--cluster`
runs the cluster's scenarios instead, on the three brokers of `kafka.sh cluster` (CAMPAIGNS_TEST_KAFKA
their addresses, CAMPAIGNS_REPLICATION_FACTOR 3, CAMPAIGNS_MIN_INSYNC_REPLICAS 2; faults.sh sets
them). Each scenario's process logs are kept under .run/faults/<time>/<scenario>/.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from tests.faults import (
    api_restart,
    broker_kill,
    broker_restart,
    database_outage,
    doors,
    layout_guard,
    rebalance,
    worker_kills,
    zombie,
)
from tests.faults.harness import KAFKA_SH, Outcome, Scenario
from tests.support.processes import ROOT

# The broker restart comes last: if the broker does not come back, it takes nothing else down.
SCENARIOS: list[ModuleType] = [
    worker_kills,
    rebalance,
    zombie,
    database_outage,
    doors,
    api_restart,
    layout_guard,
    broker_restart,
]
# On the three-broker cluster: a broker SIGKILLed, then a worker; the zombie again.
CLUSTER_SCENARIOS: list[ModuleType] = [broker_kill, zombie]
SCENARIO_TIMEOUT = 300.0
LEGEND = """\
  sent: records sent (copies, hostile records and probes included); accepted: records the doors took
  dead-lettered: records on events.deadletter; counted: distinct event ids on events.validated
  lost, double-counted: as defined in tests/faults/harness.py; both must be 0
  recovery: from a probe event sent after the fault to its standing published"""


async def run_one(module: ModuleType, run_dir: Path, seed: int, cluster: bool = False) -> Outcome:
    sc = Scenario(f"{module.NAME}-cluster" if cluster else module.NAME, run_dir, seed)
    began = time.monotonic()
    try:
        await asyncio.wait_for(module.run(sc), SCENARIO_TIMEOUT)
    except TimeoutError:
        sc.fail(f"did not finish within {SCENARIO_TIMEOUT:.0f} s")
    except Exception as exc:
        sc.log(traceback.format_exc())
        sc.fail(f"stopped by {type(exc).__name__}: {exc}")
    finally:
        try:
            await asyncio.wait_for(sc.close(), 90)
        except Exception as exc:
            sc.note(f"cleanup: {type(exc).__name__}: {exc}")
    if sc.outcome.lost is None and not sc.outcome.failures:
        sc.fail("the final check did not run")
    sc.outcome.seconds = time.monotonic() - began
    return sc.outcome


def ensure_broker(cluster: bool = False) -> None:
    """The broker is shared: whatever happened, leave it running (each node of the cluster)."""
    if cluster:
        subprocess.run([str(KAFKA_SH), "cluster", "start"], capture_output=True, check=False)
        return
    if subprocess.run([str(KAFKA_SH), "status"], capture_output=True, check=False).returncode != 0:
        print("faults: the broker is not running; starting it again", file=sys.stderr, flush=True)
        subprocess.run([str(KAFKA_SH), "start"], check=False)


def indented(text: str, mark: str) -> str:
    first, *rest = text.splitlines() or [""]
    return "\n".join([f"      {mark} {first}", *(f"          {line}" for line in rest)])


def main(argv: list[str] | None = None) -> int:
    cluster = "--cluster" in (argv if argv is not None else sys.argv[1:])
    scenarios = CLUSTER_SCENARIOS if cluster else SCENARIOS
    names = [m.NAME for m in scenarios]
    parser = argparse.ArgumentParser(
        prog="python -m tests.faults", description="Fault scenarios on the real broker and database."
    )
    parser.add_argument(
        "scenarios", nargs="*", metavar="scenario", help=f"default: all of {', '.join(names)}"
    )
    parser.add_argument("--cluster", action="store_true", help="the cluster's scenarios, on kafka.sh cluster")
    parser.add_argument("--seed", type=int, default=20261130, help="seeds the events and the kill moments")
    args = parser.parse_args(argv)
    unknown = set(args.scenarios) - set(names)
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(sorted(unknown))}; known: {', '.join(names)}")
    chosen = [m for m in scenarios if not args.scenarios or m.NAME in args.scenarios]
    # The runner's own clients (standings tail, producers) would log every failed reconnect while
    # the broker is away; the processes under test keep their full logs in their own files.
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)

    run_dir = ROOT / ".run" / "faults" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir.mkdir(parents=True, exist_ok=True)
    print(
        f"faults: {len(chosen)} scenarios{' on the cluster' if cluster else ''}, seed {args.seed}, "
        f"logs in {run_dir.relative_to(ROOT)}",
        flush=True,
    )
    began = time.monotonic()
    outcomes: list[Outcome] = []
    try:
        for module in chosen:
            outcome = asyncio.run(run_one(module, run_dir, args.seed, cluster))
            ensure_broker(cluster)
            outcomes.append(outcome)
            print(outcome.line(), flush=True)
            for failure in outcome.failures:
                print(indented(failure, "FAIL:"), flush=True)
            for note in outcome.notes:
                print(indented(note, "-"), flush=True)
    finally:
        ensure_broker(cluster)

    failed = sum(not o.passed for o in outcomes)
    print(f"\nsummary, {time.monotonic() - began:.0f} s in all:\n{LEGEND}")
    for outcome in outcomes:
        print(outcome.line())
    print(f"{len(outcomes) - failed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
