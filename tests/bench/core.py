"""Throughput of the scoring core alone: `python -m tests.bench.core [events]`.

A mixed year (tests/bench/workload.py: openings and closings, nightly balances of every account,
payroll, sales, customer assignments) under the four seed contests, applied one by one through
`apply` (the stream's path), timed without event parsing. Prints events/s, the largest manager's
compressed state, and one JSON line for scripts.
"""

from __future__ import annotations

import json
import sys
import time
import zlib
from itertools import islice

from schemas.envelope import Envelope
from schemas.registry import model_for
from schemas.routing import participant_of
from streams.core.catalog import Catalog
from streams.core.engine import apply
from streams.core.state import ParticipantState
from tests.bench.workload import mixed_competitions, year_of_events

MANAGERS = 10
ACCOUNTS = 40


def parse(raw: dict[str, object]) -> Envelope:
    model = model_for(str(raw["type"]), 1)
    assert model is not None
    return model.model_validate(raw)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    n = int(next((a for a in args if a.isdigit()), "100000"))
    days = min(365, n * 6 // (5 * MANAGERS * ACCOUNTS) + 5)  # a few accounts open late or close
    events = [parse(raw) for raw in islice(year_of_events(MANAGERS, ACCOUNTS, days, seed=7), n)]
    catalog = Catalog(mixed_competitions())
    states: dict[str, ParticipantState] = {}
    began, cpu = time.perf_counter(), time.process_time()
    entries = 0
    for event in events:
        cm = participant_of(event)
        state = states.get(cm)
        if state is None:
            state = states[cm] = ParticipantState(cm)
        entries += len(apply(state, event, catalog))
    took, cpu = time.perf_counter() - began, time.process_time() - cpu
    size = max(len(zlib.compress(json.dumps(s.to_dict()).encode(), 6)) for s in states.values())
    rate = len(events) / took
    print(
        f"core alone, mixed year ({MANAGERS} managers x {ACCOUNTS} accounts, {days} days, 4 contests): "
        f"{len(events)} events in {took:.2f} s = {rate:,.0f} events/s ({len(events) / cpu:,.0f} per CPU "
        f"second; {entries} entries); "
        f"largest state {size:,} bytes compressed"
    )
    print(
        json.dumps(
            {
                "events": len(events),
                "seconds": round(took, 3),
                "events_per_s": round(rate),
                "events_per_cpu_s": round(len(events) / cpu),
                "entries": entries,
                "max_state_bytes": size,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
