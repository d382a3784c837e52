"""The scoring core's CPU per event on the peer job (shared research, peer-job.md;
tests/bench/peer_job.py): `python -m tests.bench.core_peer [lines] [batch]`.

The job's lines over 300 managers, junk and repeats left out (the validate and dedup stages' work),
as canonical validated records in 4 partitions, fed to one `PartitionScorer` per partition in
batches as the score stage gets them, with a `snapshot` of the changed managers after each batch,
and the garbage collector set as in the worker (streams/gc_tuning.py). Times the scoring alone:
reading the canonical event, `apply`, the ledger entries' dicts and the standings' dicts; not
the broker, not the other JSON text, not the states' JSON (written at checkpoints only,
streams/pipeline/checkpoints.py). Prints µs per
event and one JSON line for scripts; checks every standing against the job's answer.

`--demo`: the demo's contests (services/demo/competitions.py, as of the day the issue was measured)
are scored beside the job's, as under `make run`: three of them take account openings too, so each
line is indexed by four books.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import zlib
from datetime import UTC, date, datetime
from decimal import Decimal

from schemas.errors import Rejection
from schemas.validate import parse_event
from services.demo.competitions import demo_competitions
from streams import gc_tuning
from streams.core import parse_competition
from streams.core.partition import PartitionScorer, Record
from streams.core.rules import Competition
from tests.bench.peer_job import COMPETITION_ID, competition_definition, expected_totals, lines

PARTITIONS = 4
DEMO_DAY = date(2026, 12, 4)
NOW = datetime(2026, 2, 20, tzinfo=UTC)  # inside the window: nothing is late


class NoHistory:
    """The job never needs a rebuild: asking for history is a bug in the bench."""

    async def manager(self, cm_id: str, before: int) -> list[bytes]:
        raise AssertionError(f"rebuild asked for {cm_id}")

    async def managers(self, before: int) -> list[str]:
        raise AssertionError("re-score asked")


class Definitions:
    def __init__(self, competitions: list[Competition]) -> None:
        self.known = {(c.id, c.version, c.status): c for c in competitions}

    def definition(self, competition_id: str, version: int, status: str) -> Competition | None:
        return self.known.get((competition_id, version, status))


def _clock(record: Record) -> datetime:
    return NOW


def validated(count: int) -> list[list[Record]]:
    """The job's good lines, each once, as the validated topic's records per partition."""
    parts: list[list[Record]] = [[] for _ in range(PARTITIONS)]
    seen: set[str] = set()
    for key, value in lines(count):
        try:
            event = parse_event(value, now=NOW)
        except Rejection:
            continue
        if event.event_id in seen:
            continue
        seen.add(event.event_id)
        part = parts[zlib.crc32(key) % PARTITIONS]
        part.append(Record(0, len(part), key, event.model_dump_json().encode(), control=False))
    return parts


async def run(
    parts: list[list[Record]], batch: int, competitions: list[Competition]
) -> tuple[float, int, dict[str, Decimal]]:
    pin = {f"{c.id}:{c.version}": c.status for c in competitions}
    scorers = [PartitionScorer(NoHistory(), Definitions(competitions), pinned=dict(pin)) for _ in parts]
    entries = 0
    totals: dict[str, Decimal] = {}
    cpu = time.process_time()
    for start in range(0, max(len(p) for p in parts), batch):
        for scorer, part in zip(scorers, parts, strict=True):
            chunk = part[start : start + batch]
            if not chunk:
                continue
            outcome = await scorer.feed(chunk, _clock)
            assert outcome.consumed == len(chunk) and not outcome.failures
            entries += len(outcome.entries)
            for entry in outcome.entries:
                entry.to_dict()
            snapshot = scorer.snapshot(outcome.dirty)
            for standing in snapshot.standings:
                if standing["competition_id"] == COMPETITION_ID:
                    totals[standing["cm_id"]] = Decimal(standing["points"])
    return time.process_time() - cpu, entries, totals


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    numbers = [int(a) for a in args if a.isdigit()]
    count = numbers[0] if numbers else 100_000
    batch = numbers[1] if len(numbers) > 1 else 1000
    demo = "--demo" in args
    raw = lines(count)
    parts = validated(count)
    events = sum(len(p) for p in parts)
    competitions = [parse_competition(competition_definition())]
    if demo:
        competitions += demo_competitions(DEMO_DAY)
    gc_tuning.tune()
    cpu, entries, totals = asyncio.run(run(parts, batch, competitions))
    expected = expected_totals(raw)
    assert totals == expected, "standings differ from the job's answer"
    us = cpu * 1e6 / events
    print(
        f"core alone, peer job{' and the demo contests' if demo else ''} ({len(expected)} managers, "
        f"{PARTITIONS} partitions, batches of {batch} "
        f"per partition): {events} events, {entries} entries, {cpu:.2f} CPU s = {us:.1f} µs per event"
    )
    print(
        json.dumps(
            {
                "events": events,
                "entries": entries,
                "cpu_s": round(cpu, 3),
                "competitions": len(competitions),
                "core_peer_us_per_event": round(us, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
