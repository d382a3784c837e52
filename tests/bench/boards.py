"""`python -m tests.bench.boards`: the live boards' figures (issue 8), measured in one run.

  freshness_sse_p50_ms / _p99_ms  an account opening produced to events.raw, until its `scored`
                                  message is read from the board's SSE stream by an HTTP client,
                                  at a steady 500 events/s, with a worker and the API running as
                                  processes (goals <= 200 and <= 1,000)
  leaderboard_read_p99_ms         top-50 and around-me reads (HTTP, one at a time) of a board of
                                  10,000 managers while 200 SSE clients are connected, in another
                                  process, and the board keeps moving (goal <= 20)

Sizes shrink with BENCH_SCALE (e.g. 0.2); the goals assume the full run. The keys are merged into
bench-results.json at the repository root.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from schemas.topics import Topics
from services.api import views
from services.readmodel import Board
from streams.admin import ensure_topics
from tests.bench.pipeline import ledger_times, opening
from tests.support.auth import api_auth, auth_headers
from tests.support.kafka import BOOTSTRAP
from tests.support.ports import free_port
from tests.support.processes import ROOT, Process, api, new_prefix, worker
from tests.support.scoring import publish, published_templates
from tests.support.sse import SseClient

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
CID = "feb-account-opening"
GOALS = {
    "freshness_sse_p50_ms": "<= 200",
    "freshness_sse_p99_ms": "<= 1,000",
    "leaderboard_read_p99_ms": "<= 20",
}


def n(count: int) -> int:
    return max(1, int(count * SCALE))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def org_event(cm: str, index: int) -> dict[str, Any]:
    sub_branch = f"sb-{index % 12}"
    return {
        "event_id": f"org-{cm}",
        "type": "org.changed",
        "schema_version": 1,
        "occurred_at": "2025-12-31T09:00:00+08:00",
        "source": "bench",
        "data": {
            "cm_id": cm,
            "cm_name": f"经理{index}",
            "action": "join",
            "unit_kind": "sub_branch",
            "unit_id": sub_branch,
            "unit_name": f"第{index % 12}支行",
            "effective_from": "2026-01-01",
        },
    }


async def produce(topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks=1, linger_ms=20, max_batch_size=1 << 20)
    await producer.start()
    try:
        for key, value in records:
            await producer.send(topic, value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


def start_api(prefix: str, log_dir: Path) -> tuple[Process, str]:
    port = free_port()
    proc = api(prefix, log_dir, port, CAMPAIGNS_DATABASE_URL=f"sqlite:///{log_dir / f'{prefix}api.db'}")
    return proc.start(), f"http://127.0.0.1:{port}"


async def wait_until(client: httpx.AsyncClient, path: str, done: Any, timeout: float = 300) -> Any:
    deadline = time.monotonic() + timeout
    body: Any = None
    while time.monotonic() < deadline:
        response = await client.get(path)
        if response.status_code == 200:
            body = response.json()
            if done(body):
                return body
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{path} never became ready; last answer {str(body)[:300]}")


# -- freshness: events.raw -> worker -> ledger -> API -> SSE ---------------------------------------


async def freshness(results: dict[str, float], log_dir: Path) -> None:
    topics = Topics(new_prefix())
    await ensure_topics(BOOTSTRAP, topics, 4)
    managers = [f"cm-{i:04d}" for i in range(300)]
    work = worker(topics.prefix, log_dir, name="boards-worker").start()
    proc, url = start_api(topics.prefix, log_dir)
    try:
        await publish(topics, [c for c in published_templates() if c.id == CID])
        await produce(
            topics.raw,
            [(cm.encode(), json.dumps(org_event(cm, i)).encode()) for i, cm in enumerate(managers)],
        )
        async with httpx.AsyncClient(base_url=url, timeout=30, auth=api_auth(url)) as client:
            await wait_until(client, f"/api/managers/{managers[-1]}", lambda b: b["name"] == "经理299")
            warm = [opening(cm, i, "warm") for i, cm in enumerate(managers)]
            await produce(topics.raw, [(e["data"]["cm_id"].encode(), json.dumps(e).encode()) for e in warm])
            await wait_until(
                client, f"/api/competitions/{CID}/leaderboard?limit=1", lambda b: b["count"] == 300
            )
            # The SSE client in a process of its own, so that producing does not slow its reading.
            out = log_dir / f"{topics.prefix}probe.json"
            probe = subprocess.Popen(
                [sys.executable, "-m", "tests.bench.boards", "sse-probe", url, str(out)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                env=os.environ | {"BENCH_SSE_HEADERS": json.dumps(auth_headers(url, "/api"))},
            )
            assert probe.stdout is not None
            await asyncio.to_thread(probe.stdout.readline)  # "connected" once it has its snapshot
            rate, seconds = 500, 20 * SCALE + 2
            events = [
                opening(managers[i % len(managers)], i, f"fresh{topics.prefix}")
                for i in range(int(rate * seconds))
            ]
            sent: dict[str, float] = {}
            # The ledger read directly too: how much of the delay is the worker's, how much the API's.
            in_ledger: dict[str, float] = {}
            stop = asyncio.Event()
            follower = asyncio.create_task(
                ledger_times(topics.ledger, {e["event_id"] for e in events}, stop, in_ledger)
            )
            await asyncio.sleep(1.0)
            producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", linger_ms=0)
            await producer.start()
            try:
                start = time.perf_counter()
                for i, e in enumerate(events):
                    if (wait := start + i / rate - time.perf_counter()) > 0:
                        await asyncio.sleep(wait)
                    sent[e["event_id"]] = time.perf_counter()
                    await producer.send(topics.raw, json.dumps(e).encode(), key=e["data"]["cm_id"].encode())
                await producer.flush()
            finally:
                await producer.stop()
            deadline = time.monotonic() + 60
            while len(in_ledger) < len(sent) and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
            await asyncio.sleep(3.0)  # the API's last few
            stop.set()
            await follower
            probe.terminate()
            await asyncio.to_thread(probe.wait, 30)
            seen: dict[str, float] = json.loads(out.read_text())
        latencies = [(seen[k] - t) * 1000 for k, t in sent.items() if k in seen]
        missing = len(sent) - len(latencies)
        if missing:
            print(f"  freshness: {missing} of {len(sent)} events never reached the SSE client in 60 s")
        ledger = [(in_ledger[k] - t) * 1000 for k, t in sent.items() if k in in_ledger]
        if ledger:
            p50, p99 = statistics.median(ledger), percentile(ledger, 99)
            print(f"  freshness: to the ledger alone p50 {p50:.0f} ms, p99 {p99:.0f} ms")
        results["freshness_sse_p50_ms"] = statistics.median(latencies)
        results["freshness_sse_p99_ms"] = percentile(latencies, 99)
        print(
            f"  freshness: {len(latencies):,} events at {rate}/s for {seconds:.0f} s through worker, API, SSE"
        )
    finally:
        proc.stop()
        work.stop()


# -- reads of a 10,000-manager board beside 200 SSE clients ----------------------------------------


def standing(cm: str, index: int, points: int) -> bytes:
    body = {
        "competition_id": CID,
        "cm_id": cm,
        "rule_version": 1,
        "points": f"{points}.00",
        "components": {"opening": f"{points}.00"},
        "units": [
            {"sub_branch_id": f"sb-{index % 12}", "team_id": f"t-{index % 60}", "points": f"{points}.00"}
        ],
        "metrics": {"accounts": points // 4, "basic_accounts": points // 20},
        "reached_at": None,
        "scorecard": None,
    }
    return json.dumps(body).encode()


async def reads(results: dict[str, float], log_dir: Path) -> None:
    topics = Topics(new_prefix())
    await ensure_topics(BOOTSTRAP, topics, 4)
    count, clients = n(10_000), n(200)
    managers = [f"cm-{i:05d}" for i in range(count)]
    rnd = random.Random(8)
    proc, url = start_api(topics.prefix, log_dir)
    mover: asyncio.Task[None] | None = None
    sse: subprocess.Popen[bytes] | None = None
    try:
        await publish(topics, [c for c in published_templates() if c.id == CID])
        org = [
            (
                f"{cm}|sub_branch|2026-01-01|sb-{i % 12}".encode(),
                json.dumps(org_event(cm, i), ensure_ascii=False).encode(),
            )
            for i, cm in enumerate(managers)
        ]
        await produce(topics.org, org)
        await produce(
            topics.standings,
            [(f"{CID}|{cm}".encode(), standing(cm, i, rnd.randint(0, 600))) for i, cm in enumerate(managers)],
        )
        async with httpx.AsyncClient(base_url=url, timeout=30, auth=api_auth(url)) as client:
            board = f"/api/competitions/{CID}/leaderboard"
            await wait_until(client, f"{board}?limit=1", lambda b: b["count"] == count)
            sse = subprocess.Popen(
                [sys.executable, "-m", "tests.bench.boards", "sse-clients", url, str(clients)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                env=os.environ | {"BENCH_SSE_HEADERS": json.dumps(auth_headers(url, board))},
            )
            assert sse.stdout is not None
            line = await asyncio.to_thread(sse.stdout.readline)  # "connected N" once all have a snapshot
            print(f"  reads: {line.decode().strip()} SSE clients (another process)")

            async def move() -> None:
                """The board keeps moving: 50 standings a second, so SSE clients get snapshots."""
                producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, linger_ms=5)
                await producer.start()
                try:
                    while True:
                        for _ in range(5):
                            i = rnd.randrange(count)
                            await producer.send(
                                topics.standings,
                                standing(managers[i], i, rnd.randint(0, 600)),
                                key=f"{CID}|{managers[i]}".encode(),
                            )
                        await asyncio.sleep(0.1)
                finally:
                    await producer.stop()

            mover = asyncio.create_task(move())
            await asyncio.sleep(2.0)
            times: list[float] = []
            for i in range(n(2_000)):
                path = (
                    f"{board}?limit=50"
                    if i % 2 == 0
                    else f"{board}/around/{managers[rnd.randrange(count)]}?size=5"
                )
                t = time.perf_counter()
                response = await client.get(path)
                times.append((time.perf_counter() - t) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
            health = (await client.get("/readyz")).json()["checks"]["read_model"]["push"]
        results["leaderboard_read_p99_ms"] = percentile(times, 99)
        inside = in_process_reads(count)
        alone = f"p50 {statistics.median(inside):.2f} ms, p99 {percentile(inside, 99):.2f} ms"
        print(f"  reads: the read model alone (no HTTP, no credentials), {alone}")
        p50 = statistics.median(times)
        print(f"  reads: {len(times):,} reads of a {count:,}-manager board, p50 {p50:.1f} ms; push {health}")
    finally:
        if mover is not None:
            mover.cancel()
            await asyncio.gather(mover, return_exceptions=True)
        if sse is not None:
            sse.terminate()
            sse.wait(10)
        proc.stop()


def in_process_reads(count: int) -> list[float]:
    """The same reads against a board in this process: what the read model itself costs."""
    board = Board()
    board.set_competitions([c for c in published_templates() if c.id == CID])
    rnd = random.Random(9)
    managers = [f"cm-{i:05d}" for i in range(count)]
    for i, cm in enumerate(managers):
        board.put_org(f"{cm}|sub_branch|2026-01-01|sb-{i % 12}", json.dumps(org_event(cm, i)).encode())
        board.put(f"{CID}|{cm}", standing(cm, i, rnd.randint(0, 600)))
    board.page(CID, "customer_manager")  # builds the index once
    times = []
    for i in range(n(2_000)):
        cm = managers[rnd.randrange(count)]
        board.put(f"{CID}|{cm}", standing(cm, i, rnd.randint(0, 600)))  # the board moves between reads
        t = time.perf_counter()
        if i % 2 == 0:
            body = views.page(board.page(CID, "customer_manager", limit=50))
        else:
            found = board.around(CID, "customer_manager", managers[rnd.randrange(count)], 5)
            body = views.around(found) if found is not None else {}
        json.dumps(body, ensure_ascii=False)
        times.append((time.perf_counter() - t) * 1000)
    return times


async def sse_clients(url: str, count: int) -> None:
    """`count` plain SSE readers (what a wall of screens does): each reads and discards."""
    path = f"/api/competitions/{CID}/stream?limit=20"
    sent = json.loads(os.environ.get("BENCH_SSE_HEADERS", "{}"))  # the parent's credentials, if any
    headers = "".join(f"{k}: {v}\r\n" for k, v in sent.items())
    host, port = url.removeprefix("http://").split(":")
    ready = 0
    all_ready = asyncio.Event()

    async def one() -> None:
        nonlocal ready
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Accept: text/event-stream\r\n\r\n".encode()
        )
        await writer.drain()
        seen = False
        while chunk := await reader.read(65536):
            if not seen and b"event: snapshot" in chunk:
                seen = True
                ready += 1
                if ready == count:
                    all_ready.set()

    tasks = [asyncio.create_task(one()) for _ in range(count)]
    await asyncio.wait_for(all_ready.wait(), 120)
    print(f"connected {count}", flush=True)
    await asyncio.gather(*tasks)


async def sse_probe(url: str, out: str) -> None:
    """One SSE reader noting when each `scored` message arrives (perf_counter: CLOCK_MONOTONIC,
    the same clock in every process of the machine); writes {event_id: time} to `out` on SIGTERM."""
    headers = json.loads(os.environ.get("BENCH_SSE_HEADERS", "{}"))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with httpx.AsyncClient(base_url=url, headers=headers) as client:
        stream = SseClient(client, f"/api/competitions/{CID}/stream", params={"limit": 20})
        await stream.wait_for(lambda ms: any(m.event == "snapshot" for m in ms))
        print("connected", flush=True)
        await stop.wait()
        seen: dict[str, float] = {}
        for m in stream.of("scored"):
            seen.setdefault(m.json()["event_id"], m.at)
        await stream.close()
    Path(out).write_text(json.dumps(seen))


def table(results: dict[str, float]) -> str:
    rows = [f"  {'figure':28} {'measured':>12}   goal"]
    for key, goal in GOALS.items():
        value = results.get(key)
        shown = "not measured" if value is None else f"{value:,.1f}"
        rows.append(f"  {key:28} {shown:>12}   {goal}")
    return "\n".join(rows)


def merge(results: dict[str, float]) -> None:
    path = ROOT / "bench-results.json"
    held = json.loads(path.read_text()) if path.exists() else {}
    held.update(results)
    path.write_text(json.dumps(held, indent=2, sort_keys=True) + "\n")


async def main() -> None:
    results: dict[str, float] = {}
    print(f"bench boards: scale {SCALE}; every figure from this run")
    with tempfile.TemporaryDirectory() as tmp:
        await freshness(results, Path(tmp))
        await reads(results, Path(tmp))
    print(table(results))
    merge(results)
    print("bench boards: merged into bench-results.json")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "sse-clients":
        asyncio.run(sse_clients(sys.argv[2], int(sys.argv[3])))
    elif len(sys.argv) > 1 and sys.argv[1] == "sse-probe":
        asyncio.run(sse_probe(sys.argv[2], sys.argv[3]))
    else:
        asyncio.run(main())
