"""What every fault scenario shares: its processes, producers that outlive a broker outage, a tail
of the standings topic (when was a probe's standing published), and the final check.

The check (`Scenario.verify`), against the events the doors accepted:

- expected: `tests.support.scoring.expected_standings` (the scoring core in batch) over them;
- lost: accepted event ids missing from events.validated, standings (competition|cm) that differ
  from the batch result, and ledger entries on score.ledger that never reached the SQL ledger;
- double-counted: ledger entry ids that occur with different points, event ids on
  events.validated more than once, and (competition, cm) whose SQL ledger sum differs from the
  published standing (beyond what entries missing from SQL explain: those count as lost);
- counted: distinct event ids on events.validated; dead-lettered: records on events.deadletter,
  which must be exactly the hostile records sent (and all of them stored in SQL too).

Every scenario ends the same way: once the standings first match, every worker still running is
restarted (SIGTERM, then started again) and a probe is scored by the restarted workers; then the
standings on score.standings, the standings the stored states hold (score.state, newest state per
manager, read back through the core) and the SQL ledger's sums must all equal the batch result
and stay equal for STABLE_SECONDS, so a stale write that a later batch hid is caught.

Recovery: after the fault a probe (one account opening for a manager of its own) is sent; its
recovery time runs from the send to its standing being published on score.standings.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import Engine, create_engine, select, text

from schemas.control import HEADER as CONTROL_HEADER
from schemas.topics import Topics
from services.store.tables import LedgerEntry as LedgerRow
from streams.admin import ensure_topics, partitions_of
from streams.replication import Replication
from tests.support.auth import api_auth
from tests.support.events import opened
from tests.support.kafka import BOOTSTRAP, Record, read_all
from tests.support.processes import ROOT, Process, api, new_prefix, sink, worker
from tests.support.scoring import expected_standings, latest, publish, published_templates, stored_standings

COMPETITIONS = published_templates()
PROBE_COMPETITION = "feb-account-opening"
PARTITIONS = 4
KAFKA_SH = ROOT / "deploy" / "kafka" / "kafka.sh"
# As the workers create them (the settings' CAMPAIGNS_REPLICATION_FACTOR, CAMPAIGNS_MIN_INSYNC_REPLICAS):
# 1 and 1 on the single broker, 3 and 2 on the cluster (python -m tests.faults --cluster).
REPLICATION = Replication(
    int(os.environ.get("CAMPAIGNS_REPLICATION_FACTOR", "1")),
    int(os.environ.get("CAMPAIGNS_MIN_INSYNC_REPLICAS", "1")),
)
STABLE_SECONDS = 5.0  # the final check: standings, states and SQL equal the batch result this long


STAGE_EVENT = re.compile(r"\b(score): (assigned|took over|revoked) \[([0-9, ]*)\]")


def scoring(log_text: str) -> bool:
    """The worker holds score partitions and scores them: its last score-stage event in the log
    (streams/pipeline/loop.py) is a take-over of some partitions."""
    events = STAGE_EVENT.findall(log_text)
    return bool(events) and events[-1][1] == "took over" and bool(events[-1][2].strip())


def wire(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode()


def keyed(event: dict[str, Any]) -> tuple[bytes, bytes]:
    """As any Kafka client sends an event: keyed by its customer manager."""
    return str(event["data"]["cm_id"]).encode(), wire(event)


def first_copies(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for e in events:
        if e["event_id"] not in seen:
            seen.add(e["event_id"])
            out.append(e)
    return out


@dataclass
class Outcome:
    name: str
    sent: int = 0
    accepted: int = 0
    dead_lettered: int = 0
    counted: int = 0
    lost: int | None = None  # None: the scenario stopped before its final check
    double_counted: int | None = None
    recovery_s: float | None = None
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures and self.lost == 0 and self.double_counted == 0

    def line(self) -> str:
        def n(value: int | None) -> str:
            return "?" if value is None else str(value)

        recovery = "-" if self.recovery_s is None else f"{self.recovery_s:.1f} s"
        return (
            f"{'PASS' if self.passed else 'FAIL'}  {self.name:<16} sent {self.sent:>5}  "
            f"accepted {self.accepted:>5}  dead-lettered {self.dead_lettered:>3}  "
            f"counted {self.counted:>5}  lost {n(self.lost)}  double-counted {n(self.double_counted)}  "
            f"recovery {recovery}  ({self.seconds:.0f} s)"
        )


class Sender:
    """One idempotent producer, kept open. A send that fails (the broker is away) is retried whole
    with a new producer until `give_up_after`: copies that reached the broker before the failure
    are duplicates on events.raw, which dedup drops, as it would for any client that retries."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._log = log
        self.retries = 0

    async def send(
        self, topic: str, records: list[tuple[bytes | None, bytes]], give_up_after: float = 180.0
    ) -> float:
        """Send and wait for every acknowledgement; returns when the (successful) attempt began."""
        deadline = time.monotonic() + give_up_after
        async with self._lock:
            while True:
                began = time.monotonic()
                try:
                    await asyncio.wait_for(self._attempt(topic, records), 45)
                    return began
                except Exception as exc:
                    self.retries += 1
                    await self._drop()
                    if time.monotonic() > deadline:
                        raise
                    if self.retries % 10 == 1:
                        self._log(f"send to {topic} failed ({type(exc).__name__}: {exc}); retrying")
                    await asyncio.sleep(1.0)

    async def _attempt(self, topic: str, records: list[tuple[bytes | None, bytes]]) -> None:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=BOOTSTRAP,
                acks="all",
                enable_idempotence=True,
                request_timeout_ms=15_000,
                max_request_size=1_048_576,
            )
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        futures = [await self._producer.send(topic, key=k, value=v) for k, v in records]
        await asyncio.gather(*futures)

    async def _drop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), 10)

    async def close(self) -> None:
        await self._drop()


class StandingsWatch:
    """Tails score.standings (read_committed) and notes when each record arrived, so a probe's
    recovery time is measured from the publication, not from whenever we next looked."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.latest: dict[str, Any] = {}
        self.errors = 0
        self._expected: dict[str, list[tuple[Any, asyncio.Future[float]]]] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        partitions = await partitions_of(BOOTSTRAP, self.topic)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=BOOTSTRAP,
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            auto_offset_reset="earliest",
        )
        await consumer.start()
        consumer.assign([TopicPartition(self.topic, p) for p in partitions])
        await consumer.seek_to_beginning()
        self._consumer = consumer
        self._task = asyncio.create_task(self._run(consumer), name=f"watch {self.topic}")

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                batch = await consumer.getmany(timeout_ms=200)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.errors += 1
                await asyncio.sleep(0.5)
                continue
            now = time.monotonic()
            for messages in batch.values():
                for m in messages:
                    if m.key is None or m.value is None:
                        continue
                    try:
                        key, value = m.key.decode(), json.loads(m.value)
                    except ValueError:
                        continue
                    self.latest[key] = value
                    for want, fut in self._expected.get(key, ()):
                        if not fut.done() and value == want:
                            fut.set_result(now)

    def expect(self, key: str, value: Any) -> asyncio.Future[float]:
        """A future that resolves to the monotonic time `key` was published with `value`."""
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if self.latest.get(key) == value:
            fut.set_result(time.monotonic())
        self._expected.setdefault(key, []).append((value, fut))
        return fut

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._consumer.stop(), 10)


@dataclass
class Probe:
    event: dict[str, Any]
    key: str  # competition|cm on score.standings
    standing: dict[str, Any]  # what the batch result says it must be
    sent_at: float = 0.0
    published: asyncio.Future[float] | None = None


def ledger_by_id(records: list[Record]) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Entries by id, and the ids that occur with different points (or reasons)."""
    out: dict[str, dict[str, Any]] = {}
    conflicting: set[str] = set()
    for r in records:
        entry = json.loads(r.value or b"")
        known = out.setdefault(entry["entry_id"], entry)
        if (known["points"], known["reason"]) != (entry["points"], entry["reason"]):
            conflicting.add(entry["entry_id"])
    return out, conflicting


def engine_for(url: str) -> Engine:
    connect_args = {"connect_timeout": 5} if url.startswith("postgresql") else {}
    return create_engine(url, connect_args=connect_args, pool_pre_ping=True)


def sql_ledger(engine: Engine) -> dict[str, tuple[str, Decimal]]:
    """entry_id -> (competition|cm, points) as stored (read through the store's column types:
    on SQLite, points are integer cents)."""
    t = LedgerRow.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.entry_id, t.c.competition_id, t.c.cm_id, t.c.points))
        return {eid: (f"{cid}|{cm}", Decimal(points)) for eid, cid, cm, points in rows}


def sql_dead_letters(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM dead_letters")).scalar_one())


def _read_sql(url: str) -> dict[str, tuple[str, Decimal]]:
    engine = engine_for(url)
    try:
        return sql_ledger(engine)
    finally:
        engine.dispose()


async def until(condition: Callable[[], bool], timeout: float, every: float = 0.2) -> float | None:
    """Seconds until `condition()` held, or None after `timeout`."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if condition():
            return time.monotonic() - began
        await asyncio.sleep(every)
    return None


def _examples(items: Any, n: int = 3) -> str:
    items = sorted(items)
    more = f" (+{len(items) - n} more)" if len(items) > n else ""
    return ", ".join(str(i) for i in items[:n]) + more


class Scenario:
    """One scenario's topics, directory (logs, SQLite), processes, producers and outcome."""

    def __init__(self, name: str, run_dir: Path, seed: int) -> None:
        self.name = name
        self.dir = run_dir / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.seed = seed
        self.rng = random.Random(f"{seed}:{name}")
        self.topics = Topics(new_prefix())
        self.outcome = Outcome(name)
        self.accepted: list[dict[str, Any]] = []  # every record a door accepted, copies included
        self.expected_dead = 0
        self.running: dict[str, Process] = {}
        self._started: list[Process] = []
        self._probes = 0
        self._t0 = time.monotonic()
        self.sender = Sender(self.log)
        self.probe_sender = Sender(self.log)
        self.watch = StandingsWatch(self.topics.standings)
        self.log(f"topic prefix {self.topics.prefix}, logs in {self.dir}")

    # -- reporting -----------------------------------------------------------------------------

    def log(self, message: str) -> None:
        line = f"[{time.monotonic() - self._t0:6.1f}s {self.name}] {message}"
        print(line, file=sys.stderr, flush=True)
        with (self.dir / "runner.log").open("a", encoding="utf-8") as f:
            f.write(line + "\n")

    def note(self, message: str) -> None:
        self.log(message)
        self.outcome.notes.append(message)

    def fail(self, message: str) -> None:
        self.log(f"FAILURE: {message}")
        self.outcome.failures.append(message)

    # -- processes -----------------------------------------------------------------------------

    def worker(self, name: str = "worker", **extra: str) -> Process:
        """A worker process; each name its own dedup directory, as on a machine of its own (the
        seen ids follow the partitions through the changelog topic), kept across its restarts."""
        extra.setdefault("CAMPAIGNS_DEDUP_DIR", str(self.dir / f"{name}-dedup"))
        return worker(self.topics.prefix, self.dir, name=name, **extra)

    def sink(self, database_url: str, **extra: str) -> Process:
        return sink(self.topics.prefix, self.dir, database_url, **extra)

    def api(self, port: int, database_url: str, **extra: str) -> Process:
        return api(self.topics.prefix, self.dir, port, CAMPAIGNS_DATABASE_URL=database_url, **extra)

    async def start(self, role: str, proc: Process) -> float:
        """Start (or restart) a process and wait until it says it is ready; returns the seconds."""
        began = time.monotonic()
        self._started.append(proc)
        await asyncio.to_thread(proc.start)
        self.running[role] = proc
        return time.monotonic() - began

    def kill(self, role: str) -> Process:
        """SIGKILL: no shutdown hooks, no final commit, no flush."""
        proc = self.running.pop(role)
        proc.kill()
        return proc

    def died(self, role: str) -> bool:
        """True (and a failure naming it, with its last log lines) if the process exited by itself."""
        proc = self.running.get(role)
        if proc is None:
            return False
        code = proc.proc.poll() if proc.proc is not None else None
        if code is None:
            return False
        self.fail(
            f"{role} exited by itself (exit code {code}); the end of {proc.log_path.name}:\n{proc.tail(12)}"
        )
        del self.running[role]
        return True

    async def revive(self, role: str, proc: Process, why: str) -> None:
        """Restart a process that died, so the rest of the check still measures what was lost."""
        self.note(f"restarted {role} after it died ({why}), to measure the damage")
        await self.start(role, proc)

    def evidence(self, per_process: int = 4) -> str:
        """The last error lines of each running process's log, for a failure message."""
        out: list[str] = []
        for role, proc in self.running.items():
            errors = [
                line
                for line in proc.output().splitlines()
                if any(mark in line for mark in ("ERROR", "Error", "Traceback", "Exception"))
            ]
            out += [f"{role}: {line[:300]}" for line in errors[-per_process:]]
        return ("; errors logged:\n" + "\n".join(out)) if out else "; no errors in the processes' logs"

    def check_running(self) -> None:
        for role in list(self.running):
            self.died(role)

    async def close(self) -> None:
        """SIGTERM every process still running, all at once; SIGKILL what is left after 20 s."""
        live = {id(p): p.proc for p in self._started if p.proc is not None and p.proc.poll() is None}
        for popen in live.values():
            popen.terminate()
        for popen in live.values():
            try:
                await asyncio.to_thread(popen.wait, 20)
            except subprocess.TimeoutExpired:
                popen.kill()
                await asyncio.to_thread(popen.wait, 10)
        await self.watch.stop()
        await self.sender.close()
        await self.probe_sender.close()

    # -- the stream ----------------------------------------------------------------------------

    async def prepare(self) -> None:
        """Topics, the four template competitions, and the standings tail."""
        await ensure_topics(BOOTSTRAP, self.topics, PARTITIONS, REPLICATION)
        await publish(self.topics, COMPETITIONS)
        await self.watch.start()

    async def send_events(self, events: list[dict[str, Any]]) -> None:
        """Valid events onto events.raw, as any Kafka client sends them."""
        self.outcome.sent += len(events)
        await self.sender.send(self.topics.raw, [keyed(e) for e in events])
        self.accepted += events

    async def stream(
        self, events: list[dict[str, Any]], chunk: int, interval: float, hurry: asyncio.Event | None = None
    ) -> None:
        """`chunk` events every `interval` s; all that is left at once when `hurry` is set."""
        for i in range(0, len(events), chunk):
            await self.send_events(events[i : i + chunk])
            if hurry is None:
                await asyncio.sleep(interval)
            elif not hurry.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(hurry.wait(), interval)

    def new_probe(self) -> Probe:
        self._probes += 1
        cm = f"probe-{self.name}-{self._probes}"
        event = opened(f"{self.topics.prefix}probe-{self._probes}", cm_id=cm)
        key = f"{PROBE_COMPETITION}|{cm}"
        return Probe(event, key, expected_standings([event], COMPETITIONS)[key])

    async def send_probe(self) -> Probe:
        """One account opening for a manager of its own, sent now through events.raw."""
        probe = self.new_probe()
        probe.published = self.watch.expect(probe.key, probe.standing)
        self.outcome.sent += 1
        probe.sent_at = await self.probe_sender.send(self.topics.raw, [keyed(probe.event)])
        self.accepted.append(probe.event)
        return probe

    async def recovery(
        self, probe: Probe, timeout: float = 120.0, guard: dict[str, Process] | None = None
    ) -> float | None:
        """Seconds from the probe's send to its standing on score.standings (None: never).

        Meanwhile each process in `guard` that dies is reported (a failure) and restarted."""
        assert probe.published is not None
        deadline = time.monotonic() + timeout
        while not probe.published.done() and time.monotonic() < deadline:
            await asyncio.wait([probe.published], timeout=1.0)
            for role, proc in (guard or {}).items():
                if role in self.running and self.died(role):
                    await self.revive(role, proc, "while waiting for the probe")
        if not probe.published.done():
            self.fail(f"probe {probe.key} not published within {timeout:.0f} s of its send{self.evidence()}")
            return None
        return max(0.0, probe.published.result() - probe.sent_at)

    async def converge(self, expected: dict[str, Any], timeout: float) -> float | None:
        """Wait until the tailed standings equal `expected` on its keys; seconds waited or None."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            if all(self.watch.latest.get(k) == v for k, v in expected.items()):
                return time.monotonic() - began
            await asyncio.sleep(0.5)
        return None

    # -- the check -----------------------------------------------------------------------------

    async def restart_workers(self) -> None:
        """Every worker still running: SIGTERM all, then start each again; a probe must then be
        scored (by workers that read their states back from score.state)."""
        workers = {role: proc for role, proc in self.running.items() if role.startswith("worker")}
        for role, proc in workers.items():
            await asyncio.to_thread(proc.stop)
            del self.running[role]
        for role, proc in workers.items():
            await self.start(role, proc)
        self.log(f"restarted {', '.join(workers) or 'no workers'}")
        if workers:
            await self.recovery(await self.send_probe(), timeout=90.0)

    async def agreement(self, database_url: str, expected: dict[str, Any]) -> list[str]:
        """What differs from the batch result now: standings, stored states, SQL ledger sums."""
        standings = latest(await read_all(self.topics.standings))
        states = await stored_standings(self.topics)
        try:
            stored = await asyncio.to_thread(_read_sql, database_url)
        except Exception as exc:
            return [f"SQL not readable: {type(exc).__name__}"]
        sums: dict[str, Decimal] = {}
        for key, amount in stored.values():
            sums[key] = sums.get(key, Decimal(0)) + amount
        wrong: list[str] = []
        if standings != expected:
            wrong.append("standings")
        if {k: v for k, v in states.items() if k in expected or Decimal(v["points"])} != expected:
            wrong.append("states")
        if {k: v for k, v in sums.items() if v} != {
            k: Decimal(v["points"]) for k, v in expected.items() if Decimal(v["points"])
        }:
            wrong.append("SQL ledger")
        return wrong

    async def settle(self, database_url: str, expected: dict[str, Any], timeout: float) -> float | None:
        """Seconds until standings, states and SQL equal `expected` and stayed so STABLE_SECONDS."""
        began = time.monotonic()
        since: float | None = None
        wrong: list[str] = []
        while time.monotonic() - began < timeout:
            wrong = await self.agreement(database_url, expected)
            now = time.monotonic()
            if wrong:
                since = None
            elif since is None:
                since = now
            elif now - since >= STABLE_SECONDS:
                return now - began
            await asyncio.sleep(1.0)
        self.log(f"not settled within {timeout:.0f} s: {', '.join(wrong) or 'equal, but not for long'}")
        return None

    async def verify(self, database_url: str, *, timeout: float = 120.0) -> None:
        """Restart the workers, then standings, stored states and the SQL ledger against the batch
        result over the accepted events, equal for STABLE_SECONDS."""
        o = self.outcome
        expected = expected_standings(self.accepted, COMPETITIONS)
        waited = await self.converge(expected, timeout)
        if waited is None:
            self.log(f"standings did not match the batch result within {timeout:.0f} s")
        else:
            self.log(f"standings match the batch result ({waited:.1f} s after the check began)")
        await self.restart_workers()
        o.accepted = len(self.accepted)
        accepted_ids = {e["event_id"] for e in self.accepted}
        expected = expected_standings(self.accepted, COMPETITIONS)
        settled = await self.settle(database_url, expected, timeout)
        if settled is not None:
            self.note(
                f"after the workers' restart, standings, stored states and SQL ledger equal the batch "
                f"result and stayed so {STABLE_SECONDS:.0f} s ({settled:.1f} s)"
            )

        standings = latest(await read_all(self.topics.standings))
        states = await stored_standings(self.topics)
        stale = {
            k for k, v in expected.items() if states.get(k) != v and (k in states or Decimal(v["points"]))
        }
        stale |= {k for k, v in states.items() if k not in expected and Decimal(v["points"])}
        differing = {k for k, v in expected.items() if standings.get(k) != v}
        unexpected_keys = set(standings) - set(expected)

        validated = [r for r in await read_all(self.topics.validated) if CONTROL_HEADER not in r.headers]
        ids = Counter(str(json.loads(r.value or b"")["event_id"]) for r in validated)
        o.counted = len(ids)
        missing = accepted_ids - ids.keys()
        unexpected_ids = ids.keys() - accepted_ids
        repeated = {i: n for i, n in ids.items() if n > 1}

        entries, conflicting = ledger_by_id(await read_all(self.topics.ledger))
        kafka_sums: dict[str, Decimal] = {}
        for e in entries.values():
            k = f"{e['competition_id']}|{e['cm_id']}"
            kafka_sums[k] = kafka_sums.get(k, Decimal(0)) + Decimal(e["points"])

        dead = len(await read_all(self.topics.dead_letters))
        o.dead_lettered = dead

        stored, stored_dead, sql_wait = await asyncio.to_thread(
            self._wait_for_sql, database_url, set(entries), dead, 90.0
        )
        if sql_wait is not None:
            self.log(f"SQL ledger holds every entry ({sql_wait:.1f} s after the standings check)")
        missing_in_sql = set(entries) - set(stored)
        short_keys = {f"{entries[i]['competition_id']}|{entries[i]['cm_id']}" for i in missing_in_sql}
        sql_sums: dict[str, Decimal] = {}
        for key, amount in stored.values():
            sql_sums[key] = sql_sums.get(key, Decimal(0)) + amount

        def points(key: str) -> Decimal:
            return Decimal(standings[key]["points"]) if key in standings else Decimal(0)

        keys = {k for k in standings if points(k)} | set(sql_sums)
        sql_mismatch = {k for k in keys if sql_sums.get(k, Decimal(0)) != points(k)} - short_keys
        kafka_keys = {k for k in standings if points(k)} | set(kafka_sums)
        kafka_mismatch = {k for k in kafka_keys if kafka_sums.get(k, Decimal(0)) != points(k)}

        o.lost = len(missing) + len(differing) + len(missing_in_sql) + len(stale)
        o.double_counted = len(conflicting) + sum(n - 1 for n in repeated.values()) + len(sql_mismatch)

        if missing:
            self.fail(f"{len(missing)} accepted events never reached events.validated: {_examples(missing)}")
        if differing:
            k = sorted(differing)[0]
            self.fail(
                f"{len(differing)} standings differ from the batch result, e.g. {k}: "
                f"stream {json.dumps(standings.get(k))[:300]} vs batch {json.dumps(expected[k])[:300]}"
            )
        if stale:
            k = sorted(stale)[0]
            self.fail(
                f"{len(stale)} stored states (score.state) differ from the batch result, e.g. {k}: "
                f"state {json.dumps(states.get(k))[:300]} vs batch {json.dumps(expected.get(k))[:300]}"
            )
        if settled is None:
            self.fail(
                f"standings, states and SQL never stayed equal to the batch result for {STABLE_SECONDS:.0f} s"
            )
        if missing_in_sql:
            self.fail(f"{len(missing_in_sql)} ledger entries never reached SQL: {_examples(missing_in_sql)}")
        if conflicting:
            self.fail(
                f"{len(conflicting)} ledger entry ids occur with different points: {_examples(conflicting)}"
            )
        if repeated:
            self.fail(f"{len(repeated)} event ids on events.validated more than once: {_examples(repeated)}")
        if sql_mismatch:
            k = sorted(sql_mismatch)[0]
            self.fail(
                f"{len(sql_mismatch)} SQL ledger sums differ from the standings, e.g. {k}: "
                f"SQL {sql_sums.get(k, Decimal(0))} vs standing {points(k)}"
            )
        if kafka_mismatch:
            k = sorted(kafka_mismatch)[0]
            self.fail(
                f"{len(kafka_mismatch)} score.ledger sums (once per id) differ from the standings, "
                f"e.g. {k}: ledger {kafka_sums.get(k, Decimal(0))} vs standing {points(k)}"
            )
        if unexpected_ids:
            self.fail(
                f"{len(unexpected_ids)} event ids counted that no door accepted: {_examples(unexpected_ids)}"
            )
        if unexpected_keys:
            self.fail(
                f"{len(unexpected_keys)} standings the batch result has not: {_examples(unexpected_keys)}"
            )
        if dead != self.expected_dead:
            self.fail(f"{dead} dead letters on events.deadletter, expected {self.expected_dead}")
        if stored_dead != dead:
            self.fail(f"SQL dead_letters holds {stored_dead} of the {dead} dead letters")
        self.check_running()

    def _wait_for_sql(
        self, url: str, entry_ids: set[str], dead: int, timeout: float
    ) -> tuple[dict[str, tuple[str, Decimal]], int, float | None]:
        began = time.monotonic()
        engine = engine_for(url)
        stored: dict[str, tuple[str, Decimal]] = {}
        stored_dead = 0
        try:
            while True:
                try:
                    stored, stored_dead = sql_ledger(engine), sql_dead_letters(engine)
                except Exception as exc:
                    self.log(f"SQL not readable yet: {type(exc).__name__}: {str(exc)[:200]}")
                if entry_ids <= stored.keys() and stored_dead >= dead:
                    return stored, stored_dead, time.monotonic() - began
                if time.monotonic() - began > timeout:
                    return stored, stored_dead, None
                time.sleep(1.0)
        finally:
            engine.dispose()

    # -- helpers -------------------------------------------------------------------------------

    async def kafka_sh(self, *command: str) -> tuple[int, float]:
        """deploy/kafka/kafka.sh <command>, its output in kafka-ops.log; (exit code, seconds)."""
        began = time.monotonic()
        with (self.dir / "kafka-ops.log").open("ab") as log:
            proc = await asyncio.create_subprocess_exec(
                str(KAFKA_SH), *command, cwd=ROOT, stdout=log, stderr=asyncio.subprocess.STDOUT
            )
            code = await proc.wait()
        return code, time.monotonic() - began


async def board(client: httpx.AsyncClient, competition_id: str, ranking: str) -> tuple[int, Any]:
    """GET one leaderboard: (status, rows) — rows None unless 200."""
    response = await client.get(
        f"/api/competitions/{competition_id}/leaderboard", params={"ranking": ranking}
    )
    if response.status_code != 200:
        return response.status_code, None
    return 200, response.json()["rows"]


async def api_check(sc: Scenario, base_url: str, timeout: float = 60.0) -> None:
    """The API's customer-manager boards show the published standings, and /readyz turns 200."""
    standings = latest(await read_all(sc.topics.standings))
    async with httpx.AsyncClient(base_url=base_url, timeout=10, auth=api_auth(base_url)) as client:
        for comp in COMPETITIONS:
            want = standing_points(standings, comp.id)
            rows: Any = None
            began = time.monotonic()
            while time.monotonic() - began < timeout:
                try:
                    _, rows = await board(client, comp.id, "customer_manager")
                except httpx.HTTPError:
                    rows = None
                if rows is not None and board_points(rows) == want:
                    break
                await asyncio.sleep(0.5)
            else:
                got = board_points(rows) if rows is not None else {}
                wrong = sorted(cm for cm in want.keys() | got.keys() if want.get(cm) != got.get(cm))
                sc.fail(f"the API's {comp.id} board differs from the standings for {len(wrong)} managers")
        began = time.monotonic()
        body: Any = None
        while time.monotonic() - began < timeout:
            try:
                response = await client.get("/readyz")
                body = response.json()
                if response.status_code == 200:
                    sc.note(f"API /readyz 200 {time.monotonic() - began:.1f} s after the boards matched")
                    return
            except (httpx.HTTPError, ValueError) as exc:
                body = f"{type(exc).__name__}: {exc}"
            await asyncio.sleep(1.0)
        sc.fail(f"API /readyz not 200 within {timeout:.0f} s: {json.dumps(body)[:600]}")


def board_points(rows: list[dict[str, Any]]) -> dict[str, Decimal]:
    return {str(r["id"]): Decimal(r["points"]) for r in rows}


def standing_points(standings: dict[str, Any], competition_id: str) -> dict[str, Decimal]:
    """What a customer-manager board of this competition must show, from standings by key."""
    out: dict[str, Decimal] = {}
    for key, standing in standings.items():
        cid, _, cm = key.partition("|")
        if cid == competition_id:
            out[cm] = Decimal(standing["points"])
    return out
