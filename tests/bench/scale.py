"""`make bench BENCH=scale`: more workers on one load, and a re-score of 1,000,000 events in a group
of two (issue "Scale out on a real Kafka cluster", item 3 and its Must show).

Scenarios (each on its own topic prefix):
  S  the same load (openings, balances, payroll... of 300 managers, through all three stages)
     scored by 1, 2 and 3 worker processes in turn, each on fresh topics of 6 partitions, so
     three workers hold two each (scale_N_worker(s)_events_per_s).
  R  1,000,000 events in the validated topic, scored by two worker processes; then the year-long
     小小银行家 scorecard is published and both re-score their partitions' history. While they do,
     each worker's resident memory is sampled (rescore_1m_peak_rss_mb: the larger of the two
     peaks), and the consumer groups' joins in their logs are counted (rescore_1m_rebalances: a
     worker evicted for missed heartbeats rejoins, and every member of its group joins again).

The figures are this machine's, in this run: worker processes compete for its cores with the
broker, the producer and whatever else runs, so say how many cores it had beside them.
Sizes shrink with BENCH_SCALE (e.g. 0.1) for a quick look.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from itertools import islice
from pathlib import Path
from tempfile import TemporaryDirectory

from schemas.topics import Topics
from streams.admin import ensure_topics
from tests.bench.pipeline import SCALE, n, produce, timed_load, wait_drained
from tests.bench.workload import mixed_competitions, year_of_events
from tests.support.kafka import BOOTSTRAP
from tests.support.processes import ROOT, Process, new_prefix, worker
from tests.support.scoring import publish

GOALS: dict[str, str] = {
    "scale_1_worker_events_per_s": "reported",
    "scale_2_workers_events_per_s": "reported",
    "scale_3_workers_events_per_s": "reported",
    "rescore_1m_peak_rss_mb": "reported",
    "rescore_1m_rebalances": "0",
    "rescore_1m_s": "reported",
}
SCALE_PARTITIONS = 6  # 3 workers x 2: each worker a fair share
JOINED = re.compile(r"Joined group '([^']+)' \(generation (\d+)\)")


async def workers(topics: Topics, log_dir: Path, names: list[str], partitions: int) -> list[Process]:
    await ensure_topics(BOOTSTRAP, topics, partitions)
    started = []
    for name in names:
        proc = worker(
            topics.prefix,
            log_dir,
            name=name,
            CAMPAIGNS_PARTITIONS=str(partitions),
            CAMPAIGNS_DEDUP_DIR=str(log_dir / f"{name}-dedup"),
        )
        started.append(proc.start())
    return started


def stop_all(procs: list[Process]) -> None:
    for proc in procs:
        proc.stop()


async def scenario_s(results: dict[str, float], log_dir: Path) -> None:
    # 300 managers, 20 accounts each, from 1 January: about ten weeks of openings, payroll, sales
    # and (nine in ten) daily balances.
    load = list(islice(year_of_events(managers=300, accounts_per_manager=20, days=365, seed=3), n(300_000)))
    keys = {
        1: "scale_1_worker_events_per_s",
        2: "scale_2_workers_events_per_s",
        3: "scale_3_workers_events_per_s",
    }
    for count, key in keys.items():
        topics = Topics(new_prefix())
        procs = await workers(topics, log_dir, [f"s{count}-{i}" for i in range(count)], SCALE_PARTITIONS)
        try:
            await publish(topics, mixed_competitions())
            await wait_drained(topics)
            results[key] = len(load) / await timed_load(topics, load)
        finally:
            stop_all(procs)
        print(f"  S: {count} worker(s), {len(load):,} events: {results[key]:,.0f} events/s")


class RssPeaks:
    """Samples processes' resident memory (VmRSS) every 0.1 s in a thread; keeps each one's peak."""

    def __init__(self, pids: list[int]) -> None:
        self.peaks_kb = dict.fromkeys(pids, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssPeaks:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self.peaks_kb:
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
                self.peaks_kb[pid] = max(self.peaks_kb[pid], rss)
            self._stop.wait(0.1)


def joins(output: str) -> set[tuple[str, int]]:
    return {(group, int(generation)) for group, generation in JOINED.findall(output)}


async def scenario_r(results: dict[str, float], log_dir: Path) -> None:
    topics = Topics(new_prefix())
    procs = await workers(topics, log_dir, ["r1", "r2"], 4)
    try:
        count = n(1_000_000)
        events = islice(year_of_events(managers=40, accounts_per_manager=n(100), days=365, seed=11), count)
        t = time.perf_counter()
        sent = await produce(topics.validated, events)  # straight in: the re-score is timed, not the doors
        await wait_drained(topics)
        print(f"  R: {sent:,} events produced and scored by two workers in {time.perf_counter() - t:.0f} s")
        marks = [len(p.output()) for p in procs]
        if not all(joins(p.output()) for p in procs):
            raise RuntimeError(
                "no group join found in the workers' logs: the rebalance count would mean nothing"
            )
        pids = [p.proc.pid for p in procs if p.proc is not None]
        with RssPeaks(pids) as rss:
            t = time.perf_counter()
            await publish(topics, [c for c in mixed_competitions() if c.id == "little-banker"])
            took = await wait_drained(topics) - t
        logs = [p.output()[mark:] for p, mark in zip(procs, marks, strict=True)]
        # Each rebalance is one new generation of one group, joined by every member.
        rejoined = set().union(*(joins(text) for text in logs))
        rescored = sum(int(m) for text in logs for m in re.findall(r"re-scored \S+ over (\d+) events", text))
        results["rescore_1m_s"] = took * 1_000_000 / sent
        results["rescore_1m_peak_rss_mb"] = max(rss.peaks_kb.values()) / 1024
        results["rescore_1m_rebalances"] = len(rejoined)
        print(
            f"  R: re-scored {rescored:,} history events in {took:.1f} s; peak RSS per worker "
            f"{', '.join(f'{kb / 1024:,.0f} MB' for kb in rss.peaks_kb.values())}; "
            f"group generations joined meanwhile: {sorted(rejoined) or 'none'}"
        )
        for text in logs:
            for line in re.findall(r"re-scored .*", text):
                print(f"    {line}")
        if rescored < sent:
            print(f"  R: WARNING: the logs show {rescored:,} events re-scored of {sent:,}")
    finally:
        stop_all(procs)


async def main() -> None:
    results: dict[str, float] = {}
    which = os.environ.get("BENCH_SCALE_PARTS", "scale,rescore").split(",")
    cores, load = os.cpu_count(), os.getloadavg()[0]
    print(f"bench scale: scale {SCALE}; {cores} cores, load average {load:.1f} at the start; this run")
    with TemporaryDirectory() as tmp:
        if "scale" in which:
            await scenario_s(results, Path(tmp))
        if "rescore" in which:
            await scenario_r(results, Path(tmp))
    print(f"  {'figure':32} {'measured':>12}   goal")
    for key, goal in GOALS.items():
        if key in results:
            print(f"  {key:32} {results[key]:>12,.1f}   {goal}")
    path = ROOT / "bench-results.json"
    merged = json.loads(path.read_text()) if path.exists() else {}
    merged.update(results)
    path.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    print(f"bench scale: merged {', '.join(sorted(results))} into bench-results.json")


if __name__ == "__main__":
    asyncio.run(main())
