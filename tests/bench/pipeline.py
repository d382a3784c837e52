"""`make bench`: the figures of issue "Scoring that carries a real year", measured in one run.

Every figure is taken on this machine, in this run, against the local broker; ratios compare
figures of the same run. Nothing here is a test: it prints a table with each goal beside its
figure and writes bench-results.json (one key per figure).

Scenarios (each on its own topic prefix, so they never see each other's data):
  B  one worker, a branch's load: 300 managers spread over every partition, openings, payroll,
     sales (the scorecard's items), assignments and weekly balances; a fresh phase and the bulk
     (pipeline_events_per_s); a plain aiokafka consumer over the same raw topic; then steady
     1,000 events/s over the same 300 managers (freshness: every event counts, one not on the
     ledger within FRESHNESS_TIMEOUT_S counts as that timeout).
  A  one worker, 4 managers with 50,000+ events each: fresh, bulk
     (pipeline_4_managers_events_per_s), a phase on top of that history (pipeline_history_ratio);
     the largest state record; SIGKILL and restart (restart_ready_s).
  C  1,000,000 events already in the history and scored by the 小小银行家 scorecard, then a rule
     change: its version 2 (new targets, same start), which re-scores the whole history
     (replay_1m_s); the first scoring of the history is shown as replay_1m_new_competition_s.
  D  300 managers: a day of balances scored, then the next night's 60,000 as a CSV through
     campaigns-load (nightly_eod_s).
Sizes shrink with BENCH_SCALE (e.g. 0.1) for a quick look; the goals assume the full run.
BENCH_ONLY=freshness runs scenario B alone, without the raw consume, and prints its figures
without writing bench-results.json: with BENCH_SCALE=0.2 the history is a fifth and the steady
phase, which BENCH_FRESHNESS_S sets (default 20 x BENCH_SCALE + 2), can stay at 20 s;
BENCH_FRESHNESS_RATE changes the steady rate (1,000/s by default, the goal's).
More workers on one load, and a re-score in a group of two: tests/bench/scale.py.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from schemas.records import RULES_KEY
from schemas.topics import Topics
from streams.admin import ensure_topics, partitions_of
from streams.core import Competition, parse_competition
from streams.follow import read_range, reader
from tests.bench.workload import mixed_competitions, year_of_events
from tests.support.kafka import BOOTSTRAP, read_all
from tests.support.processes import ROOT, Process, new_prefix, worker
from tests.support.scoring import publish

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
ONLY = os.environ.get("BENCH_ONLY", "")
FRESHNESS_S = float(os.environ.get("BENCH_FRESHNESS_S", str(20 * SCALE + 2)))
FRESHNESS_RATE = int(os.environ.get("BENCH_FRESHNESS_RATE", "1000"))  # events/s; the goal is at 1,000
APP_PREFIX = "app"  # tests.support.processes names each worker's app id "<prefix>app"

GOALS: dict[str, str] = {
    "pipeline_events_per_s": ">= 10,000",
    "pipeline_4_managers_events_per_s": "reported",
    "raw_consume_events_per_s": "reported",
    "pipeline_to_raw_ratio": "reported",
    "core_events_per_s": ">= 30,000",
    "pipeline_history_ratio": ">= 0.9",
    "state_record_max_bytes": "<= 65,536",
    "nightly_eod_s": "<= 15",
    "replay_1m_s": "<= 100",
    "replay_1m_new_competition_s": "reported",
    "restart_ready_s": "<= 30",
    "freshness_p50_ms": "<= 200",
    "freshness_p99_ms": "<= 1,000",
    "freshness_missed": "0",
}
FRESHNESS_TIMEOUT_S = 60.0


def n(count: int) -> int:
    return max(1, int(count * SCALE))


# -- Kafka helpers ------------------------------------------------------------------------------


async def produce(topic: str, events: Iterator[dict[str, Any]], key_of: str = "cm") -> int:
    """As fast as the client goes: not the pipeline's cost, so no acks=all wait per record."""
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks=1, linger_ms=20, max_batch_size=1 << 20)
    await producer.start()
    count = 0
    try:
        for e in events:
            key = e["data"]["cm_id"] if key_of == "cm" else e["event_id"]
            await producer.send(topic, json.dumps(e, ensure_ascii=False).encode(), key=key.encode())
            count += 1
        await producer.flush()
    finally:
        await producer.stop()
    return count


async def end_offsets(topic: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in await partitions_of(BOOTSTRAP, topic)]
        ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        return ends
    finally:
        await consumer.stop()


async def group_offsets(group: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        found = await admin.list_consumer_group_offsets(group)
        return {tp: meta.offset for tp, meta in found.items()}
    finally:
        await admin.close()


async def data_end(tp: TopicPartition, end: int) -> int:
    """One past the partition's last record: a transaction's commit marker may follow it."""
    last = 0
    async for records in read_range(BOOTSTRAP, tp, max(0, end - 3), end):
        last = records[-1].offset + 1
    return last


async def drained(topics: Topics) -> bool:
    """Every stage's group has committed past the last record of its input topic."""
    app = f"{topics.prefix}{APP_PREFIX}"
    for stage, topic in (("validate", topics.raw), ("dedup", topics.accepted), ("score", topics.validated)):
        ends = await end_offsets(topic)
        done = await group_offsets(f"{app}-{stage}")
        for tp, end in ends.items():
            if done.get(tp, 0) < end and done.get(tp, 0) < await data_end(tp, end):
                return False
    return True


async def wait_drained(topics: Topics, timeout: float = 3600) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await drained(topics):
            return time.perf_counter()
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{topics.prefix}: the pipeline did not drain in {timeout} s")


async def timed_load(topics: Topics, events: list[dict[str, Any]], *, raw: bool = True) -> float:
    """Seconds from the first record produced until every stage has committed the last one."""
    t = time.perf_counter()
    await produce(topics.raw if raw else topics.validated, iter(events))
    return await wait_drained(topics) - t


async def assign_all(consumer: AIOKafkaConsumer, topic: str, *, at_end: bool) -> dict[TopicPartition, int]:
    """Every partition of the topic, from its start or its end; returns the end offsets."""
    tps = [TopicPartition(topic, p) for p in await partitions_of(BOOTSTRAP, topic)]
    consumer.assign(tps)
    ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
    for tp in tps:
        consumer.seek(tp, ends[tp] if at_end else 0)
    return ends


async def raw_consume_rate(topic: str) -> float:
    """A plain aiokafka consumer: getmany and json.loads, nothing else (the floor of any stage)."""
    async with reader(BOOTSTRAP) as consumer:
        ends = await assign_all(consumer, topic, at_end=False)
        tps = list(ends)
        count = 0
        t = time.perf_counter()
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=500, max_records=10_000)).values():
                for m in records:
                    json.loads(m.value)
                count += len(records)
        return count / (time.perf_counter() - t)


async def ledger_times(topic: str, wanted: set[str], stop: asyncio.Event, seen: dict[str, float]) -> None:
    """Follow the ledger from its end; note when each wanted event's first entry is readable."""
    async with reader(BOOTSTRAP) as consumer:
        await assign_all(consumer, topic, at_end=True)
        while not stop.is_set():
            for records in (await consumer.getmany(timeout_ms=50)).values():
                now = time.perf_counter()
                for m in records:
                    event_id = json.loads(m.value)["event_id"]
                    if event_id in wanted and event_id not in seen:
                        seen[event_id] = now


# -- the loads ------------------------------------------------------------------------------------


def opening(cm: str, i: int, tag: str) -> dict[str, Any]:
    """An account opening in the February contest's window: it always causes a ledger entry."""
    day = 2 + i % 25
    return {
        "event_id": f"{tag}-{i}",
        "type": "account.opened",
        "schema_version": 1,
        "occurred_at": f"2026-02-{day:02d}T10:{i % 60:02d}:00+08:00",
        "source": "bench",
        "data": {
            "account_id": f"{tag}-acct-{i}",
            "customer_id": f"{tag}-cust-{i}",
            "cm_id": cm,
            "account_type": "general",
            "segment": "non_credit",
            "channel": "walk_in",
            "new_firm": False,
        },
    }


async def steady_freshness(topics: Topics, managers: list[str], rate: int, seconds: float) -> list[float]:
    """Send `rate` openings a second; each one's latency from send to its ledger entry. Every event
    sent has a latency: one not on the ledger within FRESHNESS_TIMEOUT_S of the last send counts
    as FRESHNESS_TIMEOUT_S, so misses raise the percentiles instead of leaving them."""
    total = int(rate * seconds)
    events = [opening(managers[i % len(managers)], i, f"fresh{topics.prefix}") for i in range(total)]
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    stop = asyncio.Event()
    follower = asyncio.create_task(ledger_times(topics.ledger, {e["event_id"] for e in events}, stop, seen))
    await asyncio.sleep(1.0)
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", linger_ms=0)
    await producer.start()
    try:
        start = time.perf_counter()
        for i, e in enumerate(events):
            due = start + i / rate
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            sent[e["event_id"]] = time.perf_counter()
            await producer.send(topics.raw, json.dumps(e).encode(), key=e["data"]["cm_id"].encode())
        await producer.flush()
    finally:
        await producer.stop()
    deadline = time.monotonic() + FRESHNESS_TIMEOUT_S
    while len(seen) < len(sent) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    stop.set()
    await follower
    if len(seen) < len(sent):
        print(
            f"  freshness: {len(sent) - len(seen)} of {len(sent)} events not on the ledger in "
            f"{FRESHNESS_TIMEOUT_S:.0f} s, counted as {FRESHNESS_TIMEOUT_S:.0f} s"
        )
    miss = FRESHNESS_TIMEOUT_S * 1000
    return sorted(min(miss, (seen[k] - sent[k]) * 1000) if k in seen else miss for k in sent)


def percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


async def fresh_worker(prefix: str, log_dir: Path, name: str) -> Process:
    topics = Topics(prefix)
    await ensure_topics(BOOTSTRAP, topics, 4)
    return worker(prefix, log_dir, name=name, CAMPAIGNS_DEDUP_DIR=str(log_dir / "dedup")).start()


# -- scenarios ------------------------------------------------------------------------------------


async def scenario_a(results: dict[str, float], log_dir: Path) -> None:
    days = 280
    events = list(year_of_events(managers=4, accounts_per_manager=n(200), days=days, seed=7))
    fresh, rest = events[: n(20_000)], events[n(20_000) :]
    bulk, top = rest[: -n(20_000)], rest[-n(20_000) :]
    topics = Topics(new_prefix())
    proc = await fresh_worker(topics.prefix, log_dir, "a")
    try:
        await publish(topics, mixed_competitions())
        await wait_drained(topics)
        t_fresh = await timed_load(topics, fresh)
        t_bulk = await timed_load(topics, bulk)
        t_top = await timed_load(topics, top)
        per_manager = len(events) // 4
        results["pipeline_4_managers_events_per_s"] = (len(fresh) + len(bulk)) / (t_fresh + t_bulk)
        results["pipeline_history_ratio"] = (len(top) / t_top) / (len(fresh) / t_fresh)
        print(
            f"  A: {len(events):,} events for 4 managers (~{per_manager:,} each): fresh "
            f"{len(fresh) / t_fresh:,.0f}/s, bulk {len(bulk) / t_bulk:,.0f}/s, on top of the history "
            f"{len(top) / t_top:,.0f}/s"
        )
        states = [r for r in await read_all(topics.scoring_state) if r.key != RULES_KEY and r.value]
        results["state_record_max_bytes"] = max(len(r.value or b"") for r in states)

        # SIGKILL with the year of state, then one new event: how long until it is scored.
        proc.kill()
        probe = opening("cm-0000", 0, f"probe{topics.prefix}")
        seen: dict[str, float] = {}
        stop = asyncio.Event()
        follower = asyncio.create_task(ledger_times(topics.ledger, {probe["event_id"]}, stop, seen))
        await asyncio.sleep(0.5)
        t = time.perf_counter()
        proc.start()
        await produce(topics.raw, iter([probe]))
        deadline = time.monotonic() + 300
        while not seen and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        stop.set()
        await follower
        results["restart_ready_s"] = seen[probe["event_id"]] - t if seen else float("inf")
    finally:
        proc.stop()


async def scenario_b(results: dict[str, float], log_dir: Path) -> None:
    """A branch: 300 managers over every partition, the mix of kinds a day brings."""
    managers = 300
    events = list(
        year_of_events(managers=managers, accounts_per_manager=n(12), days=90, seed=9, balance_every=7)
    )
    fresh, bulk = events[: len(events) // 3], events[len(events) // 3 :]
    topics = Topics(new_prefix())
    proc = await fresh_worker(topics.prefix, log_dir, "b")
    try:
        await publish(topics, mixed_competitions())
        await wait_drained(topics)
        t_fresh = await timed_load(topics, fresh)
        t_bulk = await timed_load(topics, bulk)
        results["pipeline_events_per_s"] = len(events) / (t_fresh + t_bulk)
        balances = sum(1 for e in events if e["type"] == "deposit.balance")
        print(
            f"  B: {len(events):,} events of {managers} managers ({balances / len(events):.0%} balances): "
            f"fresh {len(fresh) / t_fresh:,.0f}/s, then {len(bulk) / t_bulk:,.0f}/s"
        )
        if ONLY != "freshness":
            results["raw_consume_events_per_s"] = await raw_consume_rate(topics.raw)
            results["pipeline_to_raw_ratio"] = (
                results["pipeline_events_per_s"] / results["raw_consume_events_per_s"]
            )
        # Steady traffic as the branch sends it, to the same 300 managers (their states loaded).
        steady = [f"cm-{i:04d}" for i in range(managers)]
        latencies = await steady_freshness(topics, steady, FRESHNESS_RATE, FRESHNESS_S)
        results["freshness_p50_ms"] = statistics.median(latencies)
        results["freshness_p99_ms"] = percentile(latencies, 99)
        results["freshness_missed"] = sum(1 for x in latencies if x >= FRESHNESS_TIMEOUT_S * 1000)
        shown = ", ".join(f"p{p} {percentile(latencies, p):,.0f}" for p in (10, 50, 90, 99))
        print(
            f"  B: freshness at {FRESHNESS_RATE:,}/s over {FRESHNESS_S:.0f} s: {shown} ms, "
            f"max {latencies[-1]:,.0f}"
        )
    finally:
        proc.stop()


async def scenario_c(results: dict[str, float], log_dir: Path) -> None:
    """1,000,000 events in the history, scored by the year-long 小小银行家 scorecard; then a rule
    change: its version 2 (new targets, the same start), and every partition re-scores its
    history for it."""
    topics = Topics(new_prefix())
    proc = await fresh_worker(topics.prefix, log_dir, "c")
    try:
        count = n(1_000_000)
        events = islice(year_of_events(managers=40, accounts_per_manager=n(100), days=365, seed=11), count)
        # Straight into the validated topic: this scenario times the re-score, not the doors.
        sent = await produce(topics.validated, events)
        await wait_drained(topics)
        (v1,) = [c for c in mixed_competitions() if c.id == "little-banker"]
        t = time.perf_counter()
        await publish(topics, [v1])
        results["replay_1m_new_competition_s"] = (await wait_drained(topics) - t) * (1_000_000 / sent)
        t = time.perf_counter()
        await publish(topics, [little_banker_v2(v1)])
        results["replay_1m_s"] = (await wait_drained(topics) - t) * (1_000_000 / sent)
        print(
            f"  C: {sent:,} events scored by v1 in "
            f"{results['replay_1m_new_competition_s'] * sent / 1_000_000:.1f} s, "
            f"re-scored by v2 in {results['replay_1m_s'] * sent / 1_000_000:.1f} s"
        )
    finally:
        proc.stop()


def little_banker_v2(v1: Competition) -> Competition:
    """A rule change an organiser makes mid-year: every target a fifth higher, from the same start."""
    raw = v1.model_dump(mode="json")
    for rule in raw["rules"]:
        for dimension in rule.get("dimensions", []):
            dimension["target"] = str((Decimal(str(dimension["target"])) * 6 / 5).quantize(Decimal(1)))
    return parse_competition({**raw, "version": 2})


async def scenario_d(results: dict[str, float], log_dir: Path) -> None:
    """300 managers x 200 accounts: day 1 scored, then day 2's balances as a CSV extract."""
    # 400 accounts each, half of them open on day 2: about 60,000 balances that night.
    managers, accounts = 300, n(400)
    topics = Topics(new_prefix())
    proc = await fresh_worker(topics.prefix, log_dir, "d")
    try:
        await publish(topics, mixed_competitions())
        events = list(year_of_events(managers=managers, accounts_per_manager=accounts, days=2, seed=5))
        first_day = [e for e in events if not e["occurred_at"].startswith("2026-01-02")]
        night = [
            e for e in events if e["type"] == "deposit.balance" and e["occurred_at"].startswith("2026-01-02")
        ]
        await timed_load(topics, first_day)
        path = log_dir / "eod.csv"
        columns = ["event_id", "type", "schema_version", "occurred_at", "source"]
        data_columns = sorted({k for e in night for k in e["data"]})
        with path.open("w", newline="") as f:
            out = csv.writer(f)
            out.writerow(columns + [f"data.{k}" for k in data_columns])
            for e in night:
                out.writerow([e[c] for c in columns] + [e["data"].get(k, "") for k in data_columns])
        t = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).with_name("campaigns-load")), str(path), "--topic", topics.raw,
             "--dead-letter-topic", topics.dead_letters, "--bootstrap", BOOTSTRAP],
            check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        results["nightly_eod_s"] = await wait_drained(topics) - t
        print(f"  D: {len(night):,} end-of-day balances for {managers} managers through campaigns-load")
    finally:
        proc.stop()


def core_rate() -> float:
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.core", str(n(200_000))],
        check=True, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    line = next(x for x in reversed(done.stdout.splitlines()) if x.startswith("{"))
    return float(json.loads(line)["events_per_s"])


def table(results: dict[str, float]) -> str:
    rows = [f"  {'figure':32} {'measured':>14}   goal"]
    for key, goal in GOALS.items():
        value = results.get(key)
        shown = "not measured" if value is None else f"{value:,.3f}" if value < 10 else f"{value:,.0f}"
        rows.append(f"  {key:32} {shown:>14}   {goal}")
    return "\n".join(rows)


async def main() -> None:
    results: dict[str, float] = {}
    if ONLY == "freshness":
        print(f"bench: scenario B only, scale {SCALE}, steady phase {FRESHNESS_S:.0f} s")
        with tempfile.TemporaryDirectory() as tmp:
            await scenario_b(results, Path(tmp))
        print(table(results))
        return
    print(f"bench: scale {SCALE}; every figure from this run")
    results["core_events_per_s"] = core_rate()
    print(f"  core alone: {results['core_events_per_s']:,.0f} events/s")
    with tempfile.TemporaryDirectory() as tmp:
        log_dir = Path(tmp)
        for scenario in (scenario_b, scenario_a, scenario_c, scenario_d):
            await scenario(results, log_dir)
    print(table(results))
    (ROOT / "bench-results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print("bench: wrote bench-results.json")


if __name__ == "__main__":
    asyncio.run(main())
