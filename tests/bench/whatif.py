"""The organisers' what-if preview over a year of history: `python -m tests.bench.whatif`.

1,000,000 events of the mixed year (tests/bench/workload.py: 40 managers, nightly balances of
every account, openings, payroll, sales, customer assignments) are produced straight to the
validated topic of a fresh prefix (org moves to the org topic too, as the dedup stage would), the
year-long 小小银行家 scorecard is published, and a draft of it with other weights is previewed
through the API's preview pool (a spawned process, as in the API). The preview reads the history
back from Kafka, parses it and scores it twice (published, draft): all of that is the measured
time. A scorecard needs every event of the year, so this is the preview's worst case. The
February opening contest is previewed first (reported): the types cut leaves ~5 % to parse, and
it starts the preview processes as an API's first preview would, so the scorecard's runs warm.

whatif_1m_s is the heavy preview's seconds scaled to 1,000,000 events (linear: the preview is
one pass). Sizes shrink with BENCH_SCALE; the goal assumes the full run. Merges its keys into
bench-results.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from itertools import islice
from typing import Any

from aiokafka import AIOKafkaProducer

from schemas.routing import org_key
from schemas.topics import Topics
from services.whatif import PreviewJob, PreviewPool
from streams.admin import ensure_topics
from streams.core import load_template
from tests.bench.workload import year_of_events
from tests.support.kafka import BOOTSTRAP
from tests.support.processes import ROOT, new_prefix
from tests.support.scoring import publish

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
GOALS = {
    "whatif_1m_s": "<= 60",
    "whatif_1m_events_read": "reported",
    "whatif_opening_1m_s": "reported",
    "whatif_1m_cpu_s": "reported",
}


def n(count: int) -> int:
    return max(1, int(count * SCALE))


def published(name: str) -> Any:
    return load_template(name).model_copy(update={"status": "published"})


def banker_draft() -> dict[str, Any]:
    raw = published("little_banker").model_dump(mode="json")
    raw.update(version=2, status="draft")
    for dim in raw["rules"][0]["dimensions"]:
        if dim["name"] == "deposit_increase":
            dim["weight"] = "0.4"
    return raw


def opening_draft() -> dict[str, Any]:
    raw = published("feb_account_opening").model_dump(mode="json")
    raw.update(version=2, status="draft")
    raw["rules"][0]["points"]["basic"] = 20
    return raw


async def produce(topics: Topics, events: Iterator[dict[str, Any]]) -> tuple[int, int]:
    """Events to the validated topic keyed by manager; org moves also to the org topic."""
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks=1, linger_ms=20, max_batch_size=1 << 20)
    await producer.start()
    count = org = 0
    try:
        for e in events:
            value = json.dumps(e, ensure_ascii=False).encode()
            await producer.send(topics.validated, value, key=e["data"]["cm_id"].encode())
            count += 1
            if (key := org_key(e)) is not None:
                await producer.send(topics.org, value, key=key.encode())
                org += 1
        await producer.flush()
    finally:
        await producer.stop()
    return count, org


async def timed(pool: PreviewPool, job: PreviewJob) -> tuple[float, dict[str, Any]]:
    t = time.perf_counter()
    result = await pool.run(job)
    return time.perf_counter() - t, result


async def main() -> None:
    print(f"whatif bench: scale {SCALE}; every figure from this run (the machine is shared: see its load)")
    topics = Topics(new_prefix())
    await ensure_topics(BOOTSTRAP, topics, 4)
    await publish(topics, [published("little_banker"), published("feb_account_opening")])
    count = n(1_000_000)
    events = islice(year_of_events(managers=40, accounts_per_manager=n(100), days=365, seed=11), count)
    t = time.perf_counter()
    sent, org = await produce(topics, events)
    print(f"  produced {sent:,} events ({org} org moves) in {time.perf_counter() - t:.1f} s (not measured)")

    pool = PreviewPool()
    try:
        # The opening preview first: it also starts the preview processes, as an API's first
        # preview does; the scorecard's then runs on warm processes, as every later one does.
        opening = PreviewJob(BOOTSTRAP, topics.prefix, "feb-account-opening", opening_draft())
        took_opening, result_opening = await timed(pool, opening)
        show("feb-account-opening (types cut, first preview)", took_opening, result_opening)
        banker = PreviewJob(BOOTSTRAP, topics.prefix, "little-banker", banker_draft())
        took, result = await timed(pool, banker)
        show("little-banker (scorecard, whole year)", took, result)
    finally:
        pool.close()
    figures = {
        "whatif_1m_s": took * 1_000_000 / sent,
        "whatif_1m_events_read": float(result["events_read"]),
        "whatif_opening_1m_s": took_opening * 1_000_000 / sent,
        "whatif_1m_cpu_s": result["timing_ms"]["cpu"] / 1000 * 1_000_000 / sent,
    }
    print(f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"  {'figure':28} {'measured':>12}   goal")
    for key, goal in GOALS.items():
        print(f"  {key:28} {figures[key]:>12,.1f}   {goal}")
    path = ROOT / "bench-results.json"
    merged = json.loads(path.read_text()) if path.exists() else {}
    merged.update(figures)
    path.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    print("whatif bench: merged into bench-results.json")


def show(what: str, took: float, result: dict[str, Any]) -> None:
    t = {k: v / 1000 for k, v in result["timing_ms"].items()}
    print(
        f"  {what}: {took:.1f} s wall; slowest of {result['history']['processes']} preview processes: "
        f"{t['read']:.1f} s reading Kafka, {t['parse']:.1f} s parsing, {t['score']:.1f} s scoring; "
        f"{t['cpu']:.1f} CPU s in all; read {result['events_read']:,}, scored {result['events_scored']:,} "
        f"for {result['managers']} managers; {result['summary']}"
    )


if __name__ == "__main__":
    asyncio.run(main())
