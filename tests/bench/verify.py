"""`python -m tests.bench.verify`: verify_1m_s, verification over 1,000,000 events (goal <= 100 s).

A generated year (tests/bench/workload.py: 40 managers, openings, closings, nightly balances of
every account, payroll, sales, assignments) goes straight into a fresh prefix's validated topic,
after the four seed contests are published (their control records first). The matching ledger
is written into a SQLite store by scoring the history once with the core and bulk-inserting the
entries (what the sink would have written). Then `services.verify.verify` is timed over every
competition: read the history back from Kafka, re-score it, read the ledger from SQL, compare.
BENCH_SCALE (e.g. 0.1) shrinks the events (and accounts per manager); the figure is scaled to
1,000,000 events.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from dataclasses import asdict
from itertools import islice
from pathlib import Path

from schemas.topics import Topics
from services.store import Store
from services.verify import verify
from services.verify.service import expected_ledger
from streams.admin import ensure_topics
from tests.bench.pipeline import produce
from tests.bench.workload import mixed_competitions, year_of_events
from tests.support.kafka import BOOTSTRAP
from tests.support.processes import ROOT, new_prefix
from tests.support.scoring import publish

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
GOALS = {"verify_1m_s": "<= 100"}


def n(count: int) -> int:
    return max(1, int(count * SCALE))


async def main() -> None:
    print(f"bench verify: scale {SCALE}")
    topics = Topics(new_prefix())
    await ensure_topics(BOOTSTRAP, topics, 4)
    await publish(topics, mixed_competitions())
    count = n(1_000_000)
    events = islice(year_of_events(managers=40, accounts_per_manager=n(100), days=365, seed=11), count)
    t = time.perf_counter()
    sent = await produce(topics.validated, events)
    print(f"  produced {sent:,} events to {topics.validated} in {time.perf_counter() - t:.1f} s")

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.from_url(f"sqlite:///{Path(tmp) / 'ledger.db'}")
        store.create_schema()
        t = time.perf_counter()
        expected, _ = await expected_ledger(BOOTSTRAP, topics, None)
        rows = [asdict(e) for e in expected.entries.values()]
        store.add_ledger_entries(rows)
        print(f"  wrote the matching ledger: {len(rows):,} entries in {time.perf_counter() - t:.1f} s")
        del rows, expected

        t = time.perf_counter()
        report = await verify(BOOTSTRAP, topics, store)
        took = time.perf_counter() - t
        store.close()
    if not report.ok:
        raise SystemExit(
            f"verify found differences in a ledger written from the same history: {report.to_dict()}"
        )
    results = {"verify_1m_s": took * 1_000_000 / sent}
    print(
        f"  verified {report.events:,} events, {report.sql_entries:,} entries, "
        f"{report.totals_compared:,} totals "
        f"({len(report.competition_ids)} competitions) in {took:.1f} s: no differences"
    )
    print(f"  {'figure':20} {'measured':>10}   goal")
    for key, goal in GOALS.items():
        print(f"  {key:20} {results[key]:>10,.1f}   {goal}")
    path = ROOT / "bench-results.json"
    merged = json.loads(path.read_text()) if path.exists() else {}
    merged.update(results)
    path.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    print("bench verify: merged verify_1m_s into bench-results.json")


if __name__ == "__main__":
    asyncio.run(main())
