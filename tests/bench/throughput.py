"""`make bench`: throughput of the validator, the scoring core and the whole stream, in one run.

The same seeded events go through each, so the ratios compare like with like:
- validator alone: `parse_event` on the wire bytes;
- core alone: `apply` per customer manager with the four seed contests published (the stream's
  path, without Kafka);
- the stream: a real worker on the local broker, from the first byte produced on events.raw to
  the moment the standings topic equals the batch result (validate, dedup, score, publish);
- freshness: one event produced into an idle stream, until its standing changes.
Shared machines are noisy: read the ratios, and re-run before trusting a single figure.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from schemas import parse_event
from schemas.routing import participant_of
from schemas.topics import Topics
from schemas.validate import read_canonical
from streams.core.catalog import Catalog
from streams.core.engine import apply
from streams.core.state import ParticipantState
from tests.support.kafka import read_all
from tests.support.processes import new_prefix, worker
from tests.support.random_events import seeded
from tests.support.scoring import converge, expected_standings, publish, published_templates, send_events


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f} events/s ({count} in {seconds:.2f} s)"


def validator_alone(wire: list[bytes]) -> float:
    now = datetime.now(UTC)
    t = time.perf_counter()
    for raw in wire:
        parse_event(raw, now=now)
    return time.perf_counter() - t


def core_alone(wire: list[bytes]) -> float:
    catalog = Catalog(published_templates())
    events = [read_canonical(raw) for raw in wire]
    states: dict[str, ParticipantState] = {}
    t = time.perf_counter()
    for event in events:
        cm = participant_of(event)
        state = states.get(cm) or states.setdefault(cm, ParticipantState(cm))
        apply(state, event, catalog)
    return time.perf_counter() - t


async def stream(events: list[dict[str, object]], log_dir: Path) -> tuple[float, list[float]]:
    topics = Topics(new_prefix())
    proc = worker(topics.prefix, log_dir).start()
    try:
        competitions = published_templates()
        await publish(topics, competitions)
        expected = expected_standings(events, competitions)
        t = time.perf_counter()
        await send_events(topics, events)
        await converge(topics, expected, timeout=1800)
        elapsed = time.perf_counter() - t
        freshness = []
        template = next(e for e in events if e["type"] == "account.opened")
        for n in range(10):
            # A manager never seen before, so the opening is sure to change a standing.
            probe = dict(template, event_id=f"probe-{n}")
            probe["data"] = dict(probe["data"], account_id=f"probe-{n}", cm_id=f"probe-cm-{n}")  # type: ignore[arg-type]
            before = len(await read_all(topics.standings))
            t = time.perf_counter()
            await send_events(topics, [probe])
            while len(await read_all(topics.standings)) <= before:
                if time.perf_counter() - t > 60:
                    raise RuntimeError("probe event never reached the standings topic")
                await asyncio.sleep(0.01)
            freshness.append(time.perf_counter() - t)
        return elapsed, freshness
    finally:
        proc.stop()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    events = seeded(seed=42, count=count, cms=50, tag="bench")
    wire = [json.dumps(e, ensure_ascii=False).encode() for e in events]
    print(f"bench: {count} random events for 50 customer managers, 4 published contests")
    v = validator_alone(wire)
    print(f"  validator alone     {rate(count, v)}")
    c = core_alone(wire)
    print(f"  scoring core alone  {rate(count, c)}")
    with tempfile.TemporaryDirectory() as tmp:
        s, fresh = asyncio.run(stream(events, Path(tmp)))
    print(f"  whole stream        {rate(count, s)}  (raw topic -> standings topic, one worker)")
    print(f"  freshness           median {statistics.median(fresh) * 1000:.0f} ms, "
          f"max {max(fresh) * 1000:.0f} ms (one event into an idle stream, until its standing is published; "
          "includes the probe's own topic reads)")  # fmt: skip
    print(f"  ratio stream/core   {c / s:.3f}   ratio stream/validator {v / s:.3f}")


if __name__ == "__main__":
    main()
