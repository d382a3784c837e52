"""`python -m tests.bench.peer` (`make bench BENCH=peer`): the peer job (shared research,
peer-job.md; tests/bench/peer_job.py) on the whole platform, and the same job in quix-streams, on
the same broker in the same run.

Ours: deploy/local/run.sh as `make run` starts it (worker, ledger sink, API, the demo feeding its
own contests), on a run directory, ports and topic prefix of its own (tests/support/platform.py).
The job's contest is published beside the demo's; a board of it is open over SSE. Then the job's
100,000 lines (BENCH_PEER_LINES; BENCH_SCALE shrinks it) go into events.raw as fast as the client
goes, as kcat would send them. Throughput is lines / (first standing of the contest on the
standings topic .. every manager's standing equal to the job's answer).

CPU per event of each process: utime+stime from /proc/<pid>/stat (the process and its live
children) from just before the lines are sent until the standings are complete and the sink has
written the contest's last ledger entry, divided by the lines sent. The broker is the shared one:
its figure includes whatever else used it meanwhile.

quix-streams: tests/bench/peer_quix.py, run by its own interpreter in .cache/quix-venv (made here
when missing, quix-streams pinned). The lines are produced first, then the app starts; timed from
its first standing to every standing complete, as ours.

Keys merged into bench-results.json: peer_job_events_per_s, peer_job_{worker,sink,api,broker}_cpu_us,
peer_job_sink_settled_s, peer_job_quix_events_per_s, peer_job_quix_cpu_us, peer_job_quix_broker_cpu_us,
peer_job_vs_quix_ratio; and peer_job_load_1m (the machine's load average when the run began).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from schemas.topics import Topics
from streams.admin import partitions_of
from streams.core import parse_competition
from tests.bench.peer_job import COMPETITION_ID, competition_definition, expected_totals, lines
from tests.support.kafka import BOOTSTRAP
from tests.support.platform import Platform
from tests.support.processes import ROOT, new_prefix
from tests.support.scoring import publish
from tests.support.sse import SseClient

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
LINES = max(1000, int(int(os.environ.get("BENCH_PEER_LINES", "100000")) * SCALE))
QUIX_VERSION = "3.28.1"
QUIX_VENV = ROOT / ".cache" / "quix-venv"
TIMEOUT_S = 1800.0
TICK = os.sysconf("SC_CLK_TCK")

GOALS = {"peer_job_vs_quix_ratio": ">= 1.0"}


# -- processes ------------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, float]:
    """(parent pid, CPU seconds of the process and its reaped children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # after the name: state ppid ... utime(14) stime(15) cutime(16) cstime(17), counted from 1 with pid
    return int(fields[1]), sum(int(x) for x in fields[11:15]) / TICK


def cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by the process and every live descendant."""
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parents[int(entry.name)], used[int(entry.name)] = _stat(int(entry.name))
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier += children
    return sum(used.get(p, 0.0) for p in tree)


def listener_pid(port: int) -> int | None:
    """The process listening on this TCP port (the broker), from /proc/net/tcp{,6}."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for row in Path(table).read_text().splitlines()[1:]:
                cols = row.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{cols[9]}]")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return int(entry.name)
    return None


# -- Kafka ----------------------------------------------------------------------------------------


async def produce_fast(topic: str, records: list[tuple[bytes, bytes]]) -> None:
    """As fast as the client goes (what kcat does): not the job's cost."""
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks=1, linger_ms=20, max_batch_size=1 << 20)
    await producer.start()
    try:
        for key, value in records:
            await producer.send(topic, value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


class Standings:
    """Follows a standings topic from its current end: when the first standing of the job came,
    and when every manager's standing first equalled the answer."""

    def __init__(self, topic: str, expected: dict[str, Decimal], key_of: Any, points_of: Any) -> None:
        self.topic, self.expected = topic, expected
        self.key_of, self.points_of = key_of, points_of
        self.first: float | None = None
        self.complete: float | None = None
        self.latest: dict[str, Decimal] = {}
        self._consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        tps = [TopicPartition(self.topic, p) for p in await partitions_of(BOOTSTRAP, self.topic)]
        self._consumer.assign(tps)
        ends = await self._consumer.end_offsets(tps)
        for tp in tps:
            self._consumer.seek(tp, ends[tp])
        self._task = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        wrong = set(self.expected)
        while wrong:
            for batch in (await self._consumer.getmany(timeout_ms=100, max_records=5000)).values():
                now = time.perf_counter()
                for m in batch:
                    cm = self.key_of(m.key)
                    if cm not in self.expected or m.value is None:
                        continue  # e.g. a demo manager's (zero) standing in the job's contest
                    if self.first is None:
                        self.first = now
                    self.latest[cm] = self.points_of(json.loads(m.value))
                    if self.latest[cm] == self.expected.get(cm):
                        wrong.discard(cm)
                    else:
                        wrong.add(cm)
        self.complete = time.perf_counter()

    async def wait(self, timeout: float) -> float:
        assert self._task is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            off = sum(1 for cm, v in self.expected.items() if self.latest.get(cm) != v)
            raise RuntimeError(f"{self.topic}: {off} of {len(self.expected)} standings still wrong") from None
        assert self.first is not None and self.complete is not None
        return self.complete - self.first

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()


async def drop(match: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=15000)
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if match in t]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()


async def warm(raw: str, dead: str) -> float:
    """One junk line through the job until its dead letter is readable: the app is up, assigned
    and processing, and no state changed. Returns the seconds it took."""
    marker = f"peer-probe-{time.time_ns()}"
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(dead, p) for p in await partitions_of(BOOTSTRAP, dead)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, ends[tp])
        t = time.perf_counter()
        await produce_fast(raw, [(b"peer-probe", f"{{not json {marker}".encode())])
        while time.perf_counter() - t < 300:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                if any(marker.encode() in (m.value or b"") for m in batch):
                    return time.perf_counter() - t
        raise RuntimeError(f"no dead letter on {dead} for the warm-up line in 300 s")
    finally:
        await consumer.stop()


# -- ours -----------------------------------------------------------------------------------------


def ledger_rows(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        try:
            return int(
                conn.execute(
                    "SELECT count(*) FROM ledger_entries WHERE competition_id = ?", (COMPETITION_ID,)
                ).fetchone()[0]
            )
        except sqlite3.OperationalError:  # not made yet, or locked a moment
            return -1


async def sink_settled(db: Path, quiet_s: float = 3.0, limit_s: float = 600.0) -> float:
    """Wait until the SQL ledger's count of the contest's entries has not moved for quiet_s."""
    t = time.perf_counter()
    last, since = ledger_rows(db), time.perf_counter()
    while time.perf_counter() - t < limit_s:
        await asyncio.sleep(0.5)
        now = ledger_rows(db)
        if now != last:
            last, since = now, time.perf_counter()
        elif time.perf_counter() - since >= quiet_s and now > 0:
            return since - t
    return time.perf_counter() - t


async def open_board(client: httpx.AsyncClient, key: str) -> SseClient:
    """The contest's board over SSE as a browser holds it open; retried until the API knows it."""
    deadline = time.monotonic() + 60
    while True:
        board = SseClient(
            client, f"/api/competitions/{COMPETITION_ID}/stream", {"limit": 50},
            {"Authorization": f"Bearer {key}"},
        )  # fmt: skip
        while board.status is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if board.status == 200 or time.monotonic() > deadline:
            return board
        await board.close()
        await asyncio.sleep(1.0)


async def ours(
    records: list[tuple[bytes, bytes]], expected: dict[str, Decimal], tmp: Path
) -> dict[str, float]:
    platform = Platform(tmp / "platform")
    print(f"  ours: deploy/local/run.sh start (prefix {platform.prefix}, API on {platform.api_port})")
    platform.start()
    topics = Topics(platform.prefix)
    mine = f"{COMPETITION_ID}|".encode()
    follower = Standings(
        topics.standings,
        expected,
        lambda k: k[len(mine) :].decode() if k and k.startswith(mine) else None,
        lambda v: Decimal(v["points"]),
    )
    try:
        await publish(topics, [parse_competition(competition_definition())])
        pids = {
            n: int((platform.run_dir / "pids" / f"{n}.pid").read_text()) for n in ("worker", "sink", "api")
        }
        broker = listener_pid(int(BOOTSTRAP.rsplit(":", 1)[1]))
        if broker is not None:
            pids["broker"] = broker
        key = platform.credentials()["CAMPAIGNS_DEV_ORGANISER_KEY"]
        async with httpx.AsyncClient(base_url=platform.url, timeout=30) as client:
            board = await open_board(client, key)
            print(f"  ours: board of {COMPETITION_ID} over SSE: HTTP {board.status}")
            try:
                warmed = await warm(topics.raw, topics.dead_letters)
                print(f"  ours: warm-up line dead-lettered in {warmed:.1f} s")
                await follower.start()
                before = {n: cpu_seconds(p) for n, p in pids.items()}
                sent = time.perf_counter()
                await produce_fast(topics.raw, records)
                took = await follower.wait(TIMEOUT_S)
                settled = await sink_settled(platform.run_dir / "campaigns.db")
                after = {n: cpu_seconds(p) for n, p in pids.items()}
                messages = len(board.messages)
            finally:
                await board.close()
        assert follower.first is not None and follower.complete is not None
        out = {
            "peer_job_events_per_s": len(records) / took,
            "peer_job_from_input_events_per_s": len(records) / (follower.complete - sent),
            "peer_job_first_output_s": follower.first - sent,
            "peer_job_sink_settled_s": settled,
        }
        for n in pids:
            out[f"peer_job_{n}_cpu_us"] = (after[n] - before[n]) / len(records) * 1e6
        print(
            f"  ours: {len(records):,} lines, first standing {follower.first - sent:.1f} s after the first "
            f"line, all {len(expected)} complete {took:.1f} s later ({out['peer_job_events_per_s']:,.0f}/s); "
            f"SQL ledger settled {settled:.1f} s later; {messages} SSE messages on the open board"
        )
        return out
    finally:
        await follower.stop()
        platform.stop()
        platform.kill_leftovers()
        for _ in range(2):  # a delete right after the platform stopped has been seen to leave a few
            with contextlib.suppress(Exception):
                await drop(platform.prefix)
            await asyncio.sleep(2)


# -- quix-streams ---------------------------------------------------------------------------------


def quix_python() -> Path:
    python = QUIX_VENV / "bin" / "python"
    probe = [str(python), "-c", "import quixstreams; print(quixstreams.__version__)"]
    if (
        python.exists()
        and subprocess.run(probe, capture_output=True, text=True).stdout.strip() == QUIX_VERSION
    ):
        return python
    print(f"  quix: installing quixstreams=={QUIX_VERSION} into {QUIX_VENV.relative_to(ROOT)}")
    subprocess.run(["python3.11", "-m", "venv", str(QUIX_VENV)], check=True)
    pip = str(QUIX_VENV / "bin" / "pip")
    subprocess.run([pip, "install", "-q", f"quixstreams=={QUIX_VERSION}"], check=True)
    return python


async def quix(
    records: list[tuple[bytes, bytes]], expected: dict[str, Decimal], tmp: Path
) -> dict[str, float]:
    python = quix_python()
    prefix = new_prefix()
    raw, standings, dead = f"{prefix}peer.raw", f"{prefix}standings", f"{prefix}dead"
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.create_topics([
            NewTopic(raw, 4, 1),
            NewTopic(dead, 4, 1),
            NewTopic(standings, 4, 1, topic_configs={"cleanup.policy": "compact"}),
        ])  # fmt: skip
    finally:
        await admin.close()
    follower = Standings(
        standings, expected, lambda k: k.decode() if k else None, lambda v: Decimal(v["points"])
    )
    app: subprocess.Popen[bytes] | None = None
    log = (tmp / "quix.log").open("wb")
    try:
        app = subprocess.Popen(
            [str(python), str(ROOT / "tests" / "bench" / "peer_quix.py"),
             BOOTSTRAP, raw, prefix, str(tmp / "quix-state")],
            cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        print(f"  quix: started; warm-up line dead-lettered in {await warm(raw, dead):.1f} s")
        await follower.start()
        broker = listener_pid(int(BOOTSTRAP.rsplit(":", 1)[1]))
        broker_before = cpu_seconds(broker) if broker else 0.0
        app_before = cpu_seconds(app.pid)
        sent = time.perf_counter()
        await produce_fast(raw, records)
        try:
            took = await follower.wait(TIMEOUT_S)
        except RuntimeError:
            print((tmp / "quix.log").read_text(errors="replace")[-3000:])
            raise
        used = cpu_seconds(app.pid) - app_before
        broker_used = (cpu_seconds(broker) - broker_before) if broker else 0.0
        assert follower.first is not None and follower.complete is not None
        out = {
            "peer_job_quix_events_per_s": len(records) / took,
            "peer_job_quix_from_input_events_per_s": len(records) / (follower.complete - sent),
            "peer_job_quix_first_output_s": follower.first - sent,
            "peer_job_quix_cpu_us": used / len(records) * 1e6,
            "peer_job_quix_broker_cpu_us": broker_used / len(records) * 1e6,
        }
        print(
            f"  quix-streams {QUIX_VERSION}: first standing {follower.first - sent:.1f} s after the first "
            f"line, all {len(expected)} complete {took:.1f} s later "
            f"({out['peer_job_quix_events_per_s']:,.0f}/s)"
        )
        return out
    finally:
        await follower.stop()
        if app is not None:
            app.send_signal(signal.SIGTERM)
            try:
                app.wait(60)
            except subprocess.TimeoutExpired:
                app.kill()
                app.wait()
        log.close()
        with contextlib.suppress(Exception):
            await drop(prefix)


# -- main -----------------------------------------------------------------------------------------


async def main() -> None:
    load = os.getloadavg()[0]
    print(f"bench peer: {LINES:,} lines of the peer job; load average {load:.2f} on {os.cpu_count()} cores")
    records = lines(LINES)
    expected = expected_totals(records)
    results: dict[str, float] = {"peer_job_load_1m": load}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        results.update(await ours(records, expected, tmp))
        results.update(await quix(records, expected, tmp))
    results["peer_job_vs_quix_ratio"] = (
        results["peer_job_events_per_s"] / results["peer_job_quix_events_per_s"]
    )
    print(f"  {'figure':40} {'measured':>10}   goal")
    for key in sorted(results):
        print(f"  {key:40} {results[key]:>10,.2f}   {GOALS.get(key, '')}")
    path = ROOT / "bench-results.json"
    merged = json.loads(path.read_text()) if path.exists() else {}
    merged.update({k: round(v, 3) for k, v in results.items()})
    path.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    print(f"bench peer: merged {', '.join(sorted(results))} into bench-results.json")


if __name__ == "__main__":
    asyncio.run(main())
