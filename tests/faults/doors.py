"""5 % duplicates and 5 % hostile records mixed into the stream through every door at once: a
Kafka client on events.raw, HTTP POST /ingest/events and /ingest/batch on a running API, and the
campaigns-load CLI on a JSONL file. Each door's answer is checked record by record; every hostile
record must end as exactly one dead letter, every copy of an event as one duplicate (on
events.duplicates, or answered `duplicate` at once when both copies are in one batch or file).

Hostile records come from tests/support/hostile.py (drawn with a fixed seed); a draw the shared
validator accepts (a mutation can leave a valid event) is not hostile and is skipped. Records
with a line break, or only whitespace, cannot be one line of NDJSON or JSONL: those go through
the Kafka and single-event doors only."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from schemas import Rejection, parse_event
from schemas.dead_letters import REASON
from streams.settings import SharedSettings
from tests.faults.dbs import pg_schema
from tests.faults.harness import Scenario, first_copies, keyed, wire
from tests.support.auth import api_auth
from tests.support.hostile import hostile_messages
from tests.support.kafka import BOOTSTRAP, read_all
from tests.support.ports import free_port
from tests.support.random_events import seeded

NAME = "doors"
VALID = 1620
DUPLICATES = 90  # 5 % of the 1,800 records
HOSTILE = 90  # 5 %
DOORS = ("kafka", "http-event", "http-batch", "cli")
CLI = Path(sys.executable).parent / "campaigns-load"
SUMMARY = re.compile(r"^read (\d+), accepted (\d+), rejected (\d+)(?:, duplicate (\d+))?$")


@dataclass(frozen=True)
class Item:
    kind: str  # valid | duplicate | hostile
    raw: bytes
    event: dict[str, Any] | None = None

    @property
    def good(self) -> bool:
        return self.kind != "hostile"


def _draw(strategy: st.SearchStrategy[bytes], n: int, seed: int) -> list[bytes]:
    """n draws of a strategy, the same ones for the same seed."""
    drawn: list[bytes] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: bytes) -> None:
        drawn.append(value)

    collect()
    return drawn


def hostile_records(sc: Scenario, n: int) -> list[bytes]:
    """n distinct records the shared validator refuses."""
    limits = SharedSettings().limits
    out: list[bytes] = []
    skipped = 0
    for attempt in range(20):
        for raw in _draw(hostile_messages(), n * 2, sc.seed * 1000 + attempt):
            if raw in out or len(out) >= n:
                continue
            try:
                parse_event(raw, now=datetime.now(UTC), limits=limits)
            except Rejection:
                out.append(raw)
                continue
            except Exception as exc:
                sc.fail(f"the validator raised {type(exc).__name__} (not a Rejection) on {raw[:80]!r}")
                out.append(raw)
                continue
            skipped += 1
        if len(out) >= n:
            break
    sc.note(f"{len(out)} hostile records drawn ({skipped} draws the validator accepts were skipped)")
    return out


def _kinds(items: list[Item]) -> list[int]:
    return [sum(it.kind == kind for it in items) for kind in ("valid", "duplicate", "hostile")]


def one_line(raw: bytes) -> bool:
    return b"\n" not in raw and b"\r" not in raw and bool(raw.strip())


class Doors:
    def __init__(self, sc: Scenario, api_url: str) -> None:
        self.sc = sc
        self.api_url = api_url
        self.statuses: Counter[str] = Counter()
        self.in_door_duplicates = 0  # second copies inside one batch or file: answered, never sent

    def mismatch(self, door: str, item: Item, answer: str) -> None:
        want = "accepted" if item.good else "rejected"
        self.sc.fail(f"{door} answered {answer} for a {item.kind} record (want {want}): {item.raw[:80]!r}")

    async def kafka(self, items: list[Item]) -> None:
        for i in range(0, len(items), 50):
            part = items[i : i + 50]
            await self.sc.sender.send(
                self.sc.topics.raw, [keyed(it.event) if it.event else (None, it.raw) for it in part]
            )

    async def http_event(self, items: list[Item]) -> None:
        gate = asyncio.Semaphore(4)
        async with httpx.AsyncClient(
            base_url=self.api_url, auth=api_auth(self.api_url), timeout=60
        ) as client:

            async def one(item: Item) -> None:
                async with gate:
                    response = await client.post("/ingest/events", content=item.raw)
                self.statuses[f"events {response.status_code}"] += 1
                if response.status_code >= 500:
                    self.sc.fail(f"/ingest/events answered {response.status_code} to {item.raw[:80]!r}")
                if (response.status_code == 202) != item.good:
                    self.mismatch("/ingest/events", item, str(response.status_code))

            await asyncio.gather(*(one(item) for item in items))

    async def http_batch(self, items: list[Item]) -> None:
        async with httpx.AsyncClient(
            base_url=self.api_url, auth=api_auth(self.api_url), timeout=120
        ) as client:
            for i in range(0, len(items), 60):
                part = items[i : i + 60]
                response = await client.post(
                    "/ingest/batch", content=b"\n".join(it.raw for it in part) + b"\n"
                )
                self.statuses[f"batch {response.status_code}"] += 1
                if response.status_code != 200:
                    self.sc.fail(f"/ingest/batch answered {response.status_code}: {response.text[:300]}")
                    continue
                results = {r["line"]: r["status"] for r in response.json()["results"]}
                for line, item in enumerate(part, start=1):
                    status = results.get(line, "no answer")
                    if status == "duplicate" and item.good:
                        # A second copy inside one batch is answered at once and never sent.
                        self.in_door_duplicates += 1
                        continue
                    if (status == "accepted") != item.good:
                        self.mismatch("/ingest/batch", item, status)

    async def cli(self, items: list[Item], path: Path) -> None:
        path.write_bytes(b"\n".join(it.raw for it in items) + b"\n")
        topics = self.sc.topics
        proc = await asyncio.create_subprocess_exec(
            str(CLI), str(path), "--bootstrap", BOOTSTRAP, "--topic", topics.raw,
            "--dead-letter-topic", topics.dead_letters,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 180)
        (self.sc.dir / "cli.out").write_bytes(out + b"\n--- stderr ---\n" + err[-20_000:])
        lines = out.decode("utf-8", "replace").splitlines()
        summary = SUMMARY.match(lines[0]) if lines else None
        if proc.returncode not in (0, 1) or summary is None:
            self.sc.fail(f"campaigns-load exited {proc.returncode}: {err.decode('utf-8', 'replace')[-300:]}")
            return
        answered = {
            int(t.split(":", 1)[0].removeprefix("line ")): t.split(":", 2)[1].strip()
            for t in lines[1:]
            if t.startswith("line ")
        }
        # A second copy inside one file is answered duplicate and never sent (not a rejection).
        copies = {line for line, reason in answered.items() if reason == "duplicate"}
        rejected = set(answered) - copies
        for line, item in enumerate(items, start=1):
            if line in copies and item.good:
                self.in_door_duplicates += 1
                continue
            if (line not in rejected) != item.good:
                self.mismatch("campaigns-load", item, "rejected" if line in rejected else "accepted")
        self.statuses[f"cli exit {proc.returncode}"] += 1


async def run(sc: Scenario) -> None:
    valid = first_copies(seeded(seed=sc.seed, count=VALID * 2, cms=12, tag="dr"))[:VALID]
    items = [Item("valid", wire(e), e) for e in valid]
    items += [Item("duplicate", wire(e), e) for e in (sc.rng.choice(valid) for _ in range(DUPLICATES))]
    items += [Item("hostile", raw) for raw in hostile_records(sc, HOSTILE)]
    sc.rng.shuffle(items)
    by_door: dict[str, list[Item]] = {door: [] for door in DOORS}
    for item in items:
        door = sc.rng.choice(DOORS if one_line(item.raw) else DOORS[:2])
        by_door[door].append(item)
    sc.note(
        "per door (valid/duplicate/hostile): "
        + ", ".join(f"{door} {'/'.join(str(n) for n in _kinds(its))}" for door, its in by_door.items())
    )

    async with pg_schema() as url:
        port = free_port()
        await sc.prepare()
        await sc.start("worker", sc.worker())
        await sc.start("sink", sc.sink(url))
        await sc.start("api", sc.api(port, url))

        doors = Doors(sc, f"http://127.0.0.1:{port}")
        sc.outcome.sent += len(items)
        await asyncio.gather(
            doors.kafka(by_door["kafka"]),
            doors.http_event(by_door["http-event"]),
            doors.http_batch(by_door["http-batch"]),
            doors.cli(by_door["cli"], sc.dir / "extract.jsonl"),
        )
        sc.accepted += [it.event for it in items if it.event is not None]
        sc.expected_dead = sum(not it.good for it in items)
        sc.note("answers: " + ", ".join(f"{k} x{v}" for k, v in sorted(doors.statuses.items())))

        sc.outcome.recovery_s = await sc.recovery(await sc.send_probe())
        await sc.verify(url)

        duplicates = await read_all(sc.topics.duplicates)
        sent_copies = DUPLICATES - doors.in_door_duplicates
        if len(duplicates) != sent_copies:
            sc.fail(
                f"{len(duplicates)} records on events.duplicates, expected one per copy that was sent: "
                f"{sent_copies} ({doors.in_door_duplicates} of {DUPLICATES} answered duplicate by their door)"
            )
        letters = await read_all(sc.topics.dead_letters)
        reasons = Counter(r.headers.get(REASON, b"?").decode() for r in letters)
        sc.note("dead letters by reason: " + json.dumps(dict(reasons.most_common()), ensure_ascii=False))
